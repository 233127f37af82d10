"""The SugarCrepe, VALSE and VL-CheckList loaders, on the real files in ../shared/data (skipped
when absent) with stand-in images for a few of them, and on small hand-made files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from fgclip.eval import benchmarks
from fgclip.eval.benchmarks import BenchmarkDataError, Score, sugarcrepe, valse, vl_checklist
from fgclip.eval.cases import ImageRef, Selection

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FGCLIP_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared(name: str) -> Path:
    folder = SHARED / name
    if not folder.is_dir():
        pytest.skip(f"real benchmark files not found at {folder} (set FGCLIP_SHARED_DATA)")
    return folder


def draw(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (200, 30, 30)).save(path)


def write_json(path: Path, payload: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def accuracy(subset: str, value: float, n: int = 10, missing: int = 0) -> Score:
    return Score(subset, "accuracy", value, n, missing=missing)


def test_registry_maps_names_to_these_modules():
    assert benchmarks.module("sugarcrepe") is sugarcrepe and sugarcrepe.NAME == "sugarcrepe"
    assert benchmarks.module("valse") is valse and valse.NAME == "valse"
    assert benchmarks.module("vl-checklist") is vl_checklist and vl_checklist.NAME == "vl-checklist"


# --- SugarCrepe -------------------------------------------------------------------------------

SUGARCREPE_COUNTS = {"add_att": 692, "add_obj": 2062, "replace_att": 788, "replace_obj": 1652,
                     "replace_rel": 1406, "swap_att": 666, "swap_obj": 245}


def test_sugarcrepe_real_files_counts_cases_and_missing_images(tmp_path):
    root = shared("sugarcrepe")
    raw = {stem: json.loads((root / f"{stem}.json").read_text()) for stem in SUGARCREPE_COUNTS}
    drawn = ["000000085329.jpg", "000000219578.jpg", "000000565045.jpg"]  # first images of 3 files
    for name in drawn:
        draw(tmp_path / name)

    subsets = sugarcrepe.load(root, tmp_path)

    assert [s.name for s in subsets] == list(SUGARCREPE_COUNTS)
    assert {s.name: len(s.task) for s in subsets} == SUGARCREPE_COUNTS
    assert sum(len(s.task) for s in subsets) == 7511
    assert {s.name: s.meta["category"] for s in subsets}["replace_rel"] == "replace"
    first = subsets[0].task[0]
    assert first == Selection(ImageRef(str(tmp_path / raw["add_att"]["0"]["filename"])),
                              (raw["add_att"]["0"]["caption"], raw["add_att"]["0"]["negative_caption"]),
                              "add_att/0")
    all_paths = set()
    for subset in subsets:
        referenced = {str(tmp_path / r["filename"]) for r in raw[subset.name].values()}
        all_paths |= referenced
        assert len(subset.missing_images) == len(set(subset.missing_images))
        assert set(subset.missing_images) == referenced - {str(tmp_path / n) for n in drawn}
    assert len(all_paths) == 1560  # unique images over the 7 files


def test_sugarcrepe_without_images_uses_the_readme_coco_folder():
    root = shared("sugarcrepe")
    subsets = sugarcrepe.load(root, None)
    expected = root / "coco" / "images" / "val2017"
    assert {Path(case.image.path).parent for s in subsets for case in s.task} == {expected}
    # nothing is there: every unique referenced image is missing, each listed once
    assert sum(len(s.missing_images) for s in subsets) == sum(len({c.image.path for c in s.task}) for s in subsets)


def test_sugarcrepe_missing_folder_names_every_file(tmp_path):
    with pytest.raises(BenchmarkDataError) as error:
        sugarcrepe.load(tmp_path / "nowhere", None)
    message = str(error.value)
    assert str(tmp_path / "nowhere") in message
    for stem in SUGARCREPE_COUNTS:
        assert f"{stem}.json" in message


def test_sugarcrepe_one_absent_file_and_a_malformed_record(tmp_path):
    record = {"filename": "a.jpg", "caption": "a dog", "negative_caption": "a cat"}
    for stem in SUGARCREPE_COUNTS:
        write_json(tmp_path / f"{stem}.json", {"0": record})
    (tmp_path / "swap_obj.json").unlink()
    with pytest.raises(BenchmarkDataError, match=r"swap_obj\.json not found"):
        sugarcrepe.load(tmp_path, tmp_path)
    write_json(tmp_path / "swap_obj.json", {"0": record, "7": {"filename": "b.jpg", "caption": "x"}})
    with pytest.raises(BenchmarkDataError, match=r"swap_obj\.json, record '7'.*negative_caption"):
        sugarcrepe.load(tmp_path, tmp_path)


def test_sugarcrepe_averages_all_and_per_category():
    values = {"add_att": 80, "add_obj": 90, "replace_att": 70, "replace_obj": 95, "replace_rel": 60,
              "swap_att": 50, "swap_obj": 40}
    scores = [accuracy(name, value, n=10, missing=1 if name == "swap_obj" else 0) for name, value in values.items()]
    rows = {row.subset: row for row in sugarcrepe.averages(scores)}
    assert list(rows) == ["all", "add", "replace", "swap"]
    assert rows["all"].value == pytest.approx(485 / 7)
    assert (rows["all"].n, rows["all"].missing) == (70, 1)
    assert rows["add"].value == pytest.approx(85.0) and rows["add"].n == 20
    assert rows["replace"].value == pytest.approx(75.0) and rows["replace"].n == 30
    assert rows["swap"].value == pytest.approx(45.0) and rows["swap"].missing == 1
    assert all(row.metric == "accuracy" and row.convention for row in rows.values())
    assert "7 subsets" in rows["all"].convention and "replace_rel" in rows["replace"].convention
    assert sugarcrepe.averages([]) == []


# --- VALSE ------------------------------------------------------------------------------------

VALSE_VALID = {"existence": 505, "relations": 535, "actant-swap": 949}  # mturk.caption >= 2


def test_valse_real_files_keep_validated_items_only(tmp_path):
    root = shared("valse")
    raw = {name: json.loads((root / f"{name}.json").read_text()) for name in VALSE_VALID}
    # counted independently of the loader
    valid = {name: {k: v for k, v in items.items() if v["mturk"]["caption"] >= 2} for name, items in raw.items()}
    assert {name: len(items) for name, items in valid.items()} == VALSE_VALID
    assert {name: len(items) for name, items in raw.items()} == {"existence": 534, "relations": 614,
                                                                  "actant-swap": 1042}
    images = tmp_path / "images"
    flat = "exercising_255.jpg"  # actant-swap, flat in --images
    by_source = "v7w_2371044.jpg"  # existence, in the authors' visual7w/images folder
    draw(images / flat)
    draw(images / "visual7w" / "images" / by_source)

    subsets = valse.load(root, images)

    assert [s.name for s in subsets] == ["existence", "relations", "actant-swap"]  # the authors' order
    assert {s.name: len(s.task) for s in subsets} == VALSE_VALID
    for subset in subsets:
        assert [c.case_id for c in subset.task] == list(valid[subset.name])
        item = valid[subset.name][subset.task[0].case_id]
        assert subset.task[0].captions == (item["caption"], item["foil"])
        referenced = {v["image_file"] for v in valid[subset.name].values()}
        assert set(subset.missing_images) == {str(images / f) for f in referenced - {flat, by_source}}
        assert len(subset.missing_images) == len(set(subset.missing_images))
    by_name = {s.name: s for s in subsets}
    assert {name: len(s.missing_images) for name, s in by_name.items()} == {
        "existence": 505 - 1, "relations": 486, "actant-swap": 949 - 1}  # unique valid images, less the drawn
    existence = {c.case_id: c for c in by_name["existence"].task}
    assert existence["existence_visual7w_2371044"].image.path == str(images / "visual7w" / "images" / by_source)
    swap = {c.case_id: c for c in by_name["actant-swap"].task}
    assert swap["actions_test_0"].image.path == str(images / flat)


def test_valse_without_images_uses_the_authors_folders_under_the_data_root():
    root = shared("valse")
    subsets = {s.name: s for s in valse.load(root, None)}
    assert {Path(c.image.path).parent for c in subsets["relations"].task} == {root / "relations" / "test_images"}
    assert {Path(c.image.path).parent for c in subsets["actant-swap"].task} == {root / "actions" / "images_512"}
    assert len(subsets["existence"].missing_images) == len({c.image.path for c in subsets["existence"].task}) == 505


def test_valse_knows_the_eleven_instruments_and_names_them_when_absent(tmp_path):
    assert len(valse.INSTRUMENTS) == 11
    with pytest.raises(BenchmarkDataError) as error:
        valse.load(tmp_path, None)
    message = str(error.value)
    assert str(tmp_path) in message
    for name in ("existence", "plurals", "counting-hard", "counting-small-quant", "counting-adversarial",
                 "relations", "action-replacement", "actant-swap", "coreference-standard", "coreference-hard",
                 "foil-it"):
        assert f"{name}.json" in message


def test_valse_filters_on_caption_votes_and_rejects_items_without_them(tmp_path):
    def item(votes, image="p.jpg"):
        return {"image_file": image, "caption": "two dogs", "foil": "one dog", "dataset": "coco2017",
                "mturk": {"caption": votes, "foil": 0, "other": 0}}

    write_json(tmp_path / "plurals.json", {"a": item(3), "b": item(1), "c": item(2, "q.jpg"), "d": item(0)})
    write_json(tmp_path / "notes.json", {"x": 1})  # not an instrument: ignored
    (subset,) = valse.load(tmp_path, tmp_path)
    assert subset.name == "plurals"
    assert [c.case_id for c in subset.task] == ["a", "c"]
    assert subset.missing_images == [str(tmp_path / "p.jpg"), str(tmp_path / "q.jpg")]

    bad = item(3)
    del bad["mturk"]
    write_json(tmp_path / "plurals.json", {"a": item(3), "z": bad})
    with pytest.raises(BenchmarkDataError, match=r"plurals\.json, item 'z'.*mturk"):
        valse.load(tmp_path, tmp_path)
    no_foil = item(3)
    no_foil["foil"] = None
    write_json(tmp_path / "plurals.json", {"y": no_foil})
    with pytest.raises(BenchmarkDataError, match=r"plurals\.json, item 'y'.*'foil'"):
        valse.load(tmp_path, tmp_path)


def test_valse_average_is_the_mean_over_instruments():
    scores = [accuracy("existence", 90, n=505), accuracy("relations", 60, n=535, missing=2),
              accuracy("actant-swap", 75, n=949)]
    rows = {row.subset: row for row in valse.averages(scores)}
    row = rows["all"]
    assert row.metric == "accuracy"
    assert row.value == pytest.approx(75.0)
    assert (row.n, row.missing) == (505 + 535 + 949, 2)
    assert row.convention.startswith("incomplete") and "8 of 11" in row.convention
    assert valse.averages([]) == []


def test_valse_pieces_as_the_ce_clip_authors_print_them():
    values = {name: 10.0 * (i + 1) for i, name in enumerate(valse.INSTRUMENTS)}
    rows = {row.subset: row for row in valse.averages([accuracy(name, v, n=10) for name, v in values.items()])}
    assert list(rows) == ["Existence", "Plurality", "Counting", "Relations", "Actions", "Coreference", "Foil-it", "all"]
    assert rows["Counting"].value == pytest.approx((30 + 40 + 50) / 3)
    assert rows["Actions"].value == pytest.approx((70 + 80) / 2)
    assert rows["Coreference"].value == pytest.approx((90 + 100) / 2)
    assert rows["Foil-it"].value == pytest.approx(110)
    assert rows["all"].value == pytest.approx(60.0)  # the mean over instruments, not over pieces
    assert not any(row.convention.startswith("incomplete") for row in rows.values())
    # A piece with one of its instruments absent is marked, and the absent one named.
    del values["counting-hard"]
    rows = {row.subset: row for row in valse.averages([accuracy(name, v, n=10) for name, v in values.items()])}
    assert rows["Counting"].convention.startswith("incomplete") and "counting-hard" in rows["Counting"].convention
    assert not rows["Actions"].convention.startswith("incomplete")


# --- VL-CheckList -----------------------------------------------------------------------------

VL_CHECKLIST_COUNTS = {"Attribute/vg/material": 2470, "Attribute/vg/size": 2695, "Relation/vg/action": 12733}


def test_vl_checklist_real_files_every_record_and_missing_images(tmp_path):
    root = shared("vl-checklist")
    raw = {name: json.loads((root / f"{name}.json").read_text()) for name in VL_CHECKLIST_COUNTS}
    drawn = ["VG_100K/2361911.jpg", "VG_100K_2/2408124.jpg"]  # first images of material and size/action
    for name in drawn:
        draw(tmp_path / "vg" / name)

    subsets = vl_checklist.load(root, tmp_path)

    assert {s.name: len(s.task) for s in subsets} == VL_CHECKLIST_COUNTS
    assert {s.name: s.meta["category"] for s in subsets} == {
        "Attribute/vg/material": "Attribute", "Attribute/vg/size": "Attribute", "Relation/vg/action": "Relation"}
    for subset in subsets:
        records = raw[subset.name]
        assert subset.task[5].captions == (records[5][1]["POS"][0], records[5][1]["NEG"][0])
        assert subset.task[5].case_id == f"{subset.name}#5"
        referenced = {str(tmp_path / "vg" / r[0]) for r in records}
        assert {c.image.path for c in subset.task} == referenced
        assert set(subset.missing_images) == referenced - {str(tmp_path / "vg" / d) for d in drawn}
        assert len(subset.missing_images) == len(set(subset.missing_images))
    # unique images per file, less the drawn ones it uses (material uses both)
    assert [len(s.missing_images) for s in subsets] == [1798 - 2, 1740 - 1, 5287 - 1]


def test_vl_checklist_without_images_looks_beside_the_data_root():
    root = shared("vl-checklist")
    subsets = vl_checklist.load(root, None)
    assert subsets[0].task[0].image.path == str(root.parent / "vg" / "VG_100K" / "2361911.jpg")


def test_vl_checklist_layout_sources_first_phrases_and_empty_files(tmp_path):
    data = tmp_path / "data"
    triple = {"POS": ["a man holds a cup", "p2", "p3"], "NEG": ["a man holds a shoe", "n2", "n3"]}
    write_json(data / "Object/Location/swig_location/swig_agent/swig_agent_mid.json",
               [["dialing_8.jpg", triple], ["milking_22.jpg", triple]])
    write_json(data / "Object/Size/hake_size/hake_obj_small.json",
               [["openimages/0030feaa83a02c0d.jpg", {"POS": ["small cup"], "NEG": ["small dog"]}]])
    write_json(data / "Object/Size/swig_size/swig_place/swig_place_large.json", [])
    write_json(data / "Relation/swig_action.json", [["dialing_8.jpg", {"POS": ["man dials"], "NEG": ["man eats"]}]])
    write_json(data / "Attribute/vaw/color.json", [["VG_100K/1.jpg", {"POS": ["red car"], "NEG": ["blue car"]}]])
    write_json(data / "corpus.json", [["not", "a", "category"]])  # outside the three folders: ignored
    images = tmp_path / "images"
    draw(images / "swig" / "dialing_8.jpg")

    subsets = {s.name: s for s in vl_checklist.load(data, images)}

    assert sorted(subsets) == ["Attribute/vaw/color", "Object/Location/swig_location/swig_agent/swig_agent_mid",
                               "Object/Size/hake_size/hake_obj_small",
                               "Object/Size/swig_size/swig_place/swig_place_large", "Relation/swig_action"]
    agent = subsets["Object/Location/swig_location/swig_agent/swig_agent_mid"]
    assert [c.captions for c in agent.task] == [("a man holds a cup", "a man holds a shoe")] * 2
    assert agent.missing_images == [str(images / "swig" / "milking_22.jpg")]
    assert subsets["Object/Size/hake_size/hake_obj_small"].task[0].image.path == str(
        images / "hake" / "openimages" / "0030feaa83a02c0d.jpg")
    assert subsets["Attribute/vaw/color"].missing_images == [str(images / "vg" / "VG_100K" / "1.jpg")]
    assert subsets["Relation/swig_action"].missing_images == []
    assert subsets["Object/Size/swig_size/swig_place/swig_place_large"].task == []
    assert subsets["Relation/swig_action"].meta == {"category": "Relation"}

    write_json(data / "Relation/swig_action.json",
               [["dialing_8.jpg", {"POS": ["man dials"], "NEG": ["man eats"]}], ["x.jpg", {"POS": ["a"], "NEG": []}]])
    with pytest.raises(BenchmarkDataError, match=r"swig_action\.json, record 1:.*NEG"):
        vl_checklist.load(data, images)


def test_vl_checklist_missing_folder_names_what_is_expected(tmp_path):
    with pytest.raises(BenchmarkDataError) as error:
        vl_checklist.load(tmp_path / "data", None)
    message = str(error.value)
    assert str(tmp_path / "data") in message
    for part in ("Attribute/", "Object/", "Relation/", "*.json"):
        assert part in message


def _every_corpus_file(value_of=lambda name: 50.0, n=10):
    return [accuracy(name, value_of(name), n=n) for sources in vl_checklist.AXES.values()
            for names in sources.values() for name in names]


def test_vl_checklist_axes_are_the_authors_corpus():
    files = [name for sources in vl_checklist.AXES.values() for names in sources.values() for name in names]
    assert len(files) == len(set(files)) == 56  # corpus.json: 6 Object axes x 7 files, 10 Attribute, 4 Relation
    categories = [category for category, _ in vl_checklist.AXES]
    assert (categories.count("Object"), categories.count("Attribute"), categories.count("Relation")) == (6, 5, 2)
    shipped = shared("vl-checklist")  # every file of the real data that is in the corpus names one of its files
    for path in shipped.rglob("*.json"):
        assert path.relative_to(shipped).with_suffix("").as_posix() in files


def test_vl_checklist_a_source_weighs_the_same_whatever_its_file_count():
    # One HAKE file right, every other file wrong: the authors give HAKE 1/3 of each Object axis,
    # so 1/18 of Object, where a plain mean over the 42 Object files would give 1/42.
    hake = "Object/Size/hake_size/hake_obj_large"
    rows = {row.subset: row for row in vl_checklist.averages(_every_corpus_file(lambda name: 100.0 * (name == hake)))}
    assert rows["Object-Large"].value == pytest.approx(100 / 3)
    assert rows["Object"].value == pytest.approx(100 / 18)
    # Relation: Spatial is one of two axes (1/2), not one of four files (1/4).
    rows = {row.subset: row for row in vl_checklist.averages(
        _every_corpus_file(lambda name: 100.0 * (name == "Relation/vg/spatial")))}
    assert rows["Relation-Spatial"].value == pytest.approx(100.0)
    assert rows["Relation"].value == pytest.approx(50.0)
    assert rows["all"].value == pytest.approx(50.0 / 3)
    assert not any(row.convention.startswith("incomplete") for row in rows.values())
    assert [r for r in rows if "-" not in r] == ["Attribute", "Object", "Relation", "all"]


def test_vl_checklist_missing_files_make_their_axis_category_and_all_incomplete():
    scores = [s for s in _every_corpus_file() if s.subset != "Relation/swig_action"]
    scores.append(accuracy("Object/Size/swig_size/swig_place/swig_place_large", 0.0, n=0))  # empty, outside the corpus
    rows = {row.subset: row for row in vl_checklist.averages(scores)}
    assert rows["Relation-Action"].convention.startswith("incomplete")
    assert "Relation/swig_action" in rows["Relation-Action"].convention
    assert rows["Relation"].convention.startswith("incomplete") and rows["all"].convention.startswith("incomplete")
    assert not rows["Object"].convention.startswith("incomplete")
    assert not rows["Relation-Spatial"].convention.startswith("incomplete")
    # Only the three Attribute color files' category present: "all" names the absent categories.
    rows = {row.subset: row for row in vl_checklist.averages([accuracy("Attribute/vg/color", 80, n=100, missing=2),
                                                               accuracy("Attribute/vaw/color", 60, n=300)])}
    assert list(rows) == ["Attribute-Color", "Attribute", "all"]
    assert rows["Attribute-Color"].value == pytest.approx(70.0) and rows["Attribute-Color"].n == 400
    assert rows["Attribute-Color"].missing == 2
    assert "4 of 5 axes absent" in rows["Attribute"].convention
    assert "2 of 3 categories absent" in rows["all"].convention
    assert vl_checklist.averages([]) == []
