"""Tiny open_clip configs and tiny fgclip shards for the trainer tests (no network, no weights)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

# About 1.7 M parameters (most in the 49k-word token embedding); a step of batch 8 takes
# milliseconds on a CPU.
TINY_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
COLOURS = ["red", "blue", "green", "yellow", "white", "black", "brown", "orange"]
THINGS = ["dog", "cat", "car", "horse", "bench", "table", "boat", "bird"]


def write_tiny_config(folder: Path, name: str = "fgclip-test-tiny") -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(TINY_CONFIG), encoding="utf-8")
    return path


def drawn_jpeg(index: int, side: int = 24) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (side, side), (index * 37 % 256, index * 91 % 256, index * 53 % 256))
    ImageDraw.Draw(image).rectangle([index % 8, index % 5, side - 3, side - 5], fill=(255 - index * 13 % 256, 40, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def sample_record(index: int) -> dict:
    """Two captions with a negative of each kind, except that every third sample lacks 'action'."""
    colour, thing = COLOURS[index % len(COLOURS)], THINGS[index // len(COLOURS) % len(THINGS)]
    other = THINGS[(index + 3) % len(THINGS)]
    captions = []
    for variant in range(2):
        text = f"a {colour} {thing} next to a {other}" if variant == 0 else f"the {thing} is {colour}"
        negatives = [
            {"text": f"a {colour} {thing} far from a {other}", "kind": "relation", "rule": "replace-rel"},
            {"text": f"a {COLOURS[(index + 1) % 8]} {thing} next to a {other}", "kind": "attribute", "rule": "replace-att"},
            {"text": f"a {colour} {other} next to a {thing}", "kind": "object", "rule": "swap-obj"},
        ]
        if index % 3:
            negatives.append({"text": f"a {colour} {thing} jumping over a {other}", "kind": "action", "rule": "replace-action"})
        captions.append({"text": text, "negatives": negatives})
    return {"captions": captions, "source": {"format": "test", "index": index}}


def write_shards(folder: Path, shards: int = 2, per_shard: int = 16) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for shard in range(shards):
        name = f"{shard:06d}.tar"
        with tarfile.open(folder / name, "w") as tar:
            for i in range(per_shard):
                index = shard * per_shard + i
                key = f"{index:09d}"
                record = sample_record(index)
                for suffix, data in (("jpg", drawn_jpeg(index)), ("txt", record["captions"][0]["text"].encode()),
                                     ("json", json.dumps(record).encode())):
                    info = tarfile.TarInfo(f"{key}.{suffix}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        sizes[name] = per_shard
    (folder / "sizes.json").write_text(json.dumps(sizes), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory) -> Path:
    return write_tiny_config(tmp_path_factory.mktemp("model-config"))


@pytest.fixture(scope="session")
def tiny_shards(tmp_path_factory) -> Path:
    return write_shards(tmp_path_factory.mktemp("shards"))

