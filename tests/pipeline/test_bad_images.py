"""Images that must be skipped, not fatal: decompression bombs, special files, oversized files."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import tarfile
import textwrap
import threading
import zlib
from pathlib import Path

import pytest
from PIL import Image

from fgclip import images as image_checks
from fgclip.images import check_image
from fgclip.pipeline.sources import ImageRef, UnreadableImage

from .corpus import captions, jpeg_bytes
from .test_build import build

REPO = Path(__file__).parents[2]
BOMB_SIDE = 30_000  # 900 M pixels: Pillow refuses to open an image over 2 x 89 M


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(side: int = BOMB_SIDE) -> bytes:
    """A whole, valid 1-bit PNG of side x side black pixels: about 110 KB on disk, 900 M pixels
    once decoded. Compressed row by row, so that making it takes no more memory than a row."""
    row = b"\x00" + bytes((side + 7) // 8)  # filter byte "none", then the packed pixels
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def noise_jpeg(side: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return bomb_png()


def test_a_decompression_bomb_is_its_own_reason(bomb):
    assert len(bomb) < 1 << 20
    assert check_image(bomb) == (None, "image_too_many_pixels")


def test_a_folder_is_not_an_image_file(tmp_path):
    (tmp_path / "d.jpg").mkdir()
    with pytest.raises(UnreadableImage) as caught:
        ImageRef(str(tmp_path / "d.jpg")).read()
    assert caught.value.reason == "image_not_a_file" and str(tmp_path / "d.jpg") in str(caught.value)


def test_a_device_is_not_an_image_file_and_is_never_opened():
    with pytest.raises(UnreadableImage) as caught:
        ImageRef("/dev/null").read()
    assert caught.value.reason == "image_not_a_file"


def test_a_file_over_the_cap_is_too_large_whole_or_in_a_tar(tmp_path, monkeypatch):
    image = jpeg_bytes(1, size=64)
    monkeypatch.setattr(image_checks, "MAX_IMAGE_BYTES", len(image) - 1)
    (tmp_path / "big.jpg").write_bytes(image)
    for ref in (ImageRef(str(tmp_path / "big.jpg")), ImageRef(f"file://{tmp_path / 'big.jpg'}"),
                ImageRef(str(tmp_path / "big.jpg"), 0, len(image)),
                ImageRef(f"file://{tmp_path / 'big.jpg'}", 0, len(image))):
        with pytest.raises(UnreadableImage) as caught:
            ref.read()
        assert caught.value.reason == "image_too_large", ref
    monkeypatch.setattr(image_checks, "MAX_IMAGE_BYTES", len(image))
    assert ImageRef(str(tmp_path / "big.jpg")).read() == image
    assert ImageRef(f"file://{tmp_path / 'big.jpg'}").read() == image
    # A tar is far larger than the cap: only its member's size counts.
    (tmp_path / "shard.tar").write_bytes(bytes(512) + image + bytes(10_240))
    assert ImageRef(str(tmp_path / "shard.tar"), 512, len(image)).read() == image
    assert ImageRef(f"file://{tmp_path / 'shard.tar'}", 512, len(image)).read() == image


@contextlib.contextmanager
def fifo_unblocked_after(path: Path, seconds: float):
    """A FIFO at ``path``; should the code under test open it for reading (and so block until a
    writer comes), a writer comes after ``seconds`` and leaves at once: the read then ends
    empty, and the test fails instead of hanging."""
    os.mkfifo(path)
    stop = threading.Event()

    def unblock() -> None:
        if stop.wait(seconds):
            return
        while not stop.is_set():
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # ENXIO while no reader
            except OSError:
                stop.wait(0.05)

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join()


def test_a_fifo_through_a_file_url_is_not_opened(tmp_path):
    with fifo_unblocked_after(tmp_path / "x.jpg", seconds=5) as fifo, pytest.raises(UnreadableImage) as caught:
        ImageRef(f"file://{fifo}").read()
    assert caught.value.reason == "image_not_a_file"


# Run in a child process with a time and memory limit: before the fix, the FIFO blocked the
# build forever and /dev/zero grew it by gigabytes. The cap is lowered in the child only.
_BUILD_IN_A_CHILD = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_DATA, (4 << 30, 4 << 30))
    from fgclip import images
    images.MAX_IMAGE_BYTES = int(sys.argv[1])
    from fgclip.cli import app
    app(sys.argv[2:], prog_name="fgclip")
""")


def test_a_build_skips_special_oversized_and_bomb_images_by_reason(tmp_path, bomb):
    folder = tmp_path / "corpus"
    folder.mkdir()
    goods = [jpeg_bytes(seed) for seed in range(6)]  # more good rows than bad: no skip-fraction limit is hit
    for seed, image in enumerate(goods):
        (folder / f"good{seed}.jpg").write_bytes(image)
    cap = len(bomb) + 100  # the bomb must not be taken for an oversized file
    big = noise_jpeg(600)
    assert len(big) > cap
    (folder / "big.jpg").write_bytes(big)
    (folder / "bomb.png").write_bytes(bomb)
    (folder / "folder.jpg").mkdir()
    os.mkfifo(folder / "x.jpg")
    images = ["good0.jpg", "/dev/zero", "good1.jpg", "x.jpg", "good2.jpg", "folder.jpg", "good3.jpg", "big.jpg",
              "good4.jpg", "bomb.png", "good5.jpg"]
    texts = captions()
    (folder / "data.jsonl").write_text("".join(
        json.dumps({"image": name, "caption": texts[i]}) + "\n" for i, name in enumerate(images)))
    output = tmp_path / "shards"
    command = [sys.executable, "-c", _BUILD_IN_A_CHILD, str(cap), "pipeline", "build-negatives",
               "--input", str(folder / "data.jsonl"), "--output", str(output), "--executor", "local",
               "--workers", "1", "--no-negatives", "--no-stats"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    totals = json.loads((output / "manifest.json").read_text())["totals"]
    assert totals["written"] == 6
    assert totals["skipped"] == {"image_not_a_file": 3, "image_too_large": 1, "image_too_many_pixels": 1}
    with tarfile.open(output / "000000.tar") as tar:
        written = {name: tar.extractfile(name).read() for name in tar.getnames() if name.endswith(".jpg")}
    assert written == {f"{row:09d}.jpg": goods[row // 2] for row in range(0, 11, 2)}
    errors = json.loads((output / "000000_stats.json").read_text())["errors"]
    assert any(line.startswith("/dev/zero: image_not_a_file") for line in errors), errors
    assert any(line.startswith(f"{folder / 'bomb.png'}: image_too_many_pixels") for line in errors), errors


def test_a_bomb_in_an_img2dataset_tar_is_skipped_and_counted(tmp_path, bomb):
    source = tmp_path / "img2dataset"
    source.mkdir()
    texts = captions()
    with tarfile.open(source / "00000.tar", "w") as tar:
        for i, (extension, image) in enumerate([("jpg", jpeg_bytes(1)), ("png", bomb), ("jpg", jpeg_bytes(2))]):
            key = f"{i:09d}"
            for name, data in ((f"{key}.{extension}", image), (f"{key}.txt", texts[i].encode()),
                               (f"{key}.json", json.dumps({"key": key, "status": "success"}).encode())):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    totals = build(source, tmp_path / "shards", workers=1, no_negatives=True, no_stats=True)
    assert totals["written"] == 2 and totals["skipped"] == {"image_too_many_pixels": 1}
    # A rerun finds the build complete, not the bomb again.
    assert build(source, tmp_path / "shards", workers=1, no_negatives=True, no_stats=True)["written"] == 2
