"""COCO-Order (ARO, Yuksekgonul et al., ICLR 2023): each COCO Karpathy-test caption against four
word-order shuffles of itself.

Files read (in --data-root, the first found): ``coco_karpathy_test.json``, the authors' file
(``[{"image": "val2014/COCO_val2014_....jpg", "caption": [...]}]``), or Karpathy's
``dataset_coco.json`` (``{"images": [{"filepath": "val2014", "filename", "split", "sentences":
[{"raw"}]}]}``, the ``split == "test"`` images). Either gives the 5,000 test images with all their
captions (about 25,000 cases). Images: ``<images>/val2014/COCO_val2014_....jpg`` where ``images``
is --images, or --data-root when it is not given (the authors keep the annotation file in their
COCO root, beside ``val2014/``).

One subset, "all". The perturbations, the tagger (textblob's PatternTagger where the authors use
spaCy), the seed rule and the scoring convention (the true caption must score strictly above all
four shuffles; the paper reports that accuracy) are described in :mod:`._order`.
"""

from __future__ import annotations

from pathlib import Path

from ..cases import Subset
from . import Score
from . import _order

NAME = "coco-order"
LAYOUT = _order.Layout(title="COCO-Order", authors_file="coco_karpathy_test.json", karpathy_file="dataset_coco.json",
                       image_folder="", keep_subfolder=True,
                       image_hint="val2014/COCO_val2014_*.jpg")
EXPECTED = LAYOUT.expected()


def load(data_root: Path, images: Path | None) -> list[Subset]:
    return _order.load(LAYOUT, data_root, images)


def averages(scores: list[Score]) -> list[Score]:
    return []  # one subset: its accuracy is the number the paper reports
