from rbkit.curation.rows import PUBLISHED_COLUMNS, Review, TrioRow, Verification, stable_id

from tests.factories import make_row


def test_stable_id_depends_only_on_subset_and_key():
    assert stable_id("s", "k") == stable_id("s", "k")
    assert stable_id("s", "k") != stable_id("s", "k2")
    assert stable_id("s", "k") != stable_id("t", "k")
    assert 0 <= stable_id("s", "k") < 2**63


def test_record_starts_with_the_published_columns():
    assert tuple(make_row().to_record())[:7] == PUBLISHED_COLUMNS


def test_record_round_trip_keeps_every_field():
    row = make_row().with_filter("nonempty").with_verification(Verification("code:python", "chosen", "pass", '{"s":1}'))
    row = row.with_review(Review("accepted", "ann", "2026-01-01T00:00:00+00:00", "fine"))
    assert TrioRow.from_record(row.to_record()) == row


def test_message_list_prompt_round_trips():
    row = make_row(prompt=({"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "?"}))
    rec = row.to_record()
    assert rec["prompt"][0] == {"role": "user", "content": "hi"}
    assert TrioRow.from_record(rec) == row
