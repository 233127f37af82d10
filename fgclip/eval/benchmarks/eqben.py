"""EqBen (Wang et al., "Equivariant Similarity for Vision-Language Foundation Models", ICCV 2023):
cases of two images with a minimal visual change between them (neighbouring video frames, or
synthetic renders) and their two captions; caption0 describes image0, caption1 image1.

Files read (``--data-root``), the first layout found:

1. ``all_select.json`` (in ``--data-root`` or in ``--data-root/eqben_vllm``): the small EqBen
   subset the authors released for evaluating multimodal LLMs (``eqben_vllm.zip``), a json list of
   ``{"image0", "image1", "caption0", "caption1"}``. Images: ``images/`` next to it.
2. Otherwise every ``*.json`` / ``*.jsonl`` in ``--data-root`` that holds case records: the full
   annotation the authors published in 2023 ("formalized similar to Winoground"), the 10% sub-test
   annotation, or their per-source files (EqBen-AG: ``{video: {subject: [case, ...]}}``;
   Youcook2/GEBC: ``{video: [case, ...]}``; Kubric/SD: ``[case, ...]``). A case record is any
   object with ``image0``/``image_0``, ``image1``/``image_1``, ``caption0``/``caption_0`` and
   ``caption1``/``caption_1``, wherever it sits in the file; a caption given as a list stands for
   its first caption, as the authors' EqBen-AG loader reads it. Files without a single case
   record are not EqBen annotation and are left alone; every record found is a case, so keep one
   annotation of each case in the folder (not the full file and the per-source files together).
   Images: ``--data-root`` itself (the authors' ``img_root``, where their image archive extracts to).

Image paths in the records are relative to that image root (``--images`` replaces it) and begin
with the source folder (``eqbenag/``, ``eqbenyoucook2/``, ``eqbengebc/``, ``eqbenkubric_attr/``,
``eqbenkubric_cnt/``, ``eqbenkubric_loc/``, ``eqbensd/``). EqBen-Youcook2 frames are ``.npy`` arrays
(BGR, the authors' ``process_img_npy``), not image files: the image reader has to know that.

3. The authors' full-test annotation ("after randomize", read by their ``EqBenALL``) is refused
   with a message that says why: it is a shuffled list of single ``{"image", "caption"}`` pairs,
   and which four pairs form a case, and in which role (c0i0, c0i1, c1i0, c1i1), is kept in the
   authors' private files (``src_file/private_info.json`` and ``private_random_idx.json`` of
   ``evaluate_eqben_locally.py``, run on their CodaLab server). No local scorer can rebuild the
   cases from it; the sub-test annotation and the per-source files carry whole cases.

Subsets: the seven the authors' ``evaluate_eqben_locally.py`` reports, named as it names them,
one per source folder, in its order: ``eqbenag`` (Action Genome), ``eqbenyoucook2``,
``eqbengebc``, ``eqbenkubric_loc``, ``eqbenkubric_attr``, ``eqbenkubric_cnt`` (the three Kubric
sets, each on its own) and ``eqbensd`` (Stable Diffusion). A case whose path starts with no known
source folder goes in a subset named after its annotation file's stem.

Scoring (the authors' ``evaluate_eqben_locally.py``, Winoground's): text, image and group scores
per subset, ties counting as wrong. The authors report the subsets only, so :func:`averages` adds
nothing: no overall number is the authors'.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..cases import Group, ImageRef, Subset
from . import BenchmarkDataError, Score, missing_paths

NAME = "eqben"

EXPECTED = ("EqBen annotation: eqben_vllm/all_select.json with its images/ folder (the authors' EqBen "
            "subset for MLLMs, github.com/Wangt-CN/EqBen), or EqBen annotation *.json/*.jsonl files "
            "with case records {image0, image1, caption0, caption1} and the extracted EqBen images")

# The source folders (first path component of an image), each its own subset, in the order of
# the authors' evaluate_eqben_locally.py (SUBSET_LENGTH_INFO).
SOURCES: tuple[str, ...] = ("eqbenag", "eqbenyoucook2", "eqbengebc", "eqbenkubric_loc", "eqbenkubric_attr",
                            "eqbenkubric_cnt", "eqbensd")
NATURAL = ("eqbenag", "eqbenyoucook2", "eqbengebc")  # video frames; the others are synthetic renders

# Accepted spellings of each field: the eqben_vllm / per-source files write image0, the
# Winoground-style files image_0.
_KEYS = {"image0": ("image0", "image_0"), "image1": ("image1", "image_1"),
         "caption0": ("caption0", "caption_0"), "caption1": ("caption1", "caption_1")}


def load(data_root: Path, images: Path | None) -> list[Subset]:
    data_root = Path(data_root)
    select = next((p for p in (data_root / "all_select.json", data_root / "eqben_vllm" / "all_select.json")
                   if p.is_file()), None)
    if select is not None:
        files, default_root = [select], select.parent / "images"
    else:
        files = sorted(p for p in data_root.glob("*.json*") if p.suffix in (".json", ".jsonl") and p.is_file())
        default_root = data_root
    image_root = Path(images) if images is not None else default_root

    groups: dict[str, list[Group]] = {}
    for path in files:
        content = _read(path)
        if _is_shuffled_pairs(content):
            raise BenchmarkDataError(
                f"{path}: this is EqBen's full-test annotation (shuffled single image-caption pairs, read by the "
                "authors' EqBenALL); which pairs form a case is in the authors' private files, scored only on their "
                "CodaLab server, so it cannot be scored here. Use the sub-test annotation (Winoground-style cases) "
                "or the per-source annotation files, which hold whole cases")
        for where, record in _case_records(content):
            fields = _fields(path, where, record)
            source = _source_folder(fields["image0"])
            subset = source if source in SOURCES else path.stem
            groups.setdefault(subset, []).append(
                Group((ImageRef(str(image_root / fields["image0"])), ImageRef(str(image_root / fields["image1"]))),
                      (fields["caption0"], fields["caption1"]), f"{path.stem}{where}"))
    if not groups:
        searched = ", ".join(p.name for p in files) or "no *.json / *.jsonl files"
        raise BenchmarkDataError(f"EqBen: no case records found in {data_root} (all_select.json or "
                                 f"eqben_vllm/all_select.json absent; looked in: {searched}); expected {EXPECTED}")

    order = [n for n in SOURCES if n in groups] + sorted(n for n in groups if n not in SOURCES)
    return [Subset(name, groups[name], missing_paths(r.path for c in groups[name] for r in c.images),
                   {"kind": "natural" if name in NATURAL else "synthetic" if name in SOURCES else "unknown"})
            for name in order]


def _read(path: Path) -> object:
    try:
        with open(path, encoding="utf-8") as handle:
            if path.suffix == ".jsonl":
                return [json.loads(line) for line in handle if line.strip()]
            return json.load(handle)
    except (OSError, ValueError) as error:
        raise BenchmarkDataError(f"{path}: cannot read as json ({error})") from error


def _is_shuffled_pairs(content: object) -> bool:
    """The full-test layout: a list of {"image", "caption"} objects, none of them a case."""
    return (isinstance(content, list) and bool(content) and all(isinstance(item, dict) for item in content)
            and all("image" in item and "caption" in item for item in content[:100])
            and not any(key in content[0] for key in _KEYS["image0"]))


def _case_records(node: object, where: str = ""):
    """(location, record) for every case record in a parsed file, depth first in file order.

    The location (``[3]``, ``["video"]["subject"][0]``) names the record in error messages.
    """
    if isinstance(node, dict):
        if any(k in node for k in _KEYS["image0"]):
            yield where, node
            return
        for key, value in node.items():
            yield from _case_records(value, f"{where}[{json.dumps(key)}]")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _case_records(value, f"{where}[{index}]")


def _fields(path: Path, where: str, record: dict) -> dict[str, str]:
    fields, bad = {}, []
    for name, spellings in _KEYS.items():
        value = next((record[k] for k in spellings if k in record), None)
        if name.startswith("caption") and isinstance(value, list):
            value = value[0] if value else None  # the first caption of a list, as the authors read EqBen-AG
        if isinstance(value, str) and value:
            fields[name] = value
        else:
            bad.append("/".join(spellings))
    if bad:
        raise BenchmarkDataError(f"{path}, record {where}: missing or empty {', '.join(bad)}")
    return fields


def _source_folder(image: str) -> str:
    parts = [p for p in image.replace("\\", "/").split("/") if p not in ("", ".")]
    return parts[0] if parts else ""


def averages(scores: list[Score]) -> list[Score]:
    # The authors report each subset on its own; an overall number would be fgclip's invention.
    return []
