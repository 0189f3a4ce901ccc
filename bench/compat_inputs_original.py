"""The original RewardBench 0.1.4's model inputs for the bench sample, without running a model.

Runs inside the original's own venv (no rbkit import). It takes the original's own data path,
unchanged: `load_eval_dataset` (the tokenizer's chat template, else FastChat `tulu`) and, for
DPO, `DPOInference.tokenize_row` as `scripts/run_dpo.py` sets it up (pad = EOS, BOS = EOS when
the tokenizer has none); for the classifier, the texts the CLI hands to `RewardBenchPipeline`,
tokenised as it does. Only `load_dataset` is redirected to the local sample parquet, and the
model handed to `DPOInference` is a stub (tokenisation reads nothing but its config flag).
Seconds instead of the hour a full run of the original takes on a small CPU; the full run
(bench/compat_agreement.py) compares the decisions.

    <venv>/bin/python bench/compat_inputs_original.py --model DIR --sample P --out J
"""

from __future__ import annotations

import argparse
import json
import os
import types
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--sample", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import datasets
    import rewardbench.utils as rb_utils
    from fastchat.conversation import get_conv_template
    from rewardbench.dpo import DPOInference
    from transformers import AutoTokenizer

    def load_local(name, *a, **kw):
        return datasets.load_dataset("parquet", data_files=str(args.sample), split="train")

    rb_utils.load_dataset = load_local
    tokenizer = AutoTokenizer.from_pretrained(str(args.model))
    tokenizer.pad_token = tokenizer.eos_token  # run_dpo.py
    if tokenizer.bos_token is None:
        tokenizer.bos_token_id = tokenizer.eos_token_id
        tokenizer.pad_token_id = tokenizer.eos_token_id
    dataset, _ = rb_utils.load_eval_dataset(core_set=True, conv=get_conv_template("tulu"), tokenizer=tokenizer,
                                            keep_columns=["text_chosen", "text_rejected", "id", "prompt"])
    stub = types.SimpleNamespace(config=types.SimpleNamespace(is_encoder_decoder=False),
                                 eval=lambda: types.SimpleNamespace(requires_grad_=lambda flag: None))
    dpo = DPOInference(stub, None, tokenizer=tokenizer, accelerator=None, ref_free_norm="avg")
    record: dict = {"ids": [], "dpo_sequences": [], "dpo_starts": [], "classifier_sequences": []}
    for ex in dataset:
        row = dpo.tokenize_row(ex)
        seqs = [row["chosen_input_ids"], row["rejected_input_ids"]]
        starts = [next(i for i, x in enumerate(row[f"{s}_labels"]) if x != -100) for s in ("chosen", "rejected")]
        record["ids"].append(int(ex["id"]))
        record["dpo_sequences"].append(seqs)
        record["dpo_starts"].append(starts)
        record["classifier_sequences"].append([tokenizer(ex[k])["input_ids"] for k in ("text_chosen", "text_rejected")])
    tmp = args.out.with_suffix(".tmp")  # atomic (no rbkit import in the original's venv)
    tmp.write_text(json.dumps(record))
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
