"""Measurements of the generator on real captions: coverage per kind and rule, and a seeded
sample for reading. Used by ``bench/negatives.py``, the real-data tests and docs/negatives.md.
"""

from __future__ import annotations

import csv
import json
import random
import re
import zlib
from collections import Counter
from pathlib import Path

from ...schema import KINDS
from . import RULE_NAMES, Negative, negatives


def default_data_dir() -> Path:
    """``../shared/data`` beside the repository checkout (where the benchmark text files live)."""
    return Path(__file__).resolve().parents[4] / "shared" / "data"


# Every measurement of the generator splits its captions in two before anything is tuned: rules
# and thresholds are developed on the "tune" half, and the figures docs/negatives.md reports come
# from the "report" half. COCO captions are split by image (SugarCrepe, NegCLIP and the COCO file
# share images, and the captions of one image must not fall on both sides); captions without a
# COCO image by the caption text.
SPLITS = ("tune", "report")


def split_of(key: str | int) -> str:
    """"tune" or "report" for a COCO image id (or, for captions with no image, the caption)."""
    return SPLITS[zlib.crc32(f"fgclip-split|{key}".encode("utf-8")) % 2]


def coco_image_id(file_name: str) -> int | None:
    """The COCO image id in a file name ("000000397133.jpg", "COCO_val2014_000000184613.jpg")."""
    digits = re.findall(r"(\d{6,12})\.(?:jpg|png)$", file_name)
    return int(digits[0]) if digits else None


def load_coco_samples(data_dir: Path, split: str | None = None) -> list[list[str]]:
    """The captions of ``coco/captions_val2017_80pct.json`` grouped by image (one list per image,
    in the file's image order), optionally only the images of one split."""
    data = json.loads((Path(data_dir) / "coco" / "captions_val2017_80pct.json").read_text(encoding="utf-8"))
    by_image: dict[int, list[str]] = {image["id"]: [] for image in data["images"]}
    for annotation in data["annotations"]:
        text = annotation["caption"].strip()
        if text:
            by_image.setdefault(annotation["image_id"], []).append(text)
    return [captions for image_id, captions in by_image.items()
            if captions and (split is None or split_of(image_id) == split)]


def load_reference_captions(data_dir: Path, split: str | None = None) -> dict[str, list[str]]:
    """Distinct captions by source: "coco" (SugarCrepe positives + NegCLIP titles), "valse",
    "vl-checklist" (POS phrases). Order is the files' own, duplicates dropped. With ``split``,
    only the captions of that half (see :func:`split_of`)."""
    data_dir = Path(data_dir)

    def kept(image_file: str, text: str) -> bool:
        if split is None:
            return True
        image_id = coco_image_id(image_file)
        return split_of(image_id if image_id is not None else text) == split

    coco: dict[str, None] = {}
    for path in sorted((data_dir / "sugarcrepe").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")).values():
            if kept(case["filename"], case["caption"].strip()):
                coco.setdefault(case["caption"].strip(), None)
    with open(data_dir / "negclip" / "valid_neg_clip.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if kept(row["filepath"], row["title"].strip()):
                coco.setdefault(row["title"].strip(), None)
    valse: dict[str, None] = {}
    for path in sorted((data_dir / "valse").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")).values():
            caption = case["caption"]
            for text in caption if isinstance(caption, list) else [caption]:
                if kept(case.get("image_file", ""), text.strip()):
                    valse.setdefault(text.strip(), None)
    checklist: dict[str, None] = {}
    for path in sorted((data_dir / "vl-checklist").rglob("*.json")):
        for image_path, case in json.loads(path.read_text(encoding="utf-8")):
            for text in case.get("POS", []):
                if kept("", text.strip()):  # Visual Genome images: split by the text
                    checklist.setdefault(text.strip(), None)
    return {name: [c for c in captions if c] for name, captions in
            (("coco", coco), ("valse", valse), ("vl-checklist", checklist))}


def coverage(captions: list[str], seed: int = 0, per_kind: int = 2, **options) -> dict:
    """Share of captions with at least one negative of each kind and from each rule, and with
    none at all; ``options`` go to :func:`negatives` (``table``, ``swaps``)."""
    by_kind: Counter = Counter()
    by_rule: Counter = Counter()
    refused: Counter = Counter()
    total = without = 0
    for caption in captions:
        found = negatives(caption, seed, per_kind=per_kind, refused=refused, **options)
        total += len(found)
        without += not found
        by_kind.update({n.kind for n in found})
        by_rule.update({n.rule for n in found})
    n = max(len(captions), 1)
    return {
        "captions": len(captions),
        "negatives": total,
        "no_negative": without / n,
        "kind_coverage": {kind: by_kind[kind] / n for kind in KINDS},
        "rule_coverage": {rule: by_rule[rule] / n for rule in RULE_NAMES},
        "refused": dict(refused.most_common()),
    }


def validity_sample(captions: list[str], size: int = 200, seed: int = 0, rules: set[str] | None = None,
                    **options) -> list[tuple[str, Negative]]:
    """A seeded random sample of (caption, negative) pairs over all negatives of ``captions``
    (only those of ``rules``, if given); ``options`` go to :func:`negatives`.

    The captions are drawn first, and each caption's negative is chosen by a generator seeded
    from (seed, caption) alone, so a rule change alters only the lines whose own negatives it
    changes: a judged sample can be re-read line by line after a fix.
    """
    rng = random.Random(seed)
    pairs: list[tuple[str, Negative]] = []
    for caption in rng.sample(captions, len(captions)):
        found = [n for n in negatives(caption, seed, **options) if rules is None or n.rule in rules]
        if found:
            pick = random.Random(zlib.crc32(f"{seed}|sample|{caption}".encode("utf-8")))
            pairs.append((caption, pick.choice(found)))
        if len(pairs) == size:
            break
    return pairs
