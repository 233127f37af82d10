"""VG-Relation and VG-Attribution (ARO, Yuksekgonul et al., ICLR 2023): the code both share.

Both files are json lists of records with the same core fields (the authors' ``VG_Relation`` and
``VG_Attribution`` in ``dataset_zoo/aro_datasets.py`` of mertyg/vision-language-models-are-bows):

- ``image_path``: a Visual Genome (GQA) image file name, under the ``images/`` folder that the
  authors' ``vgr_vga_images.zip`` unpacks into their root directory;
- ``bbox_x``, ``bbox_y``, ``bbox_w``, ``bbox_h``: the region, in pixels, that the image is cropped to
  (the authors crop to (x, y, x + w, y + h) before preprocessing); passed on as ``ImageRef.box``;
- ``true_caption``, ``false_caption``: the caption and its word-order swapped negative;

plus what each benchmark groups its cases by (``relation_name``; ``attributes``).

Each record is one :class:`Selection` with the true caption first. The authors put the false
caption first and take ``argmax == 1`` as right, so a tie counts as wrong there as here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..cases import ImageRef, Selection, Subset
from . import BenchmarkDataError, read_json

BOX_FIELDS = ("bbox_x", "bbox_y", "bbox_w", "bbox_h")
CAPTION_FIELDS = ("true_caption", "false_caption")


def load(data_root: Path, images: Path | None, filename: str, expected: str,
         group_of: Callable[[Path, int, dict], str]) -> list[Subset]:
    """The subsets of one ARO Visual Genome file, one per group (``group_of(path, index, record)``),
    sorted by name; each subset's ``meta["cases"]`` is its number of cases.

    Images are looked up in ``images`` when given, else in ``<data_root>/images`` (the authors'
    layout: the json files and the unzipped ``images/`` folder side by side)."""
    data_root = Path(data_root)
    path = data_root / filename
    if not path.is_file():
        raise BenchmarkDataError(f"{filename} not found in {data_root}; expected {expected}")
    records = read_json(path)
    if not isinstance(records, list):
        raise BenchmarkDataError(f"{path}: expected a list of records, got {type(records).__name__}")
    image_root = Path(images) if images is not None else data_root / "images"

    groups: dict[str, list[Selection]] = {}
    for index, record in enumerate(records):
        _check(path, index, record)
        box = tuple(float(record[f]) for f in BOX_FIELDS)
        image = ImageRef(str(image_root / record["image_path"]), box)
        case = Selection(image, (record["true_caption"], record["false_caption"]), f"{filename}#{index}")
        groups.setdefault(group_of(path, index, record), []).append(case)

    exists: dict[str, bool] = {}  # each image file is checked once, though many regions share it
    subsets = []
    for name in sorted(groups):
        cases = groups[name]
        missing = []
        for image_path in dict.fromkeys(case.image.path for case in cases):
            if image_path not in exists:
                exists[image_path] = os.path.exists(image_path)
            if not exists[image_path]:
                missing.append(image_path)
        subsets.append(Subset(name, cases, missing, {"cases": len(cases)}))
    return subsets


def _check(path: Path, index: int, record: object) -> None:
    if not isinstance(record, dict):
        raise BenchmarkDataError(f"{path}, record {index}: expected an object, got {type(record).__name__}")
    text_fields = ("image_path",) + CAPTION_FIELDS
    bad = [f for f in text_fields if not isinstance(record.get(f), str) or not record[f]]
    # bool is an int subclass; a true/false box is as malformed as a missing one.
    bad += [f for f in BOX_FIELDS if isinstance(record.get(f), bool) or not isinstance(record.get(f), (int, float))]
    if bad:
        raise BenchmarkDataError(f"{path}, record {index}: missing or malformed {', '.join(bad)} (expected "
                                 f"non-empty strings {', '.join(text_fields)} and numbers {', '.join(BOX_FIELDS)})")
