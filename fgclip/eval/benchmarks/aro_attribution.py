"""VG-Attribution (ARO, Yuksekgonul et al., ICLR 2023): is "the crouched cat and the open door"
preferred to "the open cat and the crouched door" for a crop of a Visual Genome image?

File read (in --data-root): ``visual_genome_attribution.json``, the authors' list of records
``{"image_path", "bbox_x", "bbox_y", "bbox_w", "bbox_h", "true_caption", "false_caption",
"attributes": [first, second], ...}`` (the paper: 28,748 cases, 117 attribute pairs). Images: the
authors' ``vgr_vga_images.zip`` unpacked as ``images/`` beside the json file, or --images. Each
case's image is the region (x, y, w, h) of the record, handed on as ``ImageRef.box``; the scorer
crops.

Subsets: one per attribute pair, named as the authors' ``VG_Attribution`` keys it,
``f"{attributes[0]}_{attributes[1]}"`` (e.g. "white_black"); all pairs are loaded and scored.
Scoring: right when the true caption's similarity is strictly higher than the false one's.

Average ("all"): the authors' ``VG_Attribution.evaluate_scores`` leaves out every pair with fewer
than 25 cases (``MIN_CASES``) and the paper's VG-Attribution number is the unweighted (macro) mean
of the remaining pairs' accuracies (their notebook: ``df.Accuracy.mean()``). The pair size is the
subset's case count, the ``n`` of its score (cases with a missing image included).
"""

from __future__ import annotations

from pathlib import Path

from ..cases import Subset
from . import BenchmarkDataError, Score, mean_score
from . import _aro

NAME = "aro-attribution"
FILE = "visual_genome_attribution.json"
EXPECTED = (f"{FILE} (ARO's VG-Attribution annotations, from mertyg/vision-language-models-are-bows) in "
            "--data-root; images: the authors' vgr_vga_images.zip unpacked as images/ beside it, or --images")

MIN_CASES = 25  # the authors' threshold: `if attr_mask.sum() < 25: continue`


def load(data_root: Path, images: Path | None) -> list[Subset]:
    return _aro.load(data_root, images, FILE, EXPECTED, _pair)


def _pair(path: Path, index: int, record: dict) -> str:
    pair = record.get("attributes")
    if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(a, str) and a for a in pair):
        raise BenchmarkDataError(f"{path}, record {index}: expected \"attributes\", a list of two non-empty strings")
    return f"{pair[0]}_{pair[1]}"


def averages(scores: list[Score]) -> list[Score]:
    own = [s for s in scores if s.metric == "accuracy" and not s.convention]
    kept = [s for s in own if s.n >= MIN_CASES]
    row = mean_score(kept, "all", "accuracy",
                     f"macro mean over the {len(kept)} attribute pairs with at least {MIN_CASES} cases "
                     f"({len(own) - len(kept)} smaller pairs left out, as the ARO authors' evaluate_scores)")
    return [row] if row else []
