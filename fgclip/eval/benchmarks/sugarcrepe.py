"""SugarCrepe (Hsieh et al., NeurIPS 2023 Datasets and Benchmarks): one image, its COCO caption
and one hard negative that differs from it by a small compositional edit.

Files read (``data/`` of RAIVNLab/sugar-crepe, passed as ``--data-root``): the seven json files
``add_att``, ``add_obj``, ``replace_att``, ``replace_obj``, ``replace_rel``, ``swap_att`` and
``swap_obj``, each ``{"<id>": {"filename", "caption", "negative_caption"}, ...}``; 7,511 cases in
all. ``filename`` is a COCO val2017 image file name (``000000085329.jpg``).

Images: ``--images`` is the folder holding the COCO val2017 images, flat, as the authors'
``--coco_image_root``. Without it, images are looked up in ``<data-root>/coco/images/val2017``,
the place the authors' README suggests (``data/coco/images/val2017/`` next to their json files).

Scoring (the authors' ``main_eval.py``): a case is right when sim(image, caption) is strictly
greater than sim(image, negative_caption); accuracy per file. Papers average the seven files in
two ways, and :func:`averages` gives both: the plain mean of the seven subsets ("all"), and the
mean within each edit type, "add", "replace" and "swap", as the paper's tables group them.
"""

from __future__ import annotations

from pathlib import Path

from ..cases import ImageRef, Selection, Subset
from . import BenchmarkDataError, Score, mean_score, read_json, missing_paths

NAME = "sugarcrepe"

# The authors' file stems, grouped by the kind of edit that made the negative.
SUBSETS = ("add_att", "add_obj", "replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")
CATEGORIES = ("add", "replace", "swap")

EXPECTED = (f"the SugarCrepe json files {', '.join(s + '.json' for s in SUBSETS)} "
            "(the data/ folder of github.com/RAIVNLab/sugar-crepe); images: COCO val2017")


def load(data_root: Path, images: Path | None) -> list[Subset]:
    data_root = Path(data_root)
    absent = [f"{stem}.json" for stem in SUBSETS if not (data_root / f"{stem}.json").is_file()]
    if absent:
        # All seven are needed: the averages the papers report are over all of them.
        raise BenchmarkDataError(f"SugarCrepe: {', '.join(absent)} not found in {data_root}; expected "
                                 f"{EXPECTED}")
    image_root = Path(images) if images is not None else data_root / "coco" / "images" / "val2017"
    return [_load_file(data_root / f"{stem}.json", stem, image_root) for stem in SUBSETS]


def _load_file(path: Path, stem: str, image_root: Path) -> Subset:
    records = read_json(path)
    if not isinstance(records, dict):
        raise BenchmarkDataError(f"{path}: expected an object of records keyed by id, got {type(records).__name__}")
    cases = []
    for key, record in records.items():
        fields = _fields(path, key, record)
        image = ImageRef(str(image_root / fields["filename"]))
        cases.append(Selection(image, (fields["caption"], fields["negative_caption"]), f"{stem}/{key}"))
    return Subset(stem, cases, missing_paths(c.image.path for c in cases), {"category": stem.split("_")[0]})


def _fields(path: Path, key: str, record: object) -> dict[str, str]:
    wanted = ("filename", "caption", "negative_caption")
    if not isinstance(record, dict) or not all(isinstance(record.get(f), str) and record.get(f) for f in wanted):
        raise BenchmarkDataError(f"{path}, record {key!r}: expected non-empty strings {', '.join(wanted)}")
    return {f: record[f] for f in wanted}


def averages(scores: list[Score]) -> list[Score]:
    own = {s.subset: s for s in scores if s.metric == "accuracy" and not s.convention and s.subset in SUBSETS}
    rows = []
    present = [own[name] for name in SUBSETS if name in own]
    overall = mean_score(present, "all", "accuracy",
                         f"unweighted mean of the {len(present)} subsets' accuracies "
                         f"({', '.join(s.subset for s in present)})")
    if overall:
        rows.append(overall)
    for category in CATEGORIES:
        members = [s for s in present if s.subset.split("_")[0] == category]
        row = mean_score(members, category, "accuracy",
                         f"unweighted mean of the {category} subsets' accuracies "
                         f"({', '.join(s.subset for s in members)})")
        if row:
            rows.append(row)
    return rows
