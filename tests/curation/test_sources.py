import hashlib
import http.server
import shutil
import threading
from functools import partial
from pathlib import Path

import pytest
from rbkit.curation.errors import SourceHashError, SourceMissingError
from rbkit.curation.sources import SourceFile, check_mirror, fetch, resolve

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "llmbar" / "dataset.json"


def source(sha: str | None = None, kind="github", repo="org/repo", path="Dataset/x/dataset.json") -> SourceFile:
    return SourceFile(
        name="demo/x",
        kind=kind,
        repo=repo,
        revision="0123456789abcdef",
        path=path,
        sha256=sha or hashlib.sha256(FIXTURE.read_bytes()).hexdigest(),
        license="MIT",
        citation="demo",
        mirror_path="demo/x/dataset.json",
    )


@pytest.fixture
def tiny_mirror(tmp_path, monkeypatch):
    (tmp_path / "demo" / "x").mkdir(parents=True)
    shutil.copy(FIXTURE, tmp_path / "demo" / "x" / "dataset.json")
    sha = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    (tmp_path / "MANIFEST.tsv").write_text(f"relpath\tsha256\tbytes\ndemo/x/dataset.json\t{sha}\t{FIXTURE.stat().st_size}\n")
    monkeypatch.setenv("RBKIT_SOURCES", str(tmp_path))
    return tmp_path


def test_resolve_reads_the_mirror_when_the_hash_matches(tiny_mirror):
    assert resolve(source()) == tiny_mirror / "demo" / "x" / "dataset.json"


def test_altered_file_is_refused_with_both_hashes(tiny_mirror):
    target = tiny_mirror / "demo" / "x" / "dataset.json"
    target.write_bytes(target.read_bytes().replace(b"autumn", b"spring"))
    with pytest.raises(SourceHashError) as info:
        resolve(source())
    message = str(info.value)
    assert str(target) in message and source().sha256 in message
    assert hashlib.sha256(target.read_bytes()).hexdigest() in message
    assert "rbkit sources fetch" in message


def test_missing_file_names_the_upstream_file_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("RBKIT_SOURCES", str(tmp_path))
    with pytest.raises(SourceMissingError) as info:
        resolve(source())
    assert "org/repo" in str(info.value) and "Dataset/x/dataset.json" in str(info.value)
    assert "rbkit sources fetch demo/x" in str(info.value)


def test_check_mirror_reports_altered_and_absent_files(tiny_mirror):
    (tiny_mirror / "demo" / "x" / "dataset.json").write_text("[]")
    other = SourceFile("demo/y", "github", "o/r", "abc", "y.json", "1" * 64, "MIT", "c", "demo/y.json")
    status = {r.relpath: r.status for r in check_mirror(tiny_mirror, [source(), other])}
    assert status == {"demo/x/dataset.json": "altered", "demo/y.json": "absent"}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def local_http(tmp_path):
    root = tmp_path / "www"
    (root / "org" / "repo" / "0123456789abcdef" / "Dataset" / "x").mkdir(parents=True)
    shutil.copy(FIXTURE, root / "org" / "repo" / "0123456789abcdef" / "Dataset" / "x" / "dataset.json")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_fetch_downloads_over_http_verifies_and_caches(local_http, monkeypatch, tmp_path):
    monkeypatch.delenv("RBKIT_SOURCES", raising=False)
    monkeypatch.setattr(SourceFile, "url", property(lambda s: f"{local_http}/{s.repo}/{s.revision}/{s.path}"))
    path = fetch(source())
    assert path.read_bytes() == FIXTURE.read_bytes()
    assert resolve(source()) == path


def test_fetch_refuses_a_download_with_the_wrong_hash(local_http, monkeypatch):
    monkeypatch.delenv("RBKIT_SOURCES", raising=False)
    monkeypatch.setattr(SourceFile, "url", property(lambda s: f"{local_http}/{s.repo}/{s.revision}/{s.path}"))
    with pytest.raises(SourceHashError):
        fetch(source(sha="f" * 64))
    with pytest.raises(SourceMissingError):
        resolve(source(sha="f" * 64))  # nothing half-written into the cache


def test_fetch_reports_an_unreachable_host(monkeypatch):
    monkeypatch.delenv("RBKIT_SOURCES", raising=False)
    monkeypatch.setattr(SourceFile, "url", property(lambda s: "http://127.0.0.1:9/none"))
    with pytest.raises(SourceMissingError, match="could not download"):
        fetch(source(), force=True)


def test_urls_point_at_the_pinned_revision():
    assert source().url == "https://raw.githubusercontent.com/org/repo/0123456789abcdef/Dataset/x/dataset.json"
    assert source(kind="hub-dataset").url.startswith("https://huggingface.co/datasets/org/repo/resolve/0123456789abcdef/")
    assert "media.githubusercontent.com" in source(kind="github-lfs").url
