"""The plan of build-negatives on many input files: 1 worker (the driver reads every row) against
2 (one task per file on the local pool), and the driver's memory as the corpus grows.

    .venv/bin/python bench/plan.py [--files 200] [--small-files 20] [--samples-per-file 250]
                                   [--repeats 3] [--work /tmp/fgclip-bench-plan] [--out bench/results/plan.json]

The corpus: ``--files`` img2dataset tars (``{key}.jpg``, ``.txt``, ``.json`` per sample, as
img2dataset writes them and as the tests make them: drawn 64-px JPEGs from 50 seeds, about 1.5 KB,
captions from the bundled sample captions), read through ``file://`` URLs, so that every read goes
through fsspec as it would from a bucket. Kept in ``--work`` and reused.

Each measurement runs in a fresh process (``--one``): it starts the executor's session, starts the
pool's processes (timed apart: "pool start", which a build pays once for its statistics pass and
shards too), then times the plan alone (``build.plan_corpus``, as ``build-negatives`` calls it,
shards of 1,000 rows) into an empty folder. The 1- and 2-worker runs alternate within each repeat,
so that the machine's noise hits both alike; the table gives medians. Then one run of each at
``--small-files`` and ``--files`` files with tracemalloc on in the driver: the peak of what the
plan allocated there ("driver peak MB"), and the driver process's peak RSS (imports included).
tracemalloc slows allocation-heavy code, so these runs are not timed.

A third configuration runs the parallel plan's three rounds in one process, one task after the
other (``plan_in_parallel`` on a one-process executor): its CPU seconds against the serial plan's
are the work the parallel plan adds (its records written once more, read back, the keys sorted),
whatever the machine's load; "driver CPU s" is ``time.process_time`` of the planning process.

Beside each pair of plan runs, a control: the same pure-Python loop (no I/O, nothing shared) run
twice in one process, then once in each of 2 pool processes. Its ratio is what the machine gives
2 processes at that moment; on a machine whose cores are busy with other work it is well under 2,
and no plan can scale better than it.

Targets: 2 workers plan at least 1.7x as fast as 1; the driver's peak RSS with 2 workers stays
flat from ``--small-files`` to ``--files`` files (at most 1.10x). It prints a table and writes
``--out`` (every run).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from build import draw_jpeg, machine_info  # noqa: E402  (bench/build.py)

from fgclip.config import BuildConfig  # noqa: E402
from fgclip.files import Folder, write_json  # noqa: E402
from fgclip.pipeline.plan import PlanOptions, plan_in_parallel  # noqa: E402  (pool processes import it at start)
from fgclip.pipeline.build import plan_corpus  # noqa: E402
from fgclip.pipeline.executors import LocalExecutor  # noqa: E402
from fgclip.pipeline.sources import expand_input  # noqa: E402

SAMPLE_CAPTIONS = Path(__file__).resolve().parents[1] / "fgclip" / "pipeline" / "negatives" / "sample_captions.txt"
CORPUS_VERSION = 1  # bump when the corpus recipe changes
IMAGE_SEEDS = 50
SHARD_SIZE = 1000
TARGET_SPEEDUP = 1.7  # plan seconds, 1 worker / 2 workers, at least
TARGET_FLAT = 1.10  # the driver's traced peak with 2 workers, most files / fewest files, at most


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--small-files", type=int, default=20)
    parser.add_argument("--samples-per-file", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/fgclip-bench-plan"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/plan.json"))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single measurement, in this process
    args = parser.parse_args()
    if args.one:
        spec = json.loads(args.one)
        print(json.dumps(measure_control(spec["workers"]) if spec.get("control") else measure(**spec)))
        return 0

    corpus = make_corpus(args.work / "corpus", args.files, args.samples_per_file)
    print(f"{args.files} tars of {args.samples_per_file} samples in {corpus}; {os.cpu_count()} CPUs; "
          f"{args.repeats} repeat(s)", flush=True)
    runs, controls = [], []
    for repeat in range(args.repeats):
        for workers in (1, 2):
            runs.append(run(corpus, args.work, args.files, workers, trace=False, repeat=repeat))
            controls.append(control(workers, repeat))
        runs.append(run(corpus, args.work, args.files, 1, trace=False, repeat=repeat, rounds=True))
    for files in (args.small_files, args.files):
        for workers in (1, 2):
            runs.append(run(corpus, args.work, files, workers, trace=True, repeat=0))
    result = summarize(runs, controls, args)
    print_table(result)
    result["machine"] = {**machine_info("local"), "load_average": os.getloadavg()}
    result["runs"] = runs
    result["controls"] = controls
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


def make_corpus(folder: Path, files: int, samples: int) -> Path:
    """``files`` img2dataset tars of ``samples`` samples each, drawn once and kept."""
    stamp = folder / f".version-{CORPUS_VERSION}-{files}x{samples}"
    if stamp.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    texts = [line.strip() for line in SAMPLE_CAPTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    images = [draw_jpeg(seed, 64) for seed in range(IMAGE_SEEDS)]
    for file in range(files):
        with tarfile.open(folder / f"{file:05d}.tar", "w") as tar:
            for sample in range(samples):
                n = file * samples + sample
                key = f"{n:09d}"
                caption = texts[n % len(texts)]
                meta = {"url": f"https://example.com/{n}.jpg", "caption": caption, "key": key,
                        "status": "success", "width": 64, "height": 64}
                for name, data in ((f"{key}.jpg", images[n % IMAGE_SEEDS]), (f"{key}.txt", caption.encode()),
                                   (f"{key}.json", json.dumps(meta).encode())):
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    stamp.touch()
    return folder


def run(corpus: Path, work: Path, files: int, workers: int, *, trace: bool, repeat: int, rounds: bool = False) -> dict:
    spec = {"corpus": str(corpus), "output": str(work / "plan"), "files": files, "workers": workers, "trace": trace,
            "rounds": rounds}
    done = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True,
                          check=True)
    result = {**json.loads(done.stdout.splitlines()[-1]), "repeat": repeat}
    what = "the parallel rounds in one process" if rounds else f"{workers} worker(s)"
    print(f"  {files} files, {what}{', traced' if trace else ''}: plan {result['plan_seconds']:.2f} s "
          f"({result['driver_cpu_seconds']:.2f} s driver CPU), pool start {result['pool_start_seconds']:.2f} s, "
          f"driver peak {result['driver_peak_mb']} MB traced, {result['driver_rss_mb']} MB RSS", flush=True)
    return result


CONTROL_LOOPS = 15_000_000  # about a second of one core here


def control(workers: int, repeat: int) -> dict:
    spec = {"control": True, "workers": workers}
    done = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True,
                          check=True)
    result = {**json.loads(done.stdout.splitlines()[-1]), "repeat": repeat}
    print(f"  control, {workers} process(es): {result['seconds']:.2f} s", flush=True)
    return result


def spin(loops: int) -> int:
    total = 0
    for n in range(loops):
        total += n
    return total


def measure_control(workers: int) -> dict:
    """Two equal pure-Python loops: one after the other here, or one in each of 2 pool processes."""
    executor = LocalExecutor(workers)
    with executor.session():
        if workers > 1:
            list(executor.map(time.sleep, [0.5] * workers))
        started = time.perf_counter()
        list(executor.map(spin, [CONTROL_LOOPS] * 2))
        seconds = time.perf_counter() - started
    return {"workers": workers, "seconds": round(seconds, 3)}


def measure(corpus: str, output: str, files: int, workers: int, trace: bool, rounds: bool) -> dict:
    shutil.rmtree(output, ignore_errors=True)
    cfg = BuildConfig(input=f"file://{corpus}/{{00000..{files - 1:05d}}}.tar", output=output, executor="local",
                      workers=workers, shard_size=SHARD_SIZE, no_negatives=True)
    inputs = expand_input(cfg.input)
    executor = LocalExecutor(workers)
    with executor.session():
        started = time.perf_counter()
        if workers > 1:  # each process started and importing fgclip before the clock
            list(executor.map(time.sleep, [0.5] * workers))
        pool_start = max(0.0, time.perf_counter() - started - 0.5) if workers > 1 else 0.0
        if trace:
            tracemalloc.start()
        started, cpu = time.perf_counter(), time.process_time()
        if rounds:
            options = PlanOptions("webdataset", cfg.shard_size, cfg.max_caption_chars)
            summary = plan_in_parallel(inputs, Folder(output), options, executor)
        else:
            summary = plan_corpus(cfg, inputs, "webdataset", Folder(output), executor)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if trace else None
        tracemalloc.stop()
    shutil.rmtree(output, ignore_errors=True)
    return {"files": files, "workers": workers, "traced": trace, "rounds_in_one_process": rounds,
            "rows": summary["rows"], "shards": summary["shards"], "plan_seconds": round(seconds, 3),
            "driver_cpu_seconds": round(cpu, 3), "pool_start_seconds": round(pool_start, 3),
            "driver_peak_mb": round(peak / 2**20, 2) if peak is not None else None,
            "driver_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def summarize(runs: list[dict], controls: list[dict], args) -> dict:
    timed = [r for r in runs if not r["traced"]]
    rows = {}
    for workers in (1, 2, "rounds"):
        mine = [r for r in timed if r["rounds_in_one_process"]] if workers == "rounds" else \
            [r for r in timed if r["workers"] == workers and not r["rounds_in_one_process"]]
        rows[workers] = {"workers": workers, "files": args.files, "rows": mine[0]["rows"],
                         "driver_cpu_seconds": statistics.median(r["driver_cpu_seconds"] for r in mine),
                         "plan_seconds": statistics.median(r["plan_seconds"] for r in mine),
                         "plan_seconds_runs": [r["plan_seconds"] for r in mine],
                         "pool_start_seconds": statistics.median(r["pool_start_seconds"] for r in mine),
                         "driver_rss_mb": statistics.median(r["driver_rss_mb"] for r in mine),
                         "control_seconds": statistics.median(c["seconds"] for c in controls if c["workers"] == workers)
                         if workers != "rounds" else None}
    memory = {(r["files"], r["workers"]): r for r in runs if r["traced"]}
    speedup = rows[1]["plan_seconds"] / rows[2]["plan_seconds"]
    small, large = args.small_files, args.files
    flat = memory[(large, 2)]["driver_rss_mb"] / memory[(small, 2)]["driver_rss_mb"]
    return {
        "timing": list(rows.values()),
        "memory": [{"files": f, "workers": w, "rows": r["rows"], "driver_peak_mb": r["driver_peak_mb"],
                    "driver_rss_mb": r["driver_rss_mb"]} for (f, w), r in sorted(memory.items())],
        "speedup": round(speedup, 2), "target_speedup": TARGET_SPEEDUP, "speedup_met": speedup >= TARGET_SPEEDUP,
        "control_speedup": round(rows[1]["control_seconds"] / rows[2]["control_seconds"], 2),
        "added_work": round(rows["rounds"]["driver_cpu_seconds"] / rows[1]["driver_cpu_seconds"], 2),
        "driver_rss_ratio_2_workers": round(flat, 2), "target_flat": TARGET_FLAT, "flat_met": flat <= TARGET_FLAT,
        "driver_rss_ratio_1_worker": round(memory[(large, 1)]["driver_rss_mb"] / memory[(small, 1)]["driver_rss_mb"], 2),
        "repeats": args.repeats, "samples_per_file": args.samples_per_file,
    }


def print_table(result: dict) -> None:
    print()
    print("| files | rows | plan | plan s (median) | runs s | driver CPU s | pool start s | control s "
          "| driver peak RSS MB |")
    print("| ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |")
    names = {1: "1 worker (serial)", 2: "2 workers (parallel)", "rounds": "parallel rounds, one process"}
    for row in result["timing"]:
        runs = ", ".join(f"{s:.2f}" for s in row["plan_seconds_runs"])
        control = f"{row['control_seconds']:.2f}" if row["control_seconds"] is not None else ""
        print(f"| {row['files']} | {row['rows']:,} | {names[row['workers']]} | {row['plan_seconds']:.2f} | {runs} | "
              f"{row['driver_cpu_seconds']:.2f} | {row['pool_start_seconds']:.2f} | {control} | "
              f"{row['driver_rss_mb']:.0f} |")
    print(f"\n2 workers plan {result['speedup']:.2f}x as fast as 1 (target >= {TARGET_SPEEDUP}: "
          f"{'met' if result['speedup_met'] else 'not met'}); the control loop ran {result['control_speedup']:.2f}x "
          f"as fast on 2 processes; the parallel rounds cost {result['added_work']:.2f}x the serial plan's CPU\n")
    print("| files | rows | workers | driver peak MB (traced: the plan's own) | driver peak RSS MB |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for row in result["memory"]:
        print(f"| {row['files']} | {row['rows']:,} | {row['workers']} | {row['driver_peak_mb']:.2f} | "
              f"{row['driver_rss_mb']:.0f} |")
    print(f"\nthe driver's peak RSS, {result['memory'][-1]['files']} files / {result['memory'][0]['files']}: "
          f"{result['driver_rss_ratio_2_workers']:.2f}x with 2 workers (target <= {TARGET_FLAT}: "
          f"{'met' if result['flat_met'] else 'not met'}), {result['driver_rss_ratio_1_worker']:.2f}x with 1")


if __name__ == "__main__":
    sys.exit(main())
