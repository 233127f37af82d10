"""One scorer per task type, on features from any encoder (fgclip.eval.encoders).

Every image and every text of a subset is encoded once, however many cases share it
(SugarCrepe's 7,511 cases use 1,560 images). Ties count as wrong, as the benchmarks' own
scripts do: a caption is chosen only when its similarity is strictly the highest. A case whose
image is missing stays in the denominator as wrong and is counted in ``missing``; so does one
whose image the encoder cannot read (empty, corrupt, not a regular file: see
:class:`~fgclip.eval.cases.UnreadableImages`).
"""

from __future__ import annotations

from typing import Protocol, Sequence

import torch

from .benchmarks import Score
from .cases import ClassificationSet, Group, ImageRef, RetrievalSet, Selection, Subset, UnreadableImages

RECALL_AT = (1, 5, 10)  # metrics i2t_r1 ... t2i_r10: image-to-text and text-to-image recall@K
TOP_K = (1, 5)


class Encoder(Protocol):
    """L2-normalised features, one row per input, float32 on the CPU."""

    def encode_images(self, images: Sequence[ImageRef]) -> torch.Tensor: ...

    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor: ...


def score_subset(subset: Subset, encoder: Encoder) -> list[Score]:
    """The subset's scores. Images the encoder reports unreadable join ``subset.missing_images``
    (their reasons in ``subset.unreadable``) and the subset is scored again without them: the
    encoder checks a call's images before encoding any, so only an image that passes that check
    and then fails to decode costs work done twice."""
    while True:
        try:
            return _score(subset, set(subset.missing_images), encoder)
        except UnreadableImages as err:
            found = {path: reason for path, reason in err.reasons.items() if path not in subset.missing_images}
            if not found:
                raise  # nothing new to leave out: scoring again would fail the same way
            subset.missing_images.extend(found)
            subset.unreadable.update(found)


def _score(subset: Subset, missing: set[str], encoder: Encoder) -> list[Score]:
    task = subset.task
    if isinstance(task, RetrievalSet):
        return _retrieval(subset.name, task, missing, encoder)
    if isinstance(task, ClassificationSet):
        return _classification(subset.name, task, missing, encoder)
    cases = list(task)
    if cases and isinstance(cases[0], Group):
        return _groups(subset.name, cases, missing, encoder)
    if not cases or isinstance(cases[0], Selection):
        return _selection(subset.name, cases, missing, encoder)
    raise TypeError(f"subset {subset.name}: unknown task {type(cases[0]).__name__}")


class _Features:
    """Encode each unique image / text once; look rows up by image key or text."""

    def __init__(self, encoder: Encoder, images: Sequence[ImageRef], texts: Sequence[str]):
        unique_images = list({image.key(): image for image in images}.values())
        unique_texts = list(dict.fromkeys(texts))
        self.image_row = {image.key(): i for i, image in enumerate(unique_images)}
        self.text_row = {text: i for i, text in enumerate(unique_texts)}
        self.images = encoder.encode_images(unique_images) if unique_images else torch.empty(0, 0)
        self.texts = encoder.encode_texts(unique_texts) if unique_texts else torch.empty(0, 0)

    def text_rows(self, texts: Sequence[str]) -> torch.Tensor:
        return self.texts[[self.text_row[t] for t in texts]]

    def similarities(self, texts: Sequence[str], images: Sequence[ImageRef]) -> torch.Tensor:
        """``[text, image]`` similarities, each distinct (text, image) pair computed once.

        Two equal captions (or images) must score bit for bit the same, so that the tie counts as
        wrong as the authors' scripts count it; a matrix product over two equal rows need not give
        equal results in the last bits, so the product runs over the distinct ones and is indexed."""
        text_rows = [self.text_row[t] for t in texts]
        image_rows = [self.image_row[i.key()] for i in images]
        distinct_texts, distinct_images = list(dict.fromkeys(text_rows)), list(dict.fromkeys(image_rows))
        product = self.texts[distinct_texts] @ self.images[distinct_images].T
        return product[[distinct_texts.index(r) for r in text_rows]][:, [distinct_images.index(r) for r in image_rows]]


def _percent(correct: int, n: int) -> float:
    return 100.0 * correct / n if n else 0.0


def _selection(name: str, cases: list[Selection], missing: set[str], encoder: Encoder) -> list[Score]:
    present = [case for case in cases if case.image.path not in missing]
    features = _Features(encoder, [c.image for c in present], [t for c in present for t in c.captions])
    correct = 0
    for case in present:
        similarity = features.similarities(case.captions, [case.image])[:, 0]
        correct += bool(similarity[0] > similarity[1:].max()) if len(case.captions) > 1 else 1
    return [Score(name, "accuracy", _percent(correct, len(cases)), len(cases), missing=len(cases) - len(present))]


def _groups(name: str, cases: list[Group], missing: set[str], encoder: Encoder) -> list[Score]:
    """Winoground's scores, with s(c, i) the similarity of caption c and image i:
    text: s(c0,i0) > s(c1,i0) and s(c1,i1) > s(c0,i1); image: s(c0,i0) > s(c0,i1) and
    s(c1,i1) > s(c1,i0); group: both."""
    present = [c for c in cases if not any(image.path in missing for image in c.images)]
    features = _Features(encoder, [i for c in present for i in c.images], [t for c in present for t in c.captions])
    text = image = group = 0
    for case in present:
        s = features.similarities(case.captions, case.images)  # s[caption, image]
        text_ok = bool(s[0, 0] > s[1, 0]) and bool(s[1, 1] > s[0, 1])
        image_ok = bool(s[0, 0] > s[0, 1]) and bool(s[1, 1] > s[1, 0])
        text, image, group = text + text_ok, image + image_ok, group + (text_ok and image_ok)
    n, lost = len(cases), len(cases) - len(present)
    return [Score(name, metric, _percent(count, n), n, missing=lost)
            for metric, count in (("text", text), ("image", image), ("group", group))]


def _rank_of_best(scores: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """Per row, 1 + the number of negatives scoring at least the best positive (a tie loses)."""
    best = scores.masked_fill(~positive, float("-inf")).max(dim=1).values
    beaten_or_tied = (scores >= best.unsqueeze(1)) & ~positive
    return 1 + beaten_or_tied.sum(dim=1)


def _retrieval(name: str, task: RetrievalSet, missing: set[str], encoder: Encoder) -> list[Score]:
    present = [i for i, image in enumerate(task.images) if image.path not in missing]
    features = _Features(encoder, [task.images[i] for i in present], task.captions)
    image_features = features.images if present else None
    caption_image = torch.tensor(task.caption_image)
    n_images, n_captions = len(task.images), len(task.captions)
    scores = []
    if image_features is not None:
        # [present images, captions], from the distinct ones: equal captions tie exactly
        distinct = image_features @ features.texts.T
        similarity = distinct[[features.image_row[task.images[i].key()] for i in present]][
            :, [features.text_row[c] for c in task.captions]]
        owns = caption_image.unsqueeze(0) == torch.tensor(present).unsqueeze(1)
        rank_i2t = _rank_of_best(similarity, owns)
        # a caption whose image is missing has no positive in the gallery: never found
        has_image = owns.any(dim=0)
        rank_t2i = _rank_of_best(similarity.T[has_image], owns.T[has_image])
    for k in RECALL_AT:
        hits = int((rank_i2t <= k).sum()) if image_features is not None else 0
        scores.append(Score(name, f"i2t_r{k}", _percent(hits, n_images), n_images, missing=n_images - len(present)))
    lost_captions = n_captions - (int(has_image.sum()) if image_features is not None else 0)
    for k in RECALL_AT:
        hits = int((rank_t2i <= k).sum()) if image_features is not None else 0
        scores.append(Score(name, f"t2i_r{k}", _percent(hits, n_captions), n_captions, missing=lost_captions))
    return scores


def _classification(name: str, task: ClassificationSet, missing: set[str], encoder: Encoder) -> list[Score]:
    """Zero-shot: a class's weight is the normalised mean of its prompts' normalised features."""
    prompts = [template.format(classname) for classname in task.classnames for template in task.templates]
    text = encoder.encode_texts(prompts).reshape(len(task.classnames), len(task.templates), -1)
    weights = torch.nn.functional.normalize(text.mean(dim=1), dim=-1)
    present = [i for i, image in enumerate(task.images) if image.path not in missing]
    hits = {k: 0 for k in TOP_K}
    if present:
        image_features = encoder.encode_images([task.images[i] for i in present])
        labels = torch.tensor([task.labels[i] for i in present])
        logits = image_features @ weights.T
        true = logits.gather(1, labels.unsqueeze(1))
        rank = 1 + ((logits >= true) & (torch.arange(logits.shape[1]) != labels.unsqueeze(1))).sum(dim=1)
        hits = {k: int((rank <= k).sum()) for k in TOP_K}
    n = len(task.images)
    return [Score(name, f"top{k}", _percent(hits[k], n), n, missing=n - len(present)) for k in TOP_K]
