"""Executors run one shard function over many shard ids; they are interchangeable.

``run(task, shards)`` yields each shard's stats as it finishes, in any order. The task is a
picklable ``task(shard) -> dict`` that writes its own output, so an executor needs to know
nothing about shards, and a shard written twice (a retry) is written the same.

``session()`` brings up what ``run`` needs ahead of it, for a caller with something else to do
meanwhile; ``run`` outside a session brings it up and down itself.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable, ContextManager, Iterable, Iterator

log = logging.getLogger(__name__)

Task = Callable[[int], dict]


@dataclass(frozen=True)
class LocalExecutor:
    """In this process (one worker) or a pool of processes: no Ray needed."""

    workers: int = 1

    def session(self) -> ContextManager[None]:
        return contextlib.nullcontext()  # processes start in a fraction of a second: nothing to get ahead of

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

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Ray started (or the cluster joined) until the block ends, and stopped then if started here."""
        from .. import ray_backend

        started = ray_backend.connect(self.address, self.workers)
        try:
            yield
        finally:
            if started:
                ray_backend.disconnect()

    def run(self, task: Task, shards: Iterable[int]) -> Iterator[dict]:
        from .. import ray_backend

        yield from ray_backend.map_shards(task, shards, workers=self.workers, address=self.address)
