import copy

import pytest

from rbkit import schemas
from tests.factories import make_row


def errors(rec):
    return list(schemas.validator("trio").iter_errors(rec))


def test_pairwise_row_is_valid():
    assert errors(make_row().to_record()) == []


def test_best_of_n_row_is_valid():
    rec = make_row(chosen=("right",), rejected=("w1", "w2", "w3")).to_record()
    rec["num_correct"], rec["total_completions"] = 1, 4
    assert errors(rec) == []


def test_message_list_prompt_is_valid():
    rec = make_row(prompt=({"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"})).to_record()
    assert errors(rec) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r.pop("provenance"),
        lambda r: r.__setitem__("chosen", ""),
        lambda r: r.__setitem__("id", -1),
        lambda r: r.__setitem__("extra_column", 1),
        lambda r: r["provenance"].__setitem__("sha256", "xyz"),
        lambda r: r["provenance"]["review"].__setitem__("status", "maybe"),
        lambda r: r["provenance"]["review"].__setitem__("status", "accepted"),  # needs reviewer and time
        lambda r: r.__setitem__("prompt", [{"role": "robot", "content": "x"}]),
    ],
)
def test_broken_rows_are_rejected(mutate):
    rec = copy.deepcopy(make_row().to_record())
    mutate(rec)
    assert errors(rec)


def test_every_shipped_schema_is_valid_draft_2020_12():
    for name in ("trio", "sources"):
        assert schemas.validator(name) is not None
