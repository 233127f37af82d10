"""Print a seeded sample of negatives for reading (docs/negatives.md judges them line by line).

    .venv/bin/python bench/negatives_sample.py [--split report] [--source coco|valse|vl-checklist]
        [--table auto|none|PATH] [--swaps paper|plausible] [--rules swap-np] [--seed 15] [--size 200] > sample.tsv

One line per negative, tab-separated: id, kind, rule, caption, negative. Captions are drawn from
one half of ../shared/data (``measure.split_of``; "report" is the half nobody tuned on) and one
source: the COCO captions file, or the VALSE or VL-CheckList captions; then one of each
caption's negatives at random (only those of ``--rules``, if given). ``--table auto`` counts the
split's COCO captions into a table, as a build would for a COCO corpus.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fgclip.pipeline.negatives import CorpusTable  # noqa: E402
from fgclip.pipeline.negatives.corpus import count_corpus  # noqa: E402
from fgclip.pipeline.negatives.measure import (default_data_dir, load_coco_samples,  # noqa: E402
                                               load_reference_captions, validity_sample)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--split", choices=("tune", "report"), default="report")
    parser.add_argument("--source", choices=("coco", "valse", "vl-checklist"), default="coco")
    parser.add_argument("--table", default="auto", help="auto (count the split's COCO captions), none, or a table file")
    parser.add_argument("--swaps", choices=("paper", "plausible"), default="plausible")
    parser.add_argument("--rules", default=None, help="comma-separated rules to sample from (default: all)")
    parser.add_argument("--data", type=Path, default=default_data_dir())
    args = parser.parse_args()
    if not (args.data / "coco").is_dir():
        print(f"no caption files under {args.data}: pass --data DIR (the shared/data folder)", file=sys.stderr)
        return 2
    samples = load_coco_samples(args.data, args.split)
    if args.source == "coco":
        captions = [c for sample in samples for c in sample]
    else:
        captions = load_reference_captions(args.data, args.split)[args.source]
    table = None
    if args.table == "auto":
        table = CorpusTable(count_corpus(samples))
    elif args.table != "none":
        table = CorpusTable.load(args.table)
    rules = set(args.rules.split(",")) if args.rules else None
    pairs = validity_sample(captions, args.size, args.seed, rules, table=table, swaps=args.swaps)
    for number, (caption, negative) in enumerate(pairs, start=1):
        print(f"{number}\t{negative.kind}\t{negative.rule}\t{caption}\t{negative.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
