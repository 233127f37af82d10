"""Seconds per caption of the hard-negative generator on captions of 2k to 33.6k characters.

    .venv/bin/python bench/long_captions.py [--baseline DIR] [--repeats 3] [--data DIR]
                                            [--out bench/results/long_captions.json]

A build with ``--max-caption-chars`` raised past its default hands the generator such captions.
Each caption is real COCO captions (``coco/captions_val2017_80pct.json``, in the file's order)
joined by spaces into one text of at least the given length, cut back to it at a sentence end
where the text has one; each is timed ``--repeats`` times (seeds 0, 1, ...) without a table and
with a table counted from the file's first 2,000 images, and the median is reported.
``--baseline DIR``: also time the generator of another copy of the package (a directory holding
``fgclip/``, e.g. ``git archive HEAD fgclip | tar -x -C DIR``), side by side in the same run.
Each package is measured in a process of its own, one after the other, on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LENGTHS = (2_000, 4_000, 8_000, 16_000, 33_600)
TABLE_IMAGES = 2_000


def measure(root: Path, data: Path, repeats: int) -> dict:
    """Run in a process whose ``fgclip`` is imported from ``root``: seconds per caption by
    length and table, every repeat."""
    import statistics
    import time

    sys.path.insert(0, str(root))
    from fgclip.pipeline.negatives import CorpusTable, negatives
    from fgclip.pipeline.negatives.corpus import count_corpus
    from fgclip.pipeline.negatives.measure import load_coco_samples

    samples = load_coco_samples(data)
    captions = [c for sample in samples for c in sample]
    table = CorpusTable(count_corpus(samples[:TABLE_IMAGES]))
    negatives("A dog chasing a cat on a red couch.", 0)  # loads WordNet and the tagger
    rows = []
    for length in LENGTHS:
        text = joined(captions, length)
        row = {"target_chars": length, "chars": len(text), "words": len(text.split())}
        for name, options in (("none", {}), ("table", {"table": table})):
            seconds = []
            for seed in range(repeats):
                start = time.perf_counter()
                found = negatives(text, seed, **options)
                seconds.append(time.perf_counter() - start)
            row[name] = {"median_s": statistics.median(seconds), "all_s": seconds, "negatives": len(found)}
        rows.append(row)
    return {"package": str(Path(sys.modules["fgclip"].__file__).parent), "rows": rows}


def joined(captions: list[str], length: int) -> str:
    """Captions joined into one text of at least ``length`` characters, then cut back to at most
    ``length`` at the last sentence end (the full stop a caption ends with), if there is one."""
    parts, total = [], 0
    for caption in captions:
        if total >= length:
            break
        text = caption.strip()
        parts.append(text if text.endswith((".", "!", "?")) else text + ".")
        total += len(parts[-1]) + 1
    text = " ".join(parts)
    cut = text.rfind(". ", 0, length)
    return text[:cut + 1] if cut > 0 else text


def measured_in_subprocess(root: Path, data: Path, repeats: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", str(root),
               "--data", str(data), "--repeats", str(repeats)]
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Not measure.default_data_dir(): importing fgclip here would fix which copy a --measure process times.
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--baseline", type=Path, help="a directory holding another copy of fgclip/ to time beside this one")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/long_captions.json"))
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: one package, JSON to stdout
    args = parser.parse_args()
    if args.repeats < 1:
        print(f"--repeats must be >= 1, got {args.repeats}", file=sys.stderr)
        return 2
    if not (args.data / "coco").is_dir():
        print(f"no caption files under {args.data}: pass --data DIR (the shared/data folder)", file=sys.stderr)
        return 2
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.data, args.repeats)))
        return 0
    if args.baseline is not None and not (args.baseline / "fgclip" / "pipeline" / "negatives").is_dir():
        print(f"--baseline {args.baseline}: no fgclip/pipeline/negatives/ under it", file=sys.stderr)
        return 2

    runs = {"this checkout": measured_in_subprocess(ROOT, args.data, args.repeats)}
    if args.baseline is not None:
        runs["baseline"] = measured_in_subprocess(args.baseline.resolve(), args.data, args.repeats)
    names = list(runs)
    print(f"seconds per caption, median of {args.repeats} (no table / table of {TABLE_IMAGES} images)")
    print(f"{'chars':>7}{'words':>7}" + "".join(f"{name + ' none':>22}{name + ' table':>22}" for name in names))
    for k, row in enumerate(runs[names[0]]["rows"]):
        cells = "".join(f"{runs[name]['rows'][k]['none']['median_s']:>22.3f}{runs[name]['rows'][k]['table']['median_s']:>22.3f}"
                        for name in names)
        print(f"{row['chars']:>7}{row['words']:>7}{cells}")

    sys.path.insert(0, str(ROOT))
    from fgclip.files import write_json

    result = {"machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                          "cores_visible": os.cpu_count(), "process_cores_used": 1},
              "repeats": args.repeats, "table_images": TABLE_IMAGES, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result, indent=2)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
