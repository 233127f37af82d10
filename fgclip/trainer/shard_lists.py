"""Which shards an epoch reads, how many samples they hold, and which worker reads which.

A shard list is a spec (``'DIR/{000000..000031}.tar'``, a folder, a glob, ``a::b`` parts, a URL
read through fsspec) expanded to shard paths: each shard once, in a fixed order, every one a
``.tar`` that exists. The samples of an epoch are counted from the ``sizes.json`` beside the
shards (``{shard basename: sample count}``, written by the pipeline), never by reading the tars.

How one epoch's shards are split, for a rank ``r`` of ``R`` with ``W`` DataLoader workers
(``W = 1`` when ``workers == 0``), in :func:`assign_shards`:

* Shards are shuffled by ``(seed, epoch)``, the same order on every rank. Shard ``i`` of that
  order goes to global worker ``g = i % (R * W)``, where ``g = worker * R + rank``: split by rank
  first (``i % R``), then by worker (``(i // R) % W``), as webdataset's split_by_node and
  split_by_worker do.
* With fewer shards than ``R * W`` the order is repeated until every worker holds one (the
  stream warns that some samples then come twice an epoch).
"""

from __future__ import annotations

import glob
import json
import math
import os
from typing import Sequence

import braceexpand

from ..errors import UsageError
from ..files import open_binary
from .seeds import seeded_random

_GLOB_CHARS = set("*?[")


class ShardListError(UsageError):
    """The shard list cannot be used as given (nothing matched, a file missing, not a .tar, no sizes)."""


def expand_shards(spec: str | Sequence[str]) -> list[str]:
    """Shard paths or URIs from a spec: braces, globs, directories, '::'-joined parts, or a list.

    A string is split on '::' (open_clip's separator); a sequence gives the parts directly. Each
    part is brace-expanded ('{000000..000031}', kept in brace order); an item naming a directory
    stands for its ``*.tar`` and an item with glob characters for its matches, both sorted. An
    item with a scheme (``s3://``, ``gs://``, ``file://``...) is read through fsspec, which needs
    that scheme's package (s3fs, gcsfs...); open_clip's ``pipe:`` commands are not run. The
    result is deduplicated (first occurrence kept): a shard listed twice would be read twice an
    epoch and counted twice in sizes. Raises ShardListError when the spec expands to nothing or
    names a missing file or one that is not a .tar.
    """
    parts = spec.split("::") if isinstance(spec, str) else list(spec)
    paths: list[str] = []
    missing: list[str] = []
    for part in (p.strip() for p in parts):
        if part.startswith("pipe:"):
            raise ShardListError(f"{part!r}: pipe: commands are not run; give a path or a URL (s3://...)")
        items = list(braceexpand.braceexpand(part)) if part else []
        if "://" in part:
            paths.extend(_expand_remote_items(items, missing))
        else:
            for item in items:
                paths.extend(_expand_item(os.path.expanduser(item), missing))
    if missing:
        raise ShardListError(f"{len(missing)} shard(s) not found: {first_names(missing)}")
    not_tar = [p for p in paths if not p.endswith(".tar")]
    if not_tar:
        raise ShardListError(f"not a .tar shard: {first_names(not_tar)} (shards are uncompressed .tar files)")
    # normpath would turn "s3://" into "s3:/"
    unique = list(dict.fromkeys(p if "://" in p else os.path.normpath(p) for p in paths))
    if not unique:
        raise ShardListError(f"shard spec {spec!r} expands to no shard")
    return unique


def _expand_item(item: str, missing: list[str]) -> list[str]:
    """One brace-expanded item: a directory's *.tar, a glob's matches, or the file itself."""
    if os.path.isdir(item):
        found = sorted(glob.glob(os.path.join(glob.escape(item), "*.tar")))
        if not found:
            raise ShardListError(f"directory {item} holds no *.tar shard")
        return found
    if _GLOB_CHARS & set(item):
        found = sorted(p for p in glob.glob(item) if os.path.isfile(p))
        if not found:
            raise ShardListError(f"pattern {item!r} matches no file")
        return found
    if not os.path.isfile(item):
        missing.append(item)
        return []
    return [item]


def _expand_remote_items(items: list[str], missing: list[str]) -> list[str]:
    """Brace-expanded URIs of one part: each folder is listed once (one request, not one per
    shard: a LAION-size list names tens of thousands)."""
    import fsspec

    found: list[str] = []
    listings: dict[str, set[str]] = {}
    for item in items:
        try:
            fs, path = fsspec.core.url_to_fs(item)
        except (ImportError, ValueError) as e:
            raise ShardListError(f"{item}: {e}") from e
        if _GLOB_CHARS & set(path):
            matches = sorted(fs.glob(path))
            if not matches:
                raise ShardListError(f"pattern {item!r} matches no file")
            found.extend(fs.unstrip_protocol(m) for m in matches)
            continue
        path = path.rstrip("/")
        folder = path.rpartition("/")[0]
        if folder not in listings:
            try:
                listings[folder] = {entry["name"].rstrip("/"): entry["type"] for entry in fs.ls(folder, detail=True)}
            except (FileNotFoundError, OSError):
                listings[folder] = {}
        kind = listings[folder].get(path)
        if kind == "directory":
            tars = sorted(p for p in fs.ls(path, detail=False) if p.endswith(".tar"))
            if not tars:
                raise ShardListError(f"directory {item} holds no *.tar shard")
            found.extend(fs.unstrip_protocol(t) for t in tars)
        elif kind is not None:
            found.append(item)
        else:
            missing.append(item)
    return found


def first_names(names: Sequence[str], shown: int = 5) -> str:
    """The first few names and how many more, for a message."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def count_samples(shards: list[str]) -> int:
    """Samples in the shards, from the sizes.json beside each (keyed by the shard's basename)."""
    total = 0
    for folder, names in _by_folder(shards).items():
        sizes_path = os.path.join(folder, "sizes.json")
        sizes = _read_sizes(sizes_path)
        if sizes is None:
            raise ShardListError(
                f"{sizes_path} not found: it gives the sample count of each shard; "
                "write it or pass samples_per_epoch"
            )
        lacking = [n for n in names if n not in sizes]
        if lacking:
            raise ShardListError(f"{sizes_path} has no count for {len(lacking)} shard(s): {first_names(lacking)}")
        total += sum(sizes[n] for n in names)
    return total


def _by_folder(shards: Sequence[str]) -> dict[str, list[str]]:
    folders: dict[str, list[str]] = {}
    for shard in shards:
        folders.setdefault(os.path.dirname(shard) or ".", []).append(os.path.basename(shard))
    return folders


def _read_sizes(path: str) -> dict[str, int] | None:
    """sizes.json as {basename: count}; None when the file is absent, ShardListError when malformed."""
    try:
        with open_binary(path) as f:
            sizes = json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise ShardListError(f"{path} cannot be read: {e}") from e
    bad = not isinstance(sizes, dict) or any(
        type(n) is not int or n < 0 for n in sizes.values()  # bool is not a count
    )
    if bad:
        raise ShardListError(f"{path} is not a {{shard name: sample count}} object")
    return sizes


def known_sizes(shards: Sequence[str]) -> dict[str, int]:
    """The counts sizes.json knows, by shard path; used only to say how many samples a damaged
    shard lost, so a missing or broken sizes.json just leaves the counts out."""
    known: dict[str, int] = {}
    for folder, names in _by_folder(shards).items():
        try:
            sizes = _read_sizes(os.path.join(folder, "sizes.json")) or {}
        except ShardListError:
            sizes = {}
        known.update({os.path.join(folder, n): sizes[n] for n in names if n in sizes})
    return known


def assign_shards(
    shards: Sequence[str], *, seed: int, epoch: int, world_size: int = 1, workers: int = 0
) -> list[list[str]]:
    """Each global worker's shards for one epoch, indexed by ``g = worker * world_size + rank``.

    The (seed, epoch) shuffle is the same on every rank; shard i then goes to worker i % (R*W).
    Fewer shards than workers: the order is repeated so that no worker is left without data.
    """
    order = list(shards)
    seeded_random("shards", seed, epoch).shuffle(order)
    total = world_size * max(1, workers)
    if len(order) < total:
        order = order * math.ceil(total / len(order))
    return [order[g::total] for g in range(total)]
