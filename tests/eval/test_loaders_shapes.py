"""The shapes and shapes-retrieval loaders, on benchmarks written by the shapes world itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fgclip.eval import benchmarks
from fgclip.eval.benchmarks import BenchmarkDataError, Score, shapes, shapes_retrieval
from fgclip.eval.cases import ImageRef, RetrievalSet, Selection
from fgclip.synthetic.shapes import WorldConfig, write_benchmark

REPO = Path(__file__).resolve().parents[2]
ORDER = ["replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj"]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    return write_benchmark(tmp_path_factory.mktemp("shapes"), 20, WorldConfig(), seed=5)


@pytest.fixture
def bench(written, tmp_path) -> Path:
    """A private copy, free to damage."""
    return Path(shutil.copytree(written, tmp_path / "bench"))


def raw(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def test_registry_maps_names_to_these_modules():
    assert benchmarks.module("shapes") is shapes and shapes.NAME == "shapes"
    assert benchmarks.module("shapes-retrieval") is shapes_retrieval and shapes_retrieval.NAME == "shapes-retrieval"
    assert "shapes.json" in shapes.EXPECTED and "write_benchmark" in shapes.EXPECTED
    assert "shapes_retrieval.json" in shapes_retrieval.EXPECTED


def test_shapes_cases_per_subset(bench):
    document = raw(bench, "shapes.json")
    subsets = shapes.load(bench, None)

    assert [s.name for s in subsets] == ORDER
    assert {s.name: len(s.task) for s in subsets} == {k: len(v) for k, v in document["subsets"].items()}
    assert len(subsets[0].task) == 20 and len(subsets[3].task) <= 20
    for subset in subsets:
        assert subset.missing_images == []
        for index, (case, record) in enumerate(zip(subset.task, document["subsets"][subset.name])):
            assert case == Selection(ImageRef(str(bench / record["image"])),
                                     (record["caption"], record["negative_caption"]), f"{subset.name}/{index}")


def test_shapes_counts_a_deleted_image_as_missing_in_every_subset_using_it(bench):
    gone = "images/000003.png"
    (bench / gone).unlink()
    document = raw(bench, "shapes.json")
    for subset in shapes.load(bench, None):
        uses = any(r["image"] == gone for r in document["subsets"][subset.name])
        assert subset.missing_images == ([str(bench / gone)] if uses else [])
        assert len(subset.task) == len(document["subsets"][subset.name])  # counted, not dropped
    assert sum(bool(s.missing_images) for s in shapes.load(bench, None)) >= 4


def test_images_folder_given_apart(bench, tmp_path):
    elsewhere = tmp_path / "pictures"
    shutil.move(str(bench / "images"), str(elsewhere / "images"))
    assert all(s.missing_images for s in shapes.load(bench, None))
    subsets = shapes.load(bench, elsewhere)
    assert all(not s.missing_images for s in subsets)
    assert subsets[0].task[0].image.path.startswith(str(elsewhere))
    (retrieval,) = shapes_retrieval.load(bench, elsewhere)
    assert not retrieval.missing_images


def test_retrieval_set_matches_the_file(bench):
    document = raw(bench, "shapes_retrieval.json")
    (subset,) = shapes_retrieval.load(bench, None)
    task = subset.task
    assert subset.name == "all" and isinstance(task, RetrievalSet)
    assert task.images == tuple(ImageRef(str(bench / name)) for name in document["images"])
    assert len(task.images) == 20
    expected = [(text, i) for i, texts in enumerate(document["captions"]) for text in texts]
    assert list(zip(task.captions, task.caption_image)) == expected
    assert len(task.captions) == 20 * WorldConfig().captions_per_image
    assert subset.missing_images == []

    (bench / "images" / "000011.png").unlink()
    (subset,) = shapes_retrieval.load(bench, None)
    assert subset.missing_images == [str(bench / "images" / "000011.png")]
    assert len(subset.task.images) == 20


def test_absent_or_malformed_files_are_named(bench, tmp_path):
    with pytest.raises(BenchmarkDataError, match="shapes.json"):
        shapes.load(tmp_path / "empty", None)
    with pytest.raises(BenchmarkDataError, match="shapes_retrieval.json"):
        shapes_retrieval.load(tmp_path / "empty", None)

    document = raw(bench, "shapes.json")
    del document["subsets"]["swap_obj"][2]["negative_caption"]
    (bench / "shapes.json").write_text(json.dumps(document))
    with pytest.raises(BenchmarkDataError, match=r"swap_obj\[2\]"):
        shapes.load(bench, None)
    (bench / "shapes.json").write_text(json.dumps({"subsets": {"add_att": []}}))
    with pytest.raises(BenchmarkDataError, match="add_att"):
        shapes.load(bench, None)
    (bench / "shapes.json").write_text("{not json")
    with pytest.raises(BenchmarkDataError, match="shapes.json"):
        shapes.load(bench, None)

    (bench / "shapes_retrieval.json").write_text(json.dumps({"images": ["a.png"], "captions": []}))
    with pytest.raises(BenchmarkDataError, match="shapes_retrieval.json"):
        shapes_retrieval.load(bench, None)


def test_only_present_subsets_are_loaded_in_sugarcrepe_order(bench):
    document = raw(bench, "shapes.json")
    del document["subsets"]["swap_att"]
    document["subsets"] = dict(reversed(document["subsets"].items()))  # the file's order does not matter
    (bench / "shapes.json").write_text(json.dumps(document))
    assert [s.name for s in shapes.load(bench, None)] == [n for n in ORDER if n != "swap_att"]


def test_averages():
    scores = [Score("replace_att", "accuracy", 80.0, 20), Score("swap_att", "accuracy", 60.0, 17, missing=1),
              Score("swap_obj", "accuracy", 40.0, 20), Score("swap_obj", "other", 0.0, 20)]
    (overall,) = shapes.averages(scores)
    assert (overall.subset, overall.metric, overall.value, overall.n, overall.missing) == ("all", "accuracy", 60.0, 57, 1)
    assert "replace_att, swap_att, swap_obj" in overall.convention
    assert shapes.averages([]) == []
    assert shapes_retrieval.averages([Score("all", "i2t_r1", 50.0, 20)]) == []


def test_eval_does_not_import_the_world():
    check = ("import sys, fgclip.eval.benchmarks.shapes, fgclip.eval.benchmarks.shapes_retrieval\n"
             "sys.exit('imported fgclip.synthetic' if 'fgclip.synthetic' in sys.modules else 0)\n")
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
