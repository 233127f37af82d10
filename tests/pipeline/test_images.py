"""check_image: whole JPEG/PNG/WebP accepted, cut-off, foreign and non-image bytes rejected."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from fgclip.images import check_image


def _noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def encode(fmt: str, size: tuple[int, int] = (64, 64), noise: bool = True, **options) -> bytes:
    image = _noise(size) if noise else Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt, extension", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_whole_images_are_accepted_with_their_extension(fmt, extension):
    assert check_image(encode(fmt)) == (extension, None)
    assert check_image(encode(fmt, size=(3, 5), noise=False)) == (extension, None)


def test_png_with_alpha_and_progressive_jpeg_are_accepted():
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (1, 2, 3, 4)).save(buffer, "PNG")
    assert check_image(buffer.getvalue()) == ("png", None)
    assert check_image(encode("JPEG", progressive=True)) == ("jpg", None)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("cut", [1, 2, 100])
def test_jpeg_and_png_missing_their_last_bytes_are_truncated(fmt, cut):
    data = encode(fmt)  # 64x64 noise: a few kB, so the header is intact after the cut
    assert len(data) > 1000
    assert check_image(data[:-cut]) == (None, "truncated_image")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_jpeg_and_png_cut_in_half_are_truncated(fmt):
    data = encode(fmt)
    assert check_image(data[: len(data) // 2]) == (None, "truncated_image")


@pytest.mark.parametrize("cut", [lambda n: n - 2, lambda n: n // 2])
def test_cut_webp_is_unreadable(cut):
    # Pillow decodes a WebP when it opens it, so a cut one fails there, before the length check.
    data = encode("WEBP")
    assert check_image(data[: cut(len(data))]) == (None, "unreadable_image")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_image_cut_inside_its_header_is_unreadable(fmt):
    assert check_image(encode(fmt)[:20]) == (None, "unreadable_image")


def test_small_jpeg_cut_in_half_is_unreadable():
    data = encode("JPEG", size=(8, 8), noise=False)  # the half lies inside the header tables
    assert check_image(data[: len(data) // 2]) == (None, "unreadable_image")


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_unsupported(fmt):
    assert check_image(encode(fmt)) == (None, "unsupported_image_format")


def test_empty_bytes():
    assert check_image(b"") == (None, "empty_image")


@pytest.mark.parametrize("data", [
    random.Random(0).randbytes(1000),
    random.Random(1).randbytes(37),
    b"<html><body>404 Not Found</body></html>",
    b"\xff\xd8",  # a JPEG's first marker and nothing else
])
def test_bytes_that_are_no_image_are_unreadable(data):
    assert check_image(data) == (None, "unreadable_image")


@pytest.mark.parametrize("padding", [b"\x00" * 16, b"\r\n", b"\n\x00\x00"])
def test_jpeg_padded_after_its_end_marker_is_accepted(padding):
    data = encode("JPEG")
    assert data.endswith(b"\xff\xd9")
    assert check_image(data + padding) == ("jpg", None)


def test_png_padded_with_zeros_is_accepted():
    assert check_image(encode("PNG") + b"\x00" * 8) == ("png", None)


def test_multi_picture_jpeg_is_accepted_as_jpg():
    first, second = Image.new("RGB", (32, 32), (1, 2, 3)), Image.new("RGB", (32, 32), (3, 2, 1))
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    data = buffer.getvalue()
    assert data[:2] == b"\xff\xd8" and data.endswith(b"\xff\xd9")  # a JPEG file, start to end
    assert check_image(data) == ("jpg", None)
