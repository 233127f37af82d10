"""Executors run one function over many items (shard ids, mostly); they are interchangeable.

``run(task, shards)`` yields each shard's stats as it finishes, in any order. The task is a
picklable ``task(shard) -> dict`` that writes its own output, so an executor needs to know
nothing about shards, and a shard written twice (a retry) is written the same.

``sum_counts(task, items)`` is the statistics pass: a picklable ``task(item) -> Counter`` per
item, the counters summed. A sum does not depend on the order, so any executor gives the same.

``map(task, items)`` yields ``task(item)`` for every item, in any order: short work whose
results the caller merges (the plan's tasks: one per input file, per range of keys, per shard).
On Ray these are plain tasks, without the Ray Data job and actor pool that ``run`` starts.

``session()`` brings up what ``run`` and ``sum_counts`` need ahead of them, for a caller with
something else to do meanwhile, and keeps it up between them; either one outside a session
brings it up and down itself.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from itertools import chain, islice
from typing import Any, Callable, Iterable, Iterator

log = logging.getLogger(__name__)

Task = Callable[[int], dict]
CountTask = Callable[[Any], Counter]
IN_FLIGHT_PER_WORKER = 4  # items a local pool holds submitted per process: enough that none waits


class LocalExecutor:
    """In this process (one worker) or a pool of processes: no Ray needed.

    Within a session the pool is one for every call, so that its processes keep what the first
    call loaded (WordNet, the tagger, the corpus table) for the next: the statistics pass warms
    them for the shards.
    """

    def __init__(self, workers: int = 1):
        self.workers = workers
        self._pool: Executor | None = None

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        if self.workers <= 1 or self._pool is not None:
            yield
            return
        with self._new_pool(self.workers) as pool:  # processes start at the first call, not here
            self._pool = pool
            try:
                yield
            finally:
                self._pool = None

    def run(self, task: Task, shards: Iterable[int]) -> Iterator[dict]:
        yield from self.map(task, shards)

    def sum_counts(self, task: CountTask, items: Iterable[Any]) -> Counter:
        total: Counter = Counter()
        for counts in self.map(task, items):
            total.update(counts)
        return total

    def map(self, task: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        queue = iter(items)
        head = list(islice(queue, 2))
        queue = chain(head, queue)
        if self._pool is None and (self.workers <= 1 or len(head) <= 1):
            for item in queue:
                yield task(item)
            return
        # A pool starts its processes as work comes, one per item at most.
        pool = self._pool if self._pool is not None else self._new_pool(self.workers)
        with contextlib.nullcontext() if pool is self._pool else pool:
            # A few items per process in flight, taken from ``items`` as they go, not all of
            # them: a million shards would be a million futures and pickled calls held here.
            running = {pool.submit(task, item) for item in islice(queue, IN_FLIGHT_PER_WORKER * self.workers)}
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                running |= {pool.submit(task, item) for item in islice(queue, len(done))}
                for future in done:
                    yield future.result()

    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        # spawn, not fork: the parent may hold threads (Ray's, a test runner's) that fork breaks.
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_end_with_parent, initargs=(os.getpid(),))


PARENT_POLL_S = 1.0  # how often a pool worker checks that the process it works for is still there


def _end_with_parent(parent_pid: int) -> None:
    """A pool worker's initializer: the worker ends when its parent does.

    A killed parent (SIGKILL, the OOM killer) runs no clean-up, and its workers would wait on
    the task pipe for ever: each holds that pipe's write end too, so no end of file comes. A
    thread polls for the parent instead. (Linux's PR_SET_PDEATHSIG would not do: it fires when
    the *thread* that spawned the worker ends, and the build submits from a second thread.)
    """
    if os.getppid() != parent_pid:  # the parent died while this worker started
        os._exit(1)
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), name="fgclip-parent-watch", daemon=True).start()


def _exit_when_orphaned(parent_pid: int) -> None:
    # An orphan is adopted by init or a subreaper: its parent id changes.
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


class RayExecutor:
    """A Ray Data job on an embedded local Ray, or on the cluster at ``address``."""

    def __init__(self, workers: int | None = None, address: str | None = None):
        self.workers = workers
        self.address = address

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

    def sum_counts(self, task: CountTask, items: Iterable[Any]) -> Counter:
        from .. import ray_backend

        return ray_backend.sum_counts(task, items, workers=self.workers, address=self.address)

    def map(self, task: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from .. import ray_backend

        yield from ray_backend.map_tasks(task, items, workers=self.workers, address=self.address)
