"""Cheap checks that an image's bytes are whole, without decoding its pixels.

The shards keep the source's original bytes, so nothing here re-encodes. A shard builder sees
millions of images; a full decode of each would cost more than everything else together, so
``check_image`` reads the header (through Pillow, which parses it lazily) and the file's end:
a JPEG ends with its EOI marker, a PNG with its IEND chunk, a WebP's RIFF header states its
length. A cut-off download fails one of these; a file that is not an image fails the header.
"""

from __future__ import annotations

import io
import struct
import warnings

from PIL import Image, UnidentifiedImageError

# The extensions open_clip's WebDataset pipeline looks for ("jpg;png;jpeg;webp"): an image
# written under any other extension would be invisible to plain open_clip training.
# Pillow names a JPEG with extra pictures in it (phones and cameras write them) "MPO".
EXTENSION_OF_FORMAT = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}

_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def check_image(data: bytes) -> tuple[str | None, str | None]:
    """``(extension, None)`` for a whole JPEG, PNG or WebP; ``(None, reason)`` otherwise.

    Reasons: ``empty_image``, ``unreadable_image`` (not an image Pillow can identify),
    ``unsupported_image_format`` (an image, but not JPEG/PNG/WebP), ``truncated_image``.
    """
    if not data:
        return None, "empty_image"
    try:
        with warnings.catch_warnings():
            # Pillow warns about decompression bombs and odd metadata; the size check is the
            # trainer's business, and a warning per image would drown the log.
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                image_format = image.format
                width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error):
        return None, "unreadable_image"
    if width <= 0 or height <= 0:
        return None, "unreadable_image"
    extension = EXTENSION_OF_FORMAT.get(image_format or "")
    if extension is None:
        return None, "unsupported_image_format"
    if not _ends_whole(extension, data):
        return None, "truncated_image"
    return extension, None


def _ends_whole(extension: str, data: bytes) -> bool:
    if extension == "jpg":
        # Some encoders pad after EOI with zero bytes or a newline; look past that.
        return data.rstrip(b"\x00\r\n").endswith(b"\xff\xd9")
    if extension == "png":
        return data.rstrip(b"\x00").endswith(_PNG_IEND)
    # WebP: "RIFF" <little-endian size of what follows the first 8 bytes> "WEBP" ...
    (declared,) = struct.unpack_from("<I", data, 4)
    return len(data) >= declared + 8
