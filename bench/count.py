"""The statistics pass of build-negatives against its generation pass, and Ray's ways to sum counts.

    .venv/bin/python bench/count.py [--coco FILE] [--executors local,ray] [--workers 1,2] [--repeats 1]
                                    [--shard-size 1000] [--reduce-repeats 2] [--no-reduce]
                                    [--work /tmp/fgclip-bench-count] [--out bench/results/count.json]

Part 1, builds. ``build-negatives`` on a COCO captions file (default: the 20k captions of
../shared/data/coco/captions_val2017_80pct.json; no COCO images exist here, so each file name
gets a small drawn stand-in JPEG, as ``bench/build.py`` draws its corpus), for each executor and
worker count, each build in a fresh process (as a CLI run; Ray imported before the clock starts).
Reported from the build's own totals: ``stats_seconds`` (the statistics pass: every planned
shard counted in parallel and summed, the table written) against ``shards_wall_seconds`` (the
shards written with the negatives, on the same executor session), their ratio (target: at most
0.5), and the table's size. Then ``fgclip pipeline count`` alone on the same file, each
configuration, for its seconds.

Part 2, the Ray reduce. With 2 workers in one Ray session, the same per-item counts (items of
1000 samples) summed five ways, ``--reduce-repeats`` times each in turn: as fgclip does (a Ray
Data map on an actor pool, each item's Counter pickled in one row, summed by the driver as the
rows stream in); ``groupby("key").sum("count")`` over ``{"key", "count"}`` rows, with Ray's
default 200 partitions and with one per worker; ``aggregate``
with a custom ``AggregateFnV2`` whose accumulator is the pickled Counter; ``repartition(1)`` and one
merging ``map_batches``. The median seconds of each, and whether all give the same counts.

The machine's load matters on 2 cores: the numbers of one run are noisy; --repeats gives medians.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pickle
import shutil
import statistics
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from build import IMAGE_SIDE, draw_jpeg, machine_info  # noqa: E402  (bench/build.py)

from fgclip.config import BuildConfig, CountConfig  # noqa: E402
from fgclip.files import write_json  # noqa: E402

DEFAULT_COCO = Path(__file__).resolve().parents[2] / "shared" / "data" / "coco" / "captions_val2017_80pct.json"
TARGET_RATIO = 0.5  # statistics pass seconds / generation pass seconds, at most
DISTINCT_IMAGES = 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coco", type=Path, default=DEFAULT_COCO, help="a COCO captions json")
    parser.add_argument("--executors", default="local,ray")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each build configuration (median reported)")
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--reduce-repeats", type=int, default=2, help="runs of each Ray reduce (median reported)")
    parser.add_argument("--no-reduce", action="store_true", help="skip part 2")
    parser.add_argument("--work", type=Path, default=Path("/tmp/fgclip-bench-count"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/count.json"))
    args = parser.parse_args()
    if not args.coco.is_file():
        print(f"{args.coco}: no such file; pass --coco FILE (a COCO captions json)", file=sys.stderr)
        return 2
    os.environ["RAY_DATA_DISABLE_PROGRESS_BARS"] = "1"
    executors = [e for e in args.executors.split(",") if e]
    worker_counts = [int(w) for w in args.workers.split(",") if w]
    images = stand_in_images(args.coco, args.work / "images")
    captions = sum(1 for _ in json.loads(args.coco.read_text(encoding="utf-8"))["annotations"])
    print(f"{args.coco.name}: {captions} captions; {os.cpu_count()} CPUs; {args.repeats} repeat(s)")

    runs = []
    for repeat in range(args.repeats):
        for executor in executors:
            for workers in worker_counts:
                run = in_fresh_process(build_once, args.coco, images, args.work / "out", executor, workers,
                                       args.shard_size)
                run.update(executor=executor, workers=workers, repeat=repeat)
                runs.append(run)
                print(f"  build {executor:<5} w{workers}: statistics pass {run['stats_s']:6.1f} s, shards "
                      f"{run['shards_wall_s']:6.1f} s, ratio {run['ratio']:.2f}; count command {run['count_s']:6.1f} s",
                      flush=True)
    table = summarize(runs, executors, worker_counts)
    print()
    print(f"{'executor':<9}{'workers':>8}{'stats s':>9}{'shards s':>10}{'ratio':>7}  target <= {TARGET_RATIO}"
          f"{'count cmd s':>14}{'wall s':>9}")
    for row in table:
        print(f"{row['executor']:<9}{row['workers']:>8}{row['stats_s']:>9.1f}{row['shards_wall_s']:>10.1f}"
              f"{row['ratio']:>7.2f}  {'PASS' if row['pass'] else 'MISS':<14}{row['count_s']:>14.1f}{row['wall_s']:>9.1f}")
    first = runs[0]
    print(f"table: {first['table_bytes']:,} bytes, {first['table_keys']:,} keys, {first['samples']} samples, "
          f"{first['captions']} captions")

    reduce = {} if args.no_reduce else in_fresh_process(ray_reduces, args.coco, args.reduce_repeats)
    if reduce:
        print()
        for name, row in reduce["variants"].items():
            print(f"  ray reduce {name:<12} median {row['median_s']:6.1f} s  {row['seconds']}")
        print(f"  all give the same counts: {reduce['same_counts']}")
    result = {"machine": machine_info("local+ray"), "coco": str(args.coco), "captions": captions,
              "shard_size": args.shard_size, "target_ratio": TARGET_RATIO, "summary": table, "runs": runs,
              "ray_reduce": reduce}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result, indent=2)
    print(f"wrote {args.out}")
    return 0


def stand_in_images(coco: Path, folder: Path) -> Path:
    """A drawn JPEG under each file name the COCO file names (reused when complete)."""
    names = [image["file_name"] for image in json.loads(coco.read_text(encoding="utf-8"))["images"]]
    if folder.is_dir() and all((folder / name).is_file() for name in names):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    drawn = [draw_jpeg(seed, IMAGE_SIDE) for seed in range(DISTINCT_IMAGES)]
    for n, name in enumerate(names):
        (folder / name).write_bytes(drawn[n % DISTINCT_IMAGES])
    return folder


def in_fresh_process(function, *args):
    """``function(*args)`` in a new (spawned) process: one Ray start and stop per process."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def build_once(coco: Path, images: Path, work: Path, executor: str, workers: int, shard_size: int) -> dict:
    """One build and one ``count`` of ``coco``; the build's timings and the table's size."""
    import importlib

    from fgclip.pipeline.build import build_negatives, count_table

    if executor == "ray":
        importlib.import_module("ray.data")  # as for any CLI run: not on the clock
    output = work / f"{executor}-w{workers}"
    shutil.rmtree(output, ignore_errors=True)
    totals = build_negatives(BuildConfig(input=str(coco), output=str(output), image_root=str(images),
                                         shard_size=shard_size, workers=workers, executor=executor),
                             echo=lambda line: None)
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    summary = count_table(CountConfig(input=str(coco), output=str(work / f"{executor}-w{workers}.tsv.gz"),
                                      workers=workers, executor=executor), echo=lambda line: None)
    count_seconds = time.perf_counter() - started
    same = (work / f"{executor}-w{workers}.tsv.gz").read_bytes() == (output / "corpus_counts.tsv.gz").read_bytes()
    shutil.rmtree(output, ignore_errors=True)
    return {
        "stats_s": totals["stats_seconds"], "shards_wall_s": totals["shards_wall_seconds"],
        "shard_s": totals["shard_seconds"], "plan_s": totals["plan_seconds"], "start_s": totals["start_seconds"],
        "wall_s": totals["wall_seconds"], "ratio": round(totals["stats_seconds"] / totals["shards_wall_seconds"], 3),
        "count_s": round(count_seconds, 3), "count_table_same_as_build": same,
        "table_bytes": manifest["table"]["bytes"], "table_keys": manifest["table"]["keys"],
        "samples": manifest["table"]["samples"], "captions": manifest["table"]["captions"],
        "written": totals["written"], "shards": totals["shards"], "fingerprint": summary["fingerprint"],
    }


def summarize(runs: list[dict], executors: list[str], worker_counts: list[int]) -> list[dict]:
    table = []
    for executor in executors:
        for workers in worker_counts:
            mine = [r for r in runs if (r["executor"], r["workers"]) == (executor, workers)]
            row = {"executor": executor, "workers": workers, "repeats": len(mine)}
            for name in ("stats_s", "shards_wall_s", "count_s", "wall_s"):
                row[name] = statistics.median(r[name] for r in mine)
            row["ratio"] = round(row["stats_s"] / row["shards_wall_s"], 3)
            row["pass"] = row["ratio"] <= TARGET_RATIO
            table.append(row)
    return table


# ---------------------------------------------------------------------------------------------
# Part 2: Ray's ways to sum the per-item counts


def ray_reduces(coco: Path, repeats: int, workers: int = 2, chunk: int = 1000) -> dict:
    import pyarrow as pa
    import ray
    import ray.data
    from ray.data import ActorPoolStrategy
    from ray.data.aggregate import AggregateFnV2

    from fgclip import ray_backend
    from fgclip.pipeline.count import count_samples

    data = json.loads(coco.read_text(encoding="utf-8"))
    by_image = defaultdict(list)
    for annotation in data["annotations"]:
        by_image[annotation["image_id"]].append(annotation["caption"].strip())
    samples = list(by_image.values())
    items = [samples[i:i + chunk] for i in range(0, len(samples), chunk)]

    class Partial:  # an actor: the counts of one item, as a row holding the pickled Counter
        def __call__(self, row):
            return {"counts": pickle.dumps(count_samples(pickle.loads(row["item"])))}

    class Rows:  # an actor: the counts of one item as {"key", "count"} rows
        def __call__(self, batch):
            counts = Counter()
            for item in batch["item"]:
                counts.update(count_samples(pickle.loads(item)))
            return pa.table({"key": pa.array(list(counts), pa.string()), "count": pa.array(list(counts.values()), pa.int64())})

    class CounterSum(AggregateFnV2):
        """The accumulator is the pickled Counter: as a dict, Arrow would store it as a struct of
        one field per key (200k of them), which took 34 s."""

        def __init__(self):
            super().__init__("counts", zero_factory=bytes, on="counts", ignore_nulls=False)

        def aggregate_block(self, block):
            total = Counter()
            for data in pa.table(block).column("counts").to_pylist():
                total.update(pickle.loads(data))
            return pickle.dumps(total)

        def combine(self, current, new):
            if not current or not new:
                return current or new
            return pickle.dumps(pickle.loads(current) + pickle.loads(new))

        def finalize(self, accumulator):
            return accumulator

    def merge(batch):
        total = Counter()
        for data in batch["counts"]:
            total.update(pickle.loads(data))
        return {"counts": [pickle.dumps(total)]}

    def mapped(actor, batched=False):
        dataset = ray.data.from_items([{"item": pickle.dumps(item)} for item in items], override_num_blocks=len(items))
        compute = ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=2)
        if batched:
            return dataset.map_batches(actor, batch_size=1, num_cpus=1, compute=compute)
        return dataset.map(actor, num_cpus=1, compute=compute)

    def keyed_rows(dataset):
        total = Counter()
        for batch in dataset.iter_batches(batch_format="pyarrow", batch_size=None):
            total.update(dict(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist())))
        return total

    variants = {
        "driver sum": lambda: ray_backend.sum_counts(count_samples, items, workers=workers, address=None),
        "groupby": lambda: keyed_rows(mapped(Rows, batched=True).groupby("key").sum("count")),
        f"groupby {workers}p": lambda: keyed_rows(
            mapped(Rows, batched=True).groupby("key", num_partitions=workers).sum("count")),
        "aggregate": lambda: pickle.loads(mapped(Partial).aggregate(CounterSum())["counts"]),
        "repartition": lambda: pickle.loads(
            mapped(Partial).repartition(1).map_batches(merge, batch_size=None).take_all()[0]["counts"]),
    }
    ray_backend.connect(None, workers)
    seconds: dict[str, list[float]] = defaultdict(list)
    results = {}
    try:
        for _ in range(repeats):
            for name, run in variants.items():
                started = time.perf_counter()
                results[name] = run()
                seconds[name].append(round(time.perf_counter() - started, 2))
                print(f"  ray reduce {name}: {seconds[name][-1]:.1f} s", flush=True)
    finally:
        ray_backend.disconnect()
    first = next(iter(results.values()))
    return {"items": len(items), "workers": workers,
            "variants": {name: {"median_s": statistics.median(s), "seconds": s} for name, s in seconds.items()},
            "same_counts": all(+r == +first for r in results.values()), "keys": len(first)}


if __name__ == "__main__":
    raise SystemExit(main())
