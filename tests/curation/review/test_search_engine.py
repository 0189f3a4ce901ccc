"""rbkit's in-process search engine, exercised through argilla-server's own search API."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from rbkit.curation.review.push import push

from tests.curation.review.conftest import Live, by_text, fixture_rows

pytestmark = [pytest.mark.argilla, pytest.mark.slow]


@pytest.fixture(scope="module")
def pushed(live_argilla: Live, tmp_path_factory: pytest.TempPathFactory) -> tuple[Live, str]:
    from tests.curation.review.conftest import write_fixture_build

    build = write_fixture_build(tmp_path_factory.mktemp("search") / "build")
    ws = live_argilla.workspace()
    push(build, live_argilla.target(ws))
    alice = live_argilla.reviewer("alice", ws)
    alice.answer("llmbar-natural", by_text(fixture_rows(), "Australia").id, "rejected")
    return live_argilla, ws


def search(live: Live, ws: str, subset: str, body: dict[str, Any], key: str | None = None, mine: bool = False) -> dict:
    dataset = live.dataset_id(ws, subset)
    path = f"/api/v1/{'me/' if mine else ''}datasets/{dataset}/records/search"
    return live._http("POST", path, key=key, json=body, params={"limit": 50})


def ids(result: dict) -> list[int]:
    return [int(item["record"]["external_id"]) for item in result["items"]]


def sdk_ids(live: Live, ws: str, subset: str, **query: Any) -> list[int]:
    import argilla as rg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = rg.Argilla(api_url=live.url, api_key=live.owner_key)
        dataset = client.datasets(subset, workspace=ws)
        return [int(r.id) for r in dataset.records(query=rg.Query(**query))]


def test_text_query_is_an_and_of_words_with_prefixes(pushed):
    live, ws = pushed
    capital = by_text(fixture_rows(), "Australia").id
    assert sdk_ids(live, ws, "llmbar-natural", query="capital australia") == [capital]
    assert sdk_ids(live, ws, "llmbar-natural", query="austral*") == [capital]
    assert sdk_ids(live, ws, "llmbar-natural", query="capital banana") == []
    body = {"query": {"text": {"q": "Canberra", "field": "rejected"}}}
    assert ids(search(live, ws, "llmbar-natural", body)) == [capital]
    assert ids(search(live, ws, "llmbar-natural", {"query": {"text": {"q": "Canberra", "field": "chosen"}}})) == []


def test_terms_filters_match_any_element_of_list_metadata(pushed):
    live, ws = pushed
    add = by_text(fixture_rows(), "Add two numbers").id
    found = sdk_ids(live, ws, "hep-python", filter=("metadata.verification", "==", "code:python/rejected=pass"))
    assert found == [add]
    assert sdk_ids(live, ws, "hep-python", filter=("label.suggestion", "==", "tie")) == [add]
    assert len(sdk_ids(live, ws, "hep-python", filter=("label.agent", "==", "code:python"))) == 2


def test_range_filter_and_sort_on_numeric_metadata(pushed):
    live, ws = pushed
    rows = {r.id: r for r in fixture_rows() if r.subset == "llmbar-natural"}
    lengths = {i: len(r.chosen) for i, r in rows.items()}
    short = sorted(i for i, n in lengths.items() if n <= 40)
    assert sorted(sdk_ids(live, ws, "llmbar-natural", filter=("metadata.chosen_chars", "<=", 40))) == short
    body = {"sort": [{"scope": {"entity": "metadata", "metadata_property": "chosen_chars"}, "order": "desc"}]}
    assert ids(search(live, ws, "llmbar-natural", body)) == sorted(lengths, key=lambda i: -lengths[i])


def test_response_status_is_per_user_in_the_annotators_view(pushed):
    live, ws = pushed
    capital = by_text(fixture_rows(), "Australia").id
    assert sdk_ids(live, ws, "llmbar-natural", filter=("response.status", "==", "submitted")) == [capital]
    alice = live.reviewer("alice", ws)
    pending = {"filters": {"and": [{"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]}]}}
    assert capital not in ids(search(live, ws, "llmbar-natural", pending, key=alice.api_key, mine=True))
    assert len(ids(search(live, ws, "llmbar-natural", pending, key=alice.api_key, mine=True))) == 3
    assert len(ids(search(live, ws, "llmbar-natural", pending, mine=True))) == 4  # the owner answered nothing


def test_progress_and_metadata_metrics(pushed):
    live, ws = pushed
    dataset = live.dataset_id(ws, "llmbar-natural")
    progress = live._http("GET", f"/api/v1/datasets/{dataset}/progress")
    assert (progress["total"], progress["completed"], progress["pending"]) == (4, 1, 3)
    properties = {p["name"]: p["id"] for p in live._http("GET", f"/api/v1/me/datasets/{dataset}/metadata-properties")["items"]}
    longer = live._http("GET", f"/api/v1/metadata-properties/{properties['longer_side']}/metrics")
    rows = [r for r in fixture_rows() if r.subset == "llmbar-natural"]
    assert longer["total"] == 4 and sum(v["count"] for v in longer["values"]) == 4
    chars = live._http("GET", f"/api/v1/metadata-properties/{properties['chosen_chars']}/metrics")
    assert (chars["min"], chars["max"]) == (min(len(r.chosen) for r in rows), max(len(r.chosen) for r in rows))
    alice = live.reviewer("alice", ws)
    mine = live._http("GET", f"/api/v1/me/datasets/{dataset}/metrics", key=alice.api_key)
    assert (mine["responses"]["submitted"], mine["responses"]["pending"]) == (1, 3)


def test_pushed_records_come_back_in_push_order(pushed):
    live, ws = pushed
    expected = [r.id for r in fixture_rows() if r.subset == "llmbar-natural"]
    assert ids(search(live, ws, "llmbar-natural", {})) == expected


def test_similarity_search_ranks_by_cosine(live_argilla: Live):
    import argilla as rg

    ws = live_argilla.workspace()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = rg.Argilla(api_url=live_argilla.url, api_key=live_argilla.owner_key)
        rg.Workspace(name=ws, client=client).create()
        settings = rg.Settings(
            fields=[rg.TextField(name="text")],
            questions=[rg.LabelQuestion(name="label", labels=["a", "b"])],
            vectors=[rg.VectorField(name="emb", dimensions=2)],
        )
        dataset = rg.Dataset(name="vectors", workspace=ws, settings=settings, client=client).create()
        vectors = {"east": [1.0, 0.0], "north-east": [1.0, 1.0], "north": [0.0, 1.0], "west": [-1.0, 0.0]}
        dataset.records.log([rg.Record(id=k, fields={"text": k}, vectors={"emb": v}) for k, v in vectors.items()])
        similar = dataset.records(query=rg.Query(similar=rg.Similar(name="emb", value=[1.0, 0.1])))
        ranked = [record.id for record, _score in similar]
        least = dataset.records(query=rg.Query(similar=rg.Similar(name="emb", value=[1.0, 0.1], most_similar=False)))
    assert ranked == ["east", "north-east", "north", "west"]
    assert [record.id for record, _ in least][0] == "west"
