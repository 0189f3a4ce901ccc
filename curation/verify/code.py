"""Execution-verified code pairs: the chosen program passes its tests, the rejected one does not.

A `Candidate` is one complete program (signature, docstring and body) plus the upstream
tests for it. `CodeVerifier` compiles and runs candidates in the sandbox (`sandbox.py`), in
parallel, with verdicts cached by content (`verdict_cache.py`):

    pass           compiled (where there is a compile step) and the tests exited 0
    fail           the tests ran and failed (assertion, exception, crash, output limit)
    compile_error  the compiler (or, for Python/JS, the syntax check) rejected the program
    timeout        a stage hit its wall-clock or CPU limit

`CodeVerifyStep` is the pipeline step: it keeps a pair only when chosen passes and rejected
does not (fail, compile_error or timeout: a buggy program that does not compile is still
wrong), records both verdicts on kept rows and sends the rest to dropped.jsonl with both.

How each language is assembled, compiled and run is a table in `code_harness.py`; this module
only reads it, so the verdict rules are the same for every language.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rbkit.core.tail import tail
from rbkit.curation.pipeline import BuildContext, StepResult, drop
from rbkit.curation.rows import DroppedRow, TrioRow, Verification, canonical_json
from rbkit.curation.verify import toolchains
from rbkit.curation.verify.code_harness import (
    HARNESSES,
    LANGUAGES,
    RUNNER_VERSIONS,
    import_changes,
    stages_for,
)
from rbkit.curation.verify.code_harness import go_imports as go_imports
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

VERDICTS: tuple[str, ...] = ("pass", "fail", "compile_error", "timeout")
DETAIL_TAIL = 1000  # characters of stdout/stderr kept on published rows


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
                out[name] = tail(unvary(text), DETAIL_TAIL)
        return out


def files_for(c: Candidate) -> dict[str, str]:
    """The source files of a candidate, named as its stages expect."""
    return HARNESSES[c.language].files(c.code, c.tests, c.test_setup)


_TIMING = re.compile(r"\((\d+\.\d+)s\)|(finished in )\d+\.\d+s")


def scrub(text: str, run_dir: RunDir) -> str:
    """Make output deterministic: no temporary paths, no test timings."""
    text = text.replace(str(run_dir.root), "<run>")
    return _TIMING.sub(lambda m: "(…s)" if m.group(1) else f"{m.group(2)}…s", text)


# Run-to-run noise that `scrub` cannot know from the run folder alone: Rust prints the OS thread
# id of a panicking test, Go numbers its goroutines, and a tail cut inside a temporary path
# keeps only that path's random suffix. Applied when a verdict is published (not when cached),
# so entries cached before this rule publish the same text as fresh ones.
_VARYING = (
    (re.compile(r"(thread '[^'\n]*') \(\d+\)"), r"\1 (…)"),
    (re.compile(r"\bgoroutine \d+\b"), "goroutine …"),
    (re.compile(r"[^\s:'\"]*rbkit-run-[A-Za-z0-9_]+[^\s:'\"]*"), "<run>"),
    (re.compile(r"\A[^\s/]{0,24}(?=/work/)"), "<run>"),  # a tail that starts mid-way in the root
)


def unvary(text: str) -> str:
    """The published form of an output tail: the same on every machine and every run."""
    for pattern, repl in _VARYING:
        text = pattern.sub(repl, text)
    return text


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
            self._prepared[language] = HARNESSES[language].prepare(self.toolchain(language))
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

