"""`rbkit judge mtbench`: grade MT-Bench turn-1 answers with any judge (a GPT-4 substitute)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

judge_app = typer.Typer(help="Generative judges outside `rbkit eval`: MT-Bench single-answer grading.",
                        no_args_is_help=True, rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    app.add_typer(judge_app, name="judge")


@judge_app.command("mtbench")
def mtbench_command(
    model: str | None = typer.Option(None, "--model", "-m", help="The judge: a model folder, Hub id, or the name an --api-base endpoint serves (default: SmolLM2-135M-Instruct)."),
    out: Path = typer.Option(Path("mtbench-judgments.jsonl"), "--out", "-o", help="Judgments file (FastChat model_judgment format)."),
    build: Path | None = typer.Option(None, "--build", help="Also build mt-bench-easy/-med/-hard from these grades into this folder, labelled as a substitute naming the judge."),
    question: list[int] = typer.Option([], "--question", help="Grade only these question ids (repeatable; quick runs)."),
    answer_model: list[str] = typer.Option([], "--answers-of", help="Grade only these models' answers (repeatable; quick runs)."),
    api_base: str | None = typer.Option(None, "--api-base", help="An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="Environment variable holding the API key (default OPENAI_API_KEY, may be unset for local servers; never logged or written)."),
    concurrency: int = typer.Option(8, "--concurrency"),
    timeout: float = typer.Option(120.0, "--timeout"),
    retries: int = typer.Option(5, "--retries"),
    max_new_tokens: int = typer.Option(512, "--max-new-tokens"),
    batch_size: int = typer.Option(8, "--batch-size", help="Local backend: prompts generated together."),
    device: str = typer.Option("cpu", "--device"),
    judge_prompts: Path | None = typer.Option(None, "--judge-prompts", help="A judge_prompts.jsonl (default: the pinned mirror file)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ask every request again and keep nothing."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Grade turn-1 answers 1-10 with MT-Bench's single-v1 prompt; optionally build the three subsets."""
    from rich.console import Console

    from rbkit.core.files import atomic_write
    from rbkit.core.jsonio import canonical_json
    from rbkit.curation.sources import resolve
    from rbkit.eval.generation.backends import open_backend
    from rbkit.eval.generation.run import run_requests
    from rbkit.eval.generation.types import SamplingParams
    from rbkit.eval.judge.prompts import named_prompt
    from rbkit.eval.judge.single import Answer, grading_requests, judgment_records
    from rbkit.subsets import mtbench as mt

    console = Console(stderr=True)
    prompt = named_prompt(judge_prompts or resolve(mt.JUDGE_PROMPTS), mt.SUBSTITUTE_PROMPT)
    items = [Answer(*row) for row in mt.turn1_items()
             if (not question or row[0] in question) and (not answer_model or row[1] in answer_model)]
    if not items:
        raise typer.BadParameter("no answer matches --question/--answers-of")
    backend = open_backend(model, api_base=api_base, api_key_env=api_key_env,
                           concurrency=concurrency, timeout=timeout, max_retries=retries, batch_size=batch_size,
                           device=device)
    judge_name = str(backend.identity().get("model"))
    requests = grading_requests(items, prompt, SamplingParams(max_new_tokens=max_new_tokens))
    completions = run_requests(backend, requests, cache=not no_cache, progress=not quiet, description="grading")
    records, counts = judgment_records(items, requests, completions, judge_name, prompt)
    atomic_write(out, "".join(canonical_json(r) + "\n" for r in records))
    console.print(f"wrote {out}: {counts['graded']} graded, {counts['unparseable']} unreadable (score -1), "
                  f"{counts['errors']} failed requests (not written; rerun to retry) of {len(items)} answers "
                  f"by {judge_name} with {prompt.name}", highlight=False)
    if build is None:
        return
    from rbkit.commands.build import _run, print_summary
    from rbkit.curation.gates import GateConfig
    from rbkit.curation.pipeline import BuildOptions

    specs = mt.substitute_specs(mt.judged_sources(out, judge_name))
    result = _run(specs, build, BuildOptions(keep_all=False), False, GateConfig(), console)
    if not quiet:
        print_summary(result, console)
    subs = {name: s.get("substitute") for name, s in result.manifest.get("subsets", {}).items()}
    console.print(f"built {build}: " + json.dumps(subs), highlight=False, soft_wrap=True)
