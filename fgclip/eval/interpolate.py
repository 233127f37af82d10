"""Weight-space ensembling (WiSE-FT): theta = (1 - alpha) * theta_base + alpha * theta_finetuned.

Fine-tuning for composition costs zero-shot accuracy; interpolating back towards the base
weights trades some of the gain for much of the loss (Wortsman et al., 2022). Both checkpoints
must be the same architecture: the fine-tuned one is a fgclip checkpoint (it records its
architecture); the base may be a fgclip checkpoint or any weights file open_clip loads into that
architecture (the OpenAI ViT-B/32 file, say).
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import model as model_io


def interpolate(base: str, finetuned: str, alpha: float, output: str) -> model_io.Architecture:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    for name, source in (("base", base), ("finetuned", finetuned)):
        if _same_file(output, source):
            raise ValueError(f"--output {output} is an input ({name} {source}): writing it would replace the "
                             "weights being read; choose another output")
    tuned = model_io.read_checkpoint(finetuned)
    arch = tuned["arch"]
    try:
        base_record = model_io.read_checkpoint(base)
    except model_io.ModelError:
        base_record = None  # a plain open_clip weights file
    if base_record is not None:
        if base_record["arch"].config != arch.config:
            raise model_io.ModelError(
                f"{base} is {base_record['arch'].name!r} and {finetuned} is {arch.name!r}: "
                "only weights of one architecture can be interpolated")
        base_state = base_record["state_dict"]
    else:
        # A file that is no weights, or weights of another architecture, is a ModelError naming it.
        net, _, _ = model_io.create(arch, pretrained=base)
        base_state = net.state_dict()
    mixed = mix_state_dicts(base_state, tuned["state_dict"], alpha, (base, finetuned))
    holder = _StateHolder(mixed)
    model_io.save_checkpoint(output, model=holder, arch=arch, interpolation={
        "base": str(Path(base).resolve()), "finetuned": str(Path(finetuned).resolve()), "alpha": alpha})
    return arch


def _same_file(output: str, source: str) -> bool:
    """Whether writing ``output`` would replace ``source``: the same path once "./", ".." and
    symbolic links are resolved, or another name (a hard link) of the same file."""
    if os.path.realpath(output) == os.path.realpath(source):
        return True
    try:
        return os.path.samefile(output, source)
    except OSError:  # no output yet: it cannot be an existing input
        return False


def mix_state_dicts(base: dict, tuned: dict, alpha: float, names: tuple[str, str] = ("base", "finetuned")) -> dict:
    """(1 - alpha) * base + alpha * tuned for floating tensors (exactly base at 0, tuned at 1);
    other tensors (integer buffers) are taken from ``tuned``."""
    if base.keys() != tuned.keys():
        only = sorted(set(base) ^ set(tuned))[:5]
        raise model_io.ModelError(f"{names[0]} and {names[1]} hold different weights (e.g. {only}): different architectures")
    mixed = {}
    for key, value in tuned.items():
        other = base[key]
        if other.shape != value.shape:
            raise model_io.ModelError(f"{key}: shape {tuple(other.shape)} in {names[0]}, {tuple(value.shape)} in {names[1]}")
        if value.is_floating_point():
            mixed[key] = ((1.0 - alpha) * other.to(value.dtype) + alpha * value).to(value.dtype)
        else:
            mixed[key] = value.clone()
    return mixed


class _StateHolder:
    """What save_checkpoint needs of a model: its state_dict."""

    def __init__(self, state: dict):
        self._state = state

    def state_dict(self) -> dict:
        return self._state
