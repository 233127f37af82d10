"""Flickr30k-Order (ARO, Yuksekgonul et al., ICLR 2023): each Flickr30k Karpathy-test caption
against four word-order shuffles of itself.

Files read (in --data-root, the first found): ``flickr30k_test.json``, the authors' file
(``[{"image": "flickr30k-images/<id>.jpg", "caption": [...]}]``), or Karpathy's
``dataset_flickr30k.json`` (``{"images": [{"filename": "<id>.jpg", "split", "sentences":
[{"raw"}]}]}``, the ``split == "test"`` images). Either gives the 1,000 test images with their 5
captions each (5,000 cases). Images: ``<images>/<id>.jpg`` where ``images`` is --images (the folder
of the Flickr30k jpgs), or ``<data-root>/flickr30k-images`` when it is not given (the authors'
layout: the annotation file beside the unpacked ``flickr30k-images/``).

One subset, "all". The perturbations, the tagger (textblob's PatternTagger where the authors use
spaCy), the seed rule and the scoring convention (the true caption must score strictly above all
four shuffles; the paper reports that accuracy) are described in :mod:`._order`.
"""

from __future__ import annotations

from pathlib import Path

from ..cases import Subset
from . import Score
from . import _order

NAME = "flickr-order"
LAYOUT = _order.Layout(title="Flickr30k-Order", authors_file="flickr30k_test.json",
                       karpathy_file="dataset_flickr30k.json", image_folder="flickr30k-images", keep_subfolder=False,
                       image_hint="the Flickr30k <id>.jpg files")
EXPECTED = LAYOUT.expected()


def load(data_root: Path, images: Path | None) -> list[Subset]:
    return _order.load(LAYOUT, data_root, images)


def averages(scores: list[Score]) -> list[Score]:
    return []  # one subset: its accuracy is the number the paper reports
