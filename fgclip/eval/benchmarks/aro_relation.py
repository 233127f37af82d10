"""VG-Relation (ARO, Yuksekgonul et al., ICLR 2023): is "the horse is eating the grass" preferred to
"the grass is eating the horse" for a crop of a Visual Genome image?

File read (in --data-root): ``visual_genome_relation.json``, the authors' list of records
``{"image_path", "bbox_x", "bbox_y", "bbox_w", "bbox_h", "true_caption", "false_caption",
"relation_name", ...}`` (the paper: 23,937 cases over 48 relations). Images: the authors'
``vgr_vga_images.zip`` unpacked as ``images/`` beside the json file, or --images. Each case's
image is the region (x, y, w, h) of the record, handed on as ``ImageRef.box``; the scorer crops.

Subsets: one per ``relation_name``, as the authors' ``VG_Relation.evaluate_scores`` reports
them. Scoring: right when the true caption's similarity is strictly higher than the false one's.

Average ("all"): the paper's VG-Relation number is the unweighted (macro) mean of the
per-relation accuracies over the relations that are NOT in the list the authors call
``symmetric`` in notebooks/"Replicate ARO! VG-Relation, VG-Attribution.ipynb" (their
``df[~df.Relation.isin(symmetric)]``). That list is the set left out: 157 names, many of
them not symmetric at all (e.g. "drinking", "parked in"), and most absent from the file; it is
copied below as data, unchanged. The micro accuracy over all cases is not reported by the papers,
so no row is given for it.
"""

from __future__ import annotations

from pathlib import Path

from ..cases import Subset
from . import BenchmarkDataError, Score, mean_score
from . import _aro

NAME = "aro-relation"
FILE = "visual_genome_relation.json"
EXPECTED = (f"{FILE} (ARO's VG-Relation annotations, from mertyg/vision-language-models-are-bows) in "
            "--data-root; images: the authors' vgr_vga_images.zip unpacked as images/ beside it, or --images")

# The relation names left out of the average: the list named `symmetric` in the authors'
# notebooks/"Replicate ARO! VG-Relation, VG-Attribution.ipynb" (mertyg/vision-language-models-are-bows,
# commit 42dbb5e, Feb 2023), in their order.
EXCLUDED_RELATIONS = frozenset([
    "adjusting", "attached to", "between", "bigger than", "biting", "boarding", "brushing", "chewing",
    "cleaning", "climbing", "close to", "coming from", "coming out of", "contain", "crossing", "dragging",
    "draped over", "drinking", "drinking from", "driving", "driving down", "driving on", "eating from",
    "eating in", "enclosing", "exiting", "facing", "filled with", "floating in", "floating on", "flying",
    "flying above", "flying in", "flying over", "flying through", "full of", "going down", "going into",
    "going through", "grazing in", "growing in", "growing on", "guiding", "hanging from", "hanging in",
    "hanging off", "hanging over", "higher than", "holding onto", "hugging", "in between", "jumping off",
    "jumping on", "jumping over", "kept in", "larger than", "leading", "leaning over", "leaving", "licking",
    "longer than", "looking in", "looking into", "looking out", "looking over", "looking through",
    "lying next to", "lying on top of", "making", "mixed with", "mounted on", "moving", "on the back of",
    "on the edge of", "on the front of", "on the other side of", "opening", "painted on", "parked at",
    "parked beside", "parked by", "parked in", "parked in front of", "parked near", "parked next to",
    "perched on", "petting", "piled on", "playing", "playing in", "playing on", "playing with", "pouring",
    "reaching for", "reading", "reflected on", "riding on", "running in", "running on", "running through",
    "seen through", "sitting behind", "sitting beside", "sitting by", "sitting in front of", "sitting near",
    "sitting next to", "sitting under", "skiing down", "skiing on", "sleeping in", "sleeping on", "smiling at",
    "sniffing", "splashing", "sprinkled on", "stacked on", "standing against", "standing around",
    "standing behind", "standing beside", "standing in front of", "standing near", "standing next to",
    "staring at", "stuck in", "surrounding", "swimming in", "swinging", "talking to", "topped with", "touching",
    "traveling down", "traveling on", "tying", "typing on", "underneath", "wading in", "waiting for",
    "walking across", "walking by", "walking down", "walking next to", "walking through", "working in",
    "working on", "worn on", "wrapped around", "wrapped in", "by", "of", "near", "next to", "with", "beside",
    "on the side of", "around",
])


def load(data_root: Path, images: Path | None) -> list[Subset]:
    return _aro.load(data_root, images, FILE, EXPECTED, _relation)


def _relation(path: Path, index: int, record: dict) -> str:
    name = record.get("relation_name")
    if not isinstance(name, str) or not name:
        raise BenchmarkDataError(f"{path}, record {index}: expected a non-empty \"relation_name\" string")
    return name


def averages(scores: list[Score]) -> list[Score]:
    own = [s for s in scores if s.metric == "accuracy" and not s.convention]
    kept = [s for s in own if s.subset not in EXCLUDED_RELATIONS]
    left_out = len(own) - len(kept)
    row = mean_score(kept, "all", "accuracy",
                     f"macro mean over {len(kept)} relation names, {left_out} left out as the ARO authors' "
                     "'symmetric' list (their VG-Relation notebook)")
    return [row] if row else []
