"""The trainer's streaming data: shards of image + caption + hard negatives, as batches for one rank.

The shards are the tars the pipeline stage writes (docs/build.md, "Output"): per sample
``{key}.jpg`` (or .jpeg/.png/.webp), ``{key}.txt`` and ``{key}.json`` with every caption and its
hard negatives, plus ``sizes.json`` beside them. Plain img2dataset tars (image + txt, and maybe
img2dataset's own metadata json without a "captions" field) train too, with no negatives. The
trainer meets the pipeline only in these files: nothing here imports ``fgclip.pipeline``.

How one epoch is cut, for a rank ``r`` of ``R`` with ``W`` DataLoader workers (``W = 1`` when
``workers == 0``):

* Shards are shuffled by ``(seed, epoch)``, the same order on every rank. Shard ``i`` of that
  order goes to global worker ``g = i % (R * W)``, where ``g = worker * R + rank``: split by rank
  first (``i % R``), then by worker (``(i // R) % W``), as webdataset's split_by_node and
  split_by_worker do. With fewer shards than ``R * W`` the order is repeated until every worker
  holds one (a warning says some samples then come twice an epoch).
* ``batches_per_epoch = ceil(samples_per_epoch / (batch_size * R))`` rounded up to a multiple of
  ``W``; every worker yields exactly ``batches_per_epoch / W`` batches, starting over on its
  shards (reshuffled) when it runs out, so every rank takes the same number of steps (DDP would
  hang otherwise). The DataLoader takes worker batches round-robin, so batch ``j`` of a rank is
  batch ``j // W`` of worker ``j % W``: a deterministic order.
* Every random choice is seeded, never drawn from a shared stream: the caption and the negative
  of each kind by ``(seed, epoch, key)``, the image augmentation by ``(seed, epoch, key)`` too,
  the sample shuffle buffer by ``(seed, epoch, rank, worker)``. So a resumed run (``skip_batches``)
  can pass over samples without decoding them and still yield the very batches a run without the
  skip yields from there on.

Bad samples are dropped, logged (the first few per worker, with shard and key) and counted in the
next batch's ``"skipped"``; a missing or damaged shard never stops the stream.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import itertools
import json
import logging
import math
import os
import random
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterator, NamedTuple, Sequence

import braceexpand
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, IterableDataset, default_collate, get_worker_info

from fgclip.files import open_binary
from fgclip.schema import (IMAGE_EXTENSIONS, KINDS, RULE_NAMES, BrokenTar, check_kinds, check_source_names,
                           is_sample_record, iter_tar_samples, source_of)

from ..errors import UsageError

log = logging.getLogger(__name__)

LOGGED_PROBLEMS = 5  # per worker; after that problems are only counted
_GLOB_CHARS = set("*?[")
_warned: set[tuple[int, int]] = set()


class ShardListError(UsageError):
    """The shard list cannot be used as given (nothing matched, a file missing, not a .tar, no sizes)."""


# ---------------------------------------------------------------------------------------------
# Shard lists and sizes


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
        raise ShardListError(f"{len(missing)} shard(s) not found: {_some(missing)}")
    not_tar = [p for p in paths if not p.endswith(".tar")]
    if not_tar:
        raise ShardListError(f"not a .tar shard: {_some(not_tar)} (shards are uncompressed .tar files)")
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


def _some(names: Sequence[str], shown: int = 5) -> str:
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
            raise ShardListError(f"{sizes_path} has no count for {len(lacking)} shard(s): {_some(lacking)}")
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


def _known_sizes(shards: Sequence[str]) -> dict[str, int]:
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
    _rng("shards", seed, epoch).shuffle(order)
    total = world_size * max(1, workers)
    if len(order) < total:
        order = order * math.ceil(total / len(order))
    return [order[g::total] for g in range(total)]


# ---------------------------------------------------------------------------------------------
# Settings and the public stream


@dataclass(frozen=True)
class StreamSettings:
    batch_size: int  # per rank
    kinds: tuple[str, ...] = KINDS  # negative slot k holds a negative of kind kinds[k]
    skip_rules: tuple[str, ...] = ()  # negatives made by these rules fill no slot
    # Only negatives of these sources fill slots (None: all). A record without ``source`` (every
    # generated one, and shards written before sources existed) counts as "generated".
    negative_sources: tuple[str, ...] | None = None
    seed: int = 0
    workers: int = 4  # DataLoader worker processes per rank (0 = in-process)
    hard_negatives: bool = True  # False: no neg_text/neg_mask in batches, negatives not even read
    shuffle_buffer: int = 1000  # samples per worker shuffle buffer (0 or 1 = no sample shuffle)
    pin_memory: bool = False
    # Workers send uint8 images and the consumer applies the transform's ToTensor + Normalize
    # (see Normalization): a quarter of the bytes through shared memory and to the GPU, and less
    # work per sample in the workers. False: workers run the whole transform and send floats.
    defer_normalize: bool = True

    def __post_init__(self):
        object.__setattr__(self, "kinds", check_kinds(self.kinds))
        object.__setattr__(self, "skip_rules", tuple(self.skip_rules))
        object.__setattr__(self, "negative_sources", check_source_names("negative_sources", self.negative_sources))
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size}")
        if any(rule not in RULE_NAMES for rule in self.skip_rules):
            raise ValueError(f"skip_rules {self.skip_rules} must be names from {RULE_NAMES}")
        if self.workers < 0 or self.shuffle_buffer < 0:
            raise ValueError("workers and shuffle_buffer cannot be negative")


class TrainStream:
    """Iterable over batches for ONE rank for ONE epoch; len() = batches this rank yields (equal on every rank).

    A batch is a dict: "image" [B,3,H,W], "text" long [B,L], "neg_text" long [B,K,L] and
    "neg_mask" bool [B,K] (K = len(settings.kinds); both absent when hard_negatives is False),
    "keys" list[str], "skipped" {reason: samples} dropped by its worker since its previous batch,
    and "normalization": a Normalization when "image" is uint8 (the transform ends in ToTensor +
    Normalize and ``defer_normalize`` is on), else None and "image" is the transform's float
    output. ``images_on(batch, device)`` gives the model's input either way.
    ``skip_batches=n`` starts after the rank's first n batches of the epoch (resume): len() is then
    ``batches_per_epoch - n`` and the batches are those an unskipped stream yields from index n.
    """

    def __init__(
        self,
        shards: str | Sequence[str],
        settings: StreamSettings,
        *,
        preprocess: Callable[[Image.Image], torch.Tensor],
        tokenize: Callable[[list[str]], torch.Tensor],
        epoch: int,
        rank: int = 0,
        world_size: int = 1,
        samples_per_epoch: int | None = None,
        skip_batches: int = 0,
    ):
        self.shards = expand_shards(shards) if isinstance(shards, str) else list(shards)
        if not self.shards:
            raise ShardListError("no shard to train on")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in 0..{world_size - 1}")
        if samples_per_epoch is None:
            samples_per_epoch = count_samples(self.shards)
        if samples_per_epoch < 1:
            raise ValueError(f"samples_per_epoch must be at least 1, not {samples_per_epoch}")
        self.settings, self.epoch, self.rank, self.world_size = settings, epoch, rank, world_size
        self.samples_per_epoch = samples_per_epoch
        workers = max(1, settings.workers)
        batches = math.ceil(samples_per_epoch / (settings.batch_size * world_size))
        self.batches_per_epoch = math.ceil(batches / workers) * workers
        if not 0 <= skip_batches <= self.batches_per_epoch:
            raise ValueError(f"skip_batches {skip_batches} is not in 0..{self.batches_per_epoch}")
        self.skip_batches = skip_batches
        self._warn_if_shared(workers)
        everyone = assign_shards(
            self.shards, seed=settings.seed, epoch=epoch, world_size=world_size, workers=settings.workers
        )
        self.worker_shards = [everyone[w * world_size + rank] for w in range(workers)]
        self._plan = _Plan(
            settings, epoch, rank, tuple(map(tuple, self.worker_shards)), _known_sizes(self.shards),
            self.batches_per_epoch // workers, skip_batches,
        )
        self.normalization: Normalization | None = None
        if settings.defer_normalize:
            pil_steps, self.normalization = split_normalization(preprocess)
            if self.normalization is not None:
                preprocess = _ThenUint8(pil_steps)
        self._preprocess, self._tokenize = preprocess, tokenize

    def _warn_if_shared(self, workers: int) -> None:
        total = workers * self.world_size
        if len(self.shards) < total and (len(self.shards), total) not in _warned:
            _warned.add((len(self.shards), total))  # once per process, not once per epoch
            log.warning(
                "%d shards cannot feed %d workers x %d ranks without repeats: workers share shards, "
                "so some samples come twice an epoch; lower workers or reshard into more shards",
                len(self.shards), workers, self.world_size,
            )

    def __len__(self) -> int:
        return self.batches_per_epoch - self.skip_batches

    def __iter__(self) -> Iterator[dict]:
        if len(self) == 0:
            return iter(())
        s = self.settings
        # A fixed generator makes the workers' base seed (torch, random, numpy) reproducible too.
        generator = torch.Generator().manual_seed(_seed_int("loader", s.seed, self.epoch, self.rank))
        loader = DataLoader(
            _RankDataset(self._plan, self._preprocess, self._tokenize, self.normalization),
            batch_size=None,  # workers collate their own batches
            num_workers=s.workers,
            pin_memory=s.pin_memory,
            persistent_workers=False,
            generator=generator,
        )
        return iter(loader)


# ---------------------------------------------------------------------------------------------
# Images: uint8 from the workers, normalised by the consumer


@dataclass(frozen=True)
class Normalization:
    """A transform's last two steps, torchvision's ToTensor and Normalize, applied to a uint8
    batch by its consumer: x = (u / 255 - mean[c]) / std[c].

    The float32 operations and their order are those of ToTensor then Normalize, each exactly
    rounded, so the result equals the whole transform's output bit for bit
    (tests/trainer/test_data.py checks it on CPU).
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        dtype = torch.get_default_dtype()
        mean = torch.as_tensor(self.mean, dtype=dtype, device=images.device).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=dtype, device=images.device).view(-1, 1, 1)
        return images.to(dtype).div(255).sub_(mean).div_(std)


def split_normalization(preprocess) -> tuple[Callable, Normalization | None]:
    """(the steps of ``preprocess`` before ToTensor, its ToTensor + Normalize as a Normalization),
    or (``preprocess``, None) when it is not a Compose ending in those two (open_clip's is)."""
    steps = getattr(preprocess, "transforms", None)
    if not isinstance(steps, list) or len(steps) < 2:
        return preprocess, None
    from torchvision.transforms import Normalize, ToTensor  # here: torchvision is slow to import

    to_tensor, normalize = steps[-2:]
    # open_clip's MaybeToTensor is ToTensor that passes tensors through; any other subclass
    # could convert differently.
    if type(to_tensor).__name__ not in ("ToTensor", "MaybeToTensor") or not isinstance(to_tensor, ToTensor):
        return preprocess, None
    if type(normalize) is not Normalize or normalize.inplace:
        return preprocess, None
    mean, std = tuple(map(float, normalize.mean)), tuple(map(float, normalize.std))
    return type(preprocess)(steps[:-2]), Normalization(mean, std)


class _ThenUint8:
    """The PIL steps of a transform, then the image as a uint8 [3,H,W] tensor (picklable)."""

    def __init__(self, pil_steps: Callable):
        self.pil_steps = pil_steps

    def __call__(self, image: Image.Image) -> torch.Tensor:
        image = self.pil_steps(image)
        if not isinstance(image, Image.Image) or image.mode != "RGB":
            raise TypeError(f"the steps before ToTensor gave {type(image).__name__} "
                            f"{getattr(image, 'mode', '')}, not an RGB PIL image")
        return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).contiguous()


def images_on(batch: dict, device: torch.device | str) -> torch.Tensor:
    """The batch's images on ``device`` as the model takes them (normalised there when the
    workers sent uint8: a quarter of the bytes to copy)."""
    images = batch["image"].to(device, non_blocking=True)
    normalization = batch.get("normalization")
    return normalization(images) if normalization is not None else images


# ---------------------------------------------------------------------------------------------
# Inside a worker


@dataclass(frozen=True)
class _Plan:
    """What a worker needs to produce its batches (picklable, for spawned workers)."""

    settings: StreamSettings
    epoch: int
    rank: int
    worker_shards: tuple[tuple[str, ...], ...]  # by logical worker
    sizes: dict[str, int]  # known sample counts by shard path
    per_worker: int  # batches each worker yields in an unskipped epoch
    skip_batches: int


class _Raw(NamedTuple):
    """A sample that passed the cheap checks, its caption and negatives chosen, image not decoded."""

    key: str
    shard: str
    image: Image.Image  # opened (its header read), not decoded
    caption: str
    negatives: tuple[str | None, ...]  # one per settings.kinds slot
    pass_no: int


class _RankDataset(IterableDataset):
    def __init__(self, plan: _Plan, preprocess, tokenize, normalization: Normalization | None):
        self.plan, self.preprocess, self.tokenize, self.normalization = plan, preprocess, tokenize, normalization

    def __iter__(self):
        info = get_worker_info()
        workers = len(self.plan.worker_shards)
        physical = 0 if info is None else info.id
        # The DataLoader always asks worker 0 first; after skipping n batches the next batch is
        # n's, which belongs to worker n % W. So physical worker p plays logical worker
        # (p + n) % W, and the round-robin order lines up with the unskipped stream.
        logical = (physical + self.plan.skip_batches) % workers
        return _worker_batches(self.plan, logical, self.preprocess, self.tokenize, self.normalization)


def _worker_batches(plan: _Plan, worker: int, preprocess, tokenize, normalization: Normalization | None) -> Iterator[dict]:
    """The batches of one logical worker: batch b is the rank's batch b * W + worker."""
    s = plan.settings
    workers = len(plan.worker_shards)
    problems = _Problems(f"rank {plan.rank} worker {worker}")
    samples = _sample_stream(plan, worker, problems)
    skip = max(0, plan.skip_batches - worker + workers - 1) // workers  # my batches with index < n
    last_ok_pass = -1
    for index in range(plan.per_worker):
        if index < skip:
            for raw in itertools.islice(samples, s.batch_size):  # no decode, no tokenize
                last_ok_pass = raw.pass_no
            problems.take()
            continue
        items: list[tuple[_Raw, torch.Tensor]] = []
        while len(items) < s.batch_size:
            raw = next(samples)
            if raw.pass_no - last_ok_pass >= 2:  # a whole pass decoded nothing: it never will
                raise RuntimeError(f"{problems.where}: no image in {_some(plan.worker_shards[worker])} decodes")
            image = _decode(raw, preprocess, plan, problems)
            if image is not None:
                items.append((raw, image))
                last_ok_pass = raw.pass_no
        yield _collate(items, problems.take(), tokenize, s, normalization)


def _sample_stream(plan: _Plan, worker: int, problems: "_Problems") -> Iterator[_Raw]:
    """A worker's checked samples, pass after pass over its shards, shuffled within each pass.

    The buffer drains at the end of every pass, so the first pass yields each sample exactly
    once before any repeat (an epoch that fits in one pass sees no sample twice).
    """
    s = plan.settings
    shards = list(plan.worker_shards[worker])
    buffer_rng = _rng("buffer", s.seed, plan.epoch, plan.rank, worker)
    for pass_no in itertools.count():
        if pass_no:  # later passes: a fresh, still deterministic shard order
            _rng("pass", s.seed, plan.epoch, plan.rank, worker, pass_no).shuffle(shards)
        found = 0
        for raw in _shuffled(_checked_samples(shards, pass_no, plan, problems), s.shuffle_buffer, buffer_rng):
            found += 1
            yield raw
        if not found:
            raise RuntimeError(
                f"{problems.where}: none of its shards holds a usable sample "
                f"({_some(shards)}); see the warnings above"
            )


def _checked_samples(shards: list[str], pass_no: int, plan: _Plan, problems: "_Problems") -> Iterator[_Raw]:
    for shard in shards:
        for key, files in _read_shard(shard, plan.sizes.get(shard), problems):
            raw = _check_sample(key, files, shard, pass_no, plan, problems)
            if raw is not None:
                yield raw


def _shuffled(items: Iterator, size: int, rng: random.Random) -> Iterator:
    """Buffer shuffle (as webdataset's): each new item replaces a random one, which goes out."""
    if size <= 1:
        yield from items
        return
    buffer = []
    for item in items:
        if len(buffer) < size:
            buffer.append(item)
            continue
        slot = rng.randrange(size)
        yield buffer[slot]
        buffer[slot] = item
    rng.shuffle(buffer)
    yield from buffer


class _Problems:
    """Dropped samples of one worker: counted for the next batch, the first few logged."""

    def __init__(self, where: str):
        self.where = where
        self.pending: Counter[str] = Counter()
        self.seen = 0

    def drop(self, reason: str, shard: str, key: str | None, detail: object, count: int = 1) -> None:
        self.pending[reason] += count
        self.seen += 1
        if self.seen <= LOGGED_PROBLEMS:
            where = f"{shard} key {key}" if key is not None else shard
            log.warning("%s: %s, skipped (%s): %s", self.where, reason, where, detail)
            if self.seen == LOGGED_PROBLEMS:
                log.warning("%s: further problems are counted in batch['skipped'], not logged", self.where)

    def take(self) -> dict[str, int]:
        counts = dict(self.pending)
        self.pending.clear()
        return counts


# ---------------------------------------------------------------------------------------------
# One shard, one sample


def _read_shard(shard: str, expected: int | None, problems: _Problems) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {extension: bytes}) of each sample in a tar; a missing or damaged shard is counted.

    Members group into samples by fgclip.schema.iter_tar_samples (webdataset's rule). When the tar
    breaks off, the samples before the damage are kept and the sample being read is dropped;
    "truncated_shard" then counts the samples lost (sizes.json count minus samples read), or 1
    when sizes.json does not know the shard.
    """
    try:
        raw_file = open_binary(shard)
    except OSError as e:
        problems.drop("missing_shard", shard, None, e, expected or 1)
        return
    read, damage = 0, None
    with raw_file:
        try:
            for key, files in iter_tar_samples(raw_file):
                read += 1
                yield key, files
        except BrokenTar as broken:
            damage = repr(broken.cause) if broken.cause is not None else "no end-of-archive block"
    # A whole tar without a single sample: sizes.json tells whether it ought to hold some.
    if damage is None and not read and expected is not None and read < expected:
        damage = f"sizes.json counts {expected} samples"
    if damage is not None:
        lost = max(1, expected - read) if expected is not None else 1
        problems.drop("truncated_shard", shard, None, f"broke off after {read} samples: {damage}", lost)


def _check_sample(key: str, files: dict[str, bytes], shard: str, pass_no: int, plan: _Plan, problems: _Problems):
    """A _Raw for a usable sample, else None (counted). Cheap: the image header is read, not decoded."""
    s = plan.settings
    image_ext = next((e for e in IMAGE_EXTENSIONS if e in files), None)
    if image_ext is None:
        problems.drop("missing_image", shard, key, f"members {sorted(files)}")
        return None
    try:
        captions = [c for c in _caption_records(files, s.hard_negatives, s.skip_rules, s.negative_sources) if c[0]]
    except (ValueError, TypeError, AttributeError) as e:
        problems.drop("bad_json", shard, key, e)
        return None
    if not captions:
        problems.drop("no_caption", shard, key, "no non-empty caption in json or txt")
        return None
    try:
        image = Image.open(io.BytesIO(files[image_ext]))  # kept open: _decode reads on from the header
    except Exception as e:  # PIL raises many kinds; any of them means this image is unusable
        problems.drop("corrupt_image", shard, key, e)
        return None
    # Seeded by key, not drawn from a running stream: the choice is the same whatever the
    # shuffle, the worker count or a skip, and differs from epoch to epoch.
    rng = _rng("caption", s.seed, plan.epoch, key)
    caption, negatives = captions[rng.randrange(len(captions))]
    chosen = tuple(rng.choice(negatives[k]) if negatives.get(k) else None for k in s.kinds) if s.hard_negatives else ()
    return _Raw(key, shard, image, caption, chosen, pass_no)


def _caption_records(files: dict[str, bytes], with_negatives: bool, skip_rules: tuple[str, ...] = (),
                     sources: tuple[str, ...] | None = None) -> list[tuple[str, dict[str, list[str]]]]:
    """(caption, {kind: negative texts}) of a sample, leaving out the negatives of ``skip_rules``
    and those of sources not in ``sources`` (None: none left out); ValueError/TypeError when its
    json is malformed.

    A json without "captions" (img2dataset writes one with url, width, ...) falls back to the txt.
    """
    record = json.loads(files["json"]) if "json" in files else None
    if is_sample_record(record):
        if not isinstance(record["captions"], list):
            raise TypeError("'captions' is not a list")
        return [_caption_entry(entry, with_negatives, skip_rules, sources) for entry in record["captions"]]
    if record is not None and not isinstance(record, dict):
        raise TypeError("json is not an object")
    return [(files.get("txt", b"").decode("utf-8", errors="replace").strip(), {})]


def _caption_entry(entry: dict, with_negatives: bool, skip_rules: tuple[str, ...] = (),
                   sources: tuple[str, ...] | None = None) -> tuple[str, dict[str, list[str]]]:
    if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
        raise TypeError(f"caption without text: {str(entry)[:80]}")
    by_kind: dict[str, list[str]] = {}
    for negative in (entry.get("negatives") or []) if with_negatives else ():
        if not isinstance(negative, dict) or not isinstance(negative.get("text"), str):
            raise TypeError(f"negative without text: {str(negative)[:80]}")
        # Unknown kinds, and the rules and sources the run leaves out, fill no slot. The slot
        # draws uniformly among what is left of its kind, generated and imported alike.
        if (negative.get("kind") in KINDS and negative["text"].strip() and negative.get("rule") not in skip_rules
                and (sources is None or source_of(negative) in sources)):
            by_kind.setdefault(negative["kind"], []).append(negative["text"].strip())
    return entry["text"].strip(), by_kind


def _decode(raw: _Raw, preprocess, plan: _Plan, problems: _Problems) -> torch.Tensor | None:
    """The preprocessed image, or None (counted) when it does not decode."""
    try:
        with raw.image as image:
            image.load()
            rgb = image if image.mode == "RGB" else image.convert("RGB")
    except Exception as e:  # a header that parsed over broken data
        problems.drop("corrupt_image", raw.shard, raw.key, e)
        return None
    try:
        # The augmentation draws from RNGs seeded by the sample, not from the worker's running
        # state, so skipping samples (resume) leaves the later samples' crops unchanged.
        with _seeded_rngs(_seed_int("augment", plan.settings.seed, plan.epoch, raw.key)):
            return preprocess(rgb)
    except Exception as e:
        problems.drop("preprocess_error", raw.shard, raw.key, e)
        return None


def _collate(items: list[tuple[_Raw, torch.Tensor]], skipped: dict[str, int], tokenize, s: StreamSettings,
             normalization: Normalization | None) -> dict:
    raws = [raw for raw, _ in items]
    text = _tokens(tokenize, [raw.caption for raw in raws])
    batch = {
        # default_collate stacks straight into shared memory inside a loader worker: the batch
        # then crosses to the trainer without a second copy (0.5 ms a 224-px sample otherwise).
        "image": default_collate([image for _, image in items]),
        "text": text,
        "keys": [raw.key for raw in raws],
        "skipped": skipped,
        "normalization": normalization,
    }
    if s.hard_negatives:
        rows, slots = len(raws), len(s.kinds)
        mask = torch.tensor([[n is not None for n in raw.negatives] for raw in raws], dtype=torch.bool)
        mask = mask.reshape(rows, slots)
        neg_text = text.new_zeros((rows, slots, text.shape[1]))  # missing slots stay all padding
        present = [n for raw in raws for n in raw.negatives if n is not None]
        if present:
            neg_text[mask] = _tokens(tokenize, present)  # row-major, the order of `present`
        batch["neg_text"], batch["neg_mask"] = neg_text, mask
    return batch


def _tokens(tokenize, texts: list[str]) -> torch.Tensor:
    tokens = torch.as_tensor(tokenize(texts)).long()
    if tokens.ndim != 2 or tokens.shape[0] != len(texts):
        raise ValueError(f"tokenize gave shape {tuple(tokens.shape)} for {len(texts)} texts; expected [n, L]")
    return tokens


# ---------------------------------------------------------------------------------------------
# Seeds


def _seed_text(*parts: object) -> str:
    return ":".join(map(str, parts))


def _rng(*parts: object) -> random.Random:
    """A Random seeded by the parts (a str seed goes through sha512: the same in every process)."""
    return random.Random(_seed_text(*parts))


def _seed_int(*parts: object) -> int:
    digest = hashlib.blake2b(_seed_text(*parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1  # < 2**63: fits torch's seed


@contextlib.contextmanager
def _seeded_rngs(seed: int):
    """Seed torch's CPU generator and `random` for one sample, then put their states back, so an
    in-process stream (workers=0) leaves the trainer's RNGs as they were."""
    torch_state, random_state = torch.get_rng_state(), random.getstate()
    torch.default_generator.manual_seed(seed)  # not torch.manual_seed: that reseeds CUDA too
    random.seed(seed)
    try:
        yield
    finally:
        torch.set_rng_state(torch_state)
        random.setstate(random_state)
