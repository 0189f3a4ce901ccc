"""The dataset card: YAML metadata the Hub and `datasets` read, and a body people read.

The card is rendered from plain "card facts" (a JSON-able dict, stored beside the data as
`rbkit.json`) plus one `ConfigInfo` per Hub config. Keeping the facts as data lets `publish`
merge a new subset into an existing repo's card without re-reading the other subsets' rows,
and lets `rbkit build` render the same card for a local folder. Rendering is a pure function:
the same facts give the same bytes, so re-publishing unchanged data changes no file.
The licence and citation tables live in `curation.card_tables`, the Hub config metadata in
`curation.card_configs`; their public names are re-exported here, where callers import them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rbkit.curation.card_configs import ConfigInfo as ConfigInfo
from rbkit.curation.card_configs import config_from_files as config_from_files
from rbkit.curation.card_configs import features_yaml as features_yaml
from rbkit.curation.card_configs import union_config as union_config
from rbkit.curation.card_tables import CITATIONS as CITATIONS
from rbkit.curation.card_tables import HUB_LICENSE_IDS as HUB_LICENSE_IDS
from rbkit.curation.card_tables import REWARDBENCH_BIBTEX as REWARDBENCH_BIBTEX
from rbkit.curation.card_tables import UNKNOWN_LICENSES as UNKNOWN_LICENSES
from rbkit.curation.card_tables import bibtex_for as bibtex_for
from rbkit.curation.card_tables import hub_license as hub_license
from rbkit.curation.card_tables import is_noncommercial as is_noncommercial
from rbkit.curation.card_tables import is_unknown_license as is_unknown_license
from rbkit.curation.card_tables import license_id as license_id
from rbkit.curation.rows import PUBLISHED_COLUMNS, TrioRow

CARD_FORMAT = 1
PRIOR_SETS = "Prior Sets"

# --- facts from a build ----------------------------------------------------------------------


def row_summaries(rows: Iterable[TrioRow]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """(verification verdict counts per verifier/side, review status counts) over `rows`."""
    verdicts: dict[str, Counter[str]] = {}
    reviews: Counter[str] = Counter()
    for row in rows:
        reviews[row.provenance.review.status] += 1
        for v in row.provenance.verification:
            verdicts.setdefault(f"{v.verifier} ({v.side})", Counter())[v.verdict] += 1
    return (
        {k: dict(sorted(c.items())) for k, c in sorted(verdicts.items())},
        dict(sorted(reviews.items())),
    )


def subset_facts(summary: Mapping[str, Any], rows: Sequence[TrioRow], description: str = "") -> dict[str, Any]:
    """What the card says about one subset, from its build.json summary and its rows."""
    verification, review = row_summaries(rows)
    report = summary.get("report") or {}
    return {
        "section": summary.get("section", ""),
        "source": summary.get("source", ""),
        "description": description,
        "license": summary.get("license", "unknown"),
        "substitute": summary.get("substitute"),
        "expected": summary.get("expected"),
        "weight": summary.get("weight"),
        "rows": len(rows),
        "candidates": summary.get("candidates"),
        "dropped_by_reason": dict(summary.get("dropped_by_reason") or {}),
        "sources": list(summary.get("sources") or []),
        "verification_kind": summary.get("verification") or "none",
        "rulers": summary.get("rulers") or report.get("rulers"),
        "gate": summary.get("gate") or report.get("gate"),
        "verification": verification,
        "review": review,
    }


def build_facts(manifest: Mapping[str, Any], subsets: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Card facts for `subsets` (name -> subset_facts) of one build, with the sources they use."""
    used = {s for facts in subsets.values() for s in facts["sources"]}
    sources = manifest.get("sources") or {}
    facts = {
        "format": CARD_FORMAT,
        "rbkit_version": manifest.get("rbkit_version", "unknown"),
        "options": dict(manifest.get("options") or {}),
        "gate": manifest.get("gate"),
        "subsets": dict(sorted(subsets.items())),
        "sources": {name: sources[name] for name in sorted(used) if name in sources},
        "configs": {},
    }
    if manifest.get("missing"):  # a partial build (--allow-missing) says so on its card
        facts["missing"] = {name: dict(files) for name, files in sorted(manifest["missing"].items())}
    return facts


def subset_description(name: str, summary: Mapping[str, Any]) -> str:
    """The build's description of a subset, else the registered one (build.json may omit it)."""
    if summary.get("description"):
        return str(summary["description"])
    try:
        from rbkit.curation.registry import get

        return get(name).description
    except KeyError:
        return ""


def is_core(facts: Mapping[str, Any], config: ConfigInfo) -> bool:
    """Core (non-Prior-Sets) subsets with single-turn string prompts make up `filtered`."""
    prompt = next((f for f in config.features if f.get("name") == "prompt"), {})
    return facts["subsets"][config.name]["section"] != PRIOR_SETS and prompt.get("dtype") == "string"


def all_configs(facts: Mapping[str, Any], *, filtered: str = "filtered", split: str = "filtered") -> list[ConfigInfo]:
    """The `filtered` union config (the default) first when there is a core subset, then one per subset."""
    per_subset = [ConfigInfo.from_record(facts["configs"][n]) for n in sorted(facts["configs"])]
    core = [c for c in per_subset if is_core(facts, c)]
    head = [union_config(filtered, split, core, default=True)] if core else []
    return head + per_subset


def build_card(folder: Any, repo_id: str) -> str:
    """A card for a build folder itself (`curation.build.BuildFolder` with rows), its configs
    reading `data/<subset>.parquet` in place, so `datasets.load_dataset(build_dir, name)` works.
    Empty subsets get no config: a config with no rows cannot be loaded."""
    manifest = folder.manifest
    names = [n for n in sorted(manifest.get("subsets") or {}) if folder.rows.get(n)]
    facts = build_facts(
        manifest,
        {n: subset_facts(manifest["subsets"][n], folder.rows[n], subset_description(n, manifest["subsets"][n])) for n in names},
    )
    facts["configs"] = {
        n: config_from_files(n, "filtered", [folder.path / "data" / f"{n}.parquet"], [f"data/{n}.parquet"]).to_record()
        for n in names
    }
    return render_card(facts, all_configs(facts), repo_id)


def merge_facts(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """Facts of an existing repo updated with a new build: new subsets replace or join old ones."""
    if not old:
        return dict(new)
    subsets = {**old.get("subsets", {}), **new["subsets"]}
    sources = {**old.get("sources", {}), **new["sources"]}
    configs = {**old.get("configs", {}), **new.get("configs", {})}
    used = {s for facts in subsets.values() for s in facts.get("sources", [])}
    return {
        "format": CARD_FORMAT,
        "rbkit_version": new["rbkit_version"],
        "options": new["options"],
        "gate": new.get("gate"),
        "subsets": dict(sorted(subsets.items())),
        "sources": {k: sources[k] for k in sorted(sources) if k in used},
        "configs": dict(sorted(configs.items())),
    }


# --- rendering -------------------------------------------------------------------------------


def size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < bound:
            return label
    return "1M<n<10M"


def licenses_of(facts: Mapping[str, Any]) -> dict[str, set[str]]:
    """subset -> every licence that applies to it (its own and its sources')."""
    out: dict[str, set[str]] = {}
    for name, sub in facts["subsets"].items():
        lics = {sub.get("license") or "unknown"}
        for src in sub.get("sources", []):
            rec = facts["sources"].get(src)
            if rec:
                lics.add(rec.get("license") or "unknown")
        out[name] = lics
    return out


def card_metadata(facts: Mapping[str, Any], configs: Sequence[ConfigInfo], pretty_name: str) -> dict[str, Any]:
    per_subset = licenses_of(facts)
    hub_ids = sorted({hub_license(lic) for lics in per_subset.values() for lic in lics})
    total = sum(s["rows"] for s in facts["subsets"].values())
    return {
        "pretty_name": pretty_name,
        "language": ["en"],
        "license": hub_ids[0] if len(hub_ids) == 1 else hub_ids,
        "subset_licenses": {name: " AND ".join(sorted(lics)) for name, lics in sorted(per_subset.items())},
        "size_categories": [size_category(total)],
        "task_categories": ["question-answering", "text-classification"],
        "tags": ["reward-modeling", "preference", "rewardbench", "rbkit"],
        "configs": [c.yaml_config() for c in configs],
        "dataset_info": [c.yaml_info() for c in configs],
    }


def _yaml(data: Mapping[str, Any]) -> str:
    import yaml

    class NoAliases(yaml.SafeDumper):
        """Configs share feature lists; write each one out instead of `&id001` anchors."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(dict(data), Dumper=NoAliases, sort_keys=False, allow_unicode=True, width=1000)


def _cell(value: Any) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _pct(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else _cell(value)


def render_card(facts: Mapping[str, Any], configs: Sequence[ConfigInfo], repo_id: str) -> str:
    """README.md for the repo: YAML metadata, then the body. Deterministic in its inputs."""
    subsets: Mapping[str, Any] = facts["subsets"]
    pretty = f"RewardBench rebuilt with rbkit ({repo_id})"
    meta = card_metadata(facts, configs, pretty)
    per_subset = licenses_of(facts)
    noncommercial = {n: sorted(lic for lic in lics if is_noncommercial(lic)) for n, lics in per_subset.items()}
    noncommercial = {n: v for n, v in noncommercial.items() if v}
    substitutes = {n: s["substitute"] for n, s in subsets.items() if s.get("substitute")}
    core = [n for n, s in subsets.items() if s["section"] != PRIOR_SETS]
    filtered = next((c for c in configs if c.default), None)

    lines = ["---", _yaml(meta).rstrip(), "---", "", f"# {pretty}", ""]
    lines += [
        "RewardBench (Lambert et al., 2024) rebuilt from its raw upstream sources with "
        f"rbkit {facts['rbkit_version']}. Every pair carries its "
        "provenance (source file, revision and sha256, upstream row key, builder version, filters "
        "passed, verification results and review status) in the `provenance` column; the seven "
        "RewardBench columns come first, so tools written for `allenai/reward-bench` load it unchanged.",
        "",
    ]
    if noncommercial:
        lines += [
            "> **Non-commercial terms.** These subsets contain data whose licence forbids commercial use: "
            + "; ".join(f"`{n}` ({', '.join(v)})" for n, v in sorted(noncommercial.items()))
            + ". The dataset as a whole may therefore only be used for non-commercial purposes unless "
            "those subsets are removed.",
            "",
        ]
    if substitutes:
        lines += [
            "> **Substitute data.** These subsets are NOT the original RewardBench data; they are rebuilt from "
            "a stand-in source: " + "; ".join(f"`{n}`: {v}" for n, v in sorted(substitutes.items())) + ".",
            "",
        ]

    lines += partial_build_section(facts.get("missing") or {})
    lines += sandbox_network_section(facts.get("options") or {})

    lines += ["## Loading", "", "```python", "from datasets import load_dataset", ""]
    if filtered is not None:
        lines.append(f'core = load_dataset("{repo_id}", split="{filtered.split}")  # like allenai/reward-bench')
    example = next(iter(subsets), "SUBSET")
    lines += [f'one = load_dataset("{repo_id}", "{example}", split="filtered")', "```", ""]
    lines += [
        "Columns: " + ", ".join(f"`{c}`" for c in PUBLISHED_COLUMNS) + " (int64), then `provenance`. "
        "Prior Sets subsets hold the prompt as a list of `{role, content}` messages.",
        "",
    ]

    lines += ["## Subsets", ""]
    rows = []
    for name, s in subsets.items():
        expected = s.get("expected")
        rows.append(
            (
                f"`{name}`",
                s["section"],
                s["rows"],
                expected if expected is not None else "",
                " AND ".join(sorted(per_subset[name])),
                s.get("verification_kind") or ", ".join(s.get("verification", {})) or "none",
                ("substitute: " + s["substitute"]) if s.get("substitute") else s.get("description", ""),
            )
        )
    lines += _table(("subset", "section", "rows", "published upstream", "licence", "verification", "notes"), rows)
    if filtered is not None:
        lines += ["", f"The `{filtered.name}` config ({filtered.num_examples} rows) is every non-Prior-Sets subset: "
                  + ", ".join(f"`{n}`" for n in core) + "."]
    lines.append("")

    lines += ["## Dropped candidates", "", "Every candidate that did not make it, by pipeline step and reason.", ""]
    drop_rows = [(f"`{n}`", s.get("candidates", ""), reason, count)
                 for n, s in subsets.items() for reason, count in sorted(s.get("dropped_by_reason", {}).items())]
    lines += _table(("subset", "candidates", "step: reason", "dropped"), drop_rows) if drop_rows else ["No candidate was dropped."]
    lines.append("")

    lines += ["## Trivial-baseline rulers", "",
              "Accuracy of rules that need no model (95% Wilson interval). A ruler near 100% means the subset "
              "can be solved for a trivial reason."]
    gate = facts.get("gate") or {}
    if gate.get("threshold") is not None:
        lines[-1] += (f" The build gate ({gate.get('mode')}) flags a ruler above {gate['threshold']:.0%} "
                      "unless the subset declares that length bias.")
    lines.append("")
    ruler_rows = []
    for n, s in subsets.items():
        table = s.get("rulers") or {}
        for ruler, entry in sorted(table.items()):
            if isinstance(entry, Mapping) and "accuracy" in entry:
                ci = entry.get("ci95") or ["", ""]
                ruler_rows.append((f"`{n}`", ruler, _pct(entry["accuracy"]), f"{_pct(ci[0])}-{_pct(ci[1])}",
                                   (s.get("gate") or {}).get("status", "")))
    lines += _table(("subset", "ruler", "accuracy", "95% CI", "gate"), ruler_rows) if ruler_rows else ["No ruler results in this build."]
    lines.append("")

    lines += ["## Verification", ""]
    ver_rows = [(f"`{n}`", verifier, ", ".join(f"{k}: {v}" for k, v in verdicts.items()))
                for n, s in subsets.items() for verifier, verdicts in s.get("verification", {}).items()]
    lines += _table(("subset", "verifier (side)", "verdicts"), ver_rows) if ver_rows else ["No automatic verification recorded."]
    lines.append("")

    lines += ["## Human review", ""]
    statuses = ("unreviewed", "accepted", "edited", "rejected")
    lines += _table(("subset", *statuses), [(f"`{n}`", *(s.get("review", {}).get(k, 0) for k in statuses)) for n, s in subsets.items()])
    lines.append("")

    lines += ["## Sources", "", "Each upstream file is pinned by revision and content hash.", ""]
    src_rows = [(name, f"{r.get('repo')}@{str(r.get('revision'))[:12]}", r.get("path"), r.get("sha256") or r.get("git_sha1") or "",
                 r.get("license"), ", ".join(sorted(n for n, s in subsets.items() if name in s.get("sources", []))))
                for name, r in facts["sources"].items()]
    lines += _table(("source", "repo@revision", "path", "sha256", "licence", "subsets"), src_rows)
    lines.append("")

    lines += ["## Licences", ""]
    lines += [
        "Each subset keeps the licence of its upstream data and sources; the `license` field of this card "
        "lists them all and `subset_licenses` maps each subset to its terms. Respect the terms of each "
        "subset you use.",
        "",
        "Overall: " + " AND ".join(sorted({lic for lics in per_subset.values() for lic in lics})) + ".",
        "",
    ]
    lines += _table(("subset", "licence"), [(f"`{n}`", " AND ".join(sorted(lics))) for n, lics in per_subset.items()])
    lines.append("")

    options = facts.get("options") or {}
    selectors = " ".join(subsets)
    flags = []
    if options.get("seed"):
        flags.append(f"--seed {options['seed']}")
    if options.get("target_size") is not None:
        flags.append(f"--target-size {options['target_size']}")
    if options.get("keep_all"):
        flags.append("--all")
    if options.get("allow_sandbox_network"):
        flags.append("--allow-sandbox-network")
    lines += [
        "## Rebuilding",
        "",
        "```bash",
        f"# with rbkit {facts['rbkit_version']} installed",
        "rbkit sources fetch          # or: export RBKIT_SOURCES=/path/to/mirror",
        f"rbkit build {selectors} --out out {' '.join(flags)}".rstrip(),
        f"rbkit publish out --repo {repo_id} --dry-run",
        "```",
        "",
        "Builds are deterministic: the same sources and options give byte-identical parquet files and ids.",
        "",
    ]

    keys = sorted({r.get("citation") for r in facts["sources"].values() if r.get("citation")})
    entries = [REWARDBENCH_BIBTEX]
    missing = []
    for key in keys:
        entry = bibtex_for(key)
        if entry is None:
            missing.append(key)
        elif entry not in entries:
            entries.append(entry)
    lines += ["## Citation", "", "Cite RewardBench and the upstream work of every subset you use:", "", "```bibtex"]
    lines += ["\n\n".join(entries), "```", ""]
    if missing:
        lines += ["Upstream works without a BibTeX entry here: " + ", ".join(missing) + ".", ""]
    return "\n".join(lines)


def partial_build_section(missing: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The card's warning for a build made with --allow-missing: which subsets, which files."""
    if not missing:
        return []
    lines = [
        "## Partial build",
        "",
        f"> **Partial build: missing subsets {', '.join(f'`{n}`' for n in missing)}.** Their upstream "
        "files were not available, so they were not built (`--allow-missing`). Fetch the files "
        "below and rebuild for the full benchmark.",
        "",
    ]
    rows = [
        (f"`{name}`", f"`{source}`", f"{info.get('repo')}@{str(info.get('revision'))[:12]} {info.get('path')}",
         info.get("pin", ""), f"`{info.get('fetch', '')}`")
        for name, files in missing.items()
        for source, info in sorted(files.items())
    ]
    return [*lines, *_table(("subset", "source", "upstream file", "pin", "fetch"), rows), ""]


def sandbox_network_section(options: Mapping[str, Any]) -> list[str]:
    """The card's warning for a build whose code candidates ran with network access."""
    if not options.get("allow_sandbox_network"):
        return []
    return [
        "> **Code verification ran with network access** (`--allow-sandbox-network`): the build machine "
        "gave the sandbox no private network namespace, so candidate programs could reach the network "
        "while their tests ran. Verdicts are normally unaffected; rebuild as root or with user namespaces "
        "enabled for the isolated run.",
        "",
    ]


def missing_citations(facts: Mapping[str, Any]) -> list[str]:
    """Citation keys of the card's sources that have no BibTeX entry."""
    return sorted({r["citation"] for r in facts["sources"].values() if r.get("citation") and bibtex_for(r["citation"]) is None})
