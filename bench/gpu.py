"""GPU throughput, side by side: rbkit against the original RewardBench 0.1.4, bf16, ~1B Llama classifier.

    .venv/bin/python bench/gpu.py                 # on a machine with a CUDA GPU
    .venv/bin/python bench/gpu.py --dry-run       # on a CPU: checks the whole set-up in seconds

Throughput does not depend on the weights, so the model is a randomly initialised (seeded)
LlamaForSequenceClassification shaped like Llama-3.2-1B (16 layers, hidden 2048, MLP 8192,
32 heads, 8 KV heads) over SmolLM2's tokenizer and chat template: 1.07B parameters, saved
once in bf16 under the bench cache in the layout both transformers versions read. Both
evaluators score the fixed benchmark sample (bench/speed_sample.py, the CPU bench's 300
pairs), each in its own process, reusing the CPU bench's two sides: speed_original.py runs
the original `rewardbench` CLI unchanged in its own venv (`--torch_dtype bfloat16`, its
default batch size 8 unless --original-batch-size), speed_rbkit.py runs `rbkit.eval.runner`
(`--dtype bfloat16 --device cuda`, token budget from free GPU memory). Printed per side:
pairs/s, tokens/s, peak CUDA memory, achieved TFLOP/s and its share of the GPU's bf16 matmul
peak (measured here with large bf16 GEMMs, and of the datasheet figure when the GPU is
known), the ratio, and the share of identical decisions (bf16 both sides, so near-ties may
differ). Figures go to bench/results/gpu.json.

--dry-run runs everything on the CPU with a tiny model of the same shape family, a few
pairs and a short GEMM probe: the original's venv and entry point, rbkit's runner, the
model folder, the sample and the report; it writes nothing under bench/results.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from rbkit.core.files import atomic_write  # noqa: E402
from run import OFFLINE_ENV, loadavg  # noqa: E402
from speed_env import ensure_original_venv  # noqa: E402
from speed_matmul import LlamaCost  # noqa: E402
from speed_models import _write_folder, ensure_models  # noqa: E402
from speed_paths import REPO, cache_root  # noqa: E402
from speed_report import flops  # noqa: E402

RESULTS = REPO / "bench" / "results" / "gpu.json"
SEED = 1234
LLAMA_1B = {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
            "num_key_value_heads": 8, "head_dim": 64}
TINY = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 16}
DRY_PAIRS = 4
# dense bf16 tensor-core peaks from the vendors' datasheets (TFLOP/s, no sparsity)
DATASHEET_BF16_TFLOPS = {"H200": 989.0, "H100 SXM": 989.0, "H100 PCIe": 756.0, "H100 NVL": 835.0, "A100": 312.0,
                         "L40S": 362.0, "A10G": 70.0, "L4": 121.0, "RTX 4090": 165.0}


def model_config(tokenizer_dir: Path, shape: dict[str, int]) -> dict[str, Any]:
    """A Llama classifier config in the legacy layout (transformers 4.51 and 5.x read it alike)."""
    base = json.loads((tokenizer_dir / "config.json").read_text())
    cfg = {k: base[k] for k in ("bos_token_id", "eos_token_id", "pad_token_id", "hidden_act", "initializer_range",
                                "max_position_embeddings", "rms_norm_eps", "rope_theta", "vocab_size")}
    cfg.update(shape, architectures=["LlamaForSequenceClassification"], model_type="llama", attention_bias=False,
               attention_dropout=0.0, mlp_bias=False, pretraining_tp=1, rope_scaling=None, tie_word_embeddings=False,
               torch_dtype="bfloat16", use_cache=True, id2label={"0": "LABEL_0"}, label2id={"LABEL_0": 0})
    return cfg


def parameter_shapes(cfg: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    h, inter, vocab = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    q, kv = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (vocab, h), "model.norm.weight": (h,),
                                          "score.weight": (1, h)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes.update({p + "self_attn.q_proj.weight": (q, h), p + "self_attn.k_proj.weight": (kv, h),
                       p + "self_attn.v_proj.weight": (kv, h), p + "self_attn.o_proj.weight": (h, q),
                       p + "mlp.gate_proj.weight": (inter, h), p + "mlp.up_proj.weight": (inter, h),
                       p + "mlp.down_proj.weight": (h, inter), p + "input_layernorm.weight": (h,),
                       p + "post_attention_layernorm.weight": (h,)})
    return shapes


def ensure_random_model(cache: Path, tokenizer_dir: Path, shape: dict[str, int], name: str) -> tuple[Path, int]:
    """(folder, parameters): seeded N(0, 0.02) bf16 weights, norms at 1; written once."""
    import torch
    from transformers import AutoTokenizer

    folder = cache / "models" / name
    cfg = model_config(tokenizer_dir, shape)
    shapes = parameter_shapes(cfg)
    count = sum(int(torch.Size(s).numel()) for s in shapes.values())
    stamp = folder / "bench-stamp.json"
    wanted = {"config": cfg, "seed": SEED}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return folder, count
    print(f"bench: writing a random {count / 1e9:.2f}B-parameter Llama classifier to {folder}", flush=True)
    gen = torch.Generator().manual_seed(SEED)
    tensors = {}
    for key, s in shapes.items():
        if len(s) == 1:
            tensors[key] = torch.ones(s, dtype=torch.bfloat16)
        else:
            tensors[key] = (torch.randn(s, generator=gen, dtype=torch.float32) * cfg["initializer_range"]).to(torch.bfloat16)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _write_folder(folder, cfg, tensors, AutoTokenizer.from_pretrained(tokenizer_dir))
    stamp.write_text(json.dumps(wanted))
    return folder, count


def dry_sample(cache: Path) -> Path:
    """A few pairs in the sample's columns: the fixed sample's first rows when it exists."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = cache / f"gpu-dry-sample-{DRY_PAIRS}.parquet"
    fixed = sorted(cache.glob("sample-*-seed*.parquet"))
    if fixed:
        table = pq.read_table(fixed[0]).slice(0, DRY_PAIRS)
    else:
        rows = [{"prompt": f"Question {i}: what is {i} + {i}?", "chosen": f"The answer is {2 * i}.", "chosen_model": "a",
                 "rejected": f"The answer is {2 * i + 1}.", "rejected_model": "b", "subset": "math-prm", "id": i}
                for i in range(DRY_PAIRS)]
        table = pa.Table.from_pylist(rows)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    return path


def bf16_peak(dry: bool) -> dict[str, Any]:
    """The bf16 GEMM throughput torch reaches here (TFLOP/s), and the datasheet peak when known."""
    import torch

    cuda = torch.cuda.is_available() and not dry
    device = "cuda" if cuda else "cpu"
    n, seconds = (8192, 3.0) if cuda else (256, 0.2)
    a = torch.randn(n, n, dtype=torch.bfloat16, device=device)
    b = torch.randn(n, n, dtype=torch.bfloat16, device=device)
    torch.mm(a, b)
    if cuda:
        torch.cuda.synchronize()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        calls += 1
        if cuda and calls % 10 == 0:
            torch.cuda.synchronize()
    if cuda:
        torch.cuda.synchronize()
    measured = 2.0 * n**3 * calls / (time.perf_counter() - start) / 1e12
    name = torch.cuda.get_device_name() if cuda else "cpu"
    sheet = next((v for k, v in DATASHEET_BF16_TFLOPS.items() if k.lower() in name.lower()), None)
    return {"device": name, "gemm": n, "measured_tflops": round(measured, 3), "datasheet_tflops": sheet}


def run_side(python: Path, script: str, args: list[str], folder: Path, gpu: bool) -> tuple[dict[str, Any], float, int]:
    """One evaluator in a fresh folder, offline, the GPU visible or hidden: (record, wall s, peak RSS KB).

    bench/run.py's run_side with the GPU left visible (the CPU bench hides it on purpose)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    out = folder / "record.json"
    env = {**os.environ, **OFFLINE_ENV, "HF_DATASETS_CACHE": str(folder / "hf-datasets")}
    if gpu:
        env.pop("CUDA_VISIBLE_DEVICES")
        env.update({k: v for k, v in os.environ.items() if k == "CUDA_VISIBLE_DEVICES"})
    log = folder / "log.txt"
    with open(log, "w") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen([str(python), str(HERE / script), *args, "--out", str(out)], cwd=folder, env=env,
                                stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"bench: {script} {' '.join(args)} failed ({code}); log {log}:\n{log.read_text(errors='replace')[-3000:]}")
    return json.loads(out.read_text()), wall, usage.ru_maxrss


def figures(record: dict[str, Any], wall_s: float, rss_kb: int, cost: LlamaCost, peak: dict[str, Any]) -> dict[str, Any]:
    pairs = len(record["ids"])
    executed, _ = flops(record, cost, 0)  # classifier: no vocabulary projection
    score_s = record["score_s"] or float("nan")
    achieved = executed / score_s / 1e12
    out = {
        "pairs": pairs,
        "wall_s": round(wall_s, 2),
        "score_s": round(score_s, 3),
        "pairs_per_s": round(pairs / score_s, 2),
        "tokens_per_s": round(record["pair_tokens"] / score_s, 1),
        "wall_pairs_per_s": round(pairs / wall_s, 3),
        "peak_cuda_mb": round(record["cuda_peak_mb"], 1) if "cuda_peak_mb" in record else None,
        "peak_rss_mb": round(rss_kb / 1024, 1),
        "achieved_tflops": round(achieved, 3),
        "share_of_measured_bf16_peak": round(achieved / peak["measured_tflops"], 4),
        "share_of_datasheet_bf16_peak": round(achieved / peak["datasheet_tflops"], 4) if peak["datasheet_tflops"] else None,
    }
    return out


def render(res: dict[str, Any]) -> None:
    peak = res["bf16_peak"]
    print(f"\nGPU bench ({'DRY RUN on CPU' if res['dry_run'] else peak['device']}), {res['pairs']} pairs, "
          f"{res['parameters'] / 1e9:.2f}B-parameter random Llama classifier, bf16")
    print(f"bf16 GEMM {peak['gemm']}^3: {peak['measured_tflops']} TFLOP/s measured"
          + (f", datasheet {peak['datasheet_tflops']}" if peak["datasheet_tflops"] else ""))
    rows = ["pairs_per_s", "tokens_per_s", "wall_s", "score_s", "peak_cuda_mb", "peak_rss_mb", "achieved_tflops",
            "share_of_measured_bf16_peak", "share_of_datasheet_bf16_peak"]
    o, m = res["original"], res["rbkit"]
    print(f"{'':32}{'rewardbench 0.1.4':>20}{'rbkit':>14}")
    for key in rows:
        print(f"{key:32}{o[key]!s:>20}{m[key]!s:>14}")
    print(f"rbkit / original pairs/s: {res['ratio']:.2f}x; identical decisions: {res['agreement']:.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny model, a few pairs: check the set-up")
    parser.add_argument("--pairs", type=int, default=300, help="the fixed sample's size (the CPU bench's)")
    parser.add_argument("--original-batch-size", type=int, default=None, help="the original CLI's --batch_size (default 8)")
    parser.add_argument("--max-tokens", type=int, default=None, help="rbkit's budget (default: probed on the GPU)")
    args = parser.parse_args()

    import torch

    if not args.dry_run and not torch.cuda.is_available():
        print("bench: no CUDA GPU here; run with --dry-run to check the set-up on a CPU", file=sys.stderr)
        return 2
    device = "cpu" if args.dry_run else "cuda"
    cache = cache_root()
    original_python = ensure_original_venv(cache)
    lm_dir, _ = ensure_models(cache)  # SmolLM2's tokenizer and chat template
    shape, name = (TINY, "gpu-dry-llama-classifier") if args.dry_run else (LLAMA_1B, "gpu-llama-1b-classifier-bf16")
    model, parameters = ensure_random_model(cache, lm_dir, shape, name)
    if args.dry_run:
        sample = dry_sample(cache)
    else:
        from speed_sample import ensure_sample

        sample = ensure_sample(cache, args.pairs)
    cost = LlamaCost.from_config(json.loads((model / "config.json").read_text()))
    peak = bf16_peak(args.dry_run)

    common = ["--kind", "classifier", "--model", str(model), "--sample", str(sample)]
    original_args = [*common, "--device", device, "--dtype", "bfloat16"]
    if args.original_batch_size:
        original_args += ["--batch-size", str(args.original_batch_size)]
    rbkit_args = [*common, "--device", device, "--dtype", "bfloat16"]
    if args.max_tokens:
        rbkit_args += ["--max-tokens", str(args.max_tokens)]
    runs = cache / "runs" / ("gpu-dry" if args.dry_run else "gpu")
    load_before = loadavg()
    print(f"bench: original (rewardbench 0.1.4) on {device} ...", flush=True)
    orig, o_wall, o_rss = run_side(original_python, "speed_original.py", original_args, runs / "original", not args.dry_run)
    print(f"bench: original done in {o_wall:.0f} s; rbkit ...", flush=True)
    mine, m_wall, m_rss = run_side(Path(sys.executable), "speed_rbkit.py", rbkit_args, runs / "rbkit", not args.dry_run)
    if orig["ids"] != mine["ids"]:
        raise RuntimeError("bench: the two sides scored different pairs")
    same = sum(a == b for a, b in zip(orig["results"], mine["results"], strict=True))
    res = {
        "dry_run": args.dry_run,
        "device": device,
        "pairs": len(mine["ids"]),
        "parameters": parameters,
        "model": str(model),
        "sample": str(sample),
        "bf16_peak": peak,
        "load_before": load_before,
        "load_after": loadavg(),
        "original": figures(orig, o_wall, o_rss, cost, peak),
        "rbkit": figures(mine, m_wall, m_rss, cost, peak),
        "agreement": same / len(mine["ids"]),
        "rbkit_config": mine["config"],
    }
    res["ratio"] = res["rbkit"]["pairs_per_s"] / res["original"]["pairs_per_s"]
    render(res)
    target = runs / "gpu.json" if args.dry_run else RESULTS
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, json.dumps(res, indent=1))
    print(f"bench: figures written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
