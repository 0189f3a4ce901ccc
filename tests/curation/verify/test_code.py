"""The code verifier on tiny hand-written HumanEvalPack-format tasks, one toolchain at a time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from rbkit.curation.errors import ToolchainMissingError
from rbkit.curation.verify.code import Candidate, CodeVerifier, go_imports
from rbkit.curation.verify.sandbox import Limits
from rbkit.curation.verify.verdict_cache import VerdictCache

pytestmark = pytest.mark.toolchain

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "humanevalpack"
LANGUAGES = ("python", "js", "java", "cpp", "go", "rust")
SHORT = Limits(wall_s=6.0, cpu_s=2, file_bytes=1 << 20)


def fixture_rows(language: str) -> list[dict]:
    path = FIXTURES / language / "humanevalpack.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def candidates(language: str, index: int = 0) -> tuple[Candidate, Candidate]:
    rec = fixture_rows(language)[index]
    setup = rec.get("test_setup", "")
    return (
        Candidate(language, rec["prompt"] + rec["canonical_solution"], rec["test"], setup),
        Candidate(language, rec["prompt"] + rec["buggy_solution"], rec["test"], setup),
    )


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> CodeVerifier:
    """One cache for the module, so Go's build cache and Rust's crates are built once."""
    return CodeVerifier(tmp_path_factory.mktemp("verify-cache"), jobs=2, run_limits=SHORT)


def python(code: str, tests: str = "") -> Candidate:
    return Candidate("python", code, tests)


@pytest.mark.parametrize("language", LANGUAGES)
def test_canonical_passes_and_buggy_fails(verifier: CodeVerifier, language: str):
    (chosen, rejected), _ = verifier.verify(candidates(language))
    assert chosen.verdict == "pass", chosen.stderr_tail + chosen.stdout_tail
    assert rejected.verdict == "fail", rejected.stderr_tail + rejected.stdout_tail
    assert rejected.stage == "run"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_buggy_solution_that_is_still_correct_passes(verifier: CodeVerifier, language: str):
    (chosen, rejected), _ = verifier.verify(candidates(language, index=1))
    assert (chosen.verdict, rejected.verdict) == ("pass", "pass")


def test_js_failed_console_assert_fails_the_run(verifier: CodeVerifier):
    [v], _ = verifier.verify([Candidate("js", "const one = () => 1;\n", "console.assert(one() === 2)\n")])
    assert v.verdict == "fail"
    assert "Assertion failed" in v.stderr_tail


def test_js_test_after_a_failed_assertion_does_not_rescue_the_run(verifier: CodeVerifier):
    tests = "try { console.assert(false) } catch (e) {}\nconsole.assert(true)\n"
    [v], _ = verifier.verify([Candidate("js", "", tests)])
    assert v.verdict == "fail"


def test_go_unused_import_is_removed_so_the_bug_decides(verifier: CodeVerifier):
    _, rejected = candidates("go")
    assert go_imports("package main\n\n" + rejected.code) == {"math"}
    [v], _ = verifier.verify([rejected])
    assert v.verdict == "fail" and v.stage == "run"
    assert "goimports removed from main.go: math" in v.notes


def test_go_test_file_gets_its_missing_imports(verifier: CodeVerifier):
    chosen, _ = candidates("go")
    tests = chosen.tests.replace("assert.Equal(0.0,", "assert.Equal(math.Abs(0.0),")
    [v], _ = verifier.verify([Candidate("go", chosen.code, tests, chosen.test_setup)])
    assert v.verdict == "pass", v.stderr_tail + v.stdout_tail
    assert "goimports added to main_test.go: math" in v.notes


def test_go_runs_tests_repeatedly_so_map_order_bugs_show(verifier: CodeVerifier):
    # Checks only the first key it iterates: passes in about half the single runs.
    code = (
        "func AllUpper(m map[string]int) bool {\n    for k := range m {\n"
        "        return k == \"A\" || k == \"B\"\n    }\n    return true\n}\n"
    )
    setup = fixture_rows("go")[0]["test_setup"]
    test = (
        "func TestAllUpper(t *testing.T) {\n    assert := assert.New(t)\n"
        '    assert.Equal(false, AllUpper(map[string]int{"A": 1, "B": 2, "c": 3, "d": 4}))\n}\n'
    )
    [v], _ = verifier.verify([Candidate("go", code, test, setup)])
    assert v.verdict == "fail"


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "def f(:\n"),
        ("js", "const f = ( => 1;\n"),
        ("java", "class Solution { int f() { return 1 } }\n"),
        ("cpp", "int f() { return 1 }\n"),
        ("go", "func F() int {\n    return 1 +\n}\n"),
        ("rust", "fn f() -> i32 { 1 + }\n"),
    ],
)
def test_code_that_does_not_compile_is_a_compile_error(verifier: CodeVerifier, language: str, code: str):
    tests = {"java": "public class Main { public static void main(String[] a) {} }", "cpp": "int main(){}"}
    setup = 'package main\n\nimport "testing"\n' if language == "go" else ""
    [v], _ = verifier.verify([Candidate(language, code, tests.get(language, ""), setup)])
    assert (v.verdict, v.stage) == ("compile_error", "compile")
    assert v.returncode != 0


def test_infinite_loop_is_a_timeout(verifier: CodeVerifier):
    started = time.monotonic()
    [v], _ = verifier.verify([python("while True:\n    pass\n")])
    assert v.verdict == "timeout"
    assert time.monotonic() - started < SHORT.wall_s + 5


def test_sleeping_forever_is_a_timeout_at_the_wall_clock_limit(verifier: CodeVerifier):
    [v], _ = verifier.verify([python("import time\ntime.sleep(600)\n")])
    assert v.verdict == "timeout" and v.signal == "SIGKILL"


def test_fork_bomb_is_contained(verifier: CodeVerifier):
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    started = time.monotonic()
    [v], _ = verifier.verify([python(code)])
    assert v.verdict in ("timeout", "fail")
    assert time.monotonic() - started < SHORT.wall_s + 10
    [after], _ = verifier.verify([python("import os\nos.fork()\nprint('ok')\n")])
    assert after.verdict == "pass"  # the machine can still fork for the next candidate


def test_endless_output_is_capped_and_fails(verifier: CodeVerifier):
    [v], _ = verifier.verify([python("while True:\n    print('x' * 1000)\n")])
    assert v.verdict == "fail" and v.output_limited
    assert len(v.stdout_tail) <= 4100


def test_filling_the_disk_is_stopped_by_the_file_size_limit(verifier: CodeVerifier):
    code = "with open('big', 'wb') as f:\n    while True:\n        f.write(b'x' * 65536)\n"
    [v], _ = verifier.verify([python(code)])
    assert v.verdict == "fail" and "File too large" in v.stderr_tail


def test_no_network(verifier: CodeVerifier):
    code = "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=2)\n"
    [v], _ = verifier.verify([python(code)])
    assert v.verdict == "fail"
    assert "Network is unreachable" in v.stderr_tail or "Connection refused" in v.stderr_tail


def test_output_has_no_temporary_paths(verifier: CodeVerifier):
    [v], _ = verifier.verify([python("import os\nprint(os.getcwd())\n")])
    assert v.verdict == "pass" and v.stdout_tail.startswith("<run>/")


def test_second_run_is_served_from_the_cache(tmp_path: Path):
    v = CodeVerifier(tmp_path, jobs=2, run_limits=SHORT)
    cands = [python("x = 1\n", "assert x == 1\n"), python("x = 1\n", "assert x == 2\n")]
    first, cold = v.verify(cands)
    second, warm = v.verify(cands)
    assert (cold.executed, cold.cache_hits) == (2, 0)
    assert (warm.executed, warm.cache_hits) == (0, 2)
    assert [x.to_record() for x in first] == [x.to_record() for x in second]


def test_cache_key_covers_code_tests_toolchain_and_limits(tmp_path: Path):
    v = CodeVerifier(tmp_path, run_limits=SHORT)
    base = python("x = 1\n", "assert x == 1\n")
    keys = {
        v.key(base),
        v.key(python("x = 2\n", "assert x == 1\n")),
        v.key(python("x = 1\n", "assert x == 2\n")),
        CodeVerifier(tmp_path, run_limits=Limits(cpu_s=3)).key(base),
    }
    assert len(keys) == 4
    assert v.key(base) == CodeVerifier(tmp_path, run_limits=SHORT).key(base)


def test_duplicate_candidates_run_once(tmp_path: Path):
    v = CodeVerifier(tmp_path, run_limits=SHORT)
    same = python("x = 1\n", "assert x == 1\n")
    verdicts, stats = v.verify([same, same, same])
    assert stats.executed == 1 and [x.verdict for x in verdicts] == ["pass"] * 3


def test_cache_records_are_written_atomically_and_bad_ones_ignored(tmp_path: Path):
    cache = VerdictCache(tmp_path, "code")
    cache.put("ab" * 32, {"verdict": "pass"})
    assert cache.get("ab" * 32) == {"verdict": "pass"}
    assert [p.name for p in cache.path("ab" * 32).parent.iterdir()] == [f"{'ab' * 32}.json"]
    cache.path("cd" * 32).parent.mkdir(parents=True)
    cache.path("cd" * 32).write_text("{torn")
    assert cache.get("cd" * 32) is None


def test_parallel_and_serial_runs_agree(tmp_path: Path):
    cands = [python(f"x = {i}\n", "assert x % 2 == 0\n") for i in range(6)]
    parallel, _ = CodeVerifier(tmp_path / "a", jobs=3, run_limits=SHORT).verify(cands)
    serial, _ = CodeVerifier(tmp_path / "b", jobs=1, run_limits=SHORT).verify(cands)
    assert [v.verdict for v in parallel] == [v.verdict for v in serial] == ["pass", "fail"] * 3


def test_missing_go_names_the_debian_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("rbkit.curation.verify.toolchains.SAFE_PATH", str(tmp_path))
    with pytest.raises(ToolchainMissingError, match="golang-go"):
        CodeVerifier(tmp_path).toolchain("go")


def test_missing_js_md5_names_the_installer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RBKIT_NODE_PATH", str(tmp_path / "nothing"))
    with pytest.raises(ToolchainMissingError, match="js-md5.*install-toolchains"):
        CodeVerifier(tmp_path).toolchain("js")


def test_missing_rust_crates_name_the_debian_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RBKIT_CARGO_REGISTRY", str(tmp_path))
    with pytest.raises(ToolchainMissingError, match="librust-rand-dev"):
        CodeVerifier(tmp_path).toolchain("rust")
