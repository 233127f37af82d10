"""Measurements of the generator on real captions: coverage per kind and rule, and a seeded
sample for reading. Used by ``bench/negatives.py``, the real-data tests and docs/negatives.md.
"""

from __future__ import annotations

import csv
import json
import random
import zlib
from collections import Counter
from pathlib import Path

from ...schema import KINDS
from . import RULE_NAMES, Negative, negatives


def default_data_dir() -> Path:
    """``../shared/data`` beside the repository checkout (where the benchmark text files live)."""
    return Path(__file__).resolve().parents[4] / "shared" / "data"


def load_reference_captions(data_dir: Path) -> dict[str, list[str]]:
    """Distinct captions by source: "coco" (SugarCrepe positives + NegCLIP titles), "valse",
    "vl-checklist" (POS phrases). Order is the files' own, duplicates dropped."""
    data_dir = Path(data_dir)
    coco: dict[str, None] = {}
    for path in sorted((data_dir / "sugarcrepe").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")).values():
            coco.setdefault(case["caption"].strip(), None)
    with open(data_dir / "negclip" / "valid_neg_clip.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            coco.setdefault(row["title"].strip(), None)
    valse: dict[str, None] = {}
    for path in sorted((data_dir / "valse").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")).values():
            caption = case["caption"]
            for text in caption if isinstance(caption, list) else [caption]:
                valse.setdefault(text.strip(), None)
    checklist: dict[str, None] = {}
    for path in sorted((data_dir / "vl-checklist").rglob("*.json")):
        for _, case in json.loads(path.read_text(encoding="utf-8")):
            for text in case.get("POS", []):
                checklist.setdefault(text.strip(), None)
    return {name: [c for c in captions if c] for name, captions in
            (("coco", coco), ("valse", valse), ("vl-checklist", checklist))}


def coverage(captions: list[str], seed: int = 0, per_kind: int = 2) -> dict:
    """Share of captions with at least one negative of each kind and from each rule."""
    by_kind: Counter = Counter()
    by_rule: Counter = Counter()
    total = 0
    for caption in captions:
        found = negatives(caption, seed, per_kind=per_kind)
        total += len(found)
        by_kind.update({n.kind for n in found})
        by_rule.update({n.rule for n in found})
    n = max(len(captions), 1)
    return {
        "captions": len(captions),
        "negatives": total,
        "kind_coverage": {kind: by_kind[kind] / n for kind in KINDS},
        "rule_coverage": {rule: by_rule[rule] / n for rule in RULE_NAMES},
    }


def validity_sample(captions: list[str], size: int = 200, seed: int = 0) -> list[tuple[str, Negative]]:
    """A seeded random sample of (caption, negative) pairs over all negatives of ``captions``.

    The captions are drawn first, and each caption's negative is chosen by a generator seeded
    from (seed, caption) alone, so a rule change alters only the lines whose own negatives it
    changes: a judged sample can be re-read line by line after a fix.
    """
    rng = random.Random(seed)
    pairs: list[tuple[str, Negative]] = []
    for caption in rng.sample(captions, min(len(captions), size * 3)):
        found = negatives(caption, seed)
        if found:
            pick = random.Random(zlib.crc32(f"{seed}|sample|{caption}".encode("utf-8")))
            pairs.append((caption, pick.choice(found)))
        if len(pairs) == size:
            break
    return pairs
