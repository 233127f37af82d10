"""Speed and coverage of the hard-negative generator on the real captions in ../shared/data.

    .venv/bin/python bench/negatives.py [--data DIR] [--repeats 3] [--out bench/results/negatives.json]

Runs in one process on one core (the generator is single-threaded; a pipeline runs one such
process per core). Prints the first-load times, captions/s for a cold pass (every word met for
the first time: WordNet look-ups and sibling ranking are computed) and for warm passes (those
per-word results cached, as in a long job), and the coverage per kind; writes it all as JSON.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fgclip.pipeline.negatives import negatives, rule_errors, tagging, wordnet  # noqa: E402
from fgclip.plots import pyplot, save_figure  # noqa: E402
from fgclip.files import write_json  # noqa: E402
from fgclip.pipeline.negatives.measure import coverage, default_data_dir, load_reference_captions  # noqa: E402


def timed_pass(captions: list[str], seed: int) -> float:
    start = time.perf_counter()
    for caption in captions:
        negatives(caption, seed)
    return len(captions) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/negatives.json"))
    args = parser.parse_args()
    if not (args.data / "sugarcrepe").is_dir():
        print(f"no benchmark text under {args.data}: pass --data DIR (the shared/data folder)", file=sys.stderr)
        return 2
    captions = load_reference_captions(args.data)
    coco = captions["coco"]

    start = time.perf_counter()
    negatives("A dog chasing a cat on a red couch.", 0)  # loads WordNet and the tagger
    first_call = time.perf_counter() - start
    cold = timed_pass(coco, seed=0)
    warm = [timed_pass(coco, seed=1 + r) for r in range(args.repeats)]
    result = {
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                    "cores_visible": os.cpu_count(), "process_cores_used": 1},
        "first_load_seconds": {"first_call": first_call, **wordnet.load_seconds, **tagging.load_seconds},
        "captions": len(coco),
        "cold_captions_per_s": cold,
        "warm_captions_per_s_median": statistics.median(warm),
        "warm_captions_per_s_all": warm,
        "coverage": {name: coverage(texts) for name, texts in captions.items()},
        "rule_errors": dict(rule_errors),
    }
    print(f"first load: {first_call:.2f} s (WordNet {wordnet.load_seconds.get('wordnet', 0):.2f} s, "
          f"tagger {tagging.load_seconds.get('tagger', 0):.2f} s)")
    print(f"{'pass':<28}{'captions/s':>12}")
    print(f"{'cold (first pass, seed 0)':<28}{cold:>12.0f}")
    print(f"{'warm (median of %d)' % args.repeats:<28}{statistics.median(warm):>12.0f}")
    print()
    kinds = list(result["coverage"]["coco"]["kind_coverage"])
    print(f"{'source':<14}{'captions':>9}{'neg/cap':>9}" + "".join(f"{k:>11}" for k in kinds))
    for name, cov in result["coverage"].items():
        row = "".join(f"{100 * cov['kind_coverage'][k]:>10.1f}%" for k in kinds)
        print(f"{name:<14}{cov['captions']:>9}{cov['negatives'] / max(cov['captions'], 1):>9.2f}{row}")
    print(f"rule errors: {dict(rule_errors) or 'none'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result, indent=2)
    plot = args.out.with_suffix(".png")
    plot_coverage(result["coverage"], plot)
    print(f"wrote {args.out} and {plot}")
    return 0


def plot_coverage(by_source: dict, path: Path) -> None:
    """Bar charts: share of captions with a negative, per kind and per rule, for each source."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
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
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(main())
