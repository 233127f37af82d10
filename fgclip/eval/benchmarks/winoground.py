"""Winoground (Thrush et al., CVPR 2022): 400 examples, each two images and two captions made of
the same words in a different order; caption_0 describes image_0 and caption_1 describes image_1.

File read (the facebook/winoground dataset repository on the Hugging Face hub, gated; pass the
repository folder, or the ``data/`` folder inside it, as ``--data-root``): ``data/examples.jsonl``
(``examples.jsonl`` directly under ``--data-root`` is accepted too), one json object per line with
``id``, ``image_0``, ``image_1``, ``caption_0``, ``caption_1``, ``tag``, ``secondary_tag``,
``num_main_preds`` and ``collapsed_tag``. ``image_0``/``image_1`` are image names without an
extension (``ex_0_img_0``); the image files are ``<name>.png`` in ``data/images.zip``.

Images: ``--images`` is the folder holding the extracted ``<name>.png`` files. Without it they are
looked up in ``images/`` next to ``examples.jsonl`` (``data/images/<name>.png``, where
``images.zip`` extracts to).

Subsets: "all" holds every example; then one subset per ``collapsed_tag`` ("Object", "Relation",
"Both": what the swapped words are), so an example counts in "all" and in its tag's subset; then
one subset per ``secondary_tag`` beside it ("secondary:Symbolic", "secondary:Series",
"secondary:Pragmatics": the visual reasoning the example needs beyond word order), which the
paper also scores. An example without a secondary tag is in none of those; one with several
(separated by commas or spaces) is in each.

Scoring (the paper's): text score = both images prefer their own caption; image score = both
captions prefer their own image; group score = both hold; the paper reports the three over all
400 examples and per tag. The subsets are those reported numbers, so :func:`averages` adds none.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..cases import Group, ImageRef, Subset
from . import BenchmarkDataError, Score

NAME = "winoground"

EXPECTED = ("data/examples.jsonl of the facebook/winoground dataset (huggingface.co/datasets/facebook/"
            "winoground), with its images extracted from data/images.zip to data/images/<image_0>.png")

# The paper's order of the collapsed tags; any other value found gets a subset after these.
TAGS = ("Object", "Relation", "Both")

# The secondary tags the paper analyses, in its order; any other value found gets a subset after these.
SECONDARY_TAGS = ("Symbolic", "Series", "Pragmatics")

FIELDS = ("id", "image_0", "image_1", "caption_0", "caption_1", "collapsed_tag")


def load(data_root: Path, images: Path | None) -> list[Subset]:
    data_root = Path(data_root)
    candidates = (data_root / "data" / "examples.jsonl", data_root / "examples.jsonl")
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise BenchmarkDataError(f"Winoground: neither {' nor '.join(str(p) for p in candidates)} exists "
                                 f"(searched {data_root}); expected {EXPECTED}")
    image_root = Path(images) if images is not None else path.parent / "images"

    by_tag: dict[str, list[Group]] = {}
    by_secondary: dict[str, list[Group]] = {}
    every: list[Group] = []
    for line_no, record in _read_jsonl(path):
        fields = _fields(path, line_no, record)
        case = Group((ImageRef(str(image_root / f"{fields['image_0']}.png")),
                      ImageRef(str(image_root / f"{fields['image_1']}.png"))),
                     (fields["caption_0"], fields["caption_1"]), str(fields["id"]))
        every.append(case)
        by_tag.setdefault(fields["collapsed_tag"], []).append(case)
        for secondary in _secondary_tags(path, line_no, record):
            by_secondary.setdefault(secondary, []).append(case)
    if not every:
        raise BenchmarkDataError(f"{path}: no examples in the file; expected {EXPECTED}")

    # Each unique path is checked on disk once, however many subsets it appears in.
    exists: dict[str, bool] = {}
    subsets = [Subset("all", every, _missing(every, exists), {"collapsed_tag": None})]
    for tag in [t for t in TAGS if t in by_tag] + sorted(t for t in by_tag if t not in TAGS):
        subsets.append(Subset(tag, by_tag[tag], _missing(by_tag[tag], exists), {"collapsed_tag": tag}))
    for tag in [t for t in SECONDARY_TAGS if t in by_secondary] + sorted(t for t in by_secondary if t not in SECONDARY_TAGS):
        cases = by_secondary[tag]
        subsets.append(Subset(f"secondary:{tag}", cases, _missing(cases, exists), {"secondary_tag": tag}))
    return subsets


def _secondary_tags(path: Path, line_no: int, record: dict) -> list[str]:
    value = record.get("secondary_tag", "")
    if value is None:
        return []
    if not isinstance(value, str):
        raise BenchmarkDataError(f"{path}, line {line_no}: secondary_tag is {type(value).__name__}, expected text")
    return list(dict.fromkeys(tag for tag in value.replace(",", " ").split() if tag))


def _read_jsonl(path: Path):
    """(line number, parsed object) for each non-blank line."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
    except OSError as error:
        raise BenchmarkDataError(f"{path}: cannot read ({error})") from error
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except ValueError as error:
            raise BenchmarkDataError(f"{path}, line {line_no}: not valid json ({error})") from error


def _fields(path: Path, line_no: int, record: object) -> dict:
    if not isinstance(record, dict):
        raise BenchmarkDataError(f"{path}, line {line_no}: expected a json object, got {type(record).__name__}")
    bad = [f for f in FIELDS if f != "id" and not (isinstance(record.get(f), str) and record.get(f))]
    if "id" not in record:
        bad.insert(0, "id")
    if bad:
        raise BenchmarkDataError(f"{path}, line {line_no}: missing or empty field(s) {', '.join(bad)} "
                                 f"(expected {', '.join(FIELDS)})")
    return {f: record[f] for f in FIELDS}


def _missing(cases: list[Group], exists: dict[str, bool]) -> list[str]:
    """The unique image paths of ``cases`` that are not on disk, in first-use order."""
    paths = dict.fromkeys(ref.path for case in cases for ref in case.images)
    for p in paths:
        if p not in exists:
            exists[p] = os.path.exists(p)
    return [p for p in paths if not exists[p]]


def averages(scores: list[Score]) -> list[Score]:
    # "all" is a subset in its own right (every example scored once): nothing to average.
    return []
