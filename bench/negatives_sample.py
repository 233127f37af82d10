"""Print the seeded sample of negatives that docs/negatives.md judges by reading.

    .venv/bin/python bench/negatives_sample.py [--seed 2] [--size 200] [--data DIR] > sample.tsv

One line per negative, tab-separated: id, kind, rule, caption, negative. The sample is drawn
from the distinct COCO captions of ../shared/data (SugarCrepe positives and NegCLIP titles): a
seeded choice of captions, then one of each caption's negatives at random.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fgclip.pipeline.negatives.measure import default_data_dir, load_reference_captions, validity_sample  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--data", type=Path, default=default_data_dir())
    args = parser.parse_args()
    if not (args.data / "sugarcrepe").is_dir():
        print(f"no benchmark text under {args.data}: pass --data DIR (the shared/data folder)", file=sys.stderr)
        return 2
    captions = load_reference_captions(args.data)["coco"]
    for number, (caption, negative) in enumerate(validity_sample(captions, args.size, args.seed), start=1):
        print(f"{number}\t{negative.kind}\t{negative.rule}\t{caption}\t{negative.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
