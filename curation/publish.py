"""Publishing a build folder to the Hugging Face Hub as a dataset repo.

Repo layout (what `lay_out` writes and `publish` uploads):

    README.md                                   dataset card (curation.card), configs + dataset_info
    rbkit.json                                  the card facts, so later publishes can merge into them
    data/<subset>/filtered-00000-of-00001.parquet   one config per subset, split "filtered"

The `filtered` config (the default) has no files of its own: its split reads every non-Prior-Sets
subset's files, so it is exactly the union of those configs, in subset order, with the column
order of `allenai/reward-bench` (prompt, chosen, chosen_model, rejected, rejected_model, subset,
id, then provenance). Adding a subset to an existing repo uploads that subset's file plus the
new README.md and rbkit.json; other subsets' files are never touched. Files whose content hash
equals the Hub's copy are not uploaded, so re-publishing identical data makes no commit.

Subsets whose licence (their own or any source's) is unknown are refused, and empty subsets
skipped: left out of the folder and reported, or an error when they were asked for by name.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rbkit.core.files import atomic_write
from rbkit.curation.build import read_build
from rbkit.curation.card import (
    ConfigInfo,
    all_configs,
    build_facts,
    config_from_files,
    is_unknown_license,
    merge_facts,
    render_card,
    subset_description,
    subset_facts,
)
from rbkit.curation.errors import RbkitError
from rbkit.curation.folder_swap import new_temp, output_lock, swap_in
from rbkit.curation.sources import git_blob_sha1, sha256_file

SPLIT = "filtered"
FILTERED_CONFIG = "filtered"
FACTS_FILE = "rbkit.json"
CARD_FILE = "README.md"
REPO_TYPE = "dataset"


class PublishError(RbkitError):
    """The build cannot be published as asked (licence, missing data, no token, bad repo id)."""


def data_path(config: str, shard: int = 0, shards: int = 1) -> str:
    return f"data/{config}/{SPLIT}-{shard:05d}-of-{shards:05d}.parquet"


# --- licences --------------------------------------------------------------------------------


def licence_problems(manifest: Mapping[str, Any], subset: str) -> list[str]:
    """Why `subset` may not be published: its own or a source's licence is unknown."""
    summary = manifest["subsets"][subset]
    problems = []
    if is_unknown_license(summary.get("license")):
        problems.append(f"subset licence is {summary.get('license')!r}")
    for name in summary.get("sources") or []:
        rec = (manifest.get("sources") or {}).get(name)
        if rec is None:
            problems.append(f"source {name!r} is not described in build.json")
        elif is_unknown_license(rec.get("license")):
            problems.append(f"source {name!r} ({rec.get('repo')} {rec.get('path')}) has licence {rec.get('license')!r}")
    return problems


def choose_subsets(
    manifest: Mapping[str, Any], wanted: Sequence[str] = (), exclude: Sequence[str] = ()
) -> tuple[list[str], dict[str, list[str]]]:
    """(subsets to publish, left-out subset -> reasons). Asking for a left-out subset is an error."""
    built = sorted(manifest.get("subsets") or {})
    unknown = [n for n in [*wanted, *exclude] if n not in built]
    if unknown:
        raise PublishError(f"not in this build: {', '.join(unknown)} (built: {', '.join(built) or 'nothing'})")
    names = [n for n in (sorted(set(wanted)) or built) if n not in set(exclude)]
    refused = {n: p for n in names if (p := licence_problems(manifest, n))}
    asked = [n for n in wanted if n in refused]
    if asked:
        raise PublishError(
            "refusing to publish subsets whose licence is unknown:\n"
            + "\n".join(f"  {n}: {'; '.join(refused[n])}" for n in asked)
            + "\nConfirm the upstream terms and record the licence in the builder, or leave these subsets out."
        )
    # An empty config cannot be loaded (no rows to type its files), so empty subsets stay out.
    empty = [n for n in names if n not in refused and not manifest["subsets"][n].get("built")]
    if any(n in empty for n in wanted):
        raise PublishError(f"nothing to publish for {', '.join(n for n in wanted if n in empty)}: the build has 0 rows")
    for n in empty:
        refused[n] = ["the build has 0 rows"]
    chosen = [n for n in names if n not in refused]
    if not chosen:
        raise PublishError(
            "nothing to publish: "
            + ("every subset was left out:\n" + "\n".join(f"  {n}: {'; '.join(r)}" for n, r in refused.items())
               if refused else "the selection is empty")
        )
    return chosen, refused


# --- the folder ------------------------------------------------------------------------------


@dataclass
class Layout:
    root: Path
    repo_id: str
    subsets: list[str]
    refused: dict[str, list[str]]  # left out: unknown licence, or no rows
    facts: dict[str, Any]
    configs: list[ConfigInfo]

    def files(self) -> list[str]:
        """Every file in the folder, repo-relative, sorted."""
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())


def lay_out(
    build_dir: Path,
    out: Path,
    repo_id: str,
    *,
    subsets: Sequence[str] = (),
    exclude: Sequence[str] = (),
    existing: Mapping[str, Any] | None = None,
) -> Layout:
    """Write the Hub folder for `build_dir` into `out` (replaced atomically).

    `existing` are the card facts already on the Hub (its rbkit.json): the card then describes
    the old subsets too, while the folder only holds the files of the subsets in this build.
    """
    check_repo_id(repo_id)
    folder = read_build(build_dir)
    manifest = folder.manifest
    names, refused = choose_subsets(manifest, subsets, exclude)
    if FILTERED_CONFIG in names:
        raise PublishError(f"a subset may not be called {FILTERED_CONFIG!r}: that name is the core-set config")

    out = out.resolve()
    with output_lock(out):
        tmp = new_temp(out, 0o755)
        try:
            facts_by_subset: dict[str, dict[str, Any]] = {}
            configs: dict[str, dict[str, Any]] = {}
            for name in names:
                src = build_dir / "data" / f"{name}.parquet"
                rel = data_path(name)
                dest = tmp / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)  # the build's bytes, so identical builds give identical files
                configs[name] = config_from_files(name, SPLIT, [dest], [rel]).to_record()
                summary = manifest["subsets"][name]
                facts_by_subset[name] = subset_facts(summary, folder.rows[name], subset_description(name, summary))
            facts = build_facts(manifest, facts_by_subset)
            facts["configs"] = configs
            facts = merge_facts(existing, facts)
            config_list = all_configs(facts, filtered=FILTERED_CONFIG, split=SPLIT)
            atomic_write(tmp / CARD_FILE, render_card(facts, config_list, repo_id))
            atomic_write(tmp / FACTS_FILE, json.dumps(facts, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
            swap_in(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return Layout(out, repo_id, names, refused, facts, config_list)


def check_repo_id(repo_id: str) -> None:
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts) or any(c.isspace() for c in repo_id):
        raise PublishError(f"--repo must look like ORG/NAME, got {repo_id!r}")


# --- the Hub ---------------------------------------------------------------------------------


class HubApi(Protocol):
    """The part of `huggingface_hub.HfApi` publishing uses (tests pass a local stand-in)."""

    def repo_exists(self, repo_id: str, *, repo_type: str | None = None) -> bool: ...

    def create_repo(self, repo_id: str, *, repo_type: str | None = None, private: bool | None = None, exist_ok: bool = False) -> Any: ...

    def list_repo_tree(self, repo_id: str, *, recursive: bool = False, repo_type: str | None = None) -> Any: ...

    def hf_hub_download(self, repo_id: str, filename: str, *, repo_type: str | None = None) -> str: ...

    def upload_folder(self, *, repo_id: str, folder_path: str, repo_type: str | None = None,
                      allow_patterns: list[str] | None = None, commit_message: str | None = None) -> Any: ...


@dataclass(frozen=True)
class RemoteFile:
    path: str
    sha256: str | None  # LFS files
    blob_id: str | None  # git blob sha1 (regular files; LFS pointers otherwise)


@dataclass
class RemoteState:
    exists: bool
    files: dict[str, RemoteFile] = field(default_factory=dict)
    facts: dict[str, Any] | None = None


def _attr(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def remote_state(api: HubApi, repo_id: str) -> RemoteState:
    """What the repo holds now: file hashes from the tree listing, and its rbkit.json facts."""
    if not api.repo_exists(repo_id, repo_type=REPO_TYPE):
        return RemoteState(exists=False)
    files: dict[str, RemoteFile] = {}
    for entry in api.list_repo_tree(repo_id, recursive=True, repo_type=REPO_TYPE):
        blob_id = _attr(entry, "blob_id")
        if blob_id is None:  # folders
            continue
        lfs = _attr(entry, "lfs")
        files[entry.path] = RemoteFile(entry.path, _attr(lfs, "sha256"), blob_id)
    facts = None
    if FACTS_FILE in files:
        path = api.hf_hub_download(repo_id, FACTS_FILE, repo_type=REPO_TYPE)
        try:
            facts = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise PublishError(f"{repo_id}/{FACTS_FILE} on the Hub is not valid JSON ({exc}); fix or delete it") from exc
    elif files.keys() - {".gitattributes"}:
        raise PublishError(
            f"{repo_id} already holds files but no {FACTS_FILE}: it was not published by rbkit; "
            "publish to a new repo, or add the subsets by hand"
        )
    return RemoteState(True, files, facts)


def unchanged(local: Path, remote: RemoteFile | None) -> bool:
    """True when the Hub already has these exact bytes (LFS sha256, or git blob id)."""
    if remote is None:
        return False
    if remote.sha256 is not None:
        return remote.sha256 == sha256_file(local)
    return remote.blob_id == git_blob_sha1(local)


@dataclass
class PublishResult:
    layout: Layout
    dry_run: bool
    created: bool = False
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # identical on the Hub already
    commit: Any = None


def default_out(build_dir: Path) -> Path:
    return build_dir / "hub"


def publish(
    build_dir: Path,
    repo_id: str,
    *,
    out: Path | None = None,
    private: bool = False,
    dry_run: bool = False,
    subsets: Sequence[str] = (),
    exclude: Sequence[str] = (),
    api: HubApi | None = None,
    token: str | None = None,
) -> PublishResult:
    """Lay out the Hub folder and, unless `dry_run`, upload what changed with huggingface_hub."""
    out = out or default_out(build_dir)
    if dry_run:
        layout = lay_out(build_dir, out, repo_id, subsets=subsets, exclude=exclude)
        return PublishResult(layout, dry_run=True)
    check_repo_id(repo_id)
    if api is None:
        from huggingface_hub import HfApi, get_token

        token = token or get_token()
        if not token:
            layout = lay_out(build_dir, out, repo_id, subsets=subsets, exclude=exclude)
            raise PublishError(
                f"no Hugging Face token: the folder is ready at {layout.root}, but nothing was uploaded.\n"
                "  Set HF_TOKEN or run `hf auth login`, or pass --dry-run to only write the folder."
            )
        api = HfApi(token=token)
    remote = remote_state(api, repo_id)
    layout = lay_out(build_dir, out, repo_id, subsets=subsets, exclude=exclude, existing=remote.facts)
    result = PublishResult(layout, dry_run=False)
    if not remote.exists:
        api.create_repo(repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)
        result.created = True
    for rel in layout.files():
        (result.skipped if unchanged(layout.root / rel, remote.files.get(rel)) else result.uploaded).append(rel)
    if result.uploaded:
        result.commit = api.upload_folder(
            repo_id=repo_id,
            folder_path=str(layout.root),
            repo_type=REPO_TYPE,
            allow_patterns=result.uploaded,
            commit_message=f"rbkit {layout.facts['rbkit_version']}: publish {', '.join(layout.subsets)}",
        )
    return result
