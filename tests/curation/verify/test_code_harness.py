"""The per-language harness table: what it assembles and runs, and the cache keys built on it."""

from __future__ import annotations

import pytest
from rbkit.curation.verify.code import Candidate, CodeVerifier, files_for
from rbkit.curation.verify.code_harness import HARNESSES, JS_PRELUDE, LANGUAGES, stages_for
from rbkit.curation.verify.sandbox import COMPILE_LIMITS, RUN_LIMITS
from rbkit.curation.verify.toolchains import Toolchain
from rbkit.curation.verify.verdict_cache import cache_key

TOOLS = {name: f"/opt/{name}" for name in ("python", "node", "javac", "java", "g++", "goimports", "go", "rustc")}
# The harness versions that are part of every verdict's cache key. Changing one reruns that
# language's whole verification (minutes), so it must be a deliberate edit here too.
PINNED_VERSIONS = {"python": "1", "js": "1", "java": "2", "cpp": "1", "go": "5", "rust": "1"}


def fake_toolchain(language: str) -> Toolchain:
    return Toolchain(language, TOOLS, f"{language} 1.0", {"COMPILE": "1"}, {"RUN": "1"})


def test_every_language_has_a_harness_that_ends_by_running_the_tests():
    assert LANGUAGES == ("python", "js", "java", "cpp", "go", "rust")
    for language in LANGUAGES:
        stages = stages_for(language, fake_toolchain(language), ["-flag"])
        assert stages[-1].kind == "run" and stages[-1].sandbox_user and stages[-1].limits == RUN_LIMITS
        assert all(s.kind in ("prepare", "compile") and not s.sandbox_user for s in stages[:-1])


@pytest.mark.parametrize("language", LANGUAGES)
def test_cache_key_material_is_unchanged(language: str):
    """The key hashes exactly these fields; any change would invalidate every cached verdict."""
    verifier = CodeVerifier.__new__(CodeVerifier)  # no sandbox or toolchain lookup needed
    verifier.run_limits = RUN_LIMITS
    verifier._toolchains = {language: fake_toolchain(language)}
    c = Candidate(language, "code", "tests", "setup")
    assert HARNESSES[language].version == PINNED_VERSIONS[language]
    assert verifier.key(c) == cache_key(
        {
            "runner": PINNED_VERSIONS[language],
            "language": language,
            "code": "code",
            "tests": "tests",
            "test_setup": "setup",
            "toolchain": f"{language} 1.0",
            "compile_limits": COMPILE_LIMITS.to_record(),
            "run_limits": RUN_LIMITS.to_record(),
        }
    )


def test_files_follow_the_upstream_harness_layout():
    assert files_for(Candidate("python", "def f(): pass", "check(f)")) == {"candidate.py": "def f(): pass\ncheck(f)"}
    assert files_for(Candidate("js", "p", "t")) == {"candidate.js": f"{JS_PRELUDE}p\nt"}
    assert files_for(Candidate("go", "func F() {}", "func TestF(t *testing.T) {}", "package main\n")) == {
        "main.go": "package main\n\nfunc F() {}",
        "main_test.go": "package main\n\nfunc TestF(t *testing.T) {}",
    }


def test_java_and_rust_get_their_prepared_flags_and_go_runs_goimports_first():
    java = stages_for("java", fake_toolchain("java"), ["-J-Xshare"])
    assert java[0].argv[:2] == ["/opt/javac", "-J-Xshare"]
    rust = stages_for("rust", fake_toolchain("rust"), ["--extern", "rand=x"])
    assert rust[0].argv[-2:] == ["--extern", "rand=x"]
    go = stages_for("go", fake_toolchain("go"))
    assert [s.kind for s in go] == ["prepare", "compile", "run"] and go[0].argv[0] == "/opt/goimports"
