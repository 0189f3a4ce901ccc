from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rbkit.curation.card import (
    ConfigInfo,
    bibtex_for,
    config_from_files,
    hub_license,
    is_noncommercial,
    is_unknown_license,
    merge_facts,
    missing_citations,
    render_card,
    row_summaries,
    union_config,
)
from rbkit.curation.rows import Provenance, Review, TrioRow, Verification
from rbkit.curation.trio_io import to_table, write_parquet


def trio(subset: str, i: int, *, verdict: str = "pass", review: Review | None = None) -> TrioRow:
    return TrioRow(
        prompt=f"q{i}", chosen=f"c{i}", chosen_model="a", rejected=f"r{i}", rejected_model="b", subset=subset, id=i,
        provenance=Provenance(
            source="s", upstream_file="f", revision="r", sha256="0" * 64, row_key=str(i), builder="t",
            builder_version="1", verification=(Verification("code:python", "chosen", verdict),), review=review or Review(),
        ),
    )


def config(tmp_path: Path, name: str, n: int = 2) -> ConfigInfo:
    path = tmp_path / name / "filtered-00000-of-00001.parquet"
    write_parquet(to_table([trio(name, i) for i in range(n)]), path)
    return config_from_files(name, "filtered", [path], [f"data/{name}/filtered-00000-of-00001.parquet"])


def subset(section: str, license: str, sources: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "section": section, "source": "x", "description": "d", "license": license, "substitute": None,
        "expected": 2, "weight": None, "rows": 2, "candidates": 3, "dropped_by_reason": {"filter:nonempty: empty": 1},
        "sources": sources, "verification_kind": "code", "rulers": None, "gate": None,
        "verification": {"code:python (chosen)": {"pass": 2}}, "review": {"unreviewed": 2}, **extra,
    }


def source(license: str, citation: str) -> dict[str, Any]:
    return {"kind": "github", "repo": "o/r", "revision": "a" * 40, "path": "p.json", "sha256": "b" * 64,
            "license": license, "citation": citation}


def facts(**subsets: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": 1, "rbkit_version": "0.1.0", "options": {"seed": 0},
        "subsets": subsets,
        "sources": {"alpaca/out": source("CC-BY-NC-4.0", "li2023alpacaeval"), "llmbar/n": source("MIT", "zeng2024llmbar"),
                    "coconot": source("ODC-BY", "brahman2024coconot")},
        "configs": {},
    }


def card_for(tmp_path: Path, f: dict[str, Any]) -> str:
    cfgs = [config(tmp_path, n) for n in f["subsets"]]
    return render_card(f, [union_config("filtered", "filtered", cfgs, default=True), *cfgs], "me/rb")


def metadata(card: str) -> dict[str, Any]:
    import yaml

    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


# --- licences and citations ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "nc"), [("CC-BY-NC-4.0", True), ("cc-by-nc-sa-4.0", True), ("CC-BY-4.0", False), ("MIT", False)]
)
def test_noncommercial_licences_are_recognised(value: str, nc: bool):
    assert is_noncommercial(value) is nc


def test_unknown_licences_and_hub_ids():
    assert is_unknown_license("unknown") and is_unknown_license("") and is_unknown_license(None)
    assert not is_unknown_license("Apache-2.0")
    assert hub_license("Apache-2.0") == "apache-2.0" and hub_license("Some-Custom-1.0") == "other"


def test_bibtex_lookup_by_key_author_prefix_or_raw_entry():
    assert bibtex_for("zeng2024llmbar").startswith("@inproceedings{zeng2024llmbar")
    assert bibtex_for("rottger2023xstest").startswith("@inproceedings{rottger2024xstest")  # year differs
    assert bibtex_for("@misc{x, title={T}}") == "@misc{x, title={T}}"
    assert bibtex_for("nobody1999thing") is None


# --- rendering -------------------------------------------------------------------------------


def test_noncommercial_terms_are_stated_before_anything_else(tmp_path: Path):
    card = card_for(tmp_path, facts(**{"alpacaeval-easy": subset("Chat", "CC-BY-NC-4.0", ["alpaca/out"]),
                                       "llmbar-natural": subset("Chat Hard", "MIT", ["llmbar/n"])}))
    body = card.split("---\n", 2)[2]
    notice = body.index("**Non-commercial terms.**")
    assert notice < body.index("## Loading")
    assert "`alpacaeval-easy` (CC-BY-NC-4.0)" in body
    meta = metadata(card)
    assert meta["license"] == ["cc-by-nc-4.0", "mit"]
    assert meta["subset_licenses"] == {"alpacaeval-easy": "CC-BY-NC-4.0", "llmbar-natural": "MIT"}


def test_substitute_subsets_say_so_plainly(tmp_path: Path):
    card = card_for(tmp_path, facts(**{"refusals-dangerous": subset(
        "Safety", "ODC-BY", ["coconot"], substitute="CoCoNot (allenai/noncompliance) stand-in for the original refusals data")}))
    assert "**Substitute data.**" in card and "NOT the original RewardBench data" in card
    assert "substitute: CoCoNot (allenai/noncompliance)" in card


def test_yaml_configs_and_dataset_info_are_what_datasets_reads(tmp_path: Path):
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    card = card_for(tmp_path, facts(**{"a-set": subset("Chat", "MIT", ["llmbar/n"]), "b-set": subset("Chat", "MIT", ["llmbar/n"])}))
    data = DatasetCardData(**metadata(card))
    configs = MetadataConfigs.from_dataset_card_data(data)
    assert list(configs) == ["filtered", "a-set", "b-set"]
    assert configs["filtered"]["default"] is True
    assert configs["filtered"]["data_files"] == [{"split": "filtered", "path": [
        "data/a-set/filtered-00000-of-00001.parquet", "data/b-set/filtered-00000-of-00001.parquet"]}]
    infos = DatasetInfosDict.from_dataset_card_data(data)
    assert infos["filtered"].splits["filtered"].num_examples == 4
    assert list(infos["a-set"].features)[:7] == ["prompt", "chosen", "chosen_model", "rejected", "rejected_model", "subset", "id"]
    assert infos["a-set"].features["id"].dtype == "int64"
    assert metadata(card)["size_categories"] == ["n<1K"]


def test_body_has_counts_drops_rulers_verification_review_and_rebuild(tmp_path: Path):
    rulers = {"n": 2, "longer": {"accuracy": 0.95, "ci95": [0.8, 0.99], "correct": 2, "ties": 0}}
    card = card_for(tmp_path, facts(**{"a-set": subset("Chat", "MIT", ["llmbar/n"], rulers=rulers, gate={"status": "warn"})}))
    assert "| `a-set` | Chat | 2 | 2 | MIT | code | d |" in card
    assert "| `a-set` | 3 | filter:nonempty: empty | 1 |" in card
    assert "| `a-set` | longer | 95.0% | 80.0%-99.0% | warn |" in card
    assert "| `a-set` | code:python (chosen) | pass: 2 |" in card
    assert "| `a-set` | 2 | 0 | 0 | 0 |" in card
    assert "rbkit build a-set --out out" in card
    assert "@misc{lambert2024rewardbench" in card and "@inproceedings{zeng2024llmbar" in card


def test_rendering_is_deterministic(tmp_path: Path):
    f = facts(**{"a-set": subset("Chat", "MIT", ["llmbar/n"])})
    assert card_for(tmp_path / "1", f) == card_for(tmp_path / "2", f)


def test_missing_bibtex_is_listed_not_dropped(tmp_path: Path):
    f = facts(**{"a-set": subset("Chat", "MIT", ["odd"])})
    f["sources"]["odd"] = source("MIT", "nobody1999thing")
    assert missing_citations(f) == ["nobody1999thing"]
    assert "Upstream works without a BibTeX entry here: nobody1999thing." in card_for(tmp_path, f)


# --- facts -----------------------------------------------------------------------------------


def test_row_summaries_count_verdicts_and_review_statuses():
    rows = [trio("s", 0), trio("s", 1, verdict="fail"), trio("s", 2, review=Review("accepted", "ann", "2024-01-01T00:00:00Z"))]
    verification, review = row_summaries(rows)
    assert verification == {"code:python (chosen)": {"fail": 1, "pass": 2}}
    assert review == {"accepted": 1, "unreviewed": 2}


def test_merge_keeps_old_subsets_and_replaces_rebuilt_ones():
    old = facts(**{"a-set": subset("Chat", "MIT", ["llmbar/n"]), "b-set": subset("Chat", "MIT", ["llmbar/n"])})
    old["configs"] = {"a-set": {"x": 1}, "b-set": {"x": 2}}
    new = facts(**{"b-set": subset("Chat", "MIT", ["llmbar/n"], rows=9)})
    new["configs"] = {"b-set": {"x": 3}}
    merged = merge_facts(old, new)
    assert merged["subsets"]["a-set"]["rows"] == 2 and merged["subsets"]["b-set"]["rows"] == 9
    assert merged["configs"] == {"a-set": {"x": 1}, "b-set": {"x": 3}}
    assert set(merged["sources"]) == {"llmbar/n"}  # sources no subset uses are dropped


def test_union_config_needs_one_schema(tmp_path: Path):
    a = config(tmp_path, "a-set")
    b = ConfigInfo("odd", "filtered", ("x",), [{"name": "prompt", "dtype": "int64"}], 1, 1, 1)
    with pytest.raises(ValueError, match="other features"):
        union_config("filtered", "filtered", [a, b])


def test_subset_facts_read_build_summary_rulers_and_gate():
    from rbkit.curation.card import subset_facts

    summary = {"section": "Chat", "license": "MIT", "sources": ["llmbar/n"], "verification": "label", "built": 1,
               "rulers": {"n": 1, "longer": {"accuracy": 1.0, "ci95": [0.2, 1.0]}}, "gate": {"status": "ok"},
               "dropped_by_reason": {"select: not selected": 4}, "report": {"candidates": 5}}
    f = subset_facts(summary, [trio("a-set", 0)], "desc")
    assert f["rulers"]["longer"]["accuracy"] == 1.0 and f["gate"] == {"status": "ok"}
    assert f["rows"] == 1 and f["verification_kind"] == "label" and f["description"] == "desc"
