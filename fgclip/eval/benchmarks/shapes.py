"""The shapes benchmark: held-out scenes of fgclip's synthetic shapes world, each with a true
caption and a negative made by changing one property of the scene graph and describing the result
with the same template (so the two captions differ only in the edited words).

Files read (``--data-root``): ``shapes.json`` as ``fgclip.synthetic.shapes.write_benchmark``
writes it: ``{"config": {...}, "seed": N, "subsets": {"replace_att": [{"image": "images/000000.png",
"caption", "negative_caption"}, ...], "replace_obj": [...], "replace_rel": [...], "swap_att": [...],
"swap_obj": [...]}, "scenes": [...]}``. The subsets follow SugarCrepe's names: an object's colour
(or size) replaced by one neither object has, its shape replaced likewise, the relation replaced
by a false one, the two objects' colours swapped, the two objects swapped around the relation.
With the relations left of / right of only, replace_rel and swap_obj say the same thing in other
words. The loader reads the files only: eval does not import the world that wrote them.

Images: ``<images>/<image>`` with ``--images``, else ``<data-root>/<image>`` (the writer puts them
in ``<data-root>/images/``).

Scoring: as SugarCrepe, a case is right when sim(image, caption) is strictly greater than
sim(image, negative_caption); accuracy per subset. :func:`averages` gives "all", the unweighted
mean of the subsets present, SugarCrepe's own convention.
"""

from __future__ import annotations

from pathlib import Path

from ..cases import ImageRef, Selection, Subset
from . import BenchmarkDataError, Score, mean_score, missing_paths, read_json

NAME = "shapes"
FILE = "shapes.json"

# The order of SugarCrepe's tables (which has add_* too; this world has nothing to add).
SUBSETS = ("replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")

EXPECTED = (f"{FILE} and its images/ folder, written by fgclip.synthetic.shapes.write_benchmark "
            "(the shapes world of the fgclip workflow)")


def load(data_root: Path, images: Path | None) -> list[Subset]:
    data_root = Path(data_root)
    path = data_root / FILE
    if not path.is_file():
        raise BenchmarkDataError(f"shapes: {FILE} not found in {data_root}; expected {EXPECTED}")
    document = read_json(path)
    if not isinstance(document, dict) or not isinstance(document.get("subsets"), dict):
        raise BenchmarkDataError(f"{path}: expected an object with a \"subsets\" object (as write_benchmark writes)")
    unknown = sorted(set(document["subsets"]) - set(SUBSETS))
    if unknown:
        raise BenchmarkDataError(f"{path}: unknown subsets {', '.join(unknown)}; known: {', '.join(SUBSETS)}")
    image_root = Path(images) if images is not None else data_root
    return [_subset(path, name, document["subsets"][name], image_root)
            for name in SUBSETS if name in document["subsets"]]


def _subset(path: Path, name: str, records: object, image_root: Path) -> Subset:
    if not isinstance(records, list):
        raise BenchmarkDataError(f"{path}: subset {name!r} is not a list of cases")
    cases = []
    wanted = ("image", "caption", "negative_caption")
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not all(isinstance(record.get(f), str) and record[f] for f in wanted):
            raise BenchmarkDataError(f"{path}, {name}[{index}]: expected non-empty strings {', '.join(wanted)}")
        cases.append(Selection(ImageRef(str(image_root / record["image"])),
                               (record["caption"], record["negative_caption"]), f"{name}/{index}"))
    return Subset(name, cases, missing_paths(c.image.path for c in cases), {"category": name.split("_")[0]})


def averages(scores: list[Score]) -> list[Score]:
    own = {s.subset: s for s in scores if s.metric == "accuracy" and not s.convention and s.subset in SUBSETS}
    present = [own[name] for name in SUBSETS if name in own]
    overall = mean_score(present, "all", "accuracy",
                         f"unweighted mean of the {len(present)} subsets' accuracies "
                         f"({', '.join(s.subset for s in present)})")
    return [overall] if overall else []
