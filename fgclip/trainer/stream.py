"""The trainer's streaming data: shards of image + caption + hard negatives, as batches for one rank.

:class:`TrainStream` gives one rank's batches of one epoch. Inside each DataLoader worker the
data path is one sequence of steps, written one after another in :func:`_worker_batches`:

1. the worker's shards (split by rank, then by worker: fgclip.trainer.shard_lists), pass after
   pass, each later pass in a fresh seeded order;
2. their tar records (fgclip.trainer.samples reads, checks and draws from here to step 6);
3. the usable samples, each with its caption and its negative of each kind drawn;
4. shuffled in a buffer that drains at the end of every pass;
5. on resume, the skipped batches' samples taken without decoding them;
6. the images decoded and augmented;
7. batches collated: images stacked, texts tokenized (fgclip.trainer.collate).

How one epoch is cut, for a rank ``r`` of ``R`` with ``W`` DataLoader workers (``W = 1`` when
``workers == 0``):

* ``batches_per_epoch = ceil(samples_per_epoch / (batch_size * R))`` rounded up to a multiple of
  ``W``; every worker yields exactly ``batches_per_epoch / W`` batches, starting over on its
  shards (reshuffled) when it runs out, so every rank takes the same number of steps (DDP would
  hang otherwise). The DataLoader takes worker batches round-robin, so batch ``j`` of a rank is
  batch ``j // W`` of worker ``j % W``: a deterministic order.
* A worker's first pass yields each of its samples exactly once before any repeat: an epoch
  that fits in one pass sees no sample twice.
* Every random choice is seeded, never drawn from a shared stream (fgclip.trainer.seeds). So a
  resumed run (``skip_batches``) can pass over samples without decoding them and still yield the
  very batches a run without the skip yields from there on.
* Bad samples and damaged shards never stop the stream (fgclip.trainer.samples): they are
  counted in the next batch's ``"skipped"``. Only a worker whose shards hold no usable sample,
  or whose images all fail to decode for a whole pass, stops it, with a RuntimeError.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import torch
from PIL import Image
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ..schema import KINDS, RULE_NAMES, check_kinds, check_source_names
from .collate import collate
from .normalization import Normalization, defer_normalization
from .samples import Problems, Sample, decode, tar_records, usable_samples
from .seeds import seed_int, seeded_random
from .shard_lists import ShardListError, assign_shards, count_samples, expand_shards, first_names, known_sizes

log = logging.getLogger(__name__)

_warned: set[tuple[int, int]] = set()


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
    # (fgclip.trainer.normalization). False: workers run the whole transform and send floats.
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
    output. ``fgclip.trainer.normalization.images_on(batch, device)`` gives the model's input
    either way. ``skip_batches=n`` starts after the rank's first n batches of the epoch (resume):
    len() is then ``batches_per_epoch - n`` and the batches are those an unskipped stream yields
    from index n.
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
        self._plan = _WorkerPlan(
            settings, epoch, rank, tuple(map(tuple, self.worker_shards)), known_sizes(self.shards),
            self.batches_per_epoch // workers, skip_batches,
        )
        self.normalization: Normalization | None = None
        if settings.defer_normalize:
            preprocess, self.normalization = defer_normalization(preprocess)
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
        generator = torch.Generator().manual_seed(seed_int("loader", s.seed, self.epoch, self.rank))
        loader = DataLoader(
            _RankDataset(self._plan, self._preprocess, self._tokenize, self.normalization),
            batch_size=None,  # workers collate their own batches
            num_workers=s.workers,
            pin_memory=s.pin_memory,
            persistent_workers=False,
            generator=generator,
        )
        return iter(loader)


@dataclass(frozen=True)
class _WorkerPlan:
    """What a worker needs to produce its batches (picklable, for spawned workers)."""

    settings: StreamSettings
    epoch: int
    rank: int
    worker_shards: tuple[tuple[str, ...], ...]  # by logical worker
    sizes: dict[str, int]  # known sample counts by shard path
    per_worker: int  # batches each worker yields in an unskipped epoch
    skip_batches: int

    def skipped_by(self, worker: int) -> int:
        """How many of the rank's first ``skip_batches`` batches are this worker's."""
        workers = len(self.worker_shards)
        return max(0, self.skip_batches - worker + workers - 1) // workers


class _RankDataset(IterableDataset):
    def __init__(self, plan: _WorkerPlan, preprocess, tokenize, normalization: Normalization | None):
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


def _worker_batches(plan: _WorkerPlan, worker: int, preprocess, tokenize,
                    normalization: Normalization | None) -> Iterator[dict]:
    """The batches of one logical worker, batch b being the rank's batch b * W + worker: the
    whole data path, its steps numbered as in the module's docstring. Each step is a generator,
    so samples are read as the batches need them (the shuffle buffer a buffer ahead)."""
    s = plan.settings
    problems = Problems(f"rank {plan.rank} worker {worker}")
    buffer_rng = seeded_random("buffer", s.seed, plan.epoch, plan.rank, worker)

    # Steps 2 to 4 run once per pass of step 1: the buffer drains at each pass's end, so the
    # first pass yields every sample before any repeat.
    def one_pass(pass_no: int, shards: tuple[str, ...]) -> Iterator[Sample]:
        records = tar_records(shards, plan.sizes, problems)  # 2.
        samples = usable_samples(records, pass_no, s, plan.epoch, problems)  # 3.
        samples = _shuffle_buffer(samples, s.shuffle_buffer, buffer_rng)  # 4.
        return _at_least_one(samples, f"{problems.where}: none of its shards holds a usable sample "
                                      f"({first_names(shards)}); see the warnings above")

    passes = _shard_passes(plan, worker)  # 1.
    samples = itertools.chain.from_iterable(one_pass(pass_no, shards) for pass_no, shards in passes)
    skip = plan.skipped_by(worker)
    last_pass = _pass_over(samples, skip * s.batch_size)  # 5.
    problems.take()  # the skipped batches' drops: those batches are not yielded
    images = _decoded(samples, preprocess, plan, worker, problems, last_pass)  # 6.
    for _ in range(plan.per_worker - skip):
        yield collate(list(itertools.islice(images, s.batch_size)), problems.take(), tokenize, s, normalization)  # 7.


def _shard_passes(plan: _WorkerPlan, worker: int) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(pass number, the worker's shards in that pass's order), without end."""
    s = plan.settings
    shards = list(plan.worker_shards[worker])
    for pass_no in itertools.count():
        if pass_no:  # later passes: a fresh, still deterministic shard order
            seeded_random("pass", s.seed, plan.epoch, plan.rank, worker, pass_no).shuffle(shards)
        yield pass_no, tuple(shards)


def _shuffle_buffer(items: Iterator, size: int, rng: random.Random) -> Iterator:
    """Buffer shuffle (as webdataset's): each new item replaces a random one, which goes out.
    The buffer drains when ``items`` ends, so nothing crosses into the next pass."""
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


def _at_least_one(items: Iterator, message: str) -> Iterator:
    """``items``, or RuntimeError(message) when there are none: a pass without a usable sample
    means every later pass is as empty."""
    found = False
    for item in items:
        found = True
        yield item
    if not found:
        raise RuntimeError(message)


def _pass_over(samples: Iterator[Sample], count: int) -> int:
    """Take ``count`` samples without decoding them; the pass of the last one (-1: none taken)."""
    last_pass = -1
    for sample in itertools.islice(samples, count):
        last_pass = sample.pass_no
    return last_pass


def _decoded(samples: Iterator[Sample], preprocess, plan: _WorkerPlan, worker: int, problems: Problems,
             last_pass: int) -> Iterator[tuple[Sample, torch.Tensor]]:
    """Each sample with its preprocessed image; one that does not decode is dropped (counted).
    ``last_pass`` is the pass of the sample taken just before these (-1: none)."""
    for sample in samples:
        if sample.pass_no - last_pass >= 2:  # a whole pass decoded nothing: it never will
            raise RuntimeError(f"{problems.where}: no image in {first_names(plan.worker_shards[worker])} decodes")
        image = decode(sample, preprocess, plan.settings, plan.epoch, problems)
        if image is not None:
            last_pass = sample.pass_no
            yield sample, image
