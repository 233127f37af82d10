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

Subsets: by source, as the authors group them (their eqben_vllm evaluation): ``eqbenag``
(Action Genome), ``eqbeny`` (YouCook2), ``eqbeng`` (GEBC), ``eqbenk`` (the three Kubric sets) and
``eqbensd`` (Stable Diffusion). A case whose path starts with no known source folder goes in a
subset named after its annotation file's stem.

Scoring (the authors' ``evaluate_eqben_locally.py``, Winoground's): text, image and group scores
per subset. The paper reports the subsets only; :func:`averages` adds "all", the micro average
over every case (each subset weighted by its size), which is how the eqben_vllm evaluation in
t2v_metrics (linzhiqiu/t2v_metrics, ``EqBen_Mini``) reports its overall number.
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

# Subset name -> the source folders (first path component of an image) it gathers, in the
# paper's order: natural video sources first, then the synthetic ones.
SOURCES: dict[str, tuple[str, ...]] = {
    "eqbenag": ("eqbenag",),
    "eqbeny": ("eqbenyoucook2",),
    "eqbeng": ("eqbengebc",),
    "eqbenk": ("eqbenkubric_attr", "eqbenkubric_cnt", "eqbenkubric_loc"),
    "eqbensd": ("eqbensd",),
}
_SUBSET_OF = {folder: name for name, folders in SOURCES.items() for folder in folders}

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
        for where, record in _case_records(_read(path)):
            fields = _fields(path, where, record)
            subset = _SUBSET_OF.get(_source_folder(fields["image0"]), path.stem)
            groups.setdefault(subset, []).append(
                Group((ImageRef(str(image_root / fields["image0"])), ImageRef(str(image_root / fields["image1"]))),
                      (fields["caption0"], fields["caption1"]), f"{path.stem}{where}"))
    if not groups:
        searched = ", ".join(p.name for p in files) or "no *.json / *.jsonl files"
        raise BenchmarkDataError(f"EqBen: no case records found in {data_root} (all_select.json or "
                                 f"eqben_vllm/all_select.json absent; looked in: {searched}); expected {EXPECTED}")

    order = [n for n in SOURCES if n in groups] + sorted(n for n in groups if n not in SOURCES)
    return [Subset(name, groups[name], missing_paths(r.path for c in groups[name] for r in c.images),
                   {"sources": list(SOURCES.get(name, ())),
                    "kind": "natural" if name in ("eqbenag", "eqbeny", "eqbeng")
                    else "synthetic" if name in SOURCES else "unknown"})
            for name in order]


def _read(path: Path) -> object:
    try:
        with open(path, encoding="utf-8") as handle:
            if path.suffix == ".jsonl":
                return [json.loads(line) for line in handle if line.strip()]
            return json.load(handle)
    except (OSError, ValueError) as error:
        raise BenchmarkDataError(f"{path}: cannot read as json ({error})") from error


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
    rows = []
    for metric in ("text", "image", "group"):
        own = [s for s in scores if s.metric == metric and not s.convention and s.subset != "all"]
        n = sum(s.n for s in own)
        if not own or n == 0:
            continue
        # Each subset's value is correct/n in percent, so the n-weighted mean is the score over
        # all cases pooled (the subsets partition the cases: each case is in exactly one).
        value = sum(s.value * s.n for s in own) / n
        rows.append(Score("all", metric, value, n,
                          f"micro average over all {n} cases of the {len(own)} subsets "
                          f"({', '.join(s.subset for s in own)}), i.e. each subset weighted by its size",
                          sum(s.missing for s in own)))
    return rows
