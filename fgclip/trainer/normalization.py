"""Images cross from the loader workers as uint8 and are made float by their consumer.

When the transform ends in torchvision's ToTensor + Normalize (open_clip's does), the workers run
the steps before them and send uint8 ``[3, H, W]`` images: a quarter of the bytes through shared
memory and to the GPU, and less work per sample in the workers. The consumer applies the two
steps (:func:`images_on`, on the device), and the result equals the whole transform's output
bit for bit (tests/trainer/test_data.py checks it on CPU). Any other transform runs whole in the
workers, which then send its float output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from PIL import Image


@dataclass(frozen=True)
class Normalization:
    """A transform's last two steps, torchvision's ToTensor and Normalize, applied to a uint8
    batch by its consumer: x = (u / 255 - mean[c]) / std[c].

    The float32 operations and their order are those of ToTensor then Normalize, each exactly
    rounded, so the result equals the whole transform's output bit for bit
    (tests/trainer/test_data.py checks it on CPU).
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        dtype = torch.get_default_dtype()
        mean = torch.as_tensor(self.mean, dtype=dtype, device=images.device).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=dtype, device=images.device).view(-1, 1, 1)
        return images.to(dtype).div(255).sub_(mean).div_(std)


def split_normalization(preprocess) -> tuple[Callable, Normalization | None]:
    """(the steps of ``preprocess`` before ToTensor, its ToTensor + Normalize as a Normalization),
    or (``preprocess``, None) when it is not a Compose ending in those two (open_clip's is)."""
    steps = getattr(preprocess, "transforms", None)
    if not isinstance(steps, list) or len(steps) < 2:
        return preprocess, None
    from torchvision.transforms import Normalize, ToTensor  # here: torchvision is slow to import

    to_tensor, normalize = steps[-2:]
    # open_clip's MaybeToTensor is ToTensor that passes tensors through; any other subclass
    # could convert differently.
    if type(to_tensor).__name__ not in ("ToTensor", "MaybeToTensor") or not isinstance(to_tensor, ToTensor):
        return preprocess, None
    if type(normalize) is not Normalize or normalize.inplace:
        return preprocess, None
    mean, std = tuple(map(float, normalize.mean)), tuple(map(float, normalize.std))
    return type(preprocess)(steps[:-2]), Normalization(mean, std)


def defer_normalization(preprocess) -> tuple[Callable, Normalization | None]:
    """(what the workers run, what the consumer applies after them): ``preprocess`` with its
    ToTensor + Normalize left to the consumer, or (``preprocess``, None) when it cannot be split."""
    pil_steps, normalization = split_normalization(preprocess)
    if normalization is None:
        return preprocess, None
    return _ThenUint8(pil_steps), normalization


class _ThenUint8:
    """The PIL steps of a transform, then the image as a uint8 [3,H,W] tensor (picklable)."""

    def __init__(self, pil_steps: Callable):
        self.pil_steps = pil_steps

    def __call__(self, image: Image.Image) -> torch.Tensor:
        image = self.pil_steps(image)
        if not isinstance(image, Image.Image) or image.mode != "RGB":
            raise TypeError(f"the steps before ToTensor gave {type(image).__name__} "
                            f"{getattr(image, 'mode', '')}, not an RGB PIL image")
        return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).contiguous()


def images_on(batch: dict, device: torch.device | str) -> torch.Tensor:
    """The batch's images on ``device`` as the model takes them (normalised there when the
    workers sent uint8: a quarter of the bytes to copy)."""
    images = batch["image"].to(device, non_blocking=True)
    normalization = batch.get("normalization")
    return normalization(images) if normalization is not None else images
