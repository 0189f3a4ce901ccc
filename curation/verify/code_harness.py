"""How each language's candidate is assembled, compiled and run: one table row per language.

`HARNESSES[language]` says which files a candidate becomes, which stages (prepare, compile,
run) run on them, and the harness version that goes into the verdict cache key. The verdict
logic (sandbox runs, caching, pair decisions) is in `code.py`; it only reads this table.

Per language (upstream HumanEvalPack harness conventions):
- python: program + tests in one file (the tests call `check(entry_point)`), `python3`.
- js: program + tests, `node`. `console.assert` only prints, so a prelude makes a failed
  assertion throw and set the exit code.
- java: program (class Solution) + tests (public class Main) in Main.java, `javac`, `java -ea`.
- cpp: common C headers the upstream declarations add + program + tests (a `main` with
  asserts), `g++ -std=c++17 ... -lcrypto` (CPP/162 uses OpenSSL's MD5).
- go: `package main` + program (its import block, declaration, solution) in main.go; the
  row's `test_setup` + tests in main_test.go; `go test -c` in GOPATH mode, then the binary.
  Go refuses unused imports, and some upstream buggy solutions (e.g. Go/0) no longer use an
  import the prompt declares. So that a compile error from an unused import is never what
  "verifies" a pair, main.go of every candidate (chosen and rejected alike) goes through
  `goimports` first; the detail records when it changed the program. The test file gets the
  same treatment: upstream test files of six tasks (Go/2, 4, 38, 44, 151, 162) use packages
  they do not import, or import ones they do not use, because the upstream harness compiles
  program and tests as one file. Go randomises map iteration, so the test binary runs its
  tests 100 times (`-test.count=100`, milliseconds): a program that depends on the order
  then fails reliably instead of now and then. The canonical solution of Go/95 looks at
  two keys only and fails about one run in four; 10 repetitions still let 7% through.
- rust: program + tests (`#[cfg(test)] mod tests`) in main.rs, `rustc --test` against
  rand/regex/md5 built once by cargo from Debian's crates (see toolchains.py), then the binary.
  Debian ships rand 0.8; the tests of Rust/32 and Rust/50 call rand 0.7's two-argument
  `gen_range(low, high)`, so neither of their programs compiles and those pairs are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rbkit.curation.verify import toolchains
from rbkit.curation.verify.sandbox import COMPILE_LIMITS, RUN_LIMITS, Limits, RunDir
from rbkit.curation.verify.toolchains import Toolchain

JS_PRELUDE = """\
{
  // rbkit: console.assert only prints; make a failed assertion fail the run.
  const rbkitAssert = console.assert.bind(console);
  console.assert = (condition, ...data) => {
    if (!condition) {
      process.exitCode = 1;
      rbkitAssert(condition, ...data);
      throw new Error("console.assert failed");
    }
  };
}
"""
# Headers the HumanEvalPack C++ declarations add to the prompt's own includes.
CPP_PRELUDE = "#include<stdlib.h>\n#include<algorithm>\n#include<math.h>\n"
PY_SYNTAX_CHECK = "import sys; compile(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1], 'exec')"


@dataclass(frozen=True)
class Stage:
    kind: str  # "prepare" (a failure is a compile error), "compile" or "run"
    argv: list[str]
    sandbox_user: bool  # runs candidate code: throw-away uid, process limit
    limits: Limits
    env: dict[str, str] = field(default_factory=dict)


# (code, tests, test_setup) -> {file name: text}
Files = Callable[[str, str, str], dict[str, str]]
# (toolchain, prepared flags, run limits) -> stages, in order; the last one runs the tests
Stages = Callable[[Toolchain, list[str], Limits], list[Stage]]


@dataclass(frozen=True)
class Harness:
    """One language: its files, its stages, and the one-time flag preparation they need."""

    version: str  # bump when this language's file assembly, commands or verdict rules change
    files: Files
    stages: Stages
    prepare: Callable[[Toolchain], list[str]] = lambda tc: []  # one-time flags (javac's, rustc's crates)


def _python_stages(tc: Toolchain, flags: list[str], limits: Limits) -> list[Stage]:
    py = [tc.tools["python"], "-B", "-s"]
    return [
        Stage("compile", [*py, "-c", PY_SYNTAX_CHECK, "candidate.py"], False, COMPILE_LIMITS),
        Stage("run", [*py, "candidate.py"], True, limits, tc.run_env),
    ]


def _js_stages(tc: Toolchain, flags: list[str], limits: Limits) -> list[Stage]:
    node = tc.tools["node"]
    return [
        Stage("compile", [node, "--check", "candidate.js"], False, COMPILE_LIMITS),
        Stage("run", [node, "candidate.js"], True, limits, tc.run_env),
    ]


def _java_stages(tc: Toolchain, flags: list[str], limits: Limits) -> list[Stage]:
    t = tc.tools
    return [
        Stage(
            "compile",
            [t["javac"], *flags, "-encoding", "UTF-8", "-nowarn", "-Xlint:none", "-d", "classes", "Main.java"],
            False,
            COMPILE_LIMITS,
        ),
        Stage("run", [t["java"], *toolchains.JAVA_FLAGS, "-Xmx512m", "-ea", "-cp", "classes", "Main"], True, limits, tc.run_env),
    ]


def _cpp_stages(tc: Toolchain, flags: list[str], limits: Limits) -> list[Stage]:
    return [
        Stage("compile", [tc.tools["g++"], "-std=c++17", "-O0", "-w", "candidate.cpp", "-o", "candidate", "-lcrypto"], False, COMPILE_LIMITS, tc.env),
        Stage("run", ["./candidate"], True, limits, tc.run_env),
    ]


def _go_stages(tc: Toolchain, flags: list[str], limits: Limits) -> list[Stage]:
    t = tc.tools
    return [
        Stage("prepare", [t["goimports"], "-w", "main.go", "main_test.go"], False, COMPILE_LIMITS, tc.env),
        Stage(
            "compile",
            [t["go"], "test", "-c", "-vet=off", "-ldflags=-s -w", "-o", "candidate.test", "."],
            False,
            COMPILE_LIMITS,
            tc.env,
        ),
        Stage("run", ["./candidate.test", "-test.count=100"], True, limits, tc.run_env),
    ]


def _rust_stages(tc: Toolchain, flags: list[str], limits: Limits) -> list[Stage]:
    return [
        Stage(
            "compile",
            [tc.tools["rustc"], "--edition", "2021", "--test", "-A", "warnings", "-C", "debuginfo=0", "main.rs", "-o", "candidate", *flags],
            False,
            COMPILE_LIMITS,
            tc.env,
        ),
        Stage("run", ["./candidate", "--test-threads=1"], True, limits, tc.run_env),
    ]


HARNESSES: dict[str, Harness] = {
    "python": Harness("1", lambda code, tests, setup: {"candidate.py": f"{code}\n{tests}"}, _python_stages),
    "js": Harness("1", lambda code, tests, setup: {"candidate.js": f"{JS_PRELUDE}{code}\n{tests}"}, _js_stages),
    "java": Harness("2", lambda code, tests, setup: {"Main.java": f"{code}\n{tests}"}, _java_stages, toolchains.javac_flags),
    "cpp": Harness("1", lambda code, tests, setup: {"candidate.cpp": f"{CPP_PRELUDE}{code}\n{tests}"}, _cpp_stages),
    "go": Harness(
        "5",
        lambda code, tests, setup: {"main.go": f"package main\n\n{code}", "main_test.go": f"{setup}\n{tests}"},
        _go_stages,
    ),
    "rust": Harness("1", lambda code, tests, setup: {"main.rs": f"{code}\n{tests}"}, _rust_stages, toolchains.rust_extern_flags),
}
LANGUAGES: tuple[str, ...] = tuple(HARNESSES)
# Part of every verdict's cache key: per language, the harness version above.
RUNNER_VERSIONS: dict[str, str] = {language: h.version for language, h in HARNESSES.items()}


def stages_for(language: str, tc: Toolchain, extra_flags: Sequence[str] = (), run_limits: Limits = RUN_LIMITS) -> list[Stage]:
    """A language's stages; `extra_flags` are javac's JVM flags or rustc's crate flags."""
    return HARNESSES[language].stages(tc, list(extra_flags), run_limits)


# --- Go: what goimports changed (recorded in the verdict's notes) ----------------------------------

_GO_IMPORT_BLOCK = re.compile(r"^import\s*\(([^)]*)\)", re.M)
_GO_IMPORT_LINE = re.compile(r'^import\s+(?:\w+\s+)?"([^"]+)"', re.M)


def go_imports(source: str) -> set[str]:
    """Import paths declared by a Go file."""
    paths = set(_GO_IMPORT_LINE.findall(source))
    for block in _GO_IMPORT_BLOCK.findall(source):
        paths.update(re.findall(r'"([^"]+)"', block))
    return paths


def import_changes(before: dict[str, str], run_dir: RunDir) -> list[str]:
    """What goimports did to each file's imports (it also reformats; that is not reported)."""
    notes = []
    for name in sorted(before):
        old, new = go_imports(before[name]), go_imports(run_dir.read(name))
        if old - new:
            notes.append(f"goimports removed from {name}: {', '.join(sorted(old - new))}")
        if new - old:
            notes.append(f"goimports added to {name}: {', '.join(sorted(new - old))}")
    return notes
