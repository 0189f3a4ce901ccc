from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from rbkit.curation.build import run_build
from rbkit.curation.pipeline import BuildContext, BuildOptions
from rbkit.curation.publish import PublishError, lay_out, publish
from rbkit.curation.registry import SubsetSpec
from rbkit.curation.rows import Provenance, Review, TrioRow, Verification, stable_id
from rbkit.curation.sources import SourceFile, git_blob_sha1, sha256_file

UPSTREAM_COLUMNS = ["prompt", "chosen", "chosen_model", "rejected", "rejected_model", "subset", "id"]


# --- a small real build ----------------------------------------------------------------------


@pytest.fixture
def mirror_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "mirror"
    (root / "toy").mkdir(parents=True)
    (root / "toy" / "data.json").write_text('{"toy": true}\n')
    monkeypatch.setenv("RBKIT_SOURCES", str(root))
    return root


def source(mirror: Path, license: str = "MIT", name: str = "toy/data") -> SourceFile:
    path = mirror / "toy" / "data.json"
    return SourceFile(
        name=name, kind="github", repo="toy/repo", revision="0" * 40, path="data.json",
        sha256=sha256_file(path), license=license, citation="zeng2024llmbar", mirror_path="toy/data.json",
    )


def spec(
    name: str, src: SourceFile, *, section: str = "Chat Hard", license: str = "MIT", n: int = 3,
    messages: bool = False, substitute: str | None = None, tag: str = "",
) -> SubsetSpec:
    def build(ctx: BuildContext):
        for i in range(n):
            key = f"{name}#{i}"
            prompt: Any = ({"role": "user", "content": f"question {i}"},) if messages else f"question {i}"
            yield TrioRow(
                prompt=prompt, chosen=f"good answer {i}{tag}", chosen_model="m-good", rejected=f"bad {i}",
                rejected_model="m-bad", subset=name, id=stable_id(name, key),
                provenance=Provenance(
                    source="toy", upstream_file=src.path, revision=src.revision, sha256=src.sha256, row_key=key,
                    builder="tests", builder_version="1",
                    verification=(Verification("label:gold", "pair", "chosen"),),
                    review=Review("accepted", "ann", "2024-01-01T00:00:00Z") if i == 0 else Review(),
                ),
            )

    return SubsetSpec(
        name=name, section=section, source="toy", license=license, expected=n, sources=(src,), build=build,
        description=f"toy subset {name}", substitute=substitute,
    )


def make_build(out: Path, specs: list[SubsetSpec]) -> Path:
    run_build(specs, out, BuildOptions())
    return out


@pytest.fixture
def build_dir(tmp_path: Path, mirror_dir: Path) -> Path:
    src = source(mirror_dir)
    return make_build(
        tmp_path / "out",
        [
            spec("toy-easy", src, section="Chat", n=3),
            spec("toy-hard", src, section="Chat Hard", n=2),
            spec("toy_prior", src, section="Prior Sets", n=4, messages=True),
        ],
    )


def load(folder: Path, name: str | None, tmp_path: Path, split: str = "filtered"):
    import datasets

    return datasets.load_dataset(str(folder), name=name, split=split, cache_dir=str(tmp_path / "hf-cache"))


# --- the folder loads like allenai/reward-bench ----------------------------------------------


def test_dry_run_folder_loads_filtered_like_reward_bench(build_dir: Path, tmp_path: Path):
    result = publish(build_dir, "me/rb-rebuild", dry_run=True)
    ds = load(result.layout.root, "filtered", tmp_path)
    assert ds.split == "filtered"
    assert ds.column_names[:7] == UPSTREAM_COLUMNS
    assert ds.features["id"].dtype == "int64" and ds.features["prompt"].dtype == "string"
    assert sorted(set(ds["subset"])) == ["toy-easy", "toy-hard"]  # Prior Sets are not in `filtered`
    assert len(ds) == 5
    default = load(result.layout.root, None, tmp_path)  # `filtered` is the default config
    assert len(default) == 5


def test_each_subset_is_a_config_and_prior_sets_keep_message_prompts(build_dir: Path, tmp_path: Path):
    root = publish(build_dir, "me/rb-rebuild", dry_run=True).layout.root
    easy = load(root, "toy-easy", tmp_path)
    assert len(easy) == 3 and easy.column_names[:7] == UPSTREAM_COLUMNS
    prior = load(root, "toy_prior", tmp_path)
    assert len(prior) == 4
    assert prior[0]["prompt"] == [{"role": "user", "content": "question 0"}]
    assert prior.features["id"].dtype == "int64"


def test_published_parquet_is_the_build_bytes_and_layout_is_deterministic(build_dir: Path, tmp_path: Path):
    first = lay_out(build_dir, tmp_path / "a", "me/rb")
    second = lay_out(build_dir, tmp_path / "b", "me/rb")
    assert first.files() == second.files()
    for rel in first.files():
        assert (first.root / rel).read_bytes() == (second.root / rel).read_bytes(), rel
    assert (first.root / "data/toy-easy/filtered-00000-of-00001.parquet").read_bytes() == (
        build_dir / "data" / "toy-easy.parquet"
    ).read_bytes()


# --- licences --------------------------------------------------------------------------------


def test_subset_with_unknown_licence_is_refused_and_left_out(tmp_path: Path, mirror_dir: Path):
    src = source(mirror_dir)
    out = make_build(tmp_path / "out", [spec("ok-one", src), spec("mystery", src, license="unknown")])
    layout = publish(out, "me/rb", dry_run=True).layout
    assert layout.subsets == ["ok-one"]
    assert "mystery" in layout.refused and "licence" in layout.refused["mystery"][0]
    assert not (layout.root / "data" / "mystery").exists()
    assert "mystery" not in (layout.root / "README.md").read_text()


def test_asking_for_a_subset_with_unknown_source_licence_is_an_error(tmp_path: Path, mirror_dir: Path):
    out = make_build(tmp_path / "out", [spec("reddit", source(mirror_dir, license="unknown"))])
    with pytest.raises(PublishError, match=r"reddit: source 'toy/data' .* licence 'unknown'"):
        publish(out, "me/rb", dry_run=True, subsets=["reddit"])
    with pytest.raises(PublishError, match="every subset was left out"):
        publish(out, "me/rb", dry_run=True)


def test_empty_subset_is_left_out_because_an_empty_config_cannot_load(tmp_path: Path, mirror_dir: Path):
    src = source(mirror_dir)
    out = make_build(tmp_path / "out", [spec("full", src), spec("empty", src, n=0)])
    layout = publish(out, "me/rb", dry_run=True).layout
    assert layout.subsets == ["full"] and layout.refused == {"empty": ["the build has 0 rows"]}
    with pytest.raises(PublishError, match="0 rows"):
        publish(out, "me/rb", dry_run=True, subsets=["empty"])


def test_bad_repo_id_and_unknown_subset_fail_clearly(build_dir: Path):
    with pytest.raises(PublishError, match="ORG/NAME"):
        publish(build_dir, "no-slash", dry_run=True)
    with pytest.raises(PublishError, match="not in this build: nope"):
        publish(build_dir, "me/rb", dry_run=True, subsets=["nope"])


# --- uploading through an injectable api -----------------------------------------------------


class LocalHub:
    """A stand-in for HfApi backed by folders: same method signatures, same tree objects."""

    def __init__(self, root: Path):
        self.root = root
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _repo(self, repo_id: str) -> Path:
        return self.root / repo_id

    def repo_exists(self, repo_id: str, *, repo_type: str | None = None) -> bool:
        self.calls.append(("repo_exists", {"repo_id": repo_id, "repo_type": repo_type}))
        return self._repo(repo_id).is_dir()

    def create_repo(self, repo_id: str, *, repo_type=None, private=None, exist_ok=False):
        self.calls.append(("create_repo", {"repo_id": repo_id, "repo_type": repo_type, "private": private}))
        self._repo(repo_id).mkdir(parents=True, exist_ok=exist_ok)
        (self._repo(repo_id) / ".gitattributes").write_text("*.parquet filter=lfs diff=lfs merge=lfs -text\n")

    def list_repo_tree(self, repo_id: str, *, recursive: bool = False, repo_type=None):
        from huggingface_hub.hf_api import RepoFile, RepoFolder

        self.calls.append(("list_repo_tree", {"repo_id": repo_id}))
        repo = self._repo(repo_id)
        for p in sorted(repo.rglob("*")):
            rel = p.relative_to(repo).as_posix()
            if p.is_dir():
                yield RepoFolder(path=rel, oid="f" * 40)
                continue
            lfs = None
            if p.suffix == ".parquet":
                lfs = {"size": p.stat().st_size, "oid": sha256_file(p), "pointerSize": 130}
                pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{lfs['oid']}\nsize {lfs['size']}\n"
                oid = hashlib.sha1(f"blob {len(pointer)}\0{pointer}".encode()).hexdigest()
            else:
                oid = git_blob_sha1(p)
            yield RepoFile(path=rel, size=p.stat().st_size, oid=oid, lfs=lfs)

    def hf_hub_download(self, repo_id: str, filename: str, *, repo_type=None) -> str:
        self.calls.append(("hf_hub_download", {"repo_id": repo_id, "filename": filename}))
        return str(self._repo(repo_id) / filename)

    def upload_folder(self, *, repo_id, folder_path, repo_type=None, allow_patterns=None, commit_message=None):
        from huggingface_hub.utils import filter_repo_objects

        folder = Path(folder_path)
        files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
        chosen = list(filter_repo_objects(files, allow_patterns=allow_patterns))
        self.calls.append(("upload_folder", {"repo_id": repo_id, "files": sorted(chosen), "message": commit_message}))
        for rel in chosen:
            dest = self._repo(repo_id) / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / rel, dest)
        return f"commit-{len(self.calls)}"

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def uploads(self) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == "upload_folder"]


def test_first_publish_creates_the_repo_and_uploads_everything(build_dir: Path, tmp_path: Path):
    hub = LocalHub(tmp_path / "hub")
    result = publish(build_dir, "me/rb", api=hub, private=True)
    assert result.created
    create = next(args for name, args in hub.calls if name == "create_repo")
    assert create == {"repo_id": "me/rb", "repo_type": "dataset", "private": True}
    assert hub.uploads()[0]["files"] == result.layout.files()
    assert "README.md" in result.uploaded and "rbkit.json" in result.uploaded
    # what landed on the "Hub" loads like the local folder
    assert len(load(hub.root / "me/rb", "filtered", tmp_path)) == 5


def test_republishing_identical_data_uploads_nothing(build_dir: Path, tmp_path: Path):
    hub = LocalHub(tmp_path / "hub")
    publish(build_dir, "me/rb", api=hub)
    hub.calls.clear()
    again = publish(build_dir, "me/rb", api=hub)
    assert again.uploaded == [] and not again.created
    assert "upload_folder" not in hub.names() and "create_repo" not in hub.names()
    assert sorted(again.skipped) == again.layout.files()


def test_new_subset_adds_a_config_without_touching_the_others(tmp_path: Path, mirror_dir: Path):
    src = source(mirror_dir)
    hub = LocalHub(tmp_path / "hub")
    first = make_build(tmp_path / "one", [spec("toy-easy", src, section="Chat"), spec("toy_prior", src, section="Prior Sets", messages=True)])
    publish(first, "me/rb", api=hub)
    before = {p: (hub.root / "me/rb" / p).read_bytes() for p in ("data/toy-easy/filtered-00000-of-00001.parquet",
                                                             "data/toy_prior/filtered-00000-of-00001.parquet")}
    hub.calls.clear()

    second = make_build(tmp_path / "two", [spec("toy-new", src, section="Chat Hard", n=5)])
    result = publish(second, "me/rb", api=hub)
    assert hub.uploads()[0]["files"] == ["README.md", "data/toy-new/filtered-00000-of-00001.parquet", "rbkit.json"]
    for rel, data in before.items():
        assert (hub.root / "me/rb" / rel).read_bytes() == data
    card = (hub.root / "me/rb" / "README.md").read_text()
    assert "config_name: toy-easy" in card and "config_name: toy-new" in card and "config_name: toy_prior" in card
    assert set(result.layout.facts["subsets"]) == {"toy-easy", "toy-new", "toy_prior"}
    core = load(hub.root / "me/rb", "filtered", tmp_path)
    assert sorted(set(core["subset"])) == ["toy-easy", "toy-new"] and len(core) == 8
    assert len(load(hub.root / "me/rb", "toy_prior", tmp_path)) == 3


def test_changed_subset_reuploads_only_its_file_and_the_card(tmp_path: Path, mirror_dir: Path):
    src = source(mirror_dir)
    hub = LocalHub(tmp_path / "hub")
    publish(make_build(tmp_path / "one", [spec("a-set", src), spec("b-set", src)]), "me/rb", api=hub)
    hub.calls.clear()
    result = publish(make_build(tmp_path / "two", [spec("a-set", src), spec("b-set", src, tag=" (fixed)")]), "me/rb", api=hub)
    assert result.uploaded == ["README.md", "data/b-set/filtered-00000-of-00001.parquet", "rbkit.json"]
    assert "data/a-set/filtered-00000-of-00001.parquet" in result.skipped


def test_repo_not_made_by_rbkit_is_not_overwritten(build_dir: Path, tmp_path: Path):
    hub = LocalHub(tmp_path / "hub")
    hub.create_repo("me/other")
    (hub.root / "me/other" / "README.md").write_text("someone else's dataset\n")
    with pytest.raises(PublishError, match="no rbkit.json"):
        publish(build_dir, "me/other", api=hub)
    assert "upload_folder" not in hub.names()


def test_without_a_token_the_folder_is_written_and_nothing_uploads(
    build_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no stored login either
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(PublishError, match="no Hugging Face token"):
        publish(build_dir, "me/rb")
    assert (build_dir / "hub" / "README.md").is_file()


def test_facts_file_records_every_config(build_dir: Path):
    layout = publish(build_dir, "me/rb", dry_run=True).layout
    facts = json.loads((layout.root / "rbkit.json").read_text())
    assert sorted(facts["configs"]) == ["toy-easy", "toy-hard", "toy_prior"]
    assert facts["configs"]["toy-easy"]["num_examples"] == 3
    assert [c.name for c in layout.configs] == ["filtered", "toy-easy", "toy-hard", "toy_prior"]


def test_build_card_makes_the_build_folder_itself_loadable(build_dir: Path, tmp_path: Path):
    from rbkit.curation.build import read_build
    from rbkit.curation.card import build_card

    (build_dir / "README.md").write_text(build_card(read_build(build_dir), "local/build"))
    core = load(build_dir, "filtered", tmp_path)
    assert len(core) == 5 and core.column_names[:7] == UPSTREAM_COLUMNS
    assert len(load(build_dir, "toy_prior", tmp_path)) == 4


def test_calls_match_the_real_hfapi_signatures():
    """The stand-in must not hide a call the real client would reject."""
    import inspect

    from huggingface_hub import HfApi

    calls = {
        "repo_exists": (("me/rb",), {"repo_type": "dataset"}),
        "create_repo": (("me/rb",), {"repo_type": "dataset", "private": True, "exist_ok": True}),
        "list_repo_tree": (("me/rb",), {"recursive": True, "repo_type": "dataset"}),
        "hf_hub_download": (("me/rb", "rbkit.json"), {"repo_type": "dataset"}),
        "upload_folder": ((), {"repo_id": "me/rb", "folder_path": "x", "repo_type": "dataset",
                               "allow_patterns": ["README.md"], "commit_message": "m"}),
    }
    for name, (args, kwargs) in calls.items():
        inspect.signature(getattr(HfApi, name)).bind(HfApi(token=False), *args, **kwargs)
