"""A spec's URL source: missing until fetched (the error names the spec line and --fetch),
fetched from a real HTTP server on 127.0.0.1 into the cache with its sha256 checked."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rbkit.curation.pipeline import BuildContext, BuildOptions
from rbkit.curation.spec_build import prepare
from rbkit.curation.spec_file import SpecError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "specs"
PAIRS_SHA = "ac22b3210e9529687472d111b6c08a204879af089fbf2762dcdcfe6ef84aefd0"


@pytest.fixture
def server():
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(FIXTURES))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def url_spec(tmp_path: Path, url: str, sha256: str = PAIRS_SHA) -> Path:
    text = (FIXTURES / "pairs.toml").read_text().replace('path = "pairs.jsonl"', f'url = "{url}/pairs.jsonl"')
    path = tmp_path / "web.toml"
    path.write_text(text.replace(PAIRS_SHA, sha256))
    return path


def test_url_source_is_missing_until_fetched_then_builds(tmp_path, server, monkeypatch):
    monkeypatch.setenv("RBKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RBKIT_SOURCES", raising=False)
    spec = url_spec(tmp_path, server)
    with pytest.raises(SpecError) as err:
        prepare([spec])
    assert str(err.value).startswith(f"{spec}:9 sources.pairs: source 'spec-pairs/pairs' is missing")
    assert "--fetch" in err.value.reason
    (declared,) = prepare([spec], download=True)
    rows = list(declared.subset.build(BuildContext("spec-pairs", BuildOptions())))
    assert [r.provenance.upstream_file for r in rows] == [f"{server}/pairs.jsonl"] * 5
    assert (declared.subset.sources[0].kind, rows[0].provenance.sha256) == ("url", PAIRS_SHA)


def test_url_source_with_a_wrong_hash_names_the_line_and_caches_nothing(tmp_path, server, monkeypatch):
    monkeypatch.setenv("RBKIT_CACHE", str(tmp_path / "cache"))
    spec = url_spec(tmp_path, server, sha256="0" * 64)
    with pytest.raises(SpecError) as err:
        prepare([spec], download=True)
    assert str(err.value).startswith(f"{spec}:11 sources.pairs.sha256: the file's bytes are not the pinned ones")
    assert PAIRS_SHA in err.value.reason
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_hub_source_reads_from_the_mirror_at_its_mirror_path(tmp_path, monkeypatch):
    revision = "0123456789abcdef0123456789abcdef01234567"
    text = (FIXTURES / "pairs.toml").read_text().replace(
        'path = "pairs.jsonl"', f'hub = "me/pairs"\nrevision = "{revision}"\nfile = "data/pairs.jsonl"')
    spec = tmp_path / "hub.toml"
    spec.write_text(text)
    mirror = tmp_path / "mirror"
    (mirror / "spec-pairs").mkdir(parents=True)
    (mirror / "spec-pairs" / "pairs.jsonl").write_bytes((FIXTURES / "pairs.jsonl").read_bytes())
    monkeypatch.setenv("RBKIT_SOURCES", str(mirror))
    monkeypatch.setenv("RBKIT_CACHE", str(tmp_path / "cache"))
    (declared,) = prepare([spec])
    source = declared.subset.sources[0]
    assert (source.kind, source.url) == ("hub-dataset", f"https://huggingface.co/datasets/me/pairs/resolve/{revision}/data/pairs.jsonl")
    rows = list(declared.subset.build(BuildContext("spec-pairs", BuildOptions())))
    assert (len(rows), rows[0].provenance.revision, rows[0].provenance.upstream_file) == (5, revision, "data/pairs.jsonl")
