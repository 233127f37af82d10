"""Every Ray call fgclip makes, in one place: Ray's API moves between releases (pinned: 2.60).

The stages hand this module plain picklable functions; nothing else in the package imports Ray.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import warnings
from collections import Counter
from typing import Any, Callable, Iterable, Iterator

log = logging.getLogger(__name__)

MAX_TASK_RETRIES = 3  # a shard whose worker dies (OOM kill, lost node) is run again this often
REAPER_POLL_S = 1.0  # how often the reaper checks the driver and collects the Ray processes below it
REAPER_GRACE_S = 2.0  # from SIGTERM to SIGKILL for a Ray process left by a dead driver

_reaper: subprocess.Popen | None = None  # watches the embedded Ray that this process started


def connect(address: str | None, workers: int | None) -> bool:
    """Join the cluster at ``address`` (or $RAY_ADDRESS), else start an embedded local Ray with
    ``workers`` CPUs. Returns whether this call started Ray (and so should stop it)."""
    import ray

    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    options: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
    if address is None:
        options["num_cpus"] = workers or os.cpu_count() or 1
    else:
        options["address"] = address
    if address is None:
        before = _children()
        ray.init(**options)
        _start_reaper([pid for pid in _children() if pid not in before])
    else:
        ray.init(**options)
    return True


def disconnect() -> None:
    import ray

    ray.shutdown()
    _stop_reaper()


# An embedded Ray outlives a driver that is killed (SIGKILL, the OOM killer): Ray 2.60's GCS
# server and raylet end with it, but the raylet's DashboardAgent and RuntimeEnvAgent (about
# 170 MB) stay for a minute and more; include_dashboard=False does not stop them from starting.
# So a small process (the reaper) watches the driver: it notes the processes that ray.init
# started and everything they start in turn, and ends those still running once the driver is
# gone. A clean disconnect stops it (ray.shutdown has ended them by then). It is in a session
# of its own so that a Ctrl-C to the terminal's process group leaves it to do its work.


def _children() -> set[int]:
    import psutil  # Ray's dependency (it ships a copy, on sys.path once ray is imported)

    return {child.pid for child in psutil.Process().children()}


def _start_reaper(ray_processes: list[int]) -> None:
    global _reaper
    import psutil

    if _reaper is not None or not ray_processes:
        return
    # The reaper imports only this module, and psutil from where this process found it.
    paths = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
             os.path.dirname(os.path.dirname(os.path.abspath(psutil.__file__)))]
    code = "import sys; sys.path[:0] = sys.argv[1:3]; from fgclip.ray_backend import _reap; _reap(sys.argv[3:])"
    _reaper = subprocess.Popen([sys.executable, "-c", code, *paths, str(os.getpid()), *map(str, ray_processes)],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)


def _stop_reaper() -> None:
    global _reaper
    if _reaper is None:
        return
    reaper, _reaper = _reaper, None
    try:
        reaper.stdin.write(b"stop\n")  # a line, not only end of file: a forked child may hold the pipe
        reaper.stdin.close()
        reaper.wait(timeout=REAPER_POLL_S + REAPER_GRACE_S + 5)
    except (OSError, subprocess.TimeoutExpired) as err:
        log.warning("the Ray reaper (pid %d) did not stop: %s", reaper.pid, err)
        reaper.kill()


def _reap(arguments: list[str]) -> None:
    """The reaper's main: ``arguments`` are the driver's pid then the pids ray.init started."""
    import psutil

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    driver, roots = int(arguments[0]), [int(pid) for pid in arguments[1:]]
    known: dict[int, psutil.Process] = {}
    gone_or_not_ours = contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied)

    def collect() -> None:
        for pid in roots:
            with gone_or_not_ours:
                if pid not in known:
                    known[pid] = psutil.Process(pid)
                for process in known[pid].children(recursive=True):
                    known.setdefault(process.pid, process)

    while True:
        collect()
        if os.getppid() != driver:  # the driver is dead; its orphan here was adopted
            break
        readable, _, _ = select.select([sys.stdin], [], [], REAPER_POLL_S)
        if readable:  # a line from disconnect(), or end of file when the driver died
            break
    collect()
    # is_running() compares start times too: a pid that a new process took since is left alone
    running = [process for process in known.values() if process.is_running()]
    for process in running:
        with gone_or_not_ours:
            process.terminate()
    _, left = psutil.wait_procs(running, timeout=REAPER_GRACE_S)
    for process in left:
        with gone_or_not_ours:
            process.kill()


def map_shards(
    task: Callable[[int], dict], shards: Iterable[int], *, workers: int | None, address: str | None
) -> Iterator[dict]:
    """Run ``task(shard)`` for every shard as a Ray Data job; yield each result as it finishes.

    One shard is one block and one call, on a pool of ``workers`` actors (default: one per CPU),
    each a process that keeps what it loaded (WordNet) from shard to shard. Each actor holds
    one shard in hand and one queued: with plain tasks, each CPU sat idle 0.1-0.2 s between
    shards while Ray Data launched the next one, a quarter of a 1000-sample shard's time. Ray
    shows its progress bars. Results travel as JSON text because Ray Data stores rows as Arrow
    tables, which would force every stats dict into one schema.
    """
    for row in _map_on_actors(lambda shard: {"result": json.dumps(task(shard))}, list(shards),
                              workers=workers, address=address):
        yield json.loads(row["result"])


def sum_counts(
    task: Callable[[Any], Counter], items: Iterable[Any], *, workers: int | None, address: str | None
) -> Counter:
    """The statistics pass: ``task(item)`` (one shard's or one chunk's counts) for every item as
    a Ray Data job on an actor pool, as :func:`map_shards` runs shards, and the counters summed.

    Each item's partial counts come back as one row (the Counter pickled: tens of thousands of
    string keys, a few MB) and are added to the total as the rows stream in. Why not a Ray Data
    aggregation: on the 20k captions of COCO val2017 (80%: 4,070 images in 5 items of 1,000,
    196k keys in the sum; 2 workers on 2 cores; ``bench/count.py``, median of 3) this took 8.9 s,
    the same map followed by ``groupby("key").sum("count")`` over ``{"key", "count"}`` rows
    18.9 s (17.1 s with one partition per worker: its hash shuffle starts aggregator actors of
    its own and reduces 196k groups); ``Dataset.aggregate`` with a custom ``AggregateFnV2`` 17.4 s (34 s when its
    accumulator is a dict, which Arrow stores as a struct of one field per key); and
    ``repartition(1)`` then one merging ``map_batches`` 12.9 s. Each of those starts more
    processes and moves the partial counts once more, while the total has to end in this
    process anyway, which writes the table file; the driver's sum costs about 20 ms per item.
    """
    total: Counter = Counter()
    for row in _map_on_actors(lambda item: {"counts": pickle.dumps(task(item), protocol=5)}, list(items),
                              workers=workers, address=address):
        total.update(pickle.loads(row["counts"]))
    return total


def map_tasks(
    function: Callable[[Any], Any], items: Iterable[Any], *, workers: int | None, address: str | None
) -> Iterator[Any]:
    """``function(item)`` for every item as plain Ray tasks of one CPU, each retried on a dead
    worker; yields the results as they finish, in any order.

    For short work whose results the driver merges (the plan's tasks): a Ray Data job would
    first start its own stats, autoscaling and actor-tracking actors and an actor pool (1.4-1.6 s
    here, against 0.24 s for a plain actor), and nothing here gains from a process that keeps
    WordNet loaded. At most twice ``workers`` (default: the cluster's CPUs) tasks are submitted
    at a time, taken from ``items`` as they go, so that a million items are not a million
    pending tasks, and a worker that finishes one finds the next already queued.
    """
    import ray

    queue = iter(items)
    first = next(queue, _NONE)
    if first is _NONE:
        return
    queue = itertools.chain([first], queue)
    started = connect(address, workers)
    try:
        limit = 2 * (workers or max(1, int(ray.cluster_resources().get("CPU", 1))))
        call = ray.remote(num_cpus=1, max_retries=MAX_TASK_RETRIES)(_call)
        function_ref = ray.put(function)  # shipped once, not with every item
        pending = [call.remote(function_ref, item) for item in itertools.islice(queue, limit)]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            pending += [call.remote(function_ref, item) for item in itertools.islice(queue, len(done))]
            for ref in done:
                yield ray.get(ref)
    finally:
        if started:
            disconnect()


def _call(function: Callable[[Any], Any], item: Any) -> Any:
    return function(item)


_NONE = object()  # no first item


# Set in its workers by an executor that spans machines; the shards' stats record it ("node").
NODE_ENV = "FGCLIP_NODE"


def node_name() -> str:
    """Where this process works: the executor's node label (Ray: host name and node id, which
    tells apart two Ray nodes on one host), else the host name."""
    return os.environ.get(NODE_ENV) or socket.gethostname()


def _map_on_actors(
    call: Callable[[Any], dict], items: list, *, workers: int | None, address: str | None
) -> Iterator[dict]:
    """``call(item)`` for every item, one item per block and per call, on a pool of ``workers``
    actors (default: one per CPU of the cluster), each retried on a dead worker; yields the
    returned rows as they finish. Items travel pickled, so they may be any picklable value."""
    import ray
    from ray.data import ActorPoolStrategy


    if not items:
        return
    started = connect(address, workers)
    try:
        pool_size = min(len(items), workers or max(1, int(ray.cluster_resources().get("CPU", 1))))

        class Worker:  # a closure over ``call``, so no constructor arguments to keep
            def __init__(self):
                # The shard's stats record it ("node"); the host name alone does not tell apart
                # two nodes on one machine.
                node = ray.get_runtime_context().get_node_id()
                os.environ[NODE_ENV] = f"{socket.gethostname()}/{node[:12]}"

            def __call__(self, row: dict) -> dict:
                return call(pickle.loads(row["item"]))

        dataset = ray.data.from_items([{"item": pickle.dumps(item)} for item in items], override_num_blocks=len(items))
        with warnings.catch_warnings():
            # Ray 2.60 takes the retry limits only through the generic remote args, which it
            # warns will go in 2.64. Without them a shard that always kills its worker (out of
            # memory, say) would be retried for ever (Ray Data's default is -1).
            warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
            dataset = dataset.map(
                Worker,
                compute=ActorPoolStrategy(size=pool_size, max_tasks_in_flight_per_actor=2),
                num_cpus=1,
                max_restarts=MAX_TASK_RETRIES,
                max_task_retries=MAX_TASK_RETRIES,
            )
        yield from dataset.iter_rows()
    finally:
        if started:
            disconnect()


def run_task(function: Callable[..., Any], *args: Any, num_gpus: float, address: str | None) -> Any:
    """``function(*args)`` as one Ray task with 1 CPU and ``num_gpus`` GPUs, on the cluster at
    ``address`` (or an embedded local Ray); returns its result. Its printed lines reach this
    process through Ray's log forwarding. Not retried: a task that fails raises here."""
    import ray

    started = connect(address, None)
    try:
        task = ray.remote(num_cpus=1, num_gpus=num_gpus, max_retries=0)(function)
        return ray.get(task.remote(*args))
    finally:
        if started:
            disconnect()


def run_torch_trainer(
    train_function: Callable[[dict], Any], config: dict, *, workers: int, gpus_per_worker: float,
    address: str | None, storage_path: str,
) -> None:
    """Run ``train_function(config)`` on ``workers`` Ray Train workers (TorchTrainer).

    Ray Train starts the processes, sets RANK/WORLD_SIZE/LOCAL_RANK and the torch.distributed
    group (NCCL with GPUs, gloo without); the function then trains as it would under torchrun.
    fgclip writes its own checkpoints into the run folder (a path every node must see), so Ray's
    checkpoint API is not used; ``storage_path`` only holds Ray Train's run records. A failed
    worker fails the run (``--resume latest`` continues it from the last checkpoint).
    """
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    # Ray Train's print patch sends each worker print to its log as well: every progress line
    # came out twice. Read by the driver and passed on to the workers.
    os.environ.setdefault("RAY_TRAIN_ENABLE_PRINT_PATCH", "0")
    started = connect(address, None if address or os.environ.get("RAY_ADDRESS") else workers)
    try:
        use_gpu = gpus_per_worker > 0
        resources = {"CPU": 1, **({"GPU": gpus_per_worker} if use_gpu else {})}
        trainer = TorchTrainer(
            train_function,
            train_loop_config=config,
            scaling_config=ScalingConfig(num_workers=workers, use_gpu=use_gpu, resources_per_worker=resources),
            run_config=RunConfig(name="fgclip-train", storage_path=storage_path),
        )
        trainer.fit()
    finally:
        if started:
            disconnect()
