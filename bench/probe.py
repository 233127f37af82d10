"""Text-only probe of hard negatives: how well a bag-of-n-grams model tells the negative from the
true caption without the image (50% is the goal: no text-side shortcut).

    .venv/bin/python bench/probe.py [--data DIR] [--split tune|report|all]
        [--sources sugarcrepe,negclip,fgclip] [--table PATH] [--pairs FILE.jsonl]
        [--seed 0] [--out bench/results/probe.json]

One model per source (fgclip/pipeline/negatives/probe.py has the recipe): hashed unigram +
bigram differences, L2 logistic regression with no intercept, split 70/30 by caption. Prints
the test accuracy by source and group with 95% Wilson intervals; writes them as JSON with the
machine and run time, and a bar chart beside it (.png).

Sources:
  sugarcrepe  ../shared/data/sugarcrepe/*.json, group = subset (swap_obj, replace_rel, ...)
  negclip     ../shared/data/negclip/valid_neg_clip.tsv, every negative of a title, group "negclip"
  fgclip      this generator on the COCO captions file, every negative of every caption,
              group = rule (also reported by kind); --table PATH passes a corpus statistics table
  --pairs F   any generator's output: JSON lines {"caption", "negative", "group"}, source = file stem

--split keeps only the captions of one half of the COCO images (see measure.split_of), as every
measurement of the generator does; "all" takes every caption.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from fgclip.files import write_json  # noqa: E402
from fgclip.pipeline.negatives.measure import coco_image_id, default_data_dir, load_coco_samples, split_of  # noqa: E402
from fgclip.pipeline.negatives.probe import HASH_BUCKETS, LAMBDAS, Pair, probe  # noqa: E402
from fgclip.plots import pyplot, save_figure  # noqa: E402

SOURCES = ("sugarcrepe", "negclip", "fgclip")
GENERATOR_SEED = 0  # the seed passed to negatives() for every caption


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def in_split(image_file: str, text: str, split: str) -> bool:
    """Whether a benchmark case belongs to ``split``: by its COCO image, else by its caption."""
    if split == "all":
        return True
    image_id = coco_image_id(image_file)
    return split_of(image_id if image_id is not None else text) == split


def sugarcrepe_pairs(data: Path, split: str) -> list[Pair]:
    pairs = []
    for path in sorted((data / "sugarcrepe").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")).values():
            if in_split(case["filename"], case["caption"].strip(), split):
                pairs.append(Pair(case["caption"].strip(), case["negative_caption"].strip(), path.stem))
    return pairs


def negclip_pairs(data: Path, split: str) -> list[Pair]:
    pairs = []
    with open(data / "negclip" / "valid_neg_clip.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            title = row["title"].strip()
            if in_split(row["filepath"], title, split):
                pairs.extend(Pair(title, negative.strip(), "negclip") for negative in ast.literal_eval(row["neg_caption"]))
    return pairs


def fgclip_pairs(data: Path, split: str, table_path: Path | None, swaps: str = "plausible") -> list[Pair]:
    from fgclip.pipeline.negatives import CorpusTable, negatives

    options = {"swaps": swaps}
    if table_path is not None:
        options["table"] = CorpusTable.load(table_path)
    captions = [c for image in load_coco_samples(data, None if split == "all" else split) for c in image]
    pairs, start = [], time.perf_counter()
    for done, caption in enumerate(captions, 1):
        pairs.extend(Pair(caption, n.text, n.rule, n.kind) for n in negatives(caption, GENERATOR_SEED, **options))
        if done % 5000 == 0 or done == len(captions):
            progress(f"  fgclip: negatives of {done}/{len(captions)} captions ({time.perf_counter() - start:.1f} s)")
    return pairs


def jsonl_pairs(path: Path) -> list[Pair]:
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                pairs.append(Pair(record["caption"], record["negative"], str(record.get("group", path.stem))))
    return pairs


def print_table(results: dict) -> None:
    print(f"{'source':<12}{'group':<16}{'test pairs':>11}{'accuracy':>10}   95% interval")
    for source, result in results.items():
        rows = [("(overall)", result["overall"])] + list(result["groups"].items())
        rows += [(f"kind:{kind}", acc) for kind, acc in result.get("kinds", {}).items()]
        for group, acc in rows:
            print(f"{source:<12}{group:<16}{acc['n']:>11}{100 * acc['accuracy']:>9.1f}%"
                  f"   {100 * acc['low']:5.1f} - {100 * acc['high']:5.1f}")
        print()


def plot(results: dict, path: Path, title: str) -> None:
    """One bar per (source, group): test accuracy with its 95% interval; 50% = no shortcut."""
    plt = pyplot()
    bars = []
    for source, result in results.items():
        groups = result["groups"] if len(result["groups"]) > 1 else {}  # one group is the overall bar
        bars += [(source, group, acc) for group, acc in [(f"{source} overall", result["overall"]), *groups.items()]]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(bars) + 2), 4.5))
    colours = {source: f"C{i}" for i, source in enumerate(results)}
    xs = np.arange(len(bars))
    heights = np.array([100 * acc["accuracy"] for _, _, acc in bars])
    errors = np.array([[100 * (acc["accuracy"] - acc["low"]), 100 * (acc["high"] - acc["accuracy"])] for _, _, acc in bars]).T
    ax.bar(xs, heights, color=[colours[source] for source, _, _ in bars], yerr=errors, capsize=2)
    ax.set_xticks(xs, [f"{group} ({acc['n']})" for _, group, acc in bars], rotation=60, ha="right", fontsize=8)
    ax.axhline(50, color="black", linewidth=0.8, linestyle="--")
    ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=colour) for colour in colours.values()],
              labels=list(colours), fontsize=8, loc="lower right")
    ax.set_ylim(0, 100)
    ax.set_ylabel("text-only probe accuracy, % (50 = no shortcut)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--split", choices=("tune", "report", "all"), default="all")
    parser.add_argument("--sources", default=",".join(SOURCES),
                        help=f"comma-separated, of {', '.join(SOURCES)} (may be empty with --pairs)")
    parser.add_argument("--table", type=Path, help="corpus statistics table for the fgclip generator (CorpusTable.load)")
    parser.add_argument("--swaps", choices=("paper", "plausible"), default="plausible",
                        help="the generator's order swaps: the paper's (swap-np) too, or only plausible ones")
    parser.add_argument("--pairs", type=Path, action="append", default=[],
                        help="JSON lines of {caption, negative, group}; repeatable")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and of the pair order")
    parser.add_argument("--out", type=Path, default=Path("bench/results/probe.json"))
    args = parser.parse_args()
    sources = [s for s in args.sources.split(",") if s.strip()]
    unknown = set(sources) - set(SOURCES)
    if unknown:
        parser.error(f"unknown source(s) {sorted(unknown)}; expected some of {', '.join(SOURCES)}")
    if not sources and not args.pairs:
        parser.error("nothing to probe: give --sources or --pairs")
    if set(sources) & set(SOURCES) and not (args.data / "sugarcrepe").is_dir():
        print(f"no benchmark text under {args.data}: pass --data DIR (the shared/data folder)", file=sys.stderr)
        return 2

    loaders = {
        "sugarcrepe": lambda: sugarcrepe_pairs(args.data, args.split),
        "negclip": lambda: negclip_pairs(args.data, args.split),
        "fgclip": lambda: fgclip_pairs(args.data, args.split, args.table, args.swaps),
    }
    loaders = {name: loaders[name] for name in sources}
    for path in args.pairs:
        loaders[path.stem] = lambda path=path: jsonl_pairs(path)

    started = time.perf_counter()
    results, timings = {}, {}
    for name, load in loaders.items():
        progress(f"{name}: loading pairs")
        t0 = time.perf_counter()
        pairs = load()
        t1 = time.perf_counter()
        progress(f"{name}: {len(pairs)} pairs of {len({p.caption for p in pairs})} captions ({t1 - t0:.1f} s); fitting")
        found = probe(pairs, seed=args.seed)
        t2 = time.perf_counter()
        results[name] = found.summary(pairs)
        timings[name] = {"load_seconds": t1 - t0, "probe_seconds": t2 - t1}
        progress(f"{name}: {100 * results[name]['overall']['accuracy']:.1f}% on {results[name]['test_pairs']} "
                 f"test pairs, lambda {found.lam:g} ({t2 - t1:.1f} s)")
    total = time.perf_counter() - started

    print()
    print_table(results)
    print(f"split {args.split}, seed {args.seed}; run time {total:.1f} s "
          + ", ".join(f"{name} {t['load_seconds'] + t['probe_seconds']:.1f} s" for name, t in timings.items()))
    report = {
        "arguments": {"data": str(args.data), "split": args.split, "sources": list(loaders), "seed": args.seed,
                      "table": str(args.table) if args.table else None, "pairs": [str(p) for p in args.pairs],
                      "generator_seed": GENERATOR_SEED},
        "recipe": {"features": "hashed (crc32) unigram+bigram count difference, lower-cased, \\w+|[^\\w\\s]",
                   "buckets": HASH_BUCKETS, "model": "L2 logistic regression, no intercept, truncated Newton",
                   "lambdas": list(LAMBDAS), "split": "by caption, 70% train / 30% test; lambda on 20% of train"},
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "cpu": platform.processor() or platform.machine(), "cores_visible": os.cpu_count()},
        "seconds": {"total": total, **timings},
        "sources": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, report, indent=2)
    chart = args.out.with_suffix(".png")
    plot(results, chart, f"Text-only probe of hard negatives (split {args.split}, seed {args.seed})")
    print(f"wrote {args.out} and {chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
