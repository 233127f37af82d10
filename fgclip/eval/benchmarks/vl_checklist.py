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
file. :func:`averages` follows the authors' ``radar.py`` with its ``corpus.json``: the 13 radar
axes (Object: Large, Medium, Small, Center, Mid, Margin; Attribute: Color, Material, Size, State,
Action; Relation: Action, Spatial), each the mean over its data sources (vg, swig, hake, vaw) of
the mean over that source's files, so a source weighs the same whatever its number of files
(:data:`AXES` lists the files of each). Each category is then the unweighted mean of its axes,
and "all" the unweighted mean of the three categories. Those two steps are fgclip's: the authors
draw the 13 axes only, and the CE-CLIP authors' VL-CheckList code (rabiulcste/vl_checklist at
ca0c68d, the submodule of lezhang7/Enhance-FineGrained) ships the same ``radar.py`` and
``corpus.json`` byte for byte and computes no category number either, so the paper's Attribute /
Object / Relation columns are most likely these axis means, but nothing published says so.
vl_compo (ytaek-oh/vl_compo) publishes the 13 axes per model as its ``vl_checklist::`` columns,
which these axis rows match in definition; its single ``vl_checklist`` number is neither the mean
of the three category means nor the mean of the 13 axes of its own table (DAC-SAM: 84.71 against
82.46 and 83.68), so it is not reproduced here. An axis, category or
"all" some of whose files were not scored still gets its row, but its convention starts with
"incomplete" and names the missing files: it is not the authors' number. Files outside the
authors' corpus (the three empty ``swig_place`` files) keep their own rows and enter no axis.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path, PurePosixPath

from ..cases import ImageRef, Selection, Subset
from . import BenchmarkDataError, Score, covered, mean_score, missing_paths, read_json

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


def _object_files(axis: str, group: str) -> dict[str, tuple[str, ...]]:
    """The files of one Object axis by source, as corpus.json lists them (group: Location or Size)."""
    folder = f"Object/{group}"
    swig = tuple(f"{folder}/swig_{group.lower()}/swig_{role}/swig_{role}_{axis}"
                 for role in ("agent", "destination", "item", "tool"))
    return {"vg": (f"{folder}/vg_{group.lower()}/vg_obj_{axis}", f"{folder}/vg_{group.lower()}/vg_subj_{axis}"),
            "swig": swig,
            "hake": (f"{folder}/hake_{group.lower()}/hake_obj_{axis}",)}


# (category, axis) -> source -> the files (subset names) averaged for that source: the authors'
# corpus.json, whose keys are the radar's 13 axes; the axis names here are the radar's labels.
AXES: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    **{("Object", axis.capitalize()): _object_files(axis, "Size") for axis in ("large", "medium", "small")},
    **{("Object", axis.capitalize()): _object_files(axis, "Location") for axis in ("center", "mid", "margin")},
    **{("Attribute", attribute.capitalize()): {"vg": (f"Attribute/vg/{attribute}",),
                                               "vaw": (f"Attribute/vaw/{attribute}",)}
       for attribute in ("color", "material", "size", "state", "action")},
    ("Relation", "Action"): {"vg": ("Relation/vg/action",), "swig": ("Relation/swig_action",),
                             "hake": ("Relation/hake_action",)},
    ("Relation", "Spatial"): {"vg": ("Relation/vg/spatial",)},
}


def averages(scores: list[Score]) -> list[Score]:
    # Per-file accuracies only; an empty file (n == 0) has no accuracy to average.
    scored = {s.subset: s for s in scores if s.metric == "accuracy" and not s.convention and s.n > 0}
    rows: list[Score] = []
    for category in CATEGORIES:
        axes = [_axis_row(category, axis, sources, scored)
                for (of, axis), sources in AXES.items() if of == category]
        present = [row for row in axes if row is not None]
        if present:
            rows += present
            rows.append(_mean_of(present, category, f"unweighted mean of its {len(present)} radar axes",
                                 expected=len(axes), unit="axes"))
    categories = [row for row in rows if row.subset in CATEGORIES]
    if categories:
        rows.append(_mean_of(categories, "all", "unweighted mean of the category means "
                                                f"({', '.join(row.subset for row in categories)})",
                             expected=len(CATEGORIES), unit="categories"))
    return rows


def _axis_row(category: str, axis: str, sources: dict[str, tuple[str, ...]], scored: dict[str, Score]) -> Score | None:
    """One radar axis: the mean over sources of the mean over each source's files."""
    means, files, absent = [], [], []
    for names in sources.values():
        found = [scored[name] for name in names if name in scored]
        absent += [name for name in names if name not in scored]
        if found:
            means.append(sum(s.value for s in found) / len(found))
            files += found
    if not files:
        return None
    how = (f"radar.py: mean over {len(means)} source(s) of the mean over each source's files "
           f"({len(files)} file(s))")
    if absent:
        how = f"incomplete, not the authors' number: {len(absent)} file(s) not scored ({', '.join(absent)}); {how}"
    return Score(f"{category}-{axis}", "accuracy", sum(means) / len(means), sum(s.n for s in files), how,
                 sum(s.missing for s in files), covered(files))


def _mean_of(parts: list[Score], subset: str, how: str, expected: int, unit: str) -> Score:
    """The unweighted mean of ``parts``, incomplete when any part is or when parts are absent."""
    row = mean_score(parts, subset, "accuracy", how)
    incomplete = [p.subset for p in parts if p.convention.startswith("incomplete")]
    lacking = len(parts) < expected
    if incomplete or lacking:
        why = [f"incomplete parts: {', '.join(incomplete)}"] if incomplete else []
        why += [f"{expected - len(parts)} of {expected} {unit} absent"] if lacking else []
        row = dataclasses.replace(row, convention=f"incomplete, not the authors' number ({'; '.join(why)}); {how}")
    return row
