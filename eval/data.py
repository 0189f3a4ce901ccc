"""Rows to score, whatever their origin: an rbkit build folder, a parquet or JSONL file.

Every source becomes a list of `Pair`s with normalised prompts (a tuple of (role, content)
messages, roles kept, system included) and completions as tuples, so the scorer never cares
where rows came from. Published Hub splits load in `eval.published` into the same shape.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rbkit.core.digest import sha256_file
from rbkit.core.jsonio import canonical_json
from rbkit.eval.errors import DatasetError
from rbkit.eval.scoring import parse_ties_id

REQUIRED_COLUMNS: tuple[str, ...] = ("prompt", "chosen", "rejected", "subset")
TIES_SUBSET = "Ties"  # RewardBench 2: rows grouped by prompt through their `ref:`/`tied:` ids
Message = tuple[str, str]  # (role, content)


@dataclass(frozen=True)
class Pair:
    """One row to score: a prompt, its chosen completion(s) and its rejected completion(s).

    `best_of_n` rows (RewardBench 2) score the first chosen completion against every other
    completion; pairwise rows hold exactly one chosen and one rejected.
    """

    id: str
    subset: str
    prompt: tuple[Message, ...]
    chosen: tuple[str, ...]
    rejected: tuple[str, ...]
    best_of_n: bool = False

    def messages(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.prompt]

    @property
    def completions(self) -> tuple[str, ...]:
        """Chosen then rejected: the order scores are stored in."""
        return (*self.chosen, *self.rejected)

    @cached_property
    def content_hash(self) -> str:
        """Hash of what the model sees (prompt and completions), the resume cache's row key."""
        payload = canonical_json(
            {"prompt": [list(m) for m in self.prompt], "chosen": list(self.chosen), "rejected": list(self.rejected)}
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class Dataset:
    """Pairs plus what the result file needs to say about where they came from."""

    pairs: list[Pair]
    description: dict[str, Any]  # type, path/repo, revision, split, ... (lands in results.json)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)  # from build.json, if any
    empty_subsets: list[str] = field(default_factory=list)
    full_counts: dict[str, int] | None = None  # subset sizes before --sample (section weights)
    # subset -> the stand-in source it was rebuilt from ({}: none); None: the data does not say
    substitutes: dict[str, str] | None = None

    @property
    def subsets(self) -> list[str]:
        seen: dict[str, None] = {}
        for p in self.pairs:
            seen.setdefault(p.subset, None)
        return list(seen)

    @property
    def best_of_n(self) -> bool:
        return any(p.best_of_n for p in self.pairs)

    def sample(self, per_subset: int, seed: int = 0) -> Dataset:
        """At most `per_subset` rows of each subset, picked by a seeded hash of (subset, id).

        For quick runs (a demo, a smoke test). The pick depends only on the seed and each
        row's own key, so it is stable when rows are added elsewhere; section weights keep
        using the full subset sizes (`full_counts`).
        """
        if per_subset < 1:
            raise DatasetError("--sample must be at least 1")
        full = Counter(p.subset for p in self.pairs)

        def key(p: Pair) -> str:
            return hashlib.sha256(f"{seed}\x1f{p.subset}\x1f{p.id}".encode()).hexdigest()

        keep: set[tuple[str, str]] = set()
        for subset in full:
            members = sorted((p for p in self.pairs if p.subset == subset), key=key)
            keep.update((p.subset, p.id) for p in members[:per_subset])
        pairs = [p for p in self.pairs if (p.subset, p.id) in keep]
        description = {**self.description, "sample": {"per_subset": per_subset, "seed": seed,
                                                      "full_rows": sum(full.values())}}
        return Dataset(pairs, description, self.sections, self.empty_subsets, dict(full), self.substitutes)


# --- one record -> one Pair ------------------------------------------------------------------


def _prompt(value: Any, where: str) -> tuple[Message, ...]:
    if isinstance(value, str):
        return (("user", value),)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and len(value) > 0:
        out: list[Message] = []
        for i, msg in enumerate(value):
            if not isinstance(msg, Mapping) or not isinstance(msg.get("role"), str) or not isinstance(msg.get("content"), str):
                raise DatasetError(f"{where} prompt[{i}]: expected {{role: str, content: str}}, got {msg!r:.80}")
            out.append((msg["role"], msg["content"]))
        if out[-1][0] == "assistant":
            raise DatasetError(f"{where} prompt: the last prompt message is from the assistant; the completion must answer a user turn")
        return tuple(out)
    raise DatasetError(f"{where} prompt: expected a string or a non-empty list of messages, got {type(value).__name__}")


def _completions(value: Any, where: str, name: str) -> tuple[tuple[str, ...], bool]:
    if isinstance(value, str):
        return (value,), False
    if isinstance(value, Sequence) and not isinstance(value, (bytes, Mapping)):
        items = list(value)
        if not items:
            raise DatasetError(f"{where} {name}: empty list of completions")
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise DatasetError(f"{where} {name}[{i}]: expected a string, got {type(item).__name__}")
        return tuple(items), True
    raise DatasetError(f"{where} {name}: expected a string or a list of strings, got {type(value).__name__}")


def pair_from_record(rec: Mapping[str, Any], where: str, *, subset: str | None = None, default_id: str | None = None) -> Pair:
    """Validate one record; `where` ("file:row") prefixes every error message."""
    missing = [c for c in REQUIRED_COLUMNS if c not in rec and not (c == "subset" and subset)]
    if missing:
        raise DatasetError(f"{where}: missing column(s) {', '.join(missing)} (need {', '.join(REQUIRED_COLUMNS)}, optional id)")
    sub = subset or rec["subset"]
    if not isinstance(sub, str) or not sub:
        raise DatasetError(f"{where} subset: expected a non-empty string, got {sub!r}")
    prompt = _prompt(rec["prompt"], where)
    chosen, chosen_list = _completions(rec["chosen"], where, "chosen")
    rejected, rejected_list = _completions(rec["rejected"], where, "rejected")
    best_of_n = chosen_list or rejected_list
    if not best_of_n and (len(chosen) != 1 or len(rejected) != 1):
        raise DatasetError(f"{where}: pairwise rows need one chosen and one rejected completion")
    raw_id = rec.get("id")
    if raw_id is None:
        raw_id = default_id
    if raw_id is None:  # stable across file reorders: derived from content
        digest = hashlib.sha256(canonical_json([list(m) for m in prompt] + list(chosen) + list(rejected)).encode())
        raw_id = "h" + digest.hexdigest()[:16]
    if isinstance(raw_id, bool) or not isinstance(raw_id, (int, str)):
        raise DatasetError(f"{where} id: expected an integer or a string, got {type(raw_id).__name__}")
    return Pair(id=str(raw_id), subset=sub, prompt=prompt, chosen=chosen, rejected=rejected, best_of_n=best_of_n)


def check_unique(pairs: Iterable[Pair], origin: str) -> None:
    counts = Counter((p.subset, p.id) for p in pairs)
    dups = [k for k, n in counts.items() if n > 1]
    if dups:
        shown = ", ".join(f"{s}/{i}" for s, i in dups[:5])
        raise DatasetError(f"{origin}: {len(dups)} duplicate (subset, id) key(s), e.g. {shown}; ids must be unique within a subset")


def select_subsets(pairs: list[Pair], wanted: Sequence[str], origin: str) -> list[Pair]:
    if not wanted:
        return pairs
    present = {p.subset for p in pairs}
    unknown = [w for w in wanted if w not in present]
    if unknown:
        raise DatasetError(f"{origin}: no rows for subset(s) {', '.join(unknown)}; present: {', '.join(sorted(present))}")
    keep = set(wanted)
    return [p for p in pairs if p.subset in keep]


# --- files -----------------------------------------------------------------------------------


def read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise DatasetError(f"{path}: not a readable parquet file ({exc})") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise DatasetError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(table.column_names)} "
            f"(need {', '.join(REQUIRED_COLUMNS)}, optional id)"
        )
    keep = [c for c in table.column_names if c in (*REQUIRED_COLUMNS, "id")]
    return table.select(keep).to_pylist()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    with open(path, encoding="utf-8") as fh:
        if path.suffix == ".json":
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}: invalid JSON ({exc})") from exc
            if not isinstance(data, list):
                raise DatasetError(f"{path}: expected a JSON array of rows")
            return data
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
            if not isinstance(rec, dict):
                raise DatasetError(f"{path}:{lineno}: expected a JSON object per line")
            rec["__line__"] = lineno
            records.append(rec)
    return records


def pairs_from_records(records: Sequence[Mapping[str, Any]], origin: str) -> list[Pair]:
    pairs = []
    wheres = []
    for i, rec in enumerate(records, start=1):
        where = f"{origin}:{rec.get('__line__', i)}"
        pairs.append(pair_from_record(rec, where))
        wheres.append(where)
    check_ties_ids(pairs, wheres)
    return pairs


def check_ties_ids(pairs: Sequence[Pair], wheres: Sequence[str]) -> None:
    """In best-of-N data, every Ties row's id must say which prompt it belongs to and how.

    Checked where the rows are read, so the error names the file and row; scoring stays pure.
    """
    if not any(p.best_of_n for p in pairs):
        return
    for pair, where in zip(pairs, wheres, strict=True):
        if pair.subset == TIES_SUBSET:
            try:
                parse_ties_id(pair.id)
            except ValueError as exc:
                raise DatasetError(f"{where} id: {exc}") from exc


def load_file(path: Path, subsets: Sequence[str] = ()) -> Dataset:
    """A parquet, JSONL or JSON-array file of rows with prompt/chosen/rejected/subset[/id]."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        records = read_parquet(path)
    elif suffix in (".jsonl", ".json"):
        records = read_jsonl(path)
    else:
        raise DatasetError(f"{path}: unknown file type {suffix!r}; expected .parquet, .jsonl or .json")
    if not records:
        raise DatasetError(f"{path}: no rows")
    pairs = select_subsets(pairs_from_records(records, str(path)), subsets, str(path))
    check_unique(pairs, str(path))
    return Dataset(pairs, {"type": suffix.lstrip("."), "path": str(path), "sha256": sha256_file(path)})


# --- build folders ---------------------------------------------------------------------------


def is_build_folder(path: Path) -> bool:
    return path.is_dir() and (path / "build.json").is_file()


def load_build_folder(path: Path, subsets: Sequence[str] = ()) -> Dataset:
    """An `rbkit build` folder: build.json lists the subsets (with section and weight), data/ holds them."""
    try:
        manifest = json.loads((path / "build.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path / 'build.json'}: invalid JSON ({exc})") from exc
    listed: dict[str, dict[str, Any]] = manifest.get("subsets") or {}
    if not listed:
        raise DatasetError(f"{path / 'build.json'}: lists no subsets; run `rbkit build --out {path}`")
    names = list(subsets) or sorted(listed)
    unknown = [n for n in names if n not in listed]
    if unknown:
        raise DatasetError(f"{path}: subset(s) {', '.join(unknown)} not in this build; built: {', '.join(sorted(listed))}")
    pairs: list[Pair] = []
    empty: list[str] = []
    hashes: dict[str, str] = {}
    for name in names:
        file = path / "data" / f"{name}.parquet"
        if not file.is_file():
            raise DatasetError(f"{file}: listed in build.json but missing")
        records = read_parquet(file)
        hashes[name] = sha256_file(file)
        if not records:
            empty.append(name)
            continue
        got = pairs_from_records(records, str(file))
        wrong = {p.subset for p in got} - {name}
        if wrong:
            raise DatasetError(f"{file}: rows of subset(s) {', '.join(sorted(wrong))} in the file of subset {name}")
        pairs.extend(got)
    check_unique(pairs, str(path))
    if not pairs:
        raise DatasetError(f"{path}: the selected subsets ({', '.join(names)}) have no rows")
    sections = {n: {"section": listed[n].get("section"), "weight": listed[n].get("weight")} for n in names}
    description = {
        "type": "build",
        "path": str(path),
        "rbkit_version": manifest.get("rbkit_version"),
        "files_sha256": dict(sorted(hashes.items())),
    }
    substitutes = {n: str(listed[n]["substitute"]) for n in names if listed[n].get("substitute")}
    return Dataset(pairs, description, sections=sections, empty_subsets=empty, substitutes=substitutes)
