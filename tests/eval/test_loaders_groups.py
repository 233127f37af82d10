"""The Winoground, EqBen, retrieval and zero-shot loaders on hand-made files in each real format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fgclip.eval.benchmarks import BenchmarkDataError, Score, eqben, module, retrieval, winoground, zeroshot
from fgclip.eval.cases import ClassificationSet, Group, RetrievalSet


def draw(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npy":  # EqBen-Youcook2 frames: BGR arrays saved with numpy
        np.save(path, np.zeros((8, 8, 3), dtype=np.uint8))
    else:
        Image.new("RGB", (8, 8), (200, 40, 40)).save(path)


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")


def test_registry_names_these_modules():
    for name, mod in (("winoground", winoground), ("eqben", eqben), ("retrieval", retrieval),
                      ("zeroshot", zeroshot)):
        assert module(name) is mod
        assert mod.NAME == name


# --- Winoground ---------------------------------------------------------------------------------

def wino_record(i: int, tag: str) -> dict:
    # The fields of facebook/winoground's data/examples.jsonl.
    return {"id": i, "image_0": f"ex_{i}_img_0", "image_1": f"ex_{i}_img_1",
            "caption_0": f"the dog bites man {i}", "caption_1": f"the man bites dog {i}",
            "tag": "Noun", "secondary_tag": "", "num_main_preds": 1, "collapsed_tag": tag}


@pytest.fixture
def winoground_root(tmp_path: Path) -> Path:
    tags = ["Relation", "Object", "Relation", "Both", "Object", "Relation"]
    write_jsonl(tmp_path / "data" / "examples.jsonl", [wino_record(i, t) for i, t in enumerate(tags)])
    for i in range(len(tags)):
        for j in (0, 1):
            if (i, j) != (4, 1):  # ex_4_img_1 (an Object example) is absent
                draw(tmp_path / "data" / "images" / f"ex_{i}_img_{j}.png")
    return tmp_path


def test_winoground_subsets_all_and_collapsed_tags(winoground_root: Path):
    subsets = winoground.load(winoground_root, None)
    assert [s.name for s in subsets] == ["all", "Object", "Relation", "Both"]
    assert [len(s.task) for s in subsets] == [6, 2, 3, 1]
    by_name = {s.name: s for s in subsets}
    assert [c.case_id for c in by_name["Relation"].task] == ["0", "2", "5"]
    assert [c.case_id for c in by_name["Object"].task] == ["1", "4"]
    first = by_name["all"].task[0]
    assert isinstance(first, Group)
    images = winoground_root / "data" / "images"
    assert [r.path for r in first.images] == [str(images / "ex_0_img_0.png"), str(images / "ex_0_img_1.png")]
    assert first.captions == ("the dog bites man 0", "the man bites dog 0")
    assert by_name["Both"].meta == {"collapsed_tag": "Both"}


def test_winoground_secondary_tags_are_subsets_beside_the_collapsed_tags(tmp_path: Path):
    secondary = ["", "Symbolic", "Pragmatics", "Symbolic, Series", "Series", "NewTag"]
    records = []
    for i, tag in enumerate(secondary):
        record = wino_record(i, "Object" if i % 2 else "Relation")
        record["secondary_tag"] = tag
        records.append(record)
    write_jsonl(tmp_path / "data" / "examples.jsonl", records)
    by_name = {s.name: s for s in winoground.load(tmp_path, None)}
    assert list(by_name) == ["all", "Object", "Relation", "secondary:Symbolic", "secondary:Series",
                             "secondary:Pragmatics", "secondary:NewTag"]
    assert [c.case_id for c in by_name["secondary:Symbolic"].task] == ["1", "3"]
    assert [c.case_id for c in by_name["secondary:Series"].task] == ["3", "4"]
    assert by_name["secondary:Pragmatics"].meta == {"secondary_tag": "Pragmatics"}
    assert len(by_name["all"].task) == 6  # the tags add subsets, they take nothing from "all"


def test_winoground_missing_image_counted_in_all_and_its_tag(winoground_root: Path):
    by_name = {s.name: s for s in winoground.load(winoground_root, None)}
    absent = str(winoground_root / "data" / "images" / "ex_4_img_1.png")
    assert by_name["all"].missing_images == [absent]
    assert by_name["Object"].missing_images == [absent]
    assert by_name["Relation"].missing_images == []
    assert by_name["Both"].missing_images == []
    assert len(by_name["all"].task) == 6  # kept, not dropped


def test_winoground_examples_at_root_and_images_override(tmp_path: Path):
    write_jsonl(tmp_path / "examples.jsonl", [wino_record(0, "Object"), wino_record(1, "Both")])
    elsewhere = tmp_path / "pngs"
    draw(elsewhere / "ex_0_img_0.png")
    subsets = winoground.load(tmp_path, elsewhere)
    assert [s.name for s in subsets] == ["all", "Object", "Both"]
    assert subsets[0].task[1].images[0].path == str(elsewhere / "ex_1_img_0.png")
    assert subsets[0].missing_images == [str(elsewhere / p) for p in ("ex_0_img_1.png", "ex_1_img_0.png",
                                                                       "ex_1_img_1.png")]


def test_winoground_absent_file_names_it(tmp_path: Path):
    with pytest.raises(BenchmarkDataError) as error:
        winoground.load(tmp_path, None)
    message = str(error.value)
    assert "data/examples.jsonl" in message and str(tmp_path) in message and "images" in message


def test_winoground_malformed_line_names_file_and_line(tmp_path: Path):
    broken = wino_record(2, "Object")
    del broken["caption_1"]
    write_jsonl(tmp_path / "data" / "examples.jsonl", [wino_record(0, "Object"), wino_record(1, "Both"), broken])
    with pytest.raises(BenchmarkDataError, match=r"examples\.jsonl, line 3: .*caption_1"):
        winoground.load(tmp_path, None)
    (tmp_path / "data" / "examples.jsonl").write_text('{"id": 0,\n', encoding="utf-8")
    with pytest.raises(BenchmarkDataError, match=r"line 1: not valid json"):
        winoground.load(tmp_path, None)


def test_winoground_averages_none():
    assert winoground.averages([Score("all", "group", 10.0, 400), Score("Object", "group", 12.0, 141)]) == []


# --- EqBen --------------------------------------------------------------------------------------

def eq_case(image0: str, image1: str, n: int) -> dict:
    return {"image0": image0, "image1": image1, "caption0": f"caption a {n}", "caption1": f"caption b {n}"}


def test_eqben_vllm_layout_subsets_by_source(tmp_path: Path):
    root = tmp_path / "eqben_vllm"
    cases = [eq_case("eqbenag/v1/f1.png", "eqbenag/v1/f2.png", 0),
             eq_case("eqbenkubric_cnt/s/1.png", "eqbenkubric_cnt/s/2.png", 1),
             eq_case("eqbenyoucook2/v/1.npy", "eqbenyoucook2/v/2.npy", 2),
             eq_case("eqbensd/a.png", "eqbensd/b.png", 3),
             eq_case("eqbenkubric_loc/s/1.png", "eqbenkubric_loc/s/2.png", 4),
             eq_case("eqbengebc/v/1.jpg", "eqbengebc/v/2.jpg", 5),
             eq_case("eqbenag/v2/f1.png", "eqbenag/v2/f2.png", 6),
             eq_case("eqbenkubric_attr/s/1.png", "eqbenkubric_attr/s/2.png", 7)]
    write_json(root / "all_select.json", cases)
    for case in cases:
        for key in ("image0", "image1"):
            if case[key] != "eqbenag/v2/f2.png":
                draw(root / "images" / case[key])
    subsets = eqben.load(tmp_path, None)  # the parent of eqben_vllm/
    # the seven subsets of the authors' evaluate_eqben_locally.py, in its order: Kubric's three apart
    assert [s.name for s in subsets] == ["eqbenag", "eqbenyoucook2", "eqbengebc", "eqbenkubric_loc",
                                         "eqbenkubric_attr", "eqbenkubric_cnt", "eqbensd"]
    assert [len(s.task) for s in subsets] == [2, 1, 1, 1, 1, 1, 1]
    ag, _, _, kubric_loc, _, kubric_cnt, sd = subsets
    assert ag.missing_images == [str(root / "images" / "eqbenag/v2/f2.png")]
    assert all(s.missing_images == [] for s in subsets[1:])
    assert [c.captions for c in kubric_loc.task] == [("caption a 4", "caption b 4")]
    assert [c.captions for c in kubric_cnt.task] == [("caption a 1", "caption b 1")]
    assert kubric_cnt.meta["kind"] == "synthetic" and ag.meta["kind"] == "natural"
    assert sd.task[0].images[1].path == str(root / "images" / "eqbensd/b.png")
    assert sd.task[0].case_id == "all_select[3]"
    # the folder itself works as data root as well
    assert [len(s.task) for s in eqben.load(root, None)] == [2, 1, 1, 1, 1, 1, 1]


def test_eqben_annotation_files_nested_and_winoground_style(tmp_path: Path):
    # EqBen-AG's own layout: {video: {subject: [case with caption lists]}}
    write_json(tmp_path / "eqben_ag.json", {"vid1": {"person": [
        {"image0": "eqbenag/vid1/1.png", "image1": "eqbenag/vid1/2.png",
         "caption0": ["first ag caption", "second"], "caption1": ["other ag caption"]}]}})
    # the Winoground-style spelling, as jsonl
    write_jsonl(tmp_path / "kubric.jsonl", [
        {"id": 0, "image_0": "eqbenkubric_attr/0.png", "image_1": "eqbenkubric_attr/1.png",
         "caption_0": "k0", "caption_1": "k1"}])
    # paths without a known source folder: a subset named after the file
    write_json(tmp_path / "subtest.json", [eq_case("x/1.png", "x/2.png", 0), eq_case("y.png", "z.png", 1)])
    write_json(tmp_path / "unrelated.json", {"version": 1, "files": ["a", "b"]})  # no case records: ignored
    subsets = eqben.load(tmp_path, tmp_path / "img")
    assert [s.name for s in subsets] == ["eqbenag", "eqbenkubric_attr", "subtest"]
    assert [len(s.task) for s in subsets] == [1, 1, 2]
    ag = subsets[0].task[0]
    assert ag.captions == ("first ag caption", "other ag caption")
    assert ag.case_id == 'eqben_ag["vid1"]["person"][0]'
    assert ag.images[0].path == str(tmp_path / "img" / "eqbenag/vid1/1.png")
    assert subsets[1].task[0].captions == ("k0", "k1")
    assert len(subsets[2].missing_images) == 4
    assert subsets[2].meta["kind"] == "unknown"


def test_eqben_absent_files_named(tmp_path: Path):
    write_json(tmp_path / "notes.json", {"a": 1})
    with pytest.raises(BenchmarkDataError) as error:
        eqben.load(tmp_path, None)
    message = str(error.value)
    assert "all_select.json" in message and "eqben_vllm" in message and str(tmp_path) in message
    assert "notes.json" in message


def test_eqben_malformed_record_named(tmp_path: Path):
    broken = eq_case("eqbensd/a.png", "eqbensd/b.png", 1)
    del broken["caption1"]
    write_json(tmp_path / "all_select.json", [eq_case("eqbensd/c.png", "eqbensd/d.png", 0), broken])
    with pytest.raises(BenchmarkDataError, match=r"all_select\.json, record \[1\]: missing or empty caption1"):
        eqben.load(tmp_path, None)


def test_eqben_reports_the_subsets_only_as_its_authors_do():
    scores = [Score("eqbenag", "text", 50.0, 2, missing=1), Score("eqbenkubric_cnt", "text", 100.0, 3)]
    assert eqben.averages(scores) == []


def test_eqben_full_test_annotation_is_refused_with_the_reason(tmp_path: Path):
    # The authors' full test set: shuffled single pairs whose grouping into cases is private.
    write_json(tmp_path / "ann_json_finegrained_random.json",
               [{"image": "eqbensd/a.png", "caption": "a cat"}, {"image": "eqbenag/v/1.png", "caption": "a man"}])
    with pytest.raises(BenchmarkDataError) as error:
        eqben.load(tmp_path, None)
    message = str(error.value)
    assert "ann_json_finegrained_random.json" in message and "full-test" in message and "private" in message


# --- retrieval ----------------------------------------------------------------------------------

def karpathy_image(split: str, filename: str, raws: list[str], filepath: str | None = None) -> dict:
    record = {"filename": filename, "split": split, "imgid": 0,
              "sentences": [{"raw": r, "tokens": r.lower().split(), "sentid": k} for k, r in enumerate(raws)]}
    if filepath is not None:
        record["filepath"] = filepath
    return record


@pytest.fixture
def karpathy_root(tmp_path: Path) -> Path:
    write_json(tmp_path / "dataset_coco.json", {"dataset": "coco", "images": [
        karpathy_image("test", "COCO_val2014_1.jpg", ["A cat. ", "a cat sits", "c", "d", "e", "f"], "val2014"),
        karpathy_image("val", "COCO_val2014_2.jpg", ["v1", "v2"], "val2014"),
        karpathy_image("restval", "COCO_val2014_3.jpg", ["r1"], "val2014"),
        karpathy_image("train", "COCO_train2014_4.jpg", ["t1"], "train2014"),
        karpathy_image("test", "COCO_val2014_5.jpg", ["g", "h", "i", "j", "k"], "val2014")]})
    write_json(tmp_path / "dataset_flickr30k.json", {"dataset": "flickr30k", "images": [
        karpathy_image("train", "1.jpg", ["x"]),
        karpathy_image("test", "2.jpg", ["f1", "f2", "f3", "f4", "f5"]),
        karpathy_image("test", "3.jpg", ["f6", "f7", "f8", "f9", "f10"])]})
    draw(tmp_path / "val2014" / "COCO_val2014_1.jpg")
    draw(tmp_path / "flickr30k-images" / "3.jpg")
    return tmp_path


def test_retrieval_karpathy_test_split_and_caption_image(karpathy_root: Path):
    coco, flickr = retrieval.load(karpathy_root, None)
    assert (coco.name, flickr.name) == ("coco-5k-test", "flickr30k-1k-test")
    assert isinstance(coco.task, RetrievalSet)
    assert [r.path for r in coco.task.images] == [str(karpathy_root / "val2014" / "COCO_val2014_1.jpg"),
                                                  str(karpathy_root / "val2014" / "COCO_val2014_5.jpg")]
    assert len(coco.task.captions) == 11
    assert coco.task.captions[:2] == ("A cat.", "a cat sits")
    assert coco.task.caption_image == (0,) * 6 + (1,) * 5
    assert coco.missing_images == [str(karpathy_root / "val2014" / "COCO_val2014_5.jpg")]
    assert coco.meta == {"file": "dataset_coco.json", "images": 2, "captions": 11}
    assert [r.path for r in flickr.task.images] == [str(karpathy_root / "flickr30k-images" / n)
                                                    for n in ("2.jpg", "3.jpg")]
    assert flickr.task.captions == tuple(f"f{k}" for k in range(1, 11))
    assert flickr.task.caption_image == (0,) * 5 + (1,) * 5
    assert flickr.missing_images == [str(karpathy_root / "flickr30k-images" / "2.jpg")]


def test_retrieval_images_override_and_single_file(karpathy_root: Path, tmp_path: Path):
    (karpathy_root / "dataset_coco.json").unlink()
    [flickr] = retrieval.load(karpathy_root, tmp_path / "jpgs")
    assert flickr.name == "flickr30k-1k-test"
    assert flickr.task.images[0].path == str(tmp_path / "jpgs" / "2.jpg")
    assert len(flickr.missing_images) == 2


def test_retrieval_absent_files_named(tmp_path: Path):
    with pytest.raises(BenchmarkDataError) as error:
        retrieval.load(tmp_path, None)
    message = str(error.value)
    assert "dataset_coco.json" in message and "dataset_flickr30k.json" in message and str(tmp_path) in message


def test_retrieval_malformed_test_record_named(tmp_path: Path):
    write_json(tmp_path / "dataset_coco.json", {"images": [
        karpathy_image("test", "a.jpg", ["x"], "val2014"), karpathy_image("test", "b.jpg", ["y"])]})
    with pytest.raises(BenchmarkDataError, match=r"dataset_coco\.json, images\[1\]: missing or malformed filepath"):
        retrieval.load(tmp_path, None)
    write_json(tmp_path / "dataset_coco.json", {"images": [karpathy_image("val", "a.jpg", ["x"], "val2014")]})
    with pytest.raises(BenchmarkDataError, match=r"no image has split \"test\""):
        retrieval.load(tmp_path, None)
    assert retrieval.averages([Score("coco-5k-test", "i2t_r1", 50.0, 5000)]) == []


# --- zero-shot ----------------------------------------------------------------------------------

def test_zeroshot_imagefolder_labels_and_default_names(tmp_path: Path):
    root = tmp_path / "pets"
    draw(root / "dog" / "b.jpg")
    draw(root / "cat_big" / "z.png")
    draw(root / "cat_big" / "a.jpeg")
    draw(root / "cat_big" / "sub" / "c.JPG")
    (root / "cat_big" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    [subset] = zeroshot.load(root, None)
    task = subset.task
    assert isinstance(task, ClassificationSet)
    assert subset.name == "pets"
    assert [Path(r.path).relative_to(root).as_posix() for r in task.images] == [
        "cat_big/a.jpeg", "cat_big/sub/c.JPG", "cat_big/z.png", "dog/b.jpg"]
    assert task.labels == (0, 0, 0, 1)
    assert task.classnames == ("cat big", "dog")
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES
    assert len(task.templates) == 80 == len(OPENAI_IMAGENET_TEMPLATES)
    assert task.templates[0] == "a bad photo of a {}."
    assert all(t.count("{}") == 1 for t in task.templates)
    assert subset.missing_images == []
    assert subset.meta["imagenet"] is False


def test_zeroshot_classnames_and_templates_files(tmp_path: Path):
    draw(tmp_path / "b_dir" / "1.webp")
    draw(tmp_path / "a_dir" / "1.bmp")
    (tmp_path / "classnames.txt").write_text("apple\nbanana\n")
    (tmp_path / "templates.txt").write_text("a photo of a {}.\n\nan image of {}\n")
    [subset] = zeroshot.load(tmp_path, tmp_path / "ignored")
    assert subset.task.classnames == ("apple", "banana")
    assert subset.task.templates == ("a photo of a {}.", "an image of {}")
    assert subset.task.labels == (0, 1)
    assert subset.meta["classnames_from"] == "classnames.txt"
    (tmp_path / "classnames.txt").write_text("apple\n")
    with pytest.raises(BenchmarkDataError, match=r"classnames\.txt: 1 class names for 2 class directories"):
        zeroshot.load(tmp_path, None)
    (tmp_path / "classnames.txt").unlink()
    (tmp_path / "templates.txt").write_text("a photo of a {}.\na photo\n")
    with pytest.raises(BenchmarkDataError, match=r"templates\.txt, template 2"):
        zeroshot.load(tmp_path, None)


def test_zeroshot_imagenet_names_from_open_clip(tmp_path: Path):
    wnids = [f"n{k:08d}" for k in range(1000)]
    for wnid in wnids:
        (tmp_path / wnid).mkdir()
    draw(tmp_path / wnids[999] / "ILSVRC2012_val_00000001.JPEG")
    draw(tmp_path / wnids[0] / "ILSVRC2012_val_00000002.JPEG")
    (tmp_path / "classnames.txt").write_text("ignored\n")  # ImageNet always uses CLIP's names
    [subset] = zeroshot.load(tmp_path, None)
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES
    assert subset.name == "imagenet-1k"
    assert subset.task.classnames == tuple(IMAGENET_CLASSNAMES)
    assert subset.task.classnames[:2] == ("tench", "goldfish")
    assert len(subset.task.templates) == 80
    assert subset.task.labels == (0, 999)
    assert subset.meta["imagenet"] is True
    # one folder that is not a WordNet id: an ordinary folder, its names from the directories
    (tmp_path / wnids[500]).rename(tmp_path / "not_a_wnid")
    (tmp_path / "classnames.txt").unlink()
    [other] = zeroshot.load(tmp_path, None)
    assert other.name == tmp_path.name and other.task.classnames[999] == "not a wnid"
    assert other.meta["imagenet"] is False


def test_zeroshot_errors_name_expected_layout(tmp_path: Path):
    with pytest.raises(BenchmarkDataError, match=r"no class directories in .*<class_dir>/<image files>"):
        zeroshot.load(tmp_path, None)
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(BenchmarkDataError, match=r"no image files .* in the 1 class directories"):
        zeroshot.load(tmp_path, None)
    with pytest.raises(BenchmarkDataError, match=r"is not a directory"):
        zeroshot.load(tmp_path / "nowhere", None)
    assert zeroshot.averages([Score("x", "top1", 1.0, 1)]) == []
