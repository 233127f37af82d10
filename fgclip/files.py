"""Writing files the way every fgclip stage does: all or nothing; and opening inputs that may be URLs.

A file is written under a temporary name beside its final one, flushed to disk, then renamed,
so a reader (or a resumed job) never sees half of it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_atomically(path: str | Path, data: bytes) -> None:
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def write_json(path: str | Path, value: Any, indent: int = 1) -> None:
    write_atomically(path, (json.dumps(value, indent=indent, ensure_ascii=False) + "\n").encode("utf-8"))


def open_binary(path: str | Path):
    """A local path with open(); a URL (``s3://``, ``gs://``, ``file://``...) through fsspec,
    which needs the scheme's package (s3fs, gcsfs)."""
    if isinstance(path, str) and "://" in path:
        import fsspec

        return fsspec.open(path, "rb").open()
    return open(path, "rb")
