"""The ARO loaders: VG-Relation, VG-Attribution, COCO-Order and Flickr30k-Order, on small
hand-made files in the authors' formats (the real files are not in shared/data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from fgclip.eval.benchmarks import BenchmarkDataError, Score, _order, aro_attribution, aro_relation, coco_order
from fgclip.eval.benchmarks import flickr_order, module
from fgclip.eval.cases import ImageRef, Selection

REPO = Path(__file__).resolve().parents[2]


def _draw(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), "white").save(path)


def _vg_record(image: str, box: tuple, true: str, false: str, **extra) -> dict:
    x, y, w, h = box
    return {"image_path": image, "bbox_x": x, "bbox_y": y, "bbox_w": w, "bbox_h": h,
            "true_caption": true, "false_caption": false, **extra}


# --- VG-Relation ---------------------------------------------------------------------------------

@pytest.fixture
def relation_root(tmp_path: Path) -> Path:
    records = [
        _vg_record("1.jpg", (10, 20, 30, 40), "the cup is on the table", "the table is on the cup", relation_name="on"),
        _vg_record("1.jpg", (0, 0, 8, 8), "the hat is on the man", "the man is on the hat", relation_name="on"),
        _vg_record("2.jpg", (1.5, 2, 3, 4), "the lamp is on the desk", "the desk is on the lamp", relation_name="on"),
        _vg_record("3.jpg", (0, 0, 5, 5), "the dog is behind the car", "the car is behind the dog",
                   relation_name="behind"),
        _vg_record("1.jpg", (2, 2, 4, 4), "the tree is behind the house", "the house is behind the tree",
                   relation_name="behind"),
        # "next to" is in the authors' exclusion list
        _vg_record("2.jpg", (0, 0, 6, 6), "the cat is next to the dog", "the dog is next to the cat",
                   relation_name="next to"),
        _vg_record("4.jpg", (0, 0, 6, 6), "the bag is next to the chair", "the chair is next to the bag",
                   relation_name="next to"),
    ]
    (tmp_path / "visual_genome_relation.json").write_text(json.dumps(records))
    _draw(tmp_path / "images" / "1.jpg")
    _draw(tmp_path / "images" / "2.jpg")  # 3.jpg and 4.jpg are missing
    return tmp_path


def test_relation_subsets_cases_boxes_and_missing(relation_root: Path):
    subsets = aro_relation.load(relation_root, None)
    assert [s.name for s in subsets] == ["behind", "next to", "on"]
    by_name = {s.name: s for s in subsets}
    assert {name: len(s.task) for name, s in by_name.items()} == {"behind": 2, "next to": 2, "on": 3}
    first = by_name["on"].task[0]
    assert first == Selection(ImageRef(str(relation_root / "images" / "1.jpg"), (10.0, 20.0, 30.0, 40.0)),
                              ("the cup is on the table", "the table is on the cup"), first.case_id)
    assert by_name["on"].task[2].image.box == (1.5, 2.0, 3.0, 4.0)
    assert by_name["on"].missing_images == []
    assert by_name["behind"].missing_images == [str(relation_root / "images" / "3.jpg")]
    assert by_name["next to"].missing_images == [str(relation_root / "images" / "4.jpg")]
    assert len({c.case_id for s in subsets for c in s.task}) == 7


def test_relation_images_folder_override(relation_root: Path, tmp_path: Path):
    other = tmp_path / "elsewhere"
    _draw(other / "3.jpg")
    subsets = {s.name: s for s in aro_relation.load(relation_root, other)}
    assert subsets["behind"].task[0].image.path == str(other / "3.jpg")
    assert subsets["behind"].missing_images == [str(other / "1.jpg")]
    assert subsets["on"].missing_images == [str(other / "1.jpg"), str(other / "2.jpg")]


def test_relation_average_leaves_out_the_authors_list():
    assert "next to" in aro_relation.EXCLUDED_RELATIONS and len(aro_relation.EXCLUDED_RELATIONS) == 157
    assert "on" not in aro_relation.EXCLUDED_RELATIONS and "behind" not in aro_relation.EXCLUDED_RELATIONS
    scores = [Score("behind", "accuracy", 50.0, 2, missing=1), Score("next to", "accuracy", 0.0, 2, missing=1),
              Score("on", "accuracy", 100.0, 3)]
    [row] = aro_relation.averages(scores)
    # (50 + 100) / 2, "next to" left out; n is the cases of the two kept relations
    assert (row.subset, row.metric, row.value, row.n, row.missing) == ("all", "accuracy", 75.0, 5, 1)
    assert "macro mean over 2 relation names, 1 left out" in row.convention
    assert aro_relation.averages([]) == []


def test_relation_errors_name_file_and_record(tmp_path: Path):
    with pytest.raises(BenchmarkDataError) as error:
        aro_relation.load(tmp_path, None)
    assert "visual_genome_relation.json" in str(error.value) and str(tmp_path) in str(error.value)

    bad_box = _vg_record("1.jpg", (0, 0, "8", 8), "a", "b", relation_name="on")
    (tmp_path / "visual_genome_relation.json").write_text(
        json.dumps([_vg_record("1.jpg", (0, 0, 8, 8), "a", "b", relation_name="on"), bad_box]))
    with pytest.raises(BenchmarkDataError, match=r"visual_genome_relation\.json, record 1: .*bbox_w"):
        aro_relation.load(tmp_path, None)

    (tmp_path / "visual_genome_relation.json").write_text(json.dumps([_vg_record("1.jpg", (0, 0, 8, 8), "a", "b")]))
    with pytest.raises(BenchmarkDataError, match=r"record 0: .*relation_name"):
        aro_relation.load(tmp_path, None)


# --- VG-Attribution ------------------------------------------------------------------------------

def test_attribution_pairs_and_threshold(tmp_path: Path):
    records = [_vg_record(f"{i % 3}.jpg", (0, 0, 4, 4), "the red cup and the blue plate",
                          "the blue cup and the red plate", attributes=["red", "blue"]) for i in range(25)]
    records += [_vg_record("9.jpg", (1, 1, 4, 4), "the white dog and the black cat",
                           "the black dog and the white cat", attributes=["white", "black"]) for _ in range(24)]
    (tmp_path / "visual_genome_attribution.json").write_text(json.dumps(records))
    for i in range(3):
        _draw(tmp_path / "images" / f"{i}.jpg")

    subsets = {s.name: s for s in aro_attribution.load(tmp_path, None)}
    assert {name: len(s.task) for name, s in subsets.items()} == {"red_blue": 25, "white_black": 24}
    assert subsets["red_blue"].missing_images == []
    assert subsets["white_black"].missing_images == [str(tmp_path / "images" / "9.jpg")]
    assert subsets["white_black"].task[0].image.box == (1.0, 1.0, 4.0, 4.0)
    assert subsets["white_black"].task[0].captions[0] == "the white dog and the black cat"

    scores = [Score("red_blue", "accuracy", 80.0, 25), Score("white_black", "accuracy", 0.0, 24, missing=24)]
    [row] = aro_attribution.averages(scores)
    assert (row.subset, row.value, row.n, row.missing) == ("all", 80.0, 25, 0)
    assert "1 attribute pairs with at least 25 cases (1 smaller" in row.convention
    assert aro_attribution.averages([Score("white_black", "accuracy", 0.0, 24)]) == []


def test_attribution_errors(tmp_path: Path):
    with pytest.raises(BenchmarkDataError) as error:
        aro_attribution.load(tmp_path, None)
    assert "visual_genome_attribution.json" in str(error.value) and str(tmp_path) in str(error.value)
    (tmp_path / "visual_genome_attribution.json").write_text(
        json.dumps([_vg_record("1.jpg", (0, 0, 8, 8), "a", "b", attributes=["red", "blue", "green"])]))
    with pytest.raises(BenchmarkDataError, match=r"visual_genome_attribution\.json, record 0: .*attributes"):
        aro_attribution.load(tmp_path, None)


# --- the Order perturbations ---------------------------------------------------------------------

CAPTIONS = [
    "A small brown dog is sitting on a red couch next to two cats.",
    "A man riding a wave on top of a surfboard.",
    "Two young girls eating ice cream in the park",
    "A kitchen with wooden cabinets and a stainless steel refrigerator.",
]


def test_perturbations_shuffle_words_only_and_differ():
    for caption in CAPTIONS:
        true, *shuffled = _order.options(caption)
        assert true == _order.pre_caption(" ".join(_order.tokenize(caption)))
        assert len(shuffled) == 4, caption
        for text in shuffled:
            assert text != true
            assert Counter(text.split()) == Counter(true.split())


def test_two_words_are_always_swapped():
    # A random permutation of two nouns is the identity half the time; the shuffle must still differ.
    animals = ["cat", "dog", "horse", "cow", "sheep", "bird", "zebra", "giraffe", "elephant"]  # PatternTagger tags "bear" VB
    captions = [f"a {x} and a {y}" for x in animals for y in animals if x != y]
    for caption in captions:
        swapped = _order.perturb(caption, "shuffle_nouns_and_adj")
        assert swapped == "a {} and a {}".format(*reversed(caption.split()[1::3])), caption


def test_noun_and_adjective_shuffles_move_only_those_words():
    caption = CAPTIONS[0].rstrip(".")  # punctuation is shuffled too, and pre_caption drops "."
    tokens = _order.tokenize(caption)
    tags = _order.pos_tags(tokens)
    true = _order.pre_caption(" ".join(tokens)).split()
    nouns_adjs = {i for i, t in enumerate(tags) if t in _order.NOUN_TAGS | _order.ADJECTIVE_TAGS}
    assert {tokens[i] for i in nouns_adjs} >= {"dog", "couch", "cats", "small", "brown", "red"}
    moved = _order.perturb(caption, "shuffle_nouns_and_adj").split()
    rest = _order.perturb(caption, "shuffle_allbut_nouns_and_adj").split()
    assert len(moved) == len(rest) == len(true) == len(tokens)
    for i, word in enumerate(true):
        if i in nouns_adjs:
            assert rest[i] == word
        else:
            assert moved[i] == word


def test_trigram_shuffles_keep_their_trigrams():
    caption = "one two three four five six seven"
    within = _order.perturb(caption, "shuffle_within_trigrams").split()
    assert [set(within[i:i + 3]) for i in (0, 3, 6)] == [{"one", "two", "three"}, {"four", "five", "six"}, {"seven"}]
    across = _order.perturb(caption, "shuffle_trigrams").split()
    chunks = [tuple(across[i:i + 3]) for i in range(len(across))]
    for trigram in (("one", "two", "three"), ("four", "five", "six")):
        assert trigram in chunks


def test_impossible_perturbations_are_left_out():
    assert _order.perturbations("Dog.") == dict.fromkeys(_order.PERTURBATIONS)
    assert _order.options("Dog.") == ("dog",)
    # one noun and one adjective: nothing to swap them with; the second "trigram" is the "." that
    # pre_caption drops, so moving it changes nothing; the rest can still move
    result = _order.perturbations("A red dog.")
    assert result["shuffle_nouns_and_adj"] is None and result["shuffle_trigrams"] is None
    assert result["shuffle_allbut_nouns_and_adj"] not in (None, "a red dog")
    assert result["shuffle_within_trigrams"] not in (None, "a red dog")
    assert _order.options("A red dog.")[0] == "a red dog" and len(_order.options("A red dog.")) == 3


def test_pre_caption_is_the_authors_normalization():
    assert _order.pre_caption('A "Big" dog: (running)!  Fast; ~ok* #1') == "a big dog running fast ok 1"
    assert _order.pre_caption(" ".join(f"w{i}" for i in range(40))) == " ".join(f"w{i}" for i in range(30))


def test_perturbations_are_deterministic_across_processes():
    here = {caption: _order.perturbations(caption) for caption in CAPTIONS}
    code = ("import json, sys; from fgclip.eval.benchmarks import _order; "
            "print(json.dumps({c: _order.perturbations(c) for c in json.loads(sys.argv[1])}))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, json.dumps(CAPTIONS)], capture_output=True, text=True,
                         check=True, cwd=REPO, env=env).stdout
    assert json.loads(out) == here
    # the seed depends on the caption and the perturbation only
    assert _order.seed_for("shuffle_trigrams", "a b c") == _order.seed_for("shuffle_trigrams", "a b c")
    assert _order.seed_for("shuffle_trigrams", "a b c") != _order.seed_for("shuffle_within_trigrams", "a b c")


# --- COCO-Order and Flickr30k-Order loaders --------------------------------------------------------

def _karpathy_image(filename: str, split: str, captions: list[str], filepath: str | None = None) -> dict:
    record = {"filename": filename, "split": split, "imgid": 0,
              "sentences": [{"raw": c, "tokens": c.lower().rstrip(".").split()} for c in captions]}
    if filepath is not None:
        record["filepath"] = filepath
    return record


def test_coco_order_from_karpathy_file(tmp_path: Path):
    a, b, c = (f"COCO_val2014_00000000000{i}.jpg" for i in (1, 2, 3))
    data = {"dataset": "coco", "images": [
        _karpathy_image(a, "test", CAPTIONS[:2], "val2014"),
        _karpathy_image(b, "test", CAPTIONS[2:3], "val2014"),
        _karpathy_image(c, "train", CAPTIONS, "val2014"),
        _karpathy_image(c, "restval", CAPTIONS, "val2014"),
        _karpathy_image(c, "val", CAPTIONS, "val2014"),
    ]}
    (tmp_path / "dataset_coco.json").write_text(json.dumps(data))
    _draw(tmp_path / "val2014" / a)  # b is missing

    [subset] = coco_order.load(tmp_path, None)
    assert subset.name == "all" and len(subset.task) == 3
    assert subset.meta["source"] == "dataset_coco.json" and subset.meta["images"] == 2
    assert [case.image.path for case in subset.task] == [str(tmp_path / "val2014" / a)] * 2 + [
        str(tmp_path / "val2014" / b)]
    assert all(case.image.box is None for case in subset.task)
    assert subset.missing_images == [str(tmp_path / "val2014" / b)]
    assert [case.captions for case in subset.task] == [_order.options(c) for c in CAPTIONS[:3]]
    assert len({case.case_id for case in subset.task}) == 3
    assert coco_order.load(tmp_path, None)[0].task == subset.task  # deterministic

    images = tmp_path / "coco"
    [moved] = coco_order.load(tmp_path, images)
    assert moved.task[2].image.path == str(images / "val2014" / b)
    assert len(moved.missing_images) == 2
    assert coco_order.averages([Score("all", "accuracy", 50.0, 3)]) == []


def test_coco_order_prefers_the_authors_file(tmp_path: Path):
    (tmp_path / "dataset_coco.json").write_text(json.dumps({"images": []}))
    authors = [{"image": "val2014/COCO_val2014_000000000001.jpg", "caption": CAPTIONS[:3]}]
    (tmp_path / "coco_karpathy_test.json").write_text(json.dumps(authors))
    [subset] = coco_order.load(tmp_path, None)
    assert subset.meta["source"] == "coco_karpathy_test.json" and len(subset.task) == 3
    assert subset.task[0].image.path == str(tmp_path / "val2014" / "COCO_val2014_000000000001.jpg")
    assert subset.missing_images == [subset.task[0].image.path]


def test_flickr_order_image_layouts(tmp_path: Path):
    authors = [{"image": "flickr30k-images/1000.jpg", "caption": CAPTIONS[:2]},
               {"image": "flickr30k-images/2000.jpg", "caption": CAPTIONS[2:]}]
    (tmp_path / "flickr30k_test.json").write_text(json.dumps(authors))
    _draw(tmp_path / "flickr30k-images" / "2000.jpg")
    [subset] = flickr_order.load(tmp_path, None)
    assert len(subset.task) == 4 and subset.meta["images"] == 2
    assert subset.task[0].image.path == str(tmp_path / "flickr30k-images" / "1000.jpg")
    assert subset.missing_images == [str(tmp_path / "flickr30k-images" / "1000.jpg")]

    karpathy_root = tmp_path / "karpathy"
    karpathy_root.mkdir()
    data = {"images": [_karpathy_image("1000.jpg", "test", CAPTIONS), _karpathy_image("3000.jpg", "train", CAPTIONS)]}
    (karpathy_root / "dataset_flickr30k.json").write_text(json.dumps(data))
    jpgs = tmp_path / "jpgs"
    _draw(jpgs / "1000.jpg")
    [subset] = flickr_order.load(karpathy_root, jpgs)
    assert len(subset.task) == 4 and subset.missing_images == []
    assert {case.image.path for case in subset.task} == {str(jpgs / "1000.jpg")}


def test_order_errors_name_the_files(tmp_path: Path):
    for benchmark, files in ((coco_order, ("coco_karpathy_test.json", "dataset_coco.json")),
                             (flickr_order, ("flickr30k_test.json", "dataset_flickr30k.json"))):
        with pytest.raises(BenchmarkDataError) as error:
            benchmark.load(tmp_path, None)
        assert all(name in str(error.value) for name in files) and str(tmp_path) in str(error.value)

    data = {"images": [_karpathy_image("1.jpg", "test", ["a cat"]), {"filename": "2.jpg", "split": "test",
                                                                     "sentences": [{"tokens": ["a"]}]}]}
    (tmp_path / "dataset_flickr30k.json").write_text(json.dumps(data))
    with pytest.raises(BenchmarkDataError, match=r"dataset_flickr30k\.json, images\[1\]"):
        flickr_order.load(tmp_path, None)
    (tmp_path / "coco_karpathy_test.json").write_text(json.dumps([{"image": "val2014/x.jpg", "caption": []}]))
    with pytest.raises(BenchmarkDataError, match=r"coco_karpathy_test\.json, record 0"):
        coco_order.load(tmp_path, None)


def test_registered_names():
    for name in ("aro-relation", "aro-attribution", "coco-order", "flickr-order"):
        assert module(name).NAME == name
        assert module(name).EXPECTED
