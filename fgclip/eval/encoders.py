"""Features of images and texts for one checkpoint, each computed once and kept on disk.

:class:`ClipEncoder` runs an open_clip model. :class:`CachedEncoder` stands in front of any
encoder with a :class:`FeatureCache`, a folder per checkpoint (named by the hash of the
checkpoint file) holding the features already computed: an image is keyed by its path, crop
box, size and modification time (a replaced file is encoded again), a text by itself. A second
benchmark, or a rerun, that meets the same image or text reads it back instead.

An image that cannot be read (empty, corrupt, cut short, a decompression bomb, a folder or
FIFO or device, over ``fgclip.images.MAX_IMAGE_BYTES``) raises
:class:`~fgclip.eval.cases.UnreadableImages`; the scorer counts its cases as missing.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from pathlib import Path
from typing import Sequence

import torch

from .. import text_encoding
from ..files import write_atomically
from .. import images as image_checks
from .cases import ImageRef, UnreadableImages

log = logging.getLogger(__name__)


def file_digest(path: str | Path, chunk: int = 1 << 22) -> str:
    """sha256 of a file's bytes (a checkpoint's identity for the cache), first 16 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()[:16]


def image_key(ref: ImageRef) -> str:
    stat = os.stat(ref.path)
    return json.dumps([ref.key(), stat.st_size, stat.st_mtime_ns])


class FeatureCache:
    """Features by key, loaded from and appended to ``folder`` (one file per batch of additions)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._features: dict[str, torch.Tensor] = {}
        for path in sorted(self.folder.glob("features-*.pt")):
            part = torch.load(path, map_location="cpu", weights_only=True)
            self._features.update(zip(part["keys"], part["features"].float()))
        self._pending: dict[str, torch.Tensor] = {}

    def get(self, key: str) -> torch.Tensor | None:
        return self._features.get(key)

    def put(self, keys: Sequence[str], features: torch.Tensor) -> None:
        for key, row in zip(keys, features):
            self._features[key] = row
            self._pending[key] = row

    def flush(self) -> None:
        if not self._pending:
            return
        number = len(list(self.folder.glob("features-*.pt")))
        buffer = io.BytesIO()
        torch.save({"keys": list(self._pending), "features": torch.stack(list(self._pending.values())).half()}, buffer)
        write_atomically(self.folder / f"features-{number:05d}.pt", buffer.getvalue())
        self._pending = {}


class CachedEncoder:
    """Any encoder, with each image and text computed at most once per cache."""

    def __init__(self, encoder, cache: FeatureCache):
        self.encoder, self.cache = encoder, cache

    def encode_images(self, images: Sequence[ImageRef]) -> torch.Tensor:
        keys = [image_key(image) for image in images]
        return self._lookup(keys, lambda todo: self.encoder.encode_images([images[i] for i in todo]))

    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        keys = [json.dumps(["text", text]) for text in texts]
        return self._lookup(keys, lambda todo: self.encoder.encode_texts([texts[i] for i in todo]))

    def _lookup(self, keys: list[str], compute) -> torch.Tensor:
        todo: dict[str, int] = {}  # key -> first position asking for it
        for i, key in enumerate(keys):
            if key not in todo and self.cache.get(key) is None:
                todo[key] = i
        if todo:
            self.cache.put(list(todo), compute(list(todo.values())))
        return torch.stack([self.cache.get(key) for key in keys])


class ClipEncoder:
    """An open_clip model's normalised features, in batches, on ``device`` (bf16 autocast on CUDA).

    Texts are encoded in batches of like length, each cut to its longest text where the text
    tower allows it (fgclip.text_encoding): the features are open_clip's, up to float rounding.
    """

    def __init__(self, model, preprocess, tokenizer, device: str = "cpu", batch_size: int = 256):
        self.model, self.preprocess, self.tokenizer = model.eval(), preprocess, tokenizer
        self.device, self.batch_size = torch.device(device), batch_size
        self.text_path = text_encoding.text_path(model)
        log.info("%s", self.text_path.describe())

    def _autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", enabled=False)

    @torch.no_grad()
    def encode_images(self, images: Sequence[ImageRef]) -> torch.Tensor:
        problems = image_problems(images)
        if problems:
            raise UnreadableImages(problems)
        out = []
        for start in range(0, len(images), self.batch_size):
            pixels = torch.stack([self.preprocess(load_image(ref)) for ref in images[start:start + self.batch_size]])
            with self._autocast():
                features = self.model.encode_image(pixels.to(self.device), normalize=True)
            out.append(features.float().cpu())
        return torch.cat(out) if out else torch.empty(0, 0)

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        if not texts:
            return torch.empty(0, 0)
        tokens = torch.cat([self.tokenizer(list(texts[start:start + self.batch_size]))
                            for start in range(0, len(texts), self.batch_size)])
        # Shortest first, so that a batch's longest text is not much longer than the rest.
        order = torch.argsort(self.text_path.row_lengths(tokens), stable=True)
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = self.text_path.cut(tokens[order[start:start + self.batch_size]]).to(self.device)
            with self._autocast():
                if self.text_path.trimmed:
                    features = text_encoding.encode_prefix(self.model, batch, normalize=True)
                else:
                    features = self.model.encode_text(batch, normalize=True)
            out.append(features.float().cpu())
        features = torch.cat(out)
        in_order = torch.empty_like(features)
        in_order[order] = features
        return in_order


def image_problems(images: Sequence[ImageRef]) -> dict[str, str]:
    """Path -> why, for those of ``images`` that cannot be decoded, found without decoding any:
    the build's checks (the file's type and size, the header, the end marker), which cost a
    stat and two small reads an image. A .npy frame is checked as a file only."""
    problems = {}
    for path in dict.fromkeys(image.path for image in images):
        try:
            if path.endswith(".npy"):
                reason = image_checks.file_problem(path)[1]
            else:
                reason = image_checks.check_image_file(path)
        except FileNotFoundError:
            reason = "missing_image"  # gone since the benchmark was loaded
        except OSError:
            reason = "unreadable_image"  # no permission, an I/O error
        if reason is not None:
            problems[path] = reason
    return problems


def load_image(ref: ImageRef):
    """The image as RGB, cropped to ``ref.box`` (x, y, w, h) when it has one; UnreadableImages
    when it does not decode."""
    from PIL import Image

    try:
        if ref.path.endswith(".npy"):
            # EqBen's YouCook2 frames are arrays in BGR channel order, as its authors load them
            import numpy as np

            image = Image.fromarray(np.ascontiguousarray(np.load(ref.path)[:, :, ::-1]).astype("uint8"))
        else:
            with Image.open(ref.path) as image:
                image = image.convert("RGB")
    except Exception as err:  # Pillow and numpy raise many kinds; each means this image is unusable
        raise UnreadableImages({ref.path: "corrupt_image"}) from err
    if ref.box is not None:
        x, y, w, h = ref.box
        image = image.crop((x, y, x + w, y + h))
    return image
