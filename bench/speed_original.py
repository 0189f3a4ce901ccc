"""Run the original RewardBench 0.1.4 entry points unchanged, on CPU, on the bench sample.

Runs inside the original's own venv (stdlib, torch, transformers 4.51, rewardbench; no rbkit
import). The package is never edited; what changes, from outside and at run time, is:

1. Device: `RewardBenchPipeline` sends every batch to the hard-coded "cuda";
   `BatchEncoding.to` is wrapped to send "cuda" to "cpu". Nothing else is redirected: the
   entry points already pick "cpu" placement when CUDA is absent.
2. Data: `rewardbench.utils.load_dataset("allenai/reward-bench", split="filtered")` reads
   the local sample parquet instead of the Hub (there is no network here).
3. Measurement only: `LlamaModel.forward` is wrapped (speed_forwardlog) to record each
   batch's shape, its real tokens and the first/last forward times, and the token ids each
   row really carried; for DPO, `DPOInference.concatenated_inputs` is wrapped to read where
   its labels start. Nothing in the computation changes.

Classifier: the `rewardbench` CLI (0.1.4's documented entry point; batch 8, left padding to
the longest row of each batch in dataset order, chosen and rejected in separate passes,
`--torch_dtype float32 --not_quantized`). DPO reference-free: `scripts/run_dpo.py` (the only
entry point for it; batch 6, chosen and rejected concatenated and right-padded to the
longer; on CPU it loads fp32 by itself), with `--ref_free_type` as given.

    <venv>/bin/python bench/speed_original.py --kind classifier --model DIR --sample P --out J

bench/gpu.py runs the same script with `--device cuda --dtype bfloat16`: then nothing is
redirected (the original's own CUDA placement is what a GPU run uses) and the record adds the
peak CUDA memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import runpy
import sys
import time
from pathlib import Path

from speed_forwardlog import ForwardLog

ENTRY = {"classifier": "rewardbench.rewardbench", "dpo": "scripts.run_dpo"}


class Capture:
    """The unpadded token ids of every trunk row, in call order, and DPO label starts."""

    def __init__(self) -> None:
        self.rows: list[list[list[int]]] = []  # per forward: each row's real ids
        self.starts: list[list[int]] = []  # per DPO batch: each row's first label position

    def forward_rows(self, input_ids, attention_mask) -> None:
        mask = attention_mask.bool()
        self.rows.append([ids[m].tolist() for ids, m in zip(input_ids, mask, strict=True)])


def patch(sample: Path, log: ForwardLog, capture: Capture, device: str = "cpu") -> None:
    """The run-time changes described in the module docstring (`device="cuda"`: no redirection)."""
    import datasets
    import torch
    from transformers import LlamaModel
    from transformers.tokenization_utils_base import BatchEncoding

    if device == "cpu" and torch.cuda.is_available():
        raise RuntimeError("bench: this harness times the CPU path; hide the GPU (CUDA_VISIBLE_DEVICES=)")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("bench: --device cuda but torch sees no GPU in this venv")

    if device == "cpu":
        to = BatchEncoding.to

        def to_cpu(self, device, *args, **kwargs):
            if str(device).startswith("cuda"):
                device = "cpu"
            return to(self, device, *args, **kwargs)

        BatchEncoding.to = to_cpu

    import rewardbench.utils as rb_utils
    from rewardbench.dpo import DPOInference

    real_load = rb_utils.load_dataset

    def load_local(name, *args, **kwargs):
        if name == "allenai/reward-bench" and kwargs.get("split") == "filtered":
            return datasets.load_dataset("parquet", data_files=str(sample), split="train")
        return real_load(name, *args, **kwargs)

    rb_utils.load_dataset = load_local

    log.wrap(LlamaModel)
    timed = LlamaModel.forward

    def forward(model, input_ids=None, attention_mask=None, *args, **kwargs):
        out = timed(model, input_ids, attention_mask, *args, **kwargs)
        capture.forward_rows(input_ids, attention_mask)  # after the timed window closes
        return out

    forward.__wrapped__ = timed.__wrapped__
    LlamaModel.forward = forward

    concatenated = DPOInference.concatenated_inputs

    def concatenated_inputs(*args, **kwargs):
        out = concatenated(*args, **kwargs)
        labels = out["concatenated_labels"]
        capture.starts.append([int((row != -100).nonzero()[0]) for row in labels])
        return out

    DPOInference.concatenated_inputs = staticmethod(concatenated_inputs)


def pair_tokens(kind: str, capture: Capture, n_pairs: int) -> tuple[list[list[list[int]]], list[list[int]]]:
    """Per pair: [chosen ids, rejected ids] and their response starts, from the capture.

    CLI: each batch runs chosen rows, then rejected rows. run_dpo: each batch is one forward
    of the chosen rows followed by the rejected rows.
    """
    seqs: list[list[list[int]]] = []
    starts: list[list[int]] = []
    if kind == "classifier":
        for k in range(0, len(capture.rows), 2):
            chosen, rejected = capture.rows[k], capture.rows[k + 1]
            seqs.extend([c, r] for c, r in zip(chosen, rejected, strict=True))
            starts.extend([0, 0] for _ in chosen)
    else:
        for rows, first in zip(capture.rows, capture.starts, strict=True):
            half = len(rows) // 2
            seqs.extend([rows[i], rows[half + i]] for i in range(half))
            starts.extend([first[i], first[half + i]] for i in range(half))
    if len(seqs) != n_pairs:
        raise RuntimeError(f"bench: captured {len(seqs)} pairs of token rows for {n_pairs} pairs")
    return seqs, starts


def read_scores(kind: str) -> dict:
    """The entry point's own saved scores (CLI: results/model_outputs.jsonl)."""
    if kind == "classifier":
        lines = Path("results/model_outputs.jsonl").read_text().splitlines()
        recs = [json.loads(x) for x in lines]
        return {key: [r[key] for r in recs] for key in ("id", "subset", "scores_chosen", "scores_rejected", "results")}
    return json.loads(Path("results/eval-set-scores/model_ref_free.json").read_text())


def flat(values: list) -> list[float]:
    return [float(v[0]) if isinstance(v, list) else float(v) for v in values]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=sorted(ENTRY), required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--sample", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ref-free-type", default="avg", choices=["avg", "sum", "norm"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                        help="classifier --torch_dtype (the original loads fp32 on a CPU whatever it is told)")
    parser.add_argument("--batch-size", type=int, default=None, help="the CLI's --batch_size (default: its own, 8)")
    args = parser.parse_args()

    started = time.perf_counter()
    log, capture = ForwardLog(), Capture()
    patch(args.sample.resolve(), log, capture, args.device)
    # run in the current folder (the caller makes a fresh one): the entry points write ./results/
    link = Path("model")
    if not link.exists():
        link.symlink_to(args.model.resolve(), target_is_directory=True)
    argv = ["--model", "model", "--not_quantized"]
    if args.kind == "classifier":
        argv += ["--torch_dtype", args.dtype]
        if args.batch_size:
            argv += ["--batch_size", str(args.batch_size)]
    else:
        argv += ["--ref_free_type", args.ref_free_type, "--do_not_save", "--disable_beaker_save"]
    sys.argv = [ENTRY[args.kind], *argv]
    runpy.run_module(ENTRY[args.kind], run_name="__main__")
    finished = time.perf_counter()

    import pyarrow.parquet as pq
    import torch

    ids = pq.read_table(args.sample, columns=["id"]).column("id").to_pylist()
    saved = read_scores(args.kind)
    if "id" in saved and [int(i) for i in saved["id"]] != ids:
        raise RuntimeError("bench: the original's output is not in sample order")
    seqs, starts = pair_tokens(args.kind, capture, len(ids))
    record = {
        "evaluator": "rewardbench 0.1.4",
        "entry_point": ENTRY[args.kind],
        "kind": args.kind,
        "argv": sys.argv,
        "ids": ids,
        "subsets": saved["subset"],
        "scores_chosen": flat(saved["scores_chosen"]),
        "scores_rejected": flat(saved["scores_rejected"]),
        "results": [int(r) for r in saved["results"]],
        "forwards": log.forwards,
        "pair_tokens": sum(len(s) for pair in seqs for s in pair),
        "sequences": seqs,
        "starts": starts,
        "run_s": finished - started,
        "score_s": log.seconds,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "threads": torch.get_num_threads(),
    }
    if args.device == "cuda":
        record["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
        record["device_name"] = torch.cuda.get_device_name()
    tmp = args.out.with_suffix(".tmp")  # this venv has no rbkit, hence not rbkit.core.files.atomic_write
    tmp.write_text(json.dumps(record))
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
