"""Cheap checks that an image's bytes are whole, without decoding its pixels.

The shards keep the source's original bytes, so nothing here re-encodes. A shard builder sees
millions of images; a full decode of each would cost more than everything else together, so
``check_image`` reads the header (through Pillow, which parses it lazily) and the file's end:
a JPEG ends with its EOI marker, a PNG with its IEND chunk, a WebP's RIFF header states its
length. A cut-off download fails one of these; a file that is not an image fails the header.

``check_image_file`` runs the same checks on a file in place (the eval reads its benchmarks'
images this way): the header, and the last bytes, never the whole file.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings

from PIL import Image, UnidentifiedImageError

# The extensions open_clip's WebDataset pipeline looks for ("jpg;png;jpeg;webp"): an image
# written under any other extension would be invisible to plain open_clip training.
# Pillow names a JPEG with extra pictures in it (phones and cameras write them) "MPO".
EXTENSION_OF_FORMAT = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}

_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"

# The most bytes read for one image. A photo of 100 megapixels is rarely over 40 MiB as a JPEG;
# anything larger is not a training or benchmark image but a mistake (a video, a disk image, a
# path that names the wrong file), and reading it whole could exhaust a worker's memory.
MAX_IMAGE_BYTES = 64 << 20

# How far from the end a file's end marker is looked for: encoders pad after it (see _ends_whole).
_TAIL_BYTES = 4096


def check_image(data: bytes) -> tuple[str | None, str | None]:
    """``(extension, None)`` for a whole JPEG, PNG or WebP; ``(None, reason)`` otherwise.

    Reasons: ``empty_image``, ``unreadable_image`` (not an image Pillow can identify),
    ``image_too_many_pixels`` (a header declaring more pixels than Pillow will decode: a
    decompression bomb, which training would refuse too), ``unsupported_image_format`` (an
    image, but not JPEG/PNG/WebP), ``truncated_image``.
    """
    if not data:
        return None, "empty_image"
    image_format, reason = _identify(io.BytesIO(data))
    if reason is not None:
        return None, reason
    extension = EXTENSION_OF_FORMAT.get(image_format or "")
    if extension is None:
        return None, "unsupported_image_format"
    if not _ends_whole(extension, data[:8], data, len(data)):
        return None, "truncated_image"
    return extension, None


def check_image_file(path: str) -> str | None:
    """Why the image file at ``path`` cannot be decoded, or None when it looks whole.

    Reasons: those of :func:`file_problem`, then those of :func:`check_image` but for
    ``unsupported_image_format``: any format Pillow reads will do here (only JPEG, PNG and
    WebP have their end checked).
    """
    size, reason = file_problem(path)
    if reason is not None:
        return reason
    if size == 0:
        return "empty_image"
    with open(path, "rb") as handle:
        image_format, reason = _identify(handle)
        if reason is not None:
            return reason
        extension = EXTENSION_OF_FORMAT.get(image_format or "")
        if extension is None:
            return None
        handle.seek(0)
        head = handle.read(8)
        handle.seek(max(0, size - _TAIL_BYTES))
        tail = handle.read()
    return None if _ends_whole(extension, head, tail, size) else "truncated_image"


def file_problem(path: str, whole: bool = True) -> tuple[int, str | None]:
    """``(size, None)`` for a regular file of at most :data:`MAX_IMAGE_BYTES`, else
    ``(size, reason)``: ``image_not_a_file`` (a folder, a device such as /dev/zero, a FIFO,
    which would block its reader forever) or ``image_too_large``. ``whole=False`` for a file
    an image is only part of (a tar), whose size says nothing. Only stats the path: a special
    file must be recognised before it is opened. FileNotFoundError when it is absent.
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        return 0, "image_not_a_file"
    if whole and info.st_size > MAX_IMAGE_BYTES:
        return info.st_size, "image_too_large"
    return info.st_size, None


def _identify(stream) -> tuple[str | None, str | None]:
    """``(Pillow's format name, None)`` from the header alone, or ``(None, reason)``."""
    try:
        with warnings.catch_warnings():
            # Pillow warns about odd metadata and about images between its warning and error
            # pixel limits (training opens those too); a warning per image would drown the log.
            warnings.simplefilter("ignore")
            with Image.open(stream) as image:
                image_format = image.format
                width, height = image.size
    except Image.DecompressionBombError:
        return None, "image_too_many_pixels"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error):
        return None, "unreadable_image"
    if width <= 0 or height <= 0:
        return None, "unreadable_image"
    return image_format, None


def _ends_whole(extension: str, head: bytes, tail: bytes, size: int) -> bool:
    """Whether the image ends as its format says, from its first 8 bytes, its last few
    thousand (``tail``) and its length."""
    if extension == "jpg":
        # Some encoders pad after EOI with zero bytes or a newline; look past that.
        return tail.rstrip(b"\x00\r\n").endswith(b"\xff\xd9")
    if extension == "png":
        return tail.rstrip(b"\x00").endswith(_PNG_IEND)
    # WebP: "RIFF" <little-endian size of what follows the first 8 bytes> "WEBP" ...
    (declared,) = struct.unpack_from("<I", head, 4)
    return size >= declared + 8
