"""Speed, coverage, the statistics pass and the table's size, on the real captions in ../shared/data.

    .venv/bin/python bench/negatives.py [--split report] [--swaps paper] [--repeats 3] [--data DIR]
                                        [--out bench/results/negatives.json]

Everything runs in one process on one core (the generator is single-threaded; a build runs one
such process per core). The COCO captions file is split by image (``measure.split_of``): the
generator was developed on the "tune" half, and the figures docs/negatives.md reports come from
the "report" half. In one run:

1. the statistics pass over the split's COCO captions (``corpus.count_corpus``), timed;
2. coverage per kind and rule, with and without that table, on the split's COCO captions, and
   on the VALSE and VL-CheckList captions of the split (with the COCO table: the closest a user
   with such captions would have);
3. captions/s cold (first pass) and warm (median of ``--repeats`` passes), with the table and
   without, side by side; the statistics pass against a warm generation pass;
4. the table's size for 5k, 10k and 20k captions of the file, and a power law through them to
   estimate a COCO-train-sized corpus (600k captions), with the coverage those tables give.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fgclip.files import write_json  # noqa: E402
from fgclip.pipeline.negatives import CorpusTable, negatives, rule_errors, tagging, wordnet  # noqa: E402
from fgclip.pipeline.negatives.corpus import count_corpus  # noqa: E402
from fgclip.pipeline.negatives.measure import (coverage, default_data_dir, load_coco_samples,  # noqa: E402
                                               load_reference_captions)
from fgclip.plots import pyplot, save_figure  # noqa: E402

SIZES = (5000, 10000, 20000)
TARGET_CAPTIONS = 600_000  # COCO train's captions


def timed_pass(captions: list[str], seed: int, **options) -> float:
    start = time.perf_counter()
    for caption in captions:
        negatives(caption, seed, **options)
    return len(captions) / (time.perf_counter() - start)


def first_captions(samples: list[list[str]], count: int) -> list[list[str]]:
    """Whole samples from the start until ``count`` captions are reached."""
    taken, total = [], 0
    for sample in samples:
        if total >= count:
            break
        taken.append(sample)
        total += len(sample)
    return taken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--split", choices=("tune", "report"), default="report")
    parser.add_argument("--swaps", choices=("paper", "plausible"), default="plausible")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/negatives.json"))
    args = parser.parse_args()
    if not (args.data / "coco").is_dir():
        print(f"no caption files under {args.data}: pass --data DIR (the shared/data folder)", file=sys.stderr)
        return 2
    samples = load_coco_samples(args.data, args.split)
    coco = [c for sample in samples for c in sample]
    others = load_reference_captions(args.data, args.split)

    start = time.perf_counter()
    negatives("A dog chasing a cat on a red couch.", 0)  # loads WordNet and the tagger
    first_call = time.perf_counter() - start
    print(f"first load {first_call:.2f} s; {len(coco)} COCO captions of {len(samples)} images ({args.split} half)")

    start = time.perf_counter()
    table = CorpusTable(count_corpus(samples))
    count_seconds = time.perf_counter() - start
    print(f"statistics pass: {count_seconds:.1f} s ({len(coco) / count_seconds:.0f} captions/s), "
          f"{len(table)} keys, {len(table.to_bytes()) / 1e6:.2f} MB")

    with_table = {"table": table, "swaps": args.swaps}
    without = {"swaps": args.swaps}
    cold = {"table": timed_pass(coco, 0, **with_table), "none": timed_pass(coco, 0, **without)}
    warm: dict[str, list[float]] = {"table": [], "none": []}
    for repeat in range(args.repeats):  # alternated, so that both see the same machine
        warm["table"].append(timed_pass(coco, 1 + repeat, **with_table))
        warm["none"].append(timed_pass(coco, 1 + repeat, **without))
    generation_seconds = len(coco) / statistics.median(warm["table"])
    print(f"{'captions/s':<14}{'cold':>8}{'warm (median)':>15}")
    for name in ("table", "none"):
        print(f"{name:<14}{cold[name]:>8.0f}{statistics.median(warm[name]):>15.0f}")
    print(f"statistics pass / warm generation pass: {count_seconds / generation_seconds:.2f}")

    cover = {
        "coco, table": coverage(coco, **with_table),
        "coco, no table": coverage(coco, **without),
        "valse, coco table": coverage(others["valse"], **with_table),
        "valse, no table": coverage(others["valse"], **without),
        "vl-checklist, coco table": coverage(others["vl-checklist"], **with_table),
        "vl-checklist, no table": coverage(others["vl-checklist"], **without),
    }
    print_coverage(cover)

    all_samples = load_coco_samples(args.data, None)
    scaling = []
    for size in SIZES:
        subset = first_captions(all_samples, size)
        subset_table = CorpusTable(count_corpus(subset))
        row = {"captions": sum(map(len, subset)), "keys": len(subset_table),
               "bytes": len(subset_table.to_bytes()),
               "coverage": coverage(coco, table=subset_table, swaps=args.swaps)}
        scaling.append(row)
        print(f"table of {row['captions']} captions: {row['keys']} keys, {row['bytes'] / 1e6:.2f} MB")
    estimate = power_law_estimate(scaling, TARGET_CAPTIONS)
    print(f"estimated for {TARGET_CAPTIONS} captions: {estimate['keys']:.0f} keys, "
          f"{estimate['bytes'] / 1e6:.0f} MB (keys ~ captions^{estimate['keys_exponent']:.2f})")
    print_coverage({f"coco, table of {r['captions']}": r["coverage"] for r in scaling})
    print(f"rule errors: {dict(rule_errors) or 'none'}")

    result = {
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                    "cores_visible": os.cpu_count(), "process_cores_used": 1},
        "split": args.split, "swaps": args.swaps,
        "first_load_seconds": {"first_call": first_call, **wordnet.load_seconds, **tagging.load_seconds},
        "captions": len(coco),
        "statistics_pass_seconds": count_seconds,
        "statistics_pass_over_generation": count_seconds / generation_seconds,
        "table": table.summary() | {"bytes": len(table.to_bytes())},
        "cold_captions_per_s": cold,
        "warm_captions_per_s_median": {k: statistics.median(v) for k, v in warm.items()},
        "warm_captions_per_s_all": warm,
        "coverage": cover,
        "table_scaling": scaling,
        "table_estimate": estimate,
        "rule_errors": dict(rule_errors),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result, indent=2)
    plot = args.out.with_suffix(".png")
    plot_coverage(cover, plot)
    print(f"wrote {args.out} and {plot}")
    return 0


def print_coverage(cover: dict) -> None:
    kinds = list(next(iter(cover.values()))["kind_coverage"])
    print(f"{'captions':<34}{'n':>7}{'neg/cap':>8}" + "".join(f"{k:>10}" for k in kinds) + f"{'none':>8}")
    for name, cov in cover.items():
        row = "".join(f"{100 * cov['kind_coverage'][k]:>9.1f}%" for k in kinds)
        print(f"{name:<34}{cov['captions']:>7}{cov['negatives'] / max(cov['captions'], 1):>8.2f}{row}"
              f"{100 * cov['no_negative']:>7.1f}%")


def power_law_estimate(rows: list[dict], target: int) -> dict:
    """keys and bytes at ``target`` captions, by a least-squares line through log(size) vs
    log(captions) (Heaps' law: a vocabulary grows as a power of the text's length)."""
    xs = [math.log(r["captions"]) for r in rows]
    estimate = {}
    for field in ("keys", "bytes"):
        ys = [math.log(r[field]) for r in rows]
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)
        estimate[field] = math.exp(mean_y + slope * (math.log(target) - mean_x))
        estimate[f"{field}_exponent"] = slope
    return estimate


def plot_coverage(by_source: dict, path: Path) -> None:
    """Bar charts: share of captions with a negative, per kind and per rule, for each source."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.5))
    for ax, key, title in ((axes[0], "kind_coverage", "by kind"), (axes[1], "rule_coverage", "by rule")):
        labels = list(next(iter(by_source.values()))[key])
        width = 0.8 / len(by_source)
        for k, (source, cov) in enumerate(by_source.items()):
            xs = [i + k * width for i in range(len(labels))]
            ax.bar(xs, [100 * cov[key][label] for label in labels], width, label=f"{source} ({cov['captions']})")
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(labels))], labels, rotation=20)
        ax.set_ylabel("% of captions with a negative")
        ax.set_ylim(0, 100)
        ax.set_title(f"Hard-negative coverage {title}")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(main())
