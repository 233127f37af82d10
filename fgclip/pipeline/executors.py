"""Executors run one shard function over many shard ids; they are interchangeable.

``run(task, shards)`` yields each shard's stats as it finishes, in any order. The task is a
picklable ``task(shard) -> dict`` that writes its own output, so an executor needs to know
nothing about shards, and a shard written twice (a retry) is written the same.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

log = logging.getLogger(__name__)

Task = Callable[[int], dict]


@dataclass(frozen=True)
class LocalExecutor:
    """In this process (one worker) or a pool of processes: no Ray needed."""

    workers: int = 1

    def run(self, task: Task, shards: Iterable[int]) -> Iterator[dict]:
        shards = list(shards)
        if self.workers <= 1 or len(shards) <= 1:
            for shard in shards:
                yield task(shard)
            return
        # spawn, not fork: the parent may hold threads (Ray's, a test runner's) that fork breaks.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(self.workers, len(shards)), mp_context=context) as pool:
            futures = [pool.submit(task, shard) for shard in shards]
            for future in as_completed(futures):
                yield future.result()


@dataclass(frozen=True)
class RayExecutor:
    """A Ray Data job on an embedded local Ray, or on the cluster at ``address``."""

    workers: int | None = None
    address: str | None = None

    def run(self, task: Task, shards: Iterable[int]) -> Iterator[dict]:
        from .. import ray_backend

        yield from ray_backend.map_shards(task, shards, workers=self.workers, address=self.address)
