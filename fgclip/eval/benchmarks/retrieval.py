"""Image-text retrieval on the Karpathy test splits (Karpathy & Fei-Fei, CVPR 2015): COCO 5k test
(5,000 images, 25,010 captions) and Flickr30k 1k test (1,000 images, 5,000 captions).

Files read (``--data-root`` holds either or both): ``dataset_coco.json`` and
``dataset_flickr30k.json`` as Karpathy distributes them (``caption_datasets.zip``):
``{"images": [{"filepath" (COCO only), "filename", "split", "sentences": [{"raw", "tokens", ...}],
...}], "dataset": ...}``. Only images with ``split == "test"`` are kept (COCO's ``restval`` is
training data); every one of their sentences is a caption, its ``raw`` text stripped of
surrounding white space, naming its image through ``caption_image``.

Images: with ``--images``, ``<images>/<filepath>/<filename>`` for COCO (``val2014/COCO_val2014_...
.jpg``: the folder holding COCO's ``val2014/``) and ``<images>/<filename>`` for Flickr30k (the
folder of the Flickr30k jpgs). Without it, COCO images are looked up in
``<data-root>/<filepath>/<filename>`` and Flickr30k images in ``<data-root>/flickr30k-images/
<filename>`` (the folder name of the official Flickr30k archive).

Scoring (CLIP's and the retrieval literature's): image-to-text recall@K (an image is right when any
of its captions is among the K most similar) and text-to-image recall@K, K = 1, 5, 10, per split.
Those are the reported numbers; :func:`averages` adds none.
"""

from __future__ import annotations

from pathlib import Path

from ..cases import ImageRef, RetrievalSet, Subset
from . import BenchmarkDataError, Score, read_json, missing_paths

NAME = "retrieval"

# Karpathy file -> subset name, in the order the papers' tables put them.
FILES = {"dataset_coco.json": "coco-5k-test", "dataset_flickr30k.json": "flickr30k-1k-test"}

EXPECTED = ("dataset_coco.json and/or dataset_flickr30k.json, Karpathy's caption splits "
            "(cs.stanford.edu/people/karpathy/deepimagesent/caption_datasets.zip); images: COCO "
            "val2014 / Flickr30k")


def load(data_root: Path, images: Path | None) -> list[Subset]:
    data_root = Path(data_root)
    found = [name for name in FILES if (data_root / name).is_file()]
    if not found:
        raise BenchmarkDataError(f"retrieval: neither {' nor '.join(FILES)} found in {data_root}; "
                                 f"expected {EXPECTED}")
    return [_load_file(data_root / name, FILES[name], data_root, images) for name in found]


def _load_file(path: Path, name: str, data_root: Path, images: Path | None) -> Subset:
    coco = path.name == "dataset_coco.json"
    if images is not None:
        image_root = Path(images)
    else:
        image_root = data_root if coco else data_root / "flickr30k-images"
    records = read_json(path)
    if not isinstance(records, dict) or not isinstance(records.get("images"), list):
        raise BenchmarkDataError(f"{path}: expected an object with an \"images\" list (Karpathy's format)")

    refs: list[ImageRef] = []
    captions: list[str] = []
    caption_image: list[int] = []
    for index, record in enumerate(records["images"]):
        if not isinstance(record, dict) or not isinstance(record.get("split"), str):
            raise BenchmarkDataError(f"{path}, images[{index}]: expected an object with a \"split\" string")
        if record["split"] != "test":
            continue
        wanted = ("filepath", "filename") if coco else ("filename",)
        bad = [f for f in wanted if not (isinstance(record.get(f), str) and record.get(f))]
        sentences = record.get("sentences")
        if not isinstance(sentences, list) or not all(isinstance(s, dict) and isinstance(s.get("raw"), str)
                                                        for s in sentences):
            bad.append("sentences[].raw")
        if bad:
            raise BenchmarkDataError(f"{path}, images[{index}]: missing or malformed {', '.join(bad)}")
        parts = [record["filepath"], record["filename"]] if coco else [record["filename"]]
        refs.append(ImageRef(str(image_root.joinpath(*parts))))
        for sentence in sentences:
            captions.append(sentence["raw"].strip())
            caption_image.append(len(refs) - 1)
    if not refs:
        raise BenchmarkDataError(f"{path}: no image has split \"test\"; expected Karpathy's test split")

    task = RetrievalSet(tuple(refs), tuple(captions), tuple(caption_image))
    return Subset(name, task, missing_paths(r.path for r in refs), {"file": path.name, "images": len(refs), "captions": len(captions)})


def averages(scores: list[Score]) -> list[Score]:
    # Recall@K per split is what the papers report; averaging COCO with Flickr30k is not done.
    return []
