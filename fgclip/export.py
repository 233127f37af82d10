"""``fgclip export CKPT --output DIR``: a fgclip checkpoint as open_clip's Hugging Face folder.

The folder holds ``open_clip_config.json`` (``{"model_cfg", "preprocess_cfg"}``) and
``open_clip_model.safetensors``, the layout open_clip reads with
``open_clip.create_model_and_transforms("local-dir:DIR")`` (and from the hub as ``hf-hub:``).
open_clip builds a ``local-dir:`` model from ``model_cfg`` alone, never from a model name, so the
checkpoint's recorded config is written whole: ``quick_gelu: true`` in it is what keeps a model
fine-tuned from OpenAI's weights on QuickGELU (the default GELU would lose accuracy silently).

The folder is written under a temporary name beside DIR and renamed when complete, so DIR is
either absent, the old export, or the whole new one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from . import model as model_io
from .errors import UsageError
from .files import write_atomically

CONFIG_FILE = "open_clip_config.json"
WEIGHTS_FILE = "open_clip_model.safetensors"


class ExportError(UsageError):
    """An export that cannot be done as asked; the message names the path."""


def export(checkpoint: str | Path, output: str | Path, overwrite: bool = False) -> model_io.Architecture:
    """Write ``checkpoint`` (a fgclip checkpoint) into the folder ``output``; returns its architecture."""
    import json

    import open_clip
    from safetensors.torch import save as safetensors_bytes

    output = Path(output)
    if output.exists() and not output.is_dir():
        raise ExportError(f"--output {output} is a file; give a folder")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise ExportError(f"--output {output} is not empty; pass --overwrite to replace it")
    record = model_io.read_checkpoint(checkpoint)
    arch = record["arch"]
    # Built once, to check that the weights fit the architecture and to learn the preprocessing
    # (image size, mean, std) open_clip gives it: a loader of the folder needs both.
    net, _, _ = model_io.create(arch)
    try:
        net.load_state_dict(record["state_dict"])
    except RuntimeError as err:
        raise model_io.ModelError(f"checkpoint {checkpoint}: its weights do not fit its own architecture "
                                  f"{arch.name!r}: {' '.join(str(err).split())[:300]}") from None
    preprocess = open_clip.get_model_preprocess_cfg(net)
    config = {"model_cfg": arch.config, "preprocess_cfg": preprocess,
              "fgclip": {"architecture": arch.name, "checkpoint": str(Path(checkpoint).resolve()),
                         "step": record.get("step")}}
    # safetensors refuses tensors that share storage or are not contiguous; each is copied alone.
    weights = {name: tensor.detach().cpu().contiguous().clone() for name, tensor in net.state_dict().items()}

    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}.export-tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        write_atomically(staging / WEIGHTS_FILE, safetensors_bytes(weights, metadata={"format": "pt"}))
        write_atomically(staging / CONFIG_FILE, (json.dumps(config, indent=1) + "\n").encode("utf-8"))
        _replace_folder(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return arch


def _replace_folder(staging: Path, output: Path) -> None:
    """``staging`` renamed to ``output``; an old ``output`` is moved aside first and removed after,
    so a failure between the two renames leaves the old export under its aside name, not nothing."""
    if not output.exists():
        os.replace(staging, output)
        return
    aside = output.parent / f".{output.name}.export-old-{os.getpid()}"
    shutil.rmtree(aside, ignore_errors=True)
    os.replace(output, aside)
    try:
        os.replace(staging, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.replace(aside, output)
        raise
    shutil.rmtree(aside, ignore_errors=True)
