"""Small caption corpora on disk for the build tests: drawn JPEGs, real caption text."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

from PIL import Image

SAMPLE_CAPTIONS = Path(__file__).parents[2] / "fgclip" / "pipeline" / "negatives" / "sample_captions.txt"


def captions() -> list[str]:
    return [line.strip() for line in SAMPLE_CAPTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def jpeg_bytes(seed: int, size: int = 24) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
    image.paste(tuple(rng.randrange(256) for _ in range(3)), (0, 0, size // 2, size // 2))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def write_jsonl_corpus(folder: Path, n: int, *, bad_rows: bool = False, texts: list[str] | None = None) -> Path:
    """``folder/data.jsonl`` naming ``n`` images in ``folder/img``, captioned from ``texts`` in turn
    (default: the sample captions); with ``bad_rows``, one row of each kind of bad input is mixed
    in (their reasons are in :data:`BAD_ROW_REASONS`)."""
    (folder / "img").mkdir(parents=True, exist_ok=True)
    texts = texts or captions()
    lines = []
    for i in range(n):
        name = f"img/{i:05d}.jpg"
        (folder / name).write_bytes(jpeg_bytes(i))
        lines.append(json.dumps({"image": name, "caption": texts[i % len(texts)]}).encode())
    if bad_rows:
        (folder / "img/truncated.jpg").write_bytes(jpeg_bytes(10_000, size=64)[:-40])
        (folder / "img/not_an_image.jpg").write_bytes(b"<html>404</html>")
        bad = [
            b"{not json",
            json.dumps({"image": "img/missing.jpg", "caption": "a dog on a sofa"}).encode(),
            json.dumps({"image": "img/00000.jpg", "caption": "a repeated image"}).encode(),
            json.dumps({"image": "img/blank.jpg", "caption": "   "}).encode(),
            json.dumps({"image": "img/long.jpg", "caption": "a cat " * 1000}).encode(),
            b'{"image": "img/latin1.jpg", "caption": "caf\xe9 on a corner"}',
            json.dumps({"image": "img/truncated.jpg", "caption": "a red bus"}).encode(),
            json.dumps({"image": "img/not_an_image.jpg", "caption": "a blue bus"}).encode(),
        ]
        # Spread them out, so that they fall in different shards.
        for offset, line in enumerate(bad):
            lines.insert(min(len(lines), 1 + offset * max(1, n // len(bad))), line)
    path = folder / "data.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


BAD_ROW_REASONS = {
    "malformed_row": 1, "missing_image": 1, "duplicate_key": 1, "empty_caption": 1, "caption_too_long": 1,
    "invalid_utf8": 1, "truncated_image": 1, "unreadable_image": 1,
}
