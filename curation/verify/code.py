"""Execution-verified code pairs: the chosen program passes its tests, the rejected one does not.

A `Candidate` is one program (as published: signature, docstring and body) plus the upstream
tests for it. `CodeVerifier` compiles and runs candidates in the sandbox (`sandbox.py`), in
parallel, with verdicts cached by content (`verdict_cache.py`):

    pass           compiled (where there is a compile step) and the tests exited 0
    fail           the tests ran and failed (assertion, exception, crash, output limit)
    compile_error  the compiler (or, for Python/JS, the syntax check) rejected the program
    timeout        a stage hit its wall-clock or CPU limit

`CodeVerifyStep` is the pipeline step: it keeps a pair only when chosen passes and rejected
does not (fail, compile_error or timeout: a buggy program that does not compile is still
wrong), records both verdicts on kept rows and sends the rest to dropped.jsonl with both.

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

Verdicts are cached, timeouts included, so a rebuild is deterministic on one machine. Across
machines (a cold cache) the tails of failing output can differ where upstream tests are
random (tasks 32, 38, 50, 53 in several languages).
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rbkit.curation.pipeline import BuildContext, StepResult, drop
from rbkit.curation.rows import DroppedRow, TrioRow, Verification, canonical_json
from rbkit.curation.verify import toolchains
from rbkit.curation.verify.sandbox import (
    COMPILE_LIMITS,
    RUN_LIMITS,
    Limits,
    RunDir,
    RunResult,
    Sandbox,
    default_sandbox,
)
from rbkit.curation.verify.toolchains import Toolchain
from rbkit.curation.verify.verdict_cache import VerdictCache, cache_key, default_cache_dir

# Per language: bump when that language's file assembly, commands or verdict rules change.
RUNNER_VERSIONS: dict[str, str] = {"python": "1", "js": "1", "java": "2", "cpp": "1", "go": "5", "rust": "1"}
LANGUAGES: tuple[str, ...] = ("python", "js", "java", "cpp", "go", "rust")
VERDICTS: tuple[str, ...] = ("pass", "fail", "compile_error", "timeout")
DETAIL_TAIL = 1000  # characters of stdout/stderr kept on published rows

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
class Candidate:
    """One program and the tests it must pass."""

    language: str
    code: str
    tests: str
    test_setup: str = ""  # go: header of the test file (package clause and imports)

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown language {self.language!r}; expected one of {LANGUAGES}")


@dataclass(frozen=True)
class Verdict:
    verdict: str  # pass | fail | compile_error | timeout
    stage: str  # the stage that decided it: compile | run
    returncode: int | None
    signal: str | None = None
    stdout_tail: str = ""
    stderr_tail: str = ""
    output_limited: bool = False
    notes: tuple[str, ...] = ()
    disk_limited: bool = False  # killed for writing more than the run's total-bytes cap
    key: str = ""
    seconds: float = 0.0  # kept in the cache for benchmarks; never published (not deterministic)

    def to_record(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "stage": self.stage,
            "returncode": self.returncode,
            "signal": self.signal,
            "stdout_tail": self.stdout_tail,
            "stderr_tail": self.stderr_tail,
            "output_limited": self.output_limited,
            **({"disk_limited": True} if self.disk_limited else {}),
            "notes": list(self.notes),
            "key": self.key,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Verdict:
        return cls(
            verdict=rec["verdict"],
            stage=rec["stage"],
            returncode=rec["returncode"],
            signal=rec.get("signal"),
            stdout_tail=rec.get("stdout_tail", ""),
            stderr_tail=rec.get("stderr_tail", ""),
            output_limited=bool(rec.get("output_limited")),
            disk_limited=bool(rec.get("disk_limited")),
            notes=tuple(rec.get("notes") or ()),
            key=rec.get("key", ""),
            seconds=float(rec.get("seconds", 0.0)),
        )

    def detail(self) -> dict[str, Any]:
        """The deterministic evidence published with a row (no timings)."""
        out: dict[str, Any] = {"stage": self.stage, "returncode": self.returncode, "key": self.key}
        if self.signal:
            out["signal"] = self.signal
        if self.output_limited:
            out["output_limited"] = True
        if self.disk_limited:
            out["disk_limited"] = True
        if self.notes:
            out["notes"] = list(self.notes)
        for name in ("stdout_tail", "stderr_tail"):
            text = getattr(self, name)
            if text:
                out[name] = text if len(text) <= DETAIL_TAIL else "..." + text[-DETAIL_TAIL:]
        return out


# --- per-language assembly and commands --------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    kind: str  # "prepare" (a failure is a compile error), "compile" or "run"
    argv: list[str]
    sandbox_user: bool  # runs candidate code: throw-away uid, process limit
    limits: Limits
    env: dict[str, str] = field(default_factory=dict)


def files_for(c: Candidate) -> dict[str, str]:
    """The source files of a candidate, named as its stages expect."""
    if c.language == "python":
        return {"candidate.py": f"{c.code}\n{c.tests}"}
    if c.language == "js":
        return {"candidate.js": f"{JS_PRELUDE}{c.code}\n{c.tests}"}
    if c.language == "java":
        return {"Main.java": f"{c.code}\n{c.tests}"}
    if c.language == "cpp":
        return {"candidate.cpp": f"{CPP_PRELUDE}{c.code}\n{c.tests}"}
    if c.language == "go":
        return {"main.go": f"package main\n\n{c.code}", "main_test.go": f"{c.test_setup}\n{c.tests}"}
    return {"main.rs": f"{c.code}\n{c.tests}"}


def stages_for(
    language: str,
    tc: Toolchain,
    extra_flags: Sequence[str] = (),
    run_limits: Limits = RUN_LIMITS,
) -> list[Stage]:
    """Commands per language; `extra_flags` are javac's JVM flags or rustc's crate flags."""
    t, run_env, limits = tc.tools, tc.run_env, run_limits
    javac_flags = rust_flags = list(extra_flags)
    if language == "python":
        py = [t["python"], "-B", "-s"]
        return [
            Stage("compile", [*py, "-c", PY_SYNTAX_CHECK, "candidate.py"], False, COMPILE_LIMITS),
            Stage("run", [*py, "candidate.py"], True, limits, run_env),
        ]
    if language == "js":
        return [
            Stage("compile", [t["node"], "--check", "candidate.js"], False, COMPILE_LIMITS),
            Stage("run", [t["node"], "candidate.js"], True, limits, run_env),
        ]
    if language == "java":
        return [
            Stage(
                "compile",
                [t["javac"], *javac_flags, "-encoding", "UTF-8", "-nowarn", "-Xlint:none", "-d", "classes", "Main.java"],
                False,
                COMPILE_LIMITS,
            ),
            Stage("run", [t["java"], *toolchains.JAVA_FLAGS, "-Xmx512m", "-ea", "-cp", "classes", "Main"], True, limits, run_env),
        ]
    if language == "cpp":
        return [
            Stage("compile", [t["g++"], "-std=c++17", "-O0", "-w", "candidate.cpp", "-o", "candidate", "-lcrypto"], False, COMPILE_LIMITS, tc.env),
            Stage("run", ["./candidate"], True, limits, run_env),
        ]
    if language == "go":
        return [
            Stage("prepare", [t["goimports"], "-w", "main.go", "main_test.go"], False, COMPILE_LIMITS, tc.env),
            Stage(
                "compile",
                [t["go"], "test", "-c", "-vet=off", "-ldflags=-s -w", "-o", "candidate.test", "."],
                False,
                COMPILE_LIMITS,
                tc.env,
            ),
            Stage("run", ["./candidate.test", "-test.count=100"], True, limits, run_env),
        ]
    return [
        Stage(
            "compile",
            [t["rustc"], "--edition", "2021", "--test", "-A", "warnings", "-C", "debuginfo=0", "main.rs", "-o", "candidate", *rust_flags],
            False,
            COMPILE_LIMITS,
            tc.env,
        ),
        Stage("run", ["./candidate", "--test-threads=1"], True, limits, run_env),
    ]


_TIMING = re.compile(r"\((\d+\.\d+)s\)|(finished in )\d+\.\d+s")


def scrub(text: str, run_dir: RunDir) -> str:
    """Make output deterministic: no temporary paths, no test timings."""
    text = text.replace(str(run_dir.root), "<run>")
    return _TIMING.sub(lambda m: "(…s)" if m.group(1) else f"{m.group(2)}…s", text)


# --- the verifier ----------------------------------------------------------------------------------


@dataclass
class VerifyStats:
    """Work done by one `verify` call (for reports and the benchmark; not deterministic)."""

    candidates: int = 0
    executed: int = 0
    cache_hits: int = 0
    seconds: float = 0.0

    def to_record(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates,
            "executed": self.executed,
            "cache_hits": self.cache_hits,
            "seconds": round(self.seconds, 3),
        }


class CodeVerifier:
    """Runs candidates in the sandbox, in parallel, remembering verdicts by content."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        jobs: int = 0,
        sandbox: Sandbox | None = None,
        use_cache: bool = True,
        run_limits: Limits = RUN_LIMITS,
        allow_shared_network: bool = False,
    ):
        self.cache_dir = default_cache_dir(cache_dir)
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
        self.sandbox = sandbox or default_sandbox(allow_shared_network)
        self.cache = VerdictCache(self.cache_dir, "code") if use_cache else None
        self.run_limits = run_limits
        self._toolchains: dict[str, Toolchain] = {}
        self._prepared: dict[str, list[str]] = {}

    def toolchain(self, language: str) -> Toolchain:
        """The language's toolchain (raises ToolchainMissingError naming the Debian package)."""
        if language not in self._toolchains:
            self._toolchains[language] = toolchains.find(language, self.cache_dir)
        return self._toolchains[language]

    def _flags(self, language: str) -> list[str]:
        """Per-toolchain compile flags that need a one-time preparation (cached per verifier)."""
        if language not in self._prepared:
            tc = self.toolchain(language)
            if language == "rust":
                self._prepared[language] = toolchains.rust_extern_flags(tc)
            elif language == "java":
                self._prepared[language] = toolchains.javac_flags(tc)
            else:
                self._prepared[language] = []
        return self._prepared[language]

    def key(self, c: Candidate) -> str:
        return cache_key(
            {
                "runner": RUNNER_VERSIONS[c.language],
                "language": c.language,
                "code": c.code,
                "tests": c.tests,
                "test_setup": c.test_setup,
                "toolchain": self.toolchain(c.language).version,
                "compile_limits": COMPILE_LIMITS.to_record(),
                "run_limits": self.run_limits.to_record(),
            }
        )

    def verify(
        self, candidates: Sequence[Candidate], progress: Callable[[int, int], None] | None = None
    ) -> tuple[list[Verdict], VerifyStats]:
        """Verdicts in input order; cached ones are reused, the rest run on `jobs` workers."""
        started = time.monotonic()
        keys = [self.key(c) for c in candidates]
        results: dict[str, Verdict] = {}
        todo: dict[str, Candidate] = {}
        stats = VerifyStats(candidates=len(candidates))
        for c, key in zip(candidates, keys, strict=True):
            if key in results or key in todo:
                continue
            cached = self.cache.get(key) if self.cache else None
            if cached is not None and cached.get("verdict") in VERDICTS:
                results[key] = Verdict.from_record(cached)
                stats.cache_hits += 1
            else:
                todo[key] = c
        if todo:
            self.sandbox.require_isolation()  # fail closed before any candidate runs
        for language in sorted({c.language for c in todo.values()}):
            self._flags(language)  # build Rust's crates / javac's archive once, before the workers
        done = 0
        if todo:
            with ThreadPoolExecutor(max_workers=min(self.jobs, len(todo))) as pool:
                futures = {pool.submit(self.run_one, c, key): key for key, c in todo.items()}
                for future in as_completed(futures):
                    key = futures[future]
                    verdict = future.result()
                    results[key] = verdict
                    if self.cache is not None:
                        self.cache.put(key, verdict.to_record())
                    done += 1
                    if progress:
                        progress(done, len(todo))
        stats.executed = len(todo)
        stats.seconds = time.monotonic() - started
        return [results[k] for k in keys], stats

    def run_one(self, c: Candidate, key: str = "") -> Verdict:
        """Compile and run one candidate in a fresh sandbox folder (no cache)."""
        tc = self.toolchain(c.language)
        flags = self._flags(c.language)
        key = key or self.key(c)
        run_dir = self.sandbox.new_dir()
        started = time.monotonic()
        notes: list[str] = []
        try:
            files = files_for(c)
            for name, text in files.items():
                run_dir.write(name, text)
            result: RunResult | None = None
            for stage in stages_for(c.language, tc, flags, self.run_limits):
                if stage.sandbox_user:
                    self.sandbox.hand_over(run_dir)
                result = self.sandbox.run(
                    stage.argv,
                    run_dir,
                    stage.limits,
                    env=stage.env,
                    as_sandbox_user=stage.sandbox_user,
                    name=stage.kind,
                )
                if stage.kind == "prepare" and result.ok:
                    notes += import_changes(files, run_dir)
                if not result.ok or stage.kind == "run":
                    verdict = _decide(stage.kind, result)
                    return Verdict(
                        verdict=verdict,
                        stage="run" if stage.kind == "run" else "compile",
                        returncode=result.returncode,
                        signal=result.signal,
                        stdout_tail=scrub(result.stdout_tail, run_dir),
                        stderr_tail=scrub(result.stderr_tail, run_dir),
                        output_limited=result.output_limited,
                        disk_limited=result.disk_limited,
                        notes=tuple(notes),
                        key=key,
                        seconds=time.monotonic() - started,
                    )
            raise AssertionError("every language ends with a run stage")
        finally:
            run_dir.cleanup()


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


def _decide(kind: str, result: RunResult) -> str:
    if result.timed_out:
        return "timeout"
    if kind in ("prepare", "compile"):
        return "pass" if result.ok else "compile_error"
    return "pass" if result.returncode == 0 else "fail"


# --- the pipeline step -----------------------------------------------------------------------------

Material = Callable[[TrioRow], tuple[Candidate, Candidate]]


@dataclass(frozen=True)
class CodeVerifyStep:
    """Keep a pair only when its chosen program passes and its rejected program does not.

    `material(row)` gives the (chosen, rejected) candidates of a row: the source module knows
    where its tests are. Kept rows get one `Verification` per side ("code:<language>").
    """

    language: str
    material: Material
    name: str = "verify:code"

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        if ctx.options.skip_verify:
            return StepResult(list(rows), report={"language": self.language, "skipped": "--skip-verify"})
        verifier = CodeVerifier(
            ctx.options.cache_dir, ctx.options.jobs, allow_shared_network=ctx.options.allow_sandbox_network
        )
        tc = verifier.toolchain(self.language)  # a missing toolchain stops here, with the package
        pairs = [self.material(row) for row in rows]
        flat = [c for pair in pairs for c in pair]
        step = max(1, len(flat) // 20)

        def progress(done: int, total: int) -> None:
            if done == total or done % step == 0:
                ctx.progress(f"verify:code {self.language} {done}/{total} run")

        verdicts, stats = verifier.verify(flat, progress)
        kept: list[TrioRow] = []
        dropped: list[DroppedRow] = []
        reasons: Counter[str] = Counter()
        tallies: dict[str, Counter[str]] = {"chosen": Counter(), "rejected": Counter()}
        for i, row in enumerate(rows):
            chosen, rejected = verdicts[2 * i], verdicts[2 * i + 1]
            tallies["chosen"][chosen.verdict] += 1
            tallies["rejected"][rejected.verdict] += 1
            reason = pair_reason(chosen, rejected)
            if reason is None:
                kept.append(
                    row.with_verification(
                        Verification(f"code:{self.language}", "chosen", chosen.verdict, canonical_json(chosen.detail())),
                        Verification(f"code:{self.language}", "rejected", rejected.verdict, canonical_json(rejected.detail())),
                    )
                )
            else:
                reasons[reason] += 1
                evidence = {
                    "chosen": {"verdict": chosen.verdict, **chosen.detail()},
                    "rejected": {"verdict": rejected.verdict, **rejected.detail()},
                }
                dropped.append(drop(row, self.name, reason, evidence))
        ctx.report.setdefault("runtime", {})[self.name] = stats.to_record()
        ctx.progress(
            f"verify:code {self.language}: {len(kept)} kept, {len(dropped)} dropped, "
            f"{stats.executed} run, {stats.cache_hits} cached, {stats.seconds:.1f}s"
        )
        report = {
            "language": self.language,
            "toolchain": tc.version,
            "sandbox": verifier.sandbox.describe(),
            "pairs": len(rows),
            "kept": len(kept),
            "dropped": dict(sorted(reasons.items())),
            "verdicts": {side: dict(sorted(t.items())) for side, t in tallies.items()},
        }
        return StepResult(kept, dropped, report)


def pair_reason(chosen: Verdict, rejected: Verdict) -> str | None:
    """None when the pair is verified; else why not (a short, groupable reason)."""
    problems = []
    if chosen.verdict != "pass":
        problems.append(f"chosen {chosen.verdict}")
    if rejected.verdict == "pass":
        problems.append("rejected passes")
    return ", ".join(problems) or None

