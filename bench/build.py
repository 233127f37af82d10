"""Throughput and worker memory of ``build_negatives`` on a generated corpus, against the targets.

    .venv/bin/python bench/build.py [--sizes 10000,100000] [--repeats 1] [--work /tmp/fgclip-bench-build]
                                    [--data DIR] [--executor ray] [--workers 1,2] [--no-reshard] [--progress]
                                    [--out bench/results/build.json]

    .venv/bin/python bench/build.py --sizes 2000     # a quick run (about a minute on 2 cores)

The corpus (one per size, kept under --work and reused) is a jsonl file of
``{"image": "img/000123.jpg", "caption": ...}`` rows: the captions are the real benchmark text in
../shared/data (SugarCrepe, NegCLIP, VALSE, VL-CheckList; deduplicated and cycled in a fixed
order), the images copies of 500 small seeded JPEGs under distinct file names.

For each size it builds the corpus into WebDataset shards of 1000 samples, with negatives and as
a plain reshard (``no_negatives``), each on 1 and 2 workers (--workers adds more counts), on the
executor users run (Ray by default, started and stopped by each build, as the CLI does). Each
build runs in a fresh Python process, as a CLI run does (Ray and fgclip imported before the clock
starts), and writes into a fresh folder; its wall time is everything ``build_negatives`` does,
Ray start-up and shutdown included, and samples/s is ``written / wall``. With --repeats N the
four builds run in turn N times (so that noise hits them alike) and the table shows the median
(peak memory: the maximum). Each worker's first shard also pays its WordNet load and cold caches,
so at a few thousand samples these fixed costs, not the per-sample work, decide the ratios.
Peak RSS per worker is the largest ``peak_rss_mb`` (ru_maxrss of the worker process) in the
shards' stats files; the driver's (the build process: reads the corpus, plans the shards)
is reported beside it. With --executor local and 1 worker the shards run in the driver process.
Ray's own log lines go to stderr.

Targets (from the issue), each printed with PASS or MISS:
  a) scaling:  negatives samples/s on 2 workers >= 1.7 x on 1 worker;
  b) cost:     reshard samples/s / negatives samples/s <= 2 (same worker count, same run);
  c) memory:   worker peak RSS under 1.5 GB at every size, and flat: the largest size's peak
               at most 10% above the smallest size's.
Printed beside them without a target: the steady scaling, 2 x the shard work of 1 worker over
that of 2 workers (the ratio a long job approaches, where Ray's start and stop no longer count).

Writes every run's numbers, the medians, the ratios and the machine to bench/results/build.json,
and a bar chart of samples/s per configuration and size to bench/results/build.png. While it
runs, the runs so far are in build.partial.json (removed at the end).
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import multiprocessing
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fgclip.config import BuildConfig  # noqa: E402
from fgclip.files import write_json  # noqa: E402
from fgclip.plots import pyplot, save_figure  # noqa: E402
from fgclip.pipeline.negatives.measure import default_data_dir, load_reference_captions  # noqa: E402

SHARD_SIZE = 1000
DISTINCT_IMAGES = 500
IMAGE_SIDE = 64  # default; --image-side 256 gives img2dataset's default resize (about 20 KB a JPEG)
CORPUS_VERSION = 2  # bump when the corpus recipe changes: a cached corpus of another version is redrawn
WORKERS = (1, 2)  # default --workers; a machine with more cores can add 4, 8, ...
TARGET_SCALING = 1.7  # negatives, 2 workers / 1 worker, at least
TARGET_COST = 2.0  # reshard samples/s / negatives samples/s, at most
TARGET_PEAK_MB = 1536.0  # worker peak RSS, below
TARGET_FLAT = 1.10  # worker peak RSS, largest size / smallest size, at most


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="corpus sizes in samples, comma-separated")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each configuration (median reported)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/fgclip-bench-build"),
                        help="folder for the corpora (kept and reused) and the build outputs")
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the shared/data folder")
    parser.add_argument("--executor", choices=("ray", "local"), default="ray")
    parser.add_argument("--workers", default=",".join(map(str, WORKERS)),
                        help="worker counts, comma-separated; must include 1 and 2 for the targets")
    parser.add_argument("--image-side", type=int, default=IMAGE_SIDE, help="side of the drawn JPEGs in pixels")
    parser.add_argument("--progress", action="store_true", help="show Ray Data's progress bars")
    parser.add_argument("--no-reshard", action="store_true",
                        help="negatives runs only: the scaling ratios in less time, no cost ratio")
    parser.add_argument("--out", type=Path, default=Path("bench/results/build.json"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    worker_counts = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    if not sizes or min(sizes) < 1 or args.repeats < 1:
        parser.error("--sizes needs positive integers and --repeats at least 1")
    if not {1, 2} <= set(worker_counts):
        parser.error("--workers must include 1 and 2 (the scaling and cost targets compare them)")
    configs = configurations(worker_counts, reshard=not args.no_reshard)
    if not (args.data / "sugarcrepe").is_dir():
        print(f"no benchmark text under {args.data}: pass --data DIR (the shared/data folder "
              "with sugarcrepe/, negclip/, valse/, vl-checklist/)", file=sys.stderr)
        return 2
    if not args.progress:
        os.environ["RAY_DATA_DISABLE_PROGRESS_BARS"] = "1"  # read when ray.data is imported (in each build)

    captions = corpus_captions(args.data)
    print(f"{len(captions)} distinct captions from {args.data}; executor {args.executor}; "
          f"{os.cpu_count()} CPUs; {args.repeats} repeat(s)")
    runs = []
    for size in sizes:
        corpus = make_corpus(args.work / f"corpus-{size}-{args.image_side}px", size, captions, args.image_side)
        for repeat in range(args.repeats):
            for name, no_negatives, workers in configs:
                run = build_in_fresh_process(corpus, args.work / "out" / f"{size}-{name}-w{workers}",
                                             no_negatives, workers, args.executor)
                run.update(size=size, config=name, workers=workers, repeat=repeat)
                runs.append(run)
                print(f"  {size:>7} {name:<10} w{workers} repeat {repeat + 1}: {run['samples_per_s']:8.0f} samples/s, "
                      f"{run['wall_s']:7.1f} s, worker peak {run['worker_peak_rss_mb']:.0f} MB, "
                      f"driver peak {run['driver_peak_rss_mb']:.0f} MB", flush=True)
                # every run so far, so that a bench stopped part-way (a time limit) keeps its numbers
                args.out.parent.mkdir(parents=True, exist_ok=True)
                write_json(args.out.with_suffix(".partial.json"), {"runs": runs}, indent=2)

    table = summarize_runs(runs, sizes, configs)
    ratios = compute_ratios(table, sizes, worker_counts)
    print_table(table)
    print_ratios(ratios)
    result = {
        "machine": machine_info(args.executor),
        "settings": {"sizes": sizes, "repeats": args.repeats, "shard_size": SHARD_SIZE, "executor": args.executor,
                     "workers": worker_counts,
                     "distinct_captions": len(captions), "distinct_images": DISTINCT_IMAGES,
                     "image_side": args.image_side, "data": str(args.data)},
        "targets": {"scaling_min": TARGET_SCALING, "cost_max": TARGET_COST, "peak_rss_mb_max": TARGET_PEAK_MB,
                    "peak_growth_max": TARGET_FLAT},
        "summary": table,
        "ratios": ratios,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result, indent=2)
    args.out.with_suffix(".partial.json").unlink(missing_ok=True)
    plot = args.out.with_suffix(".png")
    plot_throughput(table, sizes, plot, args.executor)
    print(f"wrote {args.out} and {plot}")
    return 0


def configurations(worker_counts: list[int], reshard: bool = True) -> list[tuple[str, bool, int]]:
    """(name, no_negatives, workers) in the order each repeat runs them."""
    return ([("negatives", False, w) for w in worker_counts]
            + [("reshard", True, w) for w in worker_counts if reshard])


# ---------------------------------------------------------------------------------------------
# The corpus


def corpus_captions(data_dir: Path) -> list[str]:
    """Every distinct caption of the reference data, in the files' order (deterministic)."""
    seen: dict[str, None] = {}
    for texts in load_reference_captions(data_dir).values():
        for text in texts:
            seen.setdefault(text, None)
    return list(seen)


def make_corpus(folder: Path, size: int, captions: list[str], side: int) -> Path:
    """``folder/data.jsonl`` with ``size`` rows and images; reused when a complete one is there."""
    marker = folder / "complete.json"
    recipe = {"version": CORPUS_VERSION, "size": size, "captions": len(captions),
              "distinct_images": DISTINCT_IMAGES, "image_side": side}
    if marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == recipe:
        print(f"corpus of {size} samples: reusing {folder}")
        return folder / "data.jsonl"
    started = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "img").mkdir(parents=True)
    images = [draw_jpeg(seed, side) for seed in range(DISTINCT_IMAGES)]
    with open(folder / "data.jsonl", "w", encoding="utf-8") as lines:
        for i in range(size):
            name = f"img/{i:06d}.jpg"
            (folder / name).write_bytes(images[i % DISTINCT_IMAGES])
            lines.write(json.dumps({"image": name, "caption": captions[i % len(captions)]}, ensure_ascii=False) + "\n")
    marker.write_text(json.dumps(recipe) + "\n", encoding="utf-8")
    print(f"corpus of {size} samples: written to {folder} in {time.perf_counter() - started:.1f} s")
    return folder / "data.jsonl"


def draw_jpeg(seed: int, side: int) -> bytes:
    """A JPEG of random colour blocks under some noise (so that it compresses like a photo, not
    like flat colour), the same for the same seed."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (side, side), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = rng.randrange(side), rng.randrange(side)
        x1, y1 = rng.randrange(x0, side + 1), rng.randrange(y0, side + 1)
        draw.rectangle((x0, y0, x1, y1), fill=tuple(rng.randrange(256) for _ in range(3)))
    noise = np.random.default_rng(seed).normal(128, 24, (side, side)).clip(0, 255).astype(np.uint8)
    image = Image.blend(image, Image.fromarray(noise).convert("RGB"), 0.25)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# One build


def build_in_fresh_process(corpus: Path, output: Path, no_negatives: bool, workers: int, executor: str) -> dict:
    """:func:`build_once` in a new process (spawned: nothing inherited but the environment).

    A fresh process per build also keeps Ray's start and stop to one per process (a driver that
    ran several builds in a row was once aborted by glibc, malloc corruption, on the fourth).
    A build whose process dies is run once more, and the run is marked ``retried``.
    """
    context = multiprocessing.get_context("spawn")
    for attempt in (1, 2):
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            try:
                run = pool.submit(build_once, corpus, output, no_negatives, workers, executor).result()
                run["retried"] = attempt > 1
                return run
            except BrokenProcessPool:
                if attempt == 2:
                    raise SystemExit(f"the build of {output.name} died twice; see the messages above")
                print(f"  warning: the build of {output.name} died with its process; running it again",
                      file=sys.stderr, flush=True)
    raise AssertionError("unreachable")


def build_once(corpus: Path, output: Path, no_negatives: bool, workers: int, executor: str) -> dict:
    """Build ``corpus`` into a fresh ``output``; its timings and the peak memory of its processes."""
    from fgclip.pipeline.build import build_negatives

    if executor == "ray":
        importlib.import_module("ray.data")  # a second or two, as for any CLI run: not on the clock
    shutil.rmtree(output, ignore_errors=True)
    cfg = BuildConfig(input=str(corpus), output=str(output), format="jsonl", shard_size=SHARD_SIZE,
                      workers=workers, executor=executor, no_negatives=no_negatives)
    started = time.perf_counter()
    totals = build_negatives(cfg, echo=lambda s: None)
    wall = time.perf_counter() - started
    driver_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Peak RSS by worker process: a worker that wrote several shards reports its ru_maxrss each time.
    by_pid: dict[int, float] = {}
    shard_seconds = []
    for path in sorted(output.glob("[0-9]*_stats.json")):
        stats = json.loads(path.read_text(encoding="utf-8"))
        by_pid[stats["pid"]] = max(by_pid.get(stats["pid"], 0.0), stats["peak_rss_mb"])
        shard_seconds.append(stats["seconds"])
    shutil.rmtree(output, ignore_errors=True)
    skipped = sum(totals["skipped"].values())
    if skipped:
        print(f"  warning: {skipped} rows skipped ({totals['skipped']})", file=sys.stderr)
    return {
        "written": totals["written"],
        "skipped": skipped,
        "shards": totals["shards"],
        "wall_s": round(wall, 3),
        "samples_per_s": round(totals["written"] / wall, 1),
        "build_wall_s": totals["wall_seconds"],  # as build_negatives itself timed it
        "plan_s": totals["plan_seconds"],  # the driver reading the corpus and writing the plan
        "shards_wall_s": totals["shards_wall_seconds"],  # the executor's part: start, shards, stop
        "shard_s": totals["shard_seconds"],  # sum over shards of their own work time
        "each_shard_s": shard_seconds,  # in shard order
        "worker_peak_rss_mb": totals["max_peak_rss_mb"],
        "worker_peaks_mb": sorted(by_pid.values(), reverse=True),
        "driver_peak_rss_mb": round(driver_peak, 1),
        "negatives": sum(totals["negatives"].values()),
    }


# ---------------------------------------------------------------------------------------------
# Summary, targets, output


def summarize_runs(runs: list[dict], sizes: list[int], configs: list[tuple[str, bool, int]]) -> list[dict]:
    """One row per (size, configuration): medians over the repeats, peak memory the maximum."""
    table = []
    for size in sizes:
        for name, _, workers in configs:
            mine = [r for r in runs if (r["size"], r["config"], r["workers"]) == (size, name, workers)]
            table.append({
                "size": size, "config": name, "workers": workers, "repeats": len(mine),
                "samples_per_s": statistics.median(r["samples_per_s"] for r in mine),
                "wall_s": statistics.median(r["wall_s"] for r in mine),
                "shard_s": statistics.median(r["shard_s"] for r in mine),
                "worker_peak_rss_mb": max(r["worker_peak_rss_mb"] for r in mine),
                "driver_peak_rss_mb": max(r["driver_peak_rss_mb"] for r in mine),
            })
    return table


def compute_ratios(table: list[dict], sizes: list[int], worker_counts: list[int]) -> list[dict]:
    def row(size, name, workers):
        return next(r for r in table if (r["size"], r["config"], r["workers"]) == (size, name, workers))

    with_reshard = any(r["config"] == "reshard" for r in table)  # not with --no-reshard: no cost ratio
    ratios = []
    for size in sizes:
        value = row(size, "negatives", 2)["samples_per_s"] / row(size, "negatives", 1)["samples_per_s"]
        ratios.append({"name": "scaling", "size": size, "what": "negatives samples/s, 2 workers / 1 worker",
                       "value": round(value, 3), "target": f">= {TARGET_SCALING}", "pass": value >= TARGET_SCALING})
        # No target: the rate 2 busy workers keep up once start-up is paid (a long job's ratio), from
        # how much longer each shard takes when 2 share the machine. Wall time above includes Ray's
        # start and stop, which the ratio on the clock cannot scale.
        value = 2 * row(size, "negatives", 1)["shard_s"] / row(size, "negatives", 2)["shard_s"]
        ratios.append({"name": "scaling", "size": size, "what": "steady: 2 x shard work 1 worker / 2 workers",
                       "value": round(value, 3), "target": "none", "pass": None})
        for workers in worker_counts:
            if workers > 2:  # no target: how far from linear the larger counts get
                value = row(size, "negatives", workers)["samples_per_s"] / row(size, "negatives", 1)["samples_per_s"]
                ratios.append({"name": "scaling", "size": size,
                               "what": f"negatives samples/s, {workers} workers / 1 worker",
                               "value": round(value, 3), "target": "none", "pass": None})
        for workers in worker_counts if with_reshard else []:
            value = row(size, "reshard", workers)["samples_per_s"] / row(size, "negatives", workers)["samples_per_s"]
            ratios.append({"name": "cost", "size": size, "what": f"reshard / negatives samples/s, {workers} worker(s)",
                           "value": round(value, 3), "target": f"<= {TARGET_COST}", "pass": value <= TARGET_COST})
    peaks = {size: max(r["worker_peak_rss_mb"] for r in table if r["size"] == size and r["config"] == "negatives")
             for size in sizes}
    for size in sizes:
        ratios.append({"name": "memory", "size": size, "what": "worker peak RSS MB, negatives",
                       "value": peaks[size], "target": f"< {TARGET_PEAK_MB:.0f}",
                       "pass": peaks[size] < TARGET_PEAK_MB})
    small, large = min(sizes), max(sizes)
    if large != small:
        value = peaks[large] / peaks[small]
        ratios.append({"name": "flat", "size": large, "what": f"worker peak RSS at {large} / at {small}",
                       "value": round(value, 3), "target": f"<= {TARGET_FLAT}", "pass": value <= TARGET_FLAT})
    return ratios


def print_table(table: list[dict]) -> None:
    print()
    print(f"{'size':>8}  {'config':<10}{'workers':>8}{'samples/s':>11}{'wall s':>9}{'shard s':>9}"
          f"{'peak RSS MB/worker':>20}{'driver MB':>11}")
    for r in table:
        print(f"{r['size']:>8}  {r['config']:<10}{r['workers']:>8}{r['samples_per_s']:>11.0f}{r['wall_s']:>9.1f}"
              f"{r['shard_s']:>9.1f}{r['worker_peak_rss_mb']:>20.0f}{r['driver_peak_rss_mb']:>11.0f}")
    print()


def print_ratios(ratios: list[dict]) -> None:
    for r in ratios:
        value = f"{r['value']:.0f}" if r["name"] == "memory" else f"{r['value']:.2f}"
        print(f"{r['name']:<8}{r['size']:>8}  {r['what']:<46}{value:>8}  target {r['target']:<8}"
              f"{'' if r['pass'] is None else 'PASS' if r['pass'] else 'MISS'}")
    if not any(r["name"] == "flat" for r in ratios):
        print("flat: needs two sizes (e.g. --sizes 10000,100000)")
    print()


def machine_info(executor: str) -> dict:
    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "ray": version("ray"), "pillow": version("pillow"), "executor": executor}
    if hasattr(os, "sched_getaffinity"):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        info["memory_gb"] = round(pages * page_size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return info


def plot_throughput(table: list[dict], sizes: list[int], path: Path, executor: str) -> None:
    """Grouped bars: samples/s of each configuration, one group per corpus size."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    configs = list(dict.fromkeys((r["config"], r["workers"]) for r in table))
    width = 0.8 / len(configs)
    for k, (name, workers) in enumerate(configs):
        values = [next(r["samples_per_s"] for r in table
                       if (r["size"], r["config"], r["workers"]) == (size, name, workers)) for size in sizes]
        bars = ax.bar([i + k * width for i in range(len(sizes))], values, width, label=f"{name}, {workers} worker(s)")
        ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize=7)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(sizes))], [f"{s:,} samples" for s in sizes])
    ax.set_ylabel("samples/s (wall clock)")
    ax.set_title(f"build-negatives throughput ({executor} executor, {os.cpu_count()} CPUs)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(main())
