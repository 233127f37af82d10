"""VL-CheckList (Zhao et al., 2022): one image, a true phrase (POS) and a false one (NEG) that
changes an object, an attribute or a relation.

Files read (``data/`` of om-ai-lab/VL-CheckList, passed as ``--data-root``): every ``*.json`` under
its three category folders ``Attribute/``, ``Object/`` and ``Relation/``, at any depth (e.g.
``Attribute/vaw/color.json``, ``Object/Location/hake_location/hake_obj_center.json``,
``Relation/swig_action.json``). Each file is ``[[image_path, {"POS": [...], "NEG": [...]}], ...]``.
One subset per file, named by its path under the data root without ``.json``
(``Attribute/vg/size``), with ``meta["category"]`` its top folder.

Every record of every file is used. The authors' ``vl_checklist/evaluate.py`` keeps only the first
``MAX_NUM / 2`` records of each file (1,000 with their sample config) whose image exists; here
nothing is capped, and absent images are reported in ``missing_images`` rather than skipped.
Some files (the SWiG Object ones) list three POS and three NEG phrases per record; the authors'
image-text-contrast (ITC) evaluation compares ``POS[0]`` with ``NEG[0]`` only, so one case per
record, Selection(image, (POS[0], NEG[0])), is made here too. Files holding no record (the
authors' three ``swig_place`` files are ``[]``) give an empty subset, left out of the averages.

Images: image paths are relative to a per-source folder, as the authors' corpus yamls
(``IMG_ROOT``) and DATASETS.md lay them out: ``vg/`` (Visual Genome ``VG_100K/``, ``VG_100K_2/``;
VAW files use it too), ``hake/`` and ``swig/``. ``--images`` is the folder holding those three.
The source is read from the file's path (a part starting ``vg``/``vaw``, ``hake`` or ``swig``); a
file that names none resolves against ``--images`` itself. Without ``--images`` the folder next
to the data root is used (``<data-root>/..``), where the authors' yamls find ``vg/`` beside
``data/``.

Scoring: a case is right when sim(image, POS) > sim(image, NEG) (the authors' ITC accuracy), per
file. :func:`averages` gives each category (Attribute, Object, Relation) as the unweighted mean over
its files, and "all" as the unweighted mean of the three category means.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ..cases import ImageRef, Selection, Subset
from . import BenchmarkDataError, Score, mean_score, read_json, missing_paths

NAME = "vl-checklist"

CATEGORIES = ("Attribute", "Object", "Relation")
# Leading word of a path part -> the authors' image folder (IMG_ROOT) for that source.
SOURCE_FOLDERS = {"vg": "vg", "vaw": "vg", "hake": "hake", "swig": "swig"}

EXPECTED = ("VL-CheckList json files under Attribute/, Object/ and Relation/ (**/*.json; the data/ folder "
            "of github.com/om-ai-lab/VL-CheckList); images: vg/, hake/, swig/ as in its DATASETS.md")


def load(data_root: Path, images: Path | None) -> list[Subset]:
    data_root = Path(data_root)
    files = sorted(path for category in CATEGORIES for path in (data_root / category).rglob("*.json"))
    if not files:
        raise BenchmarkDataError(f"VL-CheckList: no json files found under {data_root}; expected {EXPECTED}")
    image_root = Path(images) if images is not None else data_root.parent
    return [_load_file(path, data_root, image_root) for path in files]


def _load_file(path: Path, data_root: Path, image_root: Path) -> Subset:
    relative = PurePosixPath(path.relative_to(data_root).with_suffix("").as_posix())
    source = _source_folder(relative)
    folder = image_root / source if source else image_root
    records = read_json(path)
    if not isinstance(records, list):
        raise BenchmarkDataError(f"{path}: expected a list of [image_path, {{POS, NEG}}] records")
    cases = []
    for index, record in enumerate(records):
        image_path, positive, negative = _fields(path, index, record)
        cases.append(Selection(ImageRef(str(folder / image_path)), (positive, negative), f"{relative}#{index}"))
    return Subset(str(relative), cases, missing_paths(c.image.path for c in cases), {"category": relative.parts[0]})


def _source_folder(relative: PurePosixPath) -> str | None:
    """'Object/Location/hake_location/hake_obj_center' -> 'hake'; 'Attribute/vaw/color' -> 'vg'."""
    for part in relative.parts[1:]:
        folder = SOURCE_FOLDERS.get(part.lower().split("_")[0])
        if folder:
            return folder
    return None


def _fields(path: Path, index: int, record: object) -> tuple[str, str, str]:
    problem = f"{path}, record {index}: expected [image_path, {{\"POS\": [text, ...], \"NEG\": [text, ...]}}]"
    if not (isinstance(record, list) and len(record) == 2 and isinstance(record[0], str) and record[0]
            and isinstance(record[1], dict)):
        raise BenchmarkDataError(problem)
    texts = record[1]
    for side in ("POS", "NEG"):
        phrases = texts.get(side)
        if not (isinstance(phrases, list) and phrases and all(isinstance(p, str) and p for p in phrases)):
            raise BenchmarkDataError(f"{problem}; {side} is not a non-empty list of strings")
    # The authors' ITC evaluation compares the first POS with the first NEG only.
    return record[0], texts["POS"][0], texts["NEG"][0]


def averages(scores: list[Score]) -> list[Score]:
    # Per-file accuracies only; an empty file (n == 0) has no accuracy to average.
    own = [s for s in scores if s.metric == "accuracy" and not s.convention and s.n > 0
           and s.subset.split("/")[0] in CATEGORIES]
    rows = []
    for category in CATEGORIES:
        files = [s for s in own if s.subset.split("/")[0] == category]
        row = mean_score(files, category, "accuracy",
                         f"unweighted mean over the {len(files)} {category} files' accuracies")
        if row:
            rows.append(row)
    overall = mean_score(rows, "all", "accuracy",
                         f"unweighted mean of the {len(rows)} category means ({', '.join(r.subset for r in rows)})")
    return rows + [overall] if overall else rows
