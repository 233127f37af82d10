"""Writing files the way every fgclip stage does: all or nothing; and opening inputs that may be URLs.

A file is written under a temporary name beside its final one, flushed to disk, then renamed,
so a reader (or a resumed job) never sees half of it. :class:`Folder` does the same for a job's
output folder, local or a URL (on an object store, one upload per file stands for the rename).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator


def temporary_name(path: str) -> str:
    """The name a file is written under before it is renamed to ``path``: hidden, beside it, and
    per process, so two writers of one file never share a temporary."""
    head, _, tail = path.rpartition("/")
    return f"{head}/.{tail}.tmp-{os.getpid()}" if head else f".{tail}.tmp-{os.getpid()}"


def is_temporary(name: str) -> bool:
    """Whether ``name`` (a file name, no folder) is a leftover temporary of a killed writer."""
    return name.startswith(".") and ".tmp-" in name


def write_atomically(path: str | Path, data: bytes) -> None:
    path = Path(path)
    temporary = temporary_name(str(path))
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        # A full disk or an interrupt: the half-written temporary (a whole checkpoint, maybe) is
        # of no use to anyone, and nothing else would remove it.
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_json(path: str | Path, value: Any, indent: int = 1) -> None:
    write_atomically(path, (json.dumps(value, indent=indent, ensure_ascii=False) + "\n").encode("utf-8"))


def open_binary(path: str | Path):
    """A local path with open(); a URL (``s3://``, ``gs://``, ``file://``...) through fsspec,
    which needs the scheme's package (s3fs, gcsfs)."""
    if isinstance(path, str) and "://" in path:
        import fsspec

        return fsspec.open(path, "rb").open()
    return open(path, "rb")


class Folder:
    """A folder that a job writes into and resumes from: a local path, or a URL (``s3://``,
    ``gs://``, ``file://``...) through fsspec.

    Names are relative to the folder ("000003.tar", "_build/plan.json"). Every write is all or
    nothing. Locally: a temporary name beside the final one, then a rename. On an object store:
    one upload, since a store shows an object only once its upload has completed. fsspec's
    ``file://`` takes the temporary-name path too, because its copy is not atomic.
    """

    def __init__(self, location: str | Path):
        self.location = str(location)
        self.is_url = "://" in self.location
        if self.is_url:
            import fsspec
            from fsspec.implementations.local import LocalFileSystem

            self._fs, root = fsspec.core.url_to_fs(self.location)
            self._root = root.rstrip("/")
            self._renames = isinstance(self._fs, LocalFileSystem)
        else:
            self._root = self.location

    def __str__(self) -> str:
        return self.location

    def path(self, name: str = "") -> str:
        """Where ``name`` lives, as a path or URL: for messages and for readers (open_binary)."""
        if not name:
            return self.location
        return f"{self.location.rstrip('/')}/{name}" if self.is_url else os.path.join(self.location, name)

    def _at(self, name: str) -> str:
        return f"{self._root}/{name}" if name else self._root

    def exists(self, name: str = "") -> bool:
        return self._fs.exists(self._at(name)) if self.is_url else os.path.exists(self._at(name))

    def is_dir(self, name: str = "") -> bool:
        return self._fs.isdir(self._at(name)) if self.is_url else os.path.isdir(self._at(name))

    def make(self, name: str = "") -> None:
        """Create the folder (or a sub-folder); a no-op on object stores, which have none."""
        if self.is_url:
            self._fs.makedirs(self._at(name), exist_ok=True)
        else:
            os.makedirs(self._at(name), exist_ok=True)

    def read_bytes(self, name: str) -> bytes:
        if self.is_url:
            return self._fs.cat_file(self._at(name))
        with open(self._at(name), "rb") as handle:
            return handle.read()

    def read_text(self, name: str) -> str:
        return self.read_bytes(name).decode("utf-8")

    def names(self, pattern: str = "*") -> list[str]:
        """Sorted names of the files directly in the folder that match the glob ``pattern``."""
        if self.is_url:
            if not self._fs.isdir(self._root):
                return []
            # refresh: a store's cached listing would miss what other processes wrote since
            listing = self._fs.ls(self._root, detail=False, refresh=True)
            found = [entry.rstrip("/").rsplit("/", 1)[-1] for entry in listing]
        else:
            found = os.listdir(self._root) if os.path.isdir(self._root) else []
        return sorted(name for name in found if fnmatch.fnmatchcase(name, pattern))

    def write_bytes(self, name: str, data: bytes) -> None:
        if not self.is_url:
            write_atomically(self._at(name), data)
        elif self._renames:
            temporary = self._temporary_name(name)
            self._fs.pipe_file(temporary, data)
            self._fs.mv(temporary, self._at(name))
        else:
            self._fs.pipe_file(self._at(name), data)

    def write_json(self, name: str, value: Any, indent: int = 1) -> None:
        self.write_bytes(name, (json.dumps(value, indent=indent, ensure_ascii=False) + "\n").encode("utf-8"))

    @contextlib.contextmanager
    def open_atomically(self, name: str) -> Iterator[BinaryIO]:
        """A binary file to write; it becomes ``name`` when the block ends without an error.

        Locally it is ``name``'s temporary name in the folder. For a URL it is a local temporary
        file, uploaded at the end (a worker killed mid-write leaves that file in the system's
        temporary folder, and nothing in the output).
        """
        if self.is_url:
            handle = tempfile.NamedTemporaryFile(prefix="fgclip-", suffix=f"-{os.path.basename(name)}", delete=False)
        else:
            handle = open(self._temporary_name(name), "wb")
        try:
            with handle:
                yield handle
                handle.flush()
                if not self.is_url:
                    os.fsync(handle.fileno())
            if not self.is_url:
                os.replace(handle.name, self._at(name))
            elif self._renames:
                temporary = self._temporary_name(name)
                self._fs.put_file(handle.name, temporary)
                self._fs.mv(temporary, self._at(name))
            else:
                self._fs.put_file(handle.name, self._at(name))
        finally:  # the temporary of a failed block; after a rename there is none
            with contextlib.suppress(FileNotFoundError):
                os.unlink(handle.name)

    def remove(self, name: str) -> None:
        if self.is_url:
            self._fs.rm_file(self._at(name))
        else:
            os.unlink(self._at(name))

    def remove_tree(self, name: str) -> None:
        """Remove the sub-folder ``name`` and everything in it, if it is there."""
        if self.is_url:
            if self._fs.exists(self._at(name)):
                self._fs.rm(self._at(name), recursive=True)
        else:
            shutil.rmtree(self._at(name), ignore_errors=True)

    def _temporary_name(self, name: str) -> str:
        return temporary_name(self._at(name))
