"""VALSE (Parcalabescu et al., ACL 2022): one image, a caption and a foil that changes one
linguistic phenomenon (existence, plurality, counting, relations, actions, coreference, nouns).

Files read (``data/`` of Heidelberg-NLP/VALSE, passed as ``--data-root``): the instrument json
files named in :data:`INSTRUMENTS` (any subset of them; at least one must be there), each
``{"<key>": {"image_file", "caption", "foil", "mturk": {"caption", "foil", "other"}, "dataset", ...}}``.
``mturk.caption`` is how many of the three annotators chose the caption, and not the foil, as
describing the image. Only the validated items are used, as the authors' README asks: those with
``mturk["caption"] >= 2``; the others are left out by that rule, not by accident.

Images come from several datasets (Visual7W, SWiG, COCO 2014 and 2017, VisDial), named by each
item's ``image_file`` (the ``dataset`` field says where from). The file names do not clash across
those sources (checked on all 11 files: an equal name is the same COCO image), so ``--images`` may
hold them all in one flat folder. It may instead be laid out as the authors' ``config.py`` does,
one folder per source, e.g. ``visual7w/images/``, ``actions/images_512/`` (see
:data:`AUTHOR_FOLDERS`); each image is looked up flat first, then in its instrument's folder.
Without ``--images`` the same two places are searched under ``--data-root``, the authors' folder
first (their config puts ``data/visual7w/images/`` next to ``data/existence.json``). An image
found in neither place is reported missing under the first path searched.

Scoring: a case is right when sim(image, caption) > sim(image, foil) (the paper's pairwise
ranking accuracy, acc_r); accuracy per instrument. :func:`averages` gives the per-piece means
(Existence, Plurality, Counting, Relations, Actions, Coreference, Foil-it: each the mean over its
instruments, :data:`PIECES`, as the CE-CLIP authors' ``clip_valse_eval.py`` prints them) and the
paper's overall figure, the mean over the 11 instruments (subset "all"). A piece or "all" with an
instrument absent still gets its row, with a convention that starts "incomplete" and names it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..cases import ImageRef, Selection, Subset
from . import BenchmarkDataError, Score, mean_score, read_json

NAME = "valse"

# The 11 instrument files of the VALSE repository, with the image folder its config.py gives
# each (relative to the repository's data/; foil-it's COCO val2014 path there is the authors'
# own absolute /scratch/COCO/val2014/, kept here as COCO/val2014).
AUTHOR_FOLDERS: dict[str, str] = {
    "existence": "visual7w/images",
    "plurals": "plurals/test_images",
    "counting-hard": "visual7w/images",
    "counting-small-quant": "visual7w/images",
    "counting-adversarial": "visual7w/images",
    "relations": "relations/test_images",
    "action-replacement": "actions/images_512",
    "actant-swap": "actions/images_512",
    "coreference-standard": "coref/release_too_many_is_this_in_color/images",
    "coreference-hard": "coref/release_v18/test_images",
    "foil-it": "COCO/val2014",
}
INSTRUMENTS = tuple(AUTHOR_FOLDERS)
MIN_CAPTION_VOTES = 2  # the authors' validity rule: at least 2 of 3 annotators chose the caption only

EXPECTED = (f"one or more of the VALSE instrument files {', '.join(i + '.json' for i in INSTRUMENTS)} "
            "(the data/ folder of github.com/Heidelberg-NLP/VALSE); images: Visual7W, SWiG, COCO, VisDial, "
            "flat or in the authors' per-source folders")


def load(data_root: Path, images: Path | None) -> list[Subset]:
    data_root = Path(data_root)
    present = [name for name in INSTRUMENTS if (data_root / f"{name}.json").is_file()]
    if not present:
        raise BenchmarkDataError(f"VALSE: none of the instrument files found in {data_root}; expected {EXPECTED}")
    return [_load_instrument(data_root, name, images) for name in present]


def _load_instrument(data_root: Path, name: str, images: Path | None) -> Subset:
    path = data_root / f"{name}.json"
    records = read_json(path)
    if not isinstance(records, dict):
        raise BenchmarkDataError(f"{path}: expected an object of items keyed by id, got {type(records).__name__}")
    resolve = _Resolver(name, data_root, images)
    cases = []
    for key, item in records.items():
        votes = _caption_votes(path, key, item)
        if votes < MIN_CAPTION_VOTES:
            continue  # not validated by the annotators: left out by VALSE's own rule
        for field in ("image_file", "caption", "foil"):
            if not isinstance(item.get(field), str) or not item[field]:
                raise BenchmarkDataError(f"{path}, item {key!r}: {field!r} is not a non-empty string")
        cases.append(Selection(ImageRef(resolve(item["image_file"])), (item["caption"], item["foil"]), key))
    return Subset(name, cases, resolve.missing(), {"instrument": name})


def _caption_votes(path: Path, key: str, item: object) -> float:
    mturk = item.get("mturk") if isinstance(item, dict) else None
    votes = mturk.get("caption") if isinstance(mturk, dict) else None
    if not isinstance(votes, (int, float)) or isinstance(votes, bool):
        raise BenchmarkDataError(f"{path}, item {key!r}: expected a number in mturk.caption, the annotators' votes")
    return votes


class _Resolver:
    """image_file -> the path to use, each name checked on disk once; remembers the missing ones."""

    def __init__(self, instrument: str, data_root: Path, images: Path | None):
        author = AUTHOR_FOLDERS[instrument]
        images = Path(images) if images is not None else None
        # With --images a flat folder is the common case; under the data root the authors' layout is.
        self.roots = [images, images / author] if images is not None else [data_root / author, data_root]
        self.paths: dict[str, str] = {}
        self.absent: list[str] = []

    def __call__(self, image_file: str) -> str:
        if image_file not in self.paths:
            candidates = [str(root / image_file) for root in self.roots]
            found = next((c for c in candidates if os.path.exists(c)), None)
            if found is None:
                self.absent.append(candidates[0])
            self.paths[image_file] = found or candidates[0]
        return self.paths[image_file]

    def missing(self) -> list[str]:
        return list(self.absent)


# The paper's pieces and their instruments, as the CE-CLIP authors' VALSE/clip_valse_eval.py
# groups them (its CATEGORIES) to print the per-piece means of its table.
PIECES: dict[str, tuple[str, ...]] = {
    "Existence": ("existence",),
    "Plurality": ("plurals",),
    "Counting": ("counting-hard", "counting-small-quant", "counting-adversarial"),
    "Relations": ("relations",),
    "Actions": ("action-replacement", "actant-swap"),
    "Coreference": ("coreference-standard", "coreference-hard"),
    "Foil-it": ("foil-it",),
}


def averages(scores: list[Score]) -> list[Score]:
    own = {s.subset: s for s in scores if s.metric == "accuracy" and not s.convention and s.subset in INSTRUMENTS}
    rows = []
    for piece, instruments in PIECES.items():
        row = _mean_of(own, instruments, piece, f"unweighted mean over the piece's instruments "
                                                f"({', '.join(instruments)}), as clip_valse_eval.py of CE-CLIP")
        if row:
            rows.append(row)
    overall = _mean_of(own, INSTRUMENTS, "all", "unweighted mean over the instruments (the paper's and "
                                                "clip_valse_eval.py's avg)")
    return rows + [overall] if overall else rows


def _mean_of(own: dict[str, Score], instruments: tuple[str, ...], subset: str, how: str) -> Score | None:
    """The mean over those of ``instruments`` scored; named incomplete when some are not."""
    present = [own[name] for name in instruments if name in own]
    absent = [name for name in instruments if name not in own]
    if absent:
        how = (f"incomplete, not the authors' number: {len(absent)} of {len(instruments)} instrument(s) not "
               f"scored ({', '.join(absent)}); {how}")
    return mean_score(present, subset, "accuracy", how)
