"""Writing files the way every fgclip stage does: all or nothing; and opening inputs that may be URLs.

A file is written under a temporary name beside its final one, flushed to disk, then renamed,
so a reader (or a resumed job) never sees half of it. :class:`Folder` does the same for a job's
output folder, local or a URL (on an object store, one upload per file stands for the rename).
The ``*_at`` functions take one file's location, a path or a URL, and go through its Folder.

Object stores have no rename, no append, no links and no folders: whatever fgclip keeps in a run
folder is therefore written whole, one object per file, and found by name (``latest.pt`` is a
file of its own, never a link). Writes that leave a temporary beside the final name (local
folders and ``file://``) name it after the writing process (:func:`temporary_name`), so that a
later start can tell a killed writer's leftovers from a live one's.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator


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


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(location: object) -> bool:
    """Whether ``location`` is a URL (``s3://``, ``memory://``...: a scheme, then "://") rather
    than a local path. The one test every module uses."""
    return isinstance(location, str) and _URL.match(location) is not None


def join(location: str | Path, *names: str) -> str:
    """``names`` under ``location``: joined with "/" for a URL, by pathlib for a local path
    (whose spelling, "runs/demo/ce" for "./runs/demo" + "ce", is what earlier runs recorded)."""
    if is_url(location):
        return "/".join([str(location).rstrip("/"), *names])
    return str(Path(location, *names))


def parent_and_name(location: str | Path) -> tuple["Folder", str]:
    """The Folder that holds the file ``location`` (a path or URL), and the file's name in it."""
    text = str(location)
    if is_url(text):
        head, _, name = text.rstrip("/").rpartition("/")
        if head.endswith(":/"):  # a file at the store's top level ("memory://x"): its folder is "memory://"
            head += "/"
        return Folder(head), name
    path = Path(text)
    return Folder(path.parent), path.name


def read_bytes_at(location: str | Path) -> bytes:
    folder, name = parent_and_name(location)
    return folder.read_bytes(name)


def write_bytes_at(location: str | Path, data: bytes) -> None:
    """Write the file ``location`` (a path or URL) all or nothing."""
    folder, name = parent_and_name(location)
    folder.write_bytes(name, data)


def is_file_at(location: str | Path) -> bool:
    if is_url(location):
        folder, name = parent_and_name(location)
        return folder.is_file(name)
    return Path(location).is_file()


@contextlib.contextmanager
def local_file(location: str | Path) -> Iterator[Path]:
    """``location`` as a local file, for readers that take paths only (open_clip's weight loader,
    a file hash): a local path is itself; a URL is downloaded into a private temporary folder,
    under its own file name (messages that name the copy still show which file it is), and
    removed when the block ends."""
    if not is_url(location):
        yield Path(location)
        return
    folder, name = parent_and_name(location)
    with tempfile.TemporaryDirectory(prefix="fgclip-download-") as directory:
        copy = Path(directory) / name
        folder.download(name, copy)
        yield copy


def local_cache_folder(*names: str) -> Path:
    """A folder on this machine for what runs whose folder is a URL keep locally (an eval's
    feature cache, a workflow's local copies): ``$XDG_CACHE_HOME/fgclip/...`` (default
    ``~/.cache``). Only caches live here: removing it costs time, never results."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root, "fgclip", *names)


def url_key(location: str) -> str:
    """A short name for ``location`` that is safe as a local folder name."""
    return hashlib.sha256(location.rstrip("/").encode("utf-8")).hexdigest()[:16]


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

    def sub(self, name: str) -> "Folder":
        """The sub-folder ``name`` as a Folder of its own."""
        return Folder(self.path(name))

    @property
    def keeps_temporaries(self) -> bool:
        """Whether a write here leaves a temporary (:func:`temporary_name`) in the folder while it
        runs, or after a kill: locally and for ``file://``. On an object store a write is one
        upload, which shows nothing until it completes (open_atomically's local file aside)."""
        return not self.is_url or self._renames

    def exists(self, name: str = "") -> bool:
        return self._fs.exists(self._at(name)) if self.is_url else os.path.exists(self._at(name))

    def is_dir(self, name: str = "") -> bool:
        return self._fs.isdir(self._at(name)) if self.is_url else os.path.isdir(self._at(name))

    def is_file(self, name: str) -> bool:
        return self._fs.isfile(self._at(name)) if self.is_url else os.path.isfile(self._at(name))

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
        else:
            self._publish(name, lambda target: self._fs.pipe_file(target, data))

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
            else:
                self._upload(handle.name, name)
        finally:  # the temporary of a failed block; after a rename there is none
            with contextlib.suppress(FileNotFoundError):
                os.unlink(handle.name)

    def copy(self, source: str, target: str) -> None:
        """``target`` becomes a copy of ``source``, all or nothing. Locally a hard link: no space
        taken, and the next write of ``source`` renames a new file over it, leaving ``target``
        as it was. On an object store the store copies (no download)."""
        if not self.is_url:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._at(target))
            os.link(self._at(source), self._at(target))
        else:
            self._publish(target, lambda to: self._fs.copy(self._at(source), to))

    def download(self, name: str, local_path: str | Path) -> None:
        """Copy the file ``name`` to the local ``local_path`` (all or nothing)."""
        temporary = temporary_name(str(local_path))
        try:
            if self.is_url:
                self._fs.get_file(self._at(name), temporary)
            else:
                shutil.copyfile(self._at(name), temporary)
            os.replace(temporary, local_path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def upload_tree(self, local_folder: str | Path, name: str) -> None:
        """Copy every file under the local ``local_folder`` into the sub-folder ``name``, keeping
        their relative paths; each file all or nothing (the folder as a whole is not: a caller
        that needs that writes a record of its own last, as the workflow's stages do)."""
        root = Path(local_folder)
        for path in sorted(root.rglob("*")):
            if path.is_file():
                relative = path.relative_to(root).as_posix()
                target = f"{name}/{relative}" if name else relative
                if not self.is_url:
                    os.makedirs(os.path.dirname(self._at(target)), exist_ok=True)
                    with self.open_atomically(target) as handle, open(path, "rb") as source:
                        shutil.copyfileobj(source, handle)
                else:
                    self._upload(path, target)

    def download_tree(self, name: str, local_folder: str | Path) -> None:
        """Copy every file under the sub-folder ``name`` into the local ``local_folder``."""
        target = Path(local_folder)
        if not self.is_url:
            shutil.copytree(self._at(name), target, dirs_exist_ok=True)
            return
        base = self._at(name).rstrip("/")
        for path in sorted(self._fs.find(base)):
            relative = path[len(base):].lstrip("/")
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            self.download(f"{name}/{relative}", destination)

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

    def _upload(self, local_path: str | Path, name: str) -> None:
        """The local file ``local_path`` becomes ``name`` in this URL folder, all or nothing."""
        self._publish(name, lambda target: self._fs.put_file(str(local_path), target))

    def _publish(self, name: str, write: Callable[[str], None]) -> None:
        """``write(target)`` makes the object ``name`` of this URL folder: on an object store
        directly (an upload shows nothing until it completes); for ``file://``, whose writes are
        not atomic, under a temporary name that is then renamed."""
        if not self._renames:
            write(self._at(name))
            return
        self._fs.makedirs(self._at(name).rpartition("/")[0], exist_ok=True)
        temporary = self._temporary_name(name)
        write(temporary)
        self._fs.mv(temporary, self._at(name))

    def _temporary_name(self, name: str) -> str:
        return temporary_name(self._at(name))
