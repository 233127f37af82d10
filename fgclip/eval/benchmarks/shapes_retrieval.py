"""Image-text retrieval on the held-out scenes of fgclip's synthetic shapes world.

Files read (``--data-root``): ``shapes_retrieval.json`` as ``fgclip.synthetic.shapes.
write_benchmark`` writes it beside ``shapes.json``: ``{"images": ["images/000000.png", ...],
"captions": [["a small red circle to the left of a blue square", ...], ...]}``, the captions of
each image in the list at its index. The loader reads the files only: eval does not import the
world that wrote them.

Images: ``<images>/<image>`` with ``--images``, else ``<data-root>/<image>``.

Scoring: as the retrieval benchmark, image-to-text and text-to-image recall@1/5/10 over all the
images and captions, one subset "all". In a world this small two images can show the same
content, so a caption can be as true of another image as of its own and recall has a ceiling
below 100; compare checkpoints with each other, not with natural-image numbers. No averages.
"""

from __future__ import annotations

from pathlib import Path

from ..cases import ImageRef, RetrievalSet, Subset
from . import BenchmarkDataError, Score, missing_paths, read_json

NAME = "shapes-retrieval"
FILE = "shapes_retrieval.json"

EXPECTED = (f"{FILE} and its images/ folder, written by fgclip.synthetic.shapes.write_benchmark "
            "(the shapes world of the fgclip workflow)")


def load(data_root: Path, images: Path | None) -> list[Subset]:
    data_root = Path(data_root)
    path = data_root / FILE
    if not path.is_file():
        raise BenchmarkDataError(f"shapes-retrieval: {FILE} not found in {data_root}; expected {EXPECTED}")
    document = read_json(path)
    if (not isinstance(document, dict) or not isinstance(document.get("images"), list)
            or not isinstance(document.get("captions"), list) or len(document["images"]) != len(document["captions"])):
        raise BenchmarkDataError(f"{path}: expected {{\"images\": [...], \"captions\": [[...], ...]}} "
                                 "with one caption list per image")
    image_root = Path(images) if images is not None else data_root
    refs, captions, caption_image = [], [], []
    for index, (image, texts) in enumerate(zip(document["images"], document["captions"])):
        if not isinstance(image, str) or not image or not isinstance(texts, list) or not texts \
                or not all(isinstance(t, str) and t for t in texts):
            raise BenchmarkDataError(f"{path}, image {index}: expected a path and a non-empty list of captions")
        refs.append(ImageRef(str(image_root / image)))
        captions.extend(texts)
        caption_image.extend([index] * len(texts))
    task = RetrievalSet(tuple(refs), tuple(captions), tuple(caption_image))
    return [Subset("all", task, missing_paths(r.path for r in refs))]


def averages(scores: list[Score]) -> list[Score]:
    return []
