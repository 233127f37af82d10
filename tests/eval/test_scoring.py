"""The scorers against hand-computed values, with a stub encoder whose similarities are known."""

from __future__ import annotations

import math
import zlib

import pytest
import torch

from fgclip.eval.cases import ClassificationSet, Group, ImageRef, RetrievalSet, Selection, Subset
from fgclip.eval.encoders import CachedEncoder, FeatureCache
from fgclip.eval.scoring import score_subset


def unit(degrees: float) -> list[float]:
    """A unit vector in the plane: the cosine of two of them is cos(angle between)."""
    return [math.cos(math.radians(degrees)), math.sin(math.radians(degrees))]


class StubEncoder:
    """Vectors looked up by image path and by text; counts what it is asked to encode."""

    def __init__(self, images: dict[str, list[float]], texts: dict[str, list[float]]):
        self.images, self.texts = images, texts
        self.image_calls: list[str] = []
        self.text_calls: list[str] = []

    def encode_images(self, refs):
        self.image_calls += [ref.path for ref in refs]
        return torch.nn.functional.normalize(torch.tensor([self.images[ref.path] for ref in refs]), dim=-1)

    def encode_texts(self, texts):
        self.text_calls += list(texts)
        return torch.nn.functional.normalize(torch.tensor([self.texts[t] for t in texts]), dim=-1)


def scores_by_metric(scores):
    return {s.metric: s for s in scores}


def test_selection_counts_ties_and_missing_images_as_wrong():
    encoder = StubEncoder({"a.jpg": unit(0), "b.jpg": unit(90), "gone.jpg": unit(0)},
                          {"right": unit(10), "wrong": unit(40), "tie-1": unit(30), "tie-2": unit(-30),
                           "far": unit(170), "near": unit(80)})
    cases = [
        Selection(ImageRef("a.jpg"), ("right", "wrong")),  # cos 10 > cos 40: correct
        Selection(ImageRef("a.jpg"), ("tie-1", "tie-2")),  # equal similarity: wrong
        Selection(ImageRef("b.jpg"), ("far", "near", "right")),  # near (10 deg off) beats far: wrong
        Selection(ImageRef("gone.jpg"), ("right", "wrong")),  # image missing: wrong, counted
    ]
    score, = score_subset(Subset("s", cases, missing_images=["gone.jpg"]), encoder)
    assert (score.metric, score.n, score.missing) == ("accuracy", 4, 1)
    assert score.value == pytest.approx(25.0)
    assert sorted(encoder.image_calls) == ["a.jpg", "b.jpg"]  # each once; the missing one never
    assert sorted(encoder.text_calls) == sorted({"right", "wrong", "tie-1", "tie-2", "far", "near"})


def test_group_scores_follow_winoground_definitions():
    # case 1: both captions closest to their own image in both directions -> text, image, group
    # case 2: caption 0 closest to image 0, but caption 1 is also closest to image 0:
    #         image score needs s(c1,i1) > s(c1,i0): fails; text score needs s(c1,i1) > s(c0,i1)
    encoder = StubEncoder(
        {"i0": unit(0), "i1": unit(90), "j0": unit(0), "j1": unit(90)},
        {"c0": unit(5), "c1": unit(85), "d0": unit(0), "d1": unit(40)})
    cases = [Group((ImageRef("i0"), ImageRef("i1")), ("c0", "c1")),
             Group((ImageRef("j0"), ImageRef("j1")), ("d0", "d1"))]
    scores = scores_by_metric(score_subset(Subset("all", cases), encoder))
    # case 2: s(d0,j0)=1, s(d1,j0)=cos40=.77, s(d0,j1)=0, s(d1,j1)=cos50=.64
    # text: s(d0,j0) > s(d1,j0) yes; s(d1,j1) .64 > s(d0,j1) 0 yes -> text correct
    # image: s(d0,j0) 1 > s(d0,j1) 0 yes; s(d1,j1) .64 > s(d1,j0) .77 no -> image wrong
    assert scores["text"].value == pytest.approx(100.0)
    assert scores["image"].value == pytest.approx(50.0)
    assert scores["group"].value == pytest.approx(50.0)
    assert all(s.n == 2 for s in scores.values())


def test_retrieval_recall_in_both_directions_by_hand():
    # images at 0, 60, 120 degrees; captions: two for image 0, one each for 1 and 2, plus one
    # for image 1 that sits nearer image 2.
    encoder = StubEncoder({"p0": unit(0), "p1": unit(60), "p2": unit(120)},
                          {"a": unit(5), "b": unit(-20), "c": unit(62), "d": unit(118), "e": unit(100)})
    task = RetrievalSet((ImageRef("p0"), ImageRef("p1"), ImageRef("p2")), ("a", "b", "c", "d", "e"), (0, 0, 1, 1, 2))
    scores = scores_by_metric(score_subset(Subset("r", task), encoder))
    # image->text: p0's best own caption a (5 deg) ranks 1; p1's own c (2 deg) ranks 1;
    # p2's own e (20 deg) ranks behind d (2 deg): rank 2.
    assert scores["i2t_r1"].value == pytest.approx(200 / 3)
    assert scores["i2t_r5"].value == pytest.approx(100.0)
    # text->image: a->p0 1, b->p0 1, c->p1 1, d->p1 (p2 is 2 deg away, p1 58): rank 2,
    # e->p2 (p2 20 deg, p1 40): rank 1
    assert scores["t2i_r1"].value == pytest.approx(80.0)
    assert scores["t2i_r5"].value == pytest.approx(100.0)
    assert scores["t2i_r1"].n == 5 and scores["i2t_r1"].n == 3


def test_retrieval_with_a_missing_image_loses_its_queries_and_captions():
    encoder = StubEncoder({"p0": unit(0), "p1": unit(90)}, {"a": unit(0), "b": unit(90)})
    task = RetrievalSet((ImageRef("p0"), ImageRef("p1")), ("a", "b"), (0, 1))
    scores = scores_by_metric(score_subset(Subset("r", task, missing_images=["p1"]), encoder))
    assert scores["i2t_r1"].value == pytest.approx(50.0) and scores["i2t_r1"].missing == 1
    assert scores["t2i_r1"].value == pytest.approx(50.0) and scores["t2i_r1"].missing == 1


def test_zero_shot_averages_the_prompts_and_ranks_with_ties_wrong():
    texts = {"a cat": unit(0), "a photo of a cat": unit(20), "a dog": unit(90), "a photo of a dog": unit(70)}
    # class cat ~ 10 deg, class dog ~ 80 deg
    encoder = StubEncoder({"x": unit(0), "y": unit(80), "z": unit(45), "w": unit(30)}, texts)
    task = ClassificationSet((ImageRef("x"), ImageRef("y"), ImageRef("z"), ImageRef("w")), (0, 1, 1, 1),
                             ("cat", "dog"), ("a {}", "a photo of a {}"))
    scores = scores_by_metric(score_subset(Subset("z", task), encoder))
    # x -> cat (right); y -> dog (right); z at 45 is equidistant from 10 and 80: a tie, wrong;
    # w at 30 -> cat (wrong)
    assert scores["top1"].value == pytest.approx(50.0)
    assert scores["top5"].value == pytest.approx(100.0)


def test_each_image_and_text_is_encoded_once_across_subsets_and_reruns(tmp_path):
    images = {f"img{i}.jpg": unit(10 * i) for i in range(3)}
    for path in images:
        (tmp_path / path).write_bytes(b"stand-in")
    texts = {f"t{i}": unit(7 * i) for i in range(6)}
    stub = StubEncoder({str(tmp_path / p): v for p, v in images.items()}, texts)
    subsets = [
        Subset(f"s{k}", [Selection(ImageRef(str(tmp_path / f"img{i % 3}.jpg")), (f"t{(i + k) % 6}", f"t{(i + k + 1) % 6}"))
                         for i in range(5)])
        for k in range(3)
    ]
    encoder = CachedEncoder(stub, FeatureCache(tmp_path / "cache"))
    first = [score_subset(s, encoder) for s in subsets]
    assert sorted(stub.image_calls) == sorted(str(tmp_path / p) for p in images)  # 3 images for 15 cases
    assert sorted(stub.text_calls) == sorted(texts)
    encoder.cache.flush()
    again = CachedEncoder(stub, FeatureCache(tmp_path / "cache"))  # a new run: read back from disk
    stub.image_calls.clear()
    stub.text_calls.clear()
    second = [score_subset(s, again) for s in subsets]
    assert stub.image_calls == [] and stub.text_calls == []
    assert [[s.value for s in group] for group in second] == [[s.value for s in group] for group in first]


def test_a_replaced_image_file_is_encoded_again(tmp_path):
    path = tmp_path / "img.jpg"
    path.write_bytes(b"one")
    stub = StubEncoder({str(path): unit(0)}, {"a": unit(0), "b": unit(90)})
    encoder = CachedEncoder(stub, FeatureCache(tmp_path / "cache"))
    subset = Subset("s", [Selection(ImageRef(str(path)), ("a", "b"))])
    score_subset(subset, encoder)
    path.write_bytes(b"a different, longer file")
    score_subset(subset, encoder)
    assert stub.image_calls == [str(path), str(path)]


def test_load_image_crops_to_the_box_and_reads_bgr_frames(tmp_path):
    import numpy as np
    from PIL import Image

    from fgclip.eval.encoders import load_image

    pixels = np.zeros((10, 20, 3), dtype=np.uint8)
    pixels[:, :, 0] = 200  # red
    Image.fromarray(pixels).save(tmp_path / "red.png")
    cropped = load_image(ImageRef(str(tmp_path / "red.png"), box=(2, 3, 5, 4)))
    assert cropped.size == (5, 4) and cropped.getpixel((0, 0)) == (200, 0, 0)
    np.save(tmp_path / "frame.npy", pixels)  # stored BGR: channel 0 is blue
    assert load_image(ImageRef(str(tmp_path / "frame.npy"))).getpixel((0, 0)) == (0, 0, 200)


class RandomEncoder:
    """Random 512-d unit features, each drawn from a seed made of the image path or text, so the
    same input gets the same vector whatever else is encoded with it."""

    def __init__(self, seed: int = 0):
        self.seed = seed

    def _rows(self, keys):
        rows = [torch.randn(512, generator=torch.Generator().manual_seed(zlib.crc32(f"{self.seed}:{key}".encode())))
                for key in keys]
        return torch.nn.functional.normalize(torch.stack(rows), dim=-1)

    def encode_images(self, refs):
        return self._rows([f"image:{ref.path}" for ref in refs])

    def encode_texts(self, texts):
        return self._rows([f"text:{t}" for t in texts])


def test_identical_captions_tie_exactly_inside_a_large_batch():
    # A case whose true and false captions are one string is a tie, wrong in the authors' scripts:
    # its two scores must be bit-identical, whatever row of a big text matrix the string sits on.
    cases = [Selection(ImageRef(f"{i % 50}.jpg"), (f"caption {i}", f"caption {i}")) for i in range(1000)]
    cases += [Selection(ImageRef(f"{i % 50}.jpg"), (f"other {i}", f"caption {i}", f"other {i}")) for i in range(200)]
    score, = score_subset(Subset("same", cases), RandomEncoder())
    assert score.value == 0.0
    groups = [Group((ImageRef(f"{i}.jpg"), ImageRef(f"{i}.jpg")), (f"g {i}", f"g {i}")) for i in range(300)]
    by_metric = scores_by_metric(score_subset(Subset("groups", groups), RandomEncoder()))
    assert by_metric["text"].value == by_metric["image"].value == by_metric["group"].value == 0.0


def test_identical_captions_of_two_images_tie_exactly_in_retrieval():
    images = tuple(ImageRef(f"{i}.jpg") for i in range(40))
    # images 2k and 2k+1 have one caption each, the same text: for each image its own caption
    # ties with the other image's, so none is found at rank 1 (a tie with a wrong item loses)
    captions = tuple(f"shared {i // 2}" for i in range(40))
    task = RetrievalSet(images, captions, tuple(range(40)))
    by_metric = scores_by_metric(score_subset(Subset("r", task), RandomEncoder()))
    assert by_metric["i2t_r1"].value == 0.0


def test_vl_checklists_own_equal_caption_cases_all_count_as_wrong(tmp_path):
    # The real files hold cases whose POS and NEG are one string (35 in the three shipped here).
    from fgclip.eval.benchmarks import vl_checklist

    from .test_loaders_text import shared

    same = [case for subset in vl_checklist.load(shared("vl-checklist"), tmp_path) for case in subset.task
            if case.captions[0] == case.captions[1]]
    assert len(same) >= 30
    others = [Selection(ImageRef(f"{i}.jpg"), (f"t{i}", f"u{i}")) for i in range(500)]  # a large text matrix
    # images count as present (features by path): the equal-caption cases add no right answer
    mixed, = score_subset(Subset("mixed", same + others), RandomEncoder())
    alone, = score_subset(Subset("others", others), RandomEncoder())
    assert round(mixed.value * mixed.n) == round(alone.value * alone.n) and mixed.missing == 0
    same_only, = score_subset(Subset("same", same), RandomEncoder(seed=1))
    assert same_only.value == 0.0
