"""The shapes world: captions true of their scenes, benchmark negatives false and made as
documented, relations true of the drawn pixels, deterministic writers, a held-out benchmark, and
a corpus that the pipeline's jsonl reader takes as it is."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fgclip.synthetic import shapes
from fgclip.synthetic.shapes import (CONVERSE, PALETTE, RELATION_WORDS, SUBSETS, Obj, Scene, WorldConfig,
                                     benchmark_negatives, caption_is_true, captions, is_held_out, parse_caption,
                                     relation_holds, render, sample_scene, scene_from_dict, write_benchmark,
                                     write_corpus)

REPO = Path(__file__).resolve().parents[2]

CONFIGS = {
    "default": WorldConfig(),
    "left-right": WorldConfig(relations=("left of", "right of")),
    "two-colour": WorldConfig(two_colour=True),
}


def scenes(cfg: WorldConfig, count: int, seed: str = "test") -> list[Scene]:
    rng = random.Random(seed)
    return [sample_scene(rng, cfg) for _ in range(count)]


def colour_set(value) -> frozenset:
    return frozenset(value if isinstance(value, tuple) else (value,))


# --- captions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CONFIGS)
def test_captions_are_true_of_their_scenes(name):
    cfg = CONFIGS[name]
    rng = random.Random(1)
    seen_templates, seen_converse = set(), 0
    for scene in scenes(cfg, 300):
        texts = captions(scene, rng, cfg)
        assert len(texts) == cfg.captions_per_image == len(set(texts))
        for text in texts:
            assert caption_is_true(scene, text, cfg), (scene, text)
            subject, relation, _ = parse_caption(text, cfg)
            assert relation in cfg.relations
            seen_converse += relation != scene.relation
            seen_templates.add(text.split()[0])
    # Varied: several templates, and the other object first (converse relation) about half the time.
    assert {"there", "an", "a"} <= seen_templates
    assert 0.35 < seen_converse / 900 < 0.65


def test_parse_caption_reads_the_facts_and_refuses_other_language():
    cfg = WorldConfig(two_colour=True)
    assert parse_caption("There is a small red and blue circle to the left of an orange star.", cfg) == (
        {"shape": "circle", "size": "small", "colour": ("red", "blue")}, "left of", {"shape": "star", "colour": "orange"})
    assert parse_caption("the large white cross is beneath the green square", WorldConfig()) == (
        {"shape": "cross", "size": "large", "colour": "white"}, "below", {"shape": "square", "colour": "green"})
    for text in ("a red circle next to a blue square", "a red hexagon left of a blue square",
                 "a red circle left of", "a huge red circle left of a blue square"):
        assert parse_caption(text, cfg) is None, text


def test_caption_truth_checks_attributes_and_geometry():
    cfg = WorldConfig()
    red = Obj("circle", "red", "small", 15, 32, 6)
    blue = Obj("square", "blue", "large", 45, 30, 11)
    scene = Scene((red, blue), "left of")
    assert caption_is_true(scene, "a small red circle to the left of a large blue square", cfg)
    assert caption_is_true(scene, "there is a blue square right of a red circle", cfg)
    for false in ("a red circle right of a blue square", "a large red circle left of a blue square",
                  "a red square left of a blue circle", "a red circle above a blue square",
                  "a blue circle left of a blue square", "not a caption"):
        assert not caption_is_true(scene, false, cfg), false


# --- benchmark negatives ------------------------------------------------------------------------

def structure(text: str) -> tuple:
    """The template and relation wording of a caption, without its noun phrases."""
    prefix = next((p for p in ("there is ", "an image of ") if text.startswith(p)), "")
    wording = [(r, i) for r, words in RELATION_WORDS.items() for i, w in enumerate(words) if f" {w} " in text]
    longest = max(wording, key=lambda ri: len(RELATION_WORDS[ri[0]][ri[1]]))
    verb = next((v for v in ("is", "placed") if f" {v} {RELATION_WORDS[longest[0]][longest[1]]} " in text), "")
    return prefix, verb, longest[1], text.split()[len(prefix.split())] in ("the",)


def check_edit(subset: str, scene: Scene, true: str, negative: str, cfg: WorldConfig) -> None:
    (ts, tr, to), (ns, nr, no) = parse_caption(true, cfg), parse_caption(negative, cfg)
    objects = scene.objects
    if subset == "replace_att":
        assert tr == nr
        changed = [(t, n) for t, n in ((ts, ns), (to, no)) if t != n]
        assert len(changed) == 1
        t, n = changed[0]
        assert t["shape"] == n["shape"]
        if t.get("size") != n.get("size"):
            assert colour_set(t["colour"]) == colour_set(n["colour"])
            assert n["size"] not in {o.size for o in objects}
        else:
            new = colour_set(n["colour"]) - colour_set(t["colour"])
            assert len(new) == 1 and not new & (set(objects[0].colours) | set(objects[1].colours))
    elif subset == "replace_obj":
        assert tr == nr
        changed = [(t, n) for t, n in ((ts, ns), (to, no)) if t != n]
        assert len(changed) == 1
        t, n = changed[0]
        assert {k: v for k, v in t.items() if k != "shape"} == {k: v for k, v in n.items() if k != "shape"}
        assert n["shape"] not in {o.shape for o in objects}
    elif subset == "replace_rel":
        assert (ts, to) == (ns, no) and tr != nr
    elif subset == "swap_att":
        assert tr == nr and ts["colour"] == no["colour"] and to["colour"] == ns["colour"]
        assert {**ts, "colour": None} == {**ns, "colour": None} and {**to, "colour": None} == {**no, "colour": None}
    elif subset == "swap_obj":
        assert (ts, tr, to) == (no, nr, ns)


@pytest.mark.parametrize("name", CONFIGS)
def test_benchmark_negatives_are_false_and_made_as_documented(name):
    cfg = CONFIGS[name]
    rng = random.Random(2)
    counts = dict.fromkeys(SUBSETS, 0)
    colours_differ = 0
    relations_used = set()
    sample = scenes(cfg, 300)
    for scene in sample:
        pairs = benchmark_negatives(scene, rng, cfg)
        colours_differ += set(scene.objects[0].colours) != set(scene.objects[1].colours)
        for subset, (true, negative) in pairs.items():
            counts[subset] += 1
            assert caption_is_true(scene, true, cfg), (subset, scene, true)
            assert not caption_is_true(scene, negative, cfg), (subset, scene, negative)
            assert true != negative
            assert structure(true) == structure(negative), (true, negative)
            check_edit(subset, scene, true, negative, cfg)
            if subset == "replace_rel":
                relations_used.add((parse_caption(true, cfg)[1], parse_caption(negative, cfg)[1]))
    assert counts == {**dict.fromkeys(SUBSETS, len(sample)), "swap_att": colours_differ}
    assert 0 < colours_differ < len(sample)
    flips = {(r, CONVERSE[r]) for r in cfg.relations}
    if cfg.relations == ("left of", "right of"):
        assert relations_used == flips  # the flip is the only false relation left
    else:
        assert relations_used & flips and relations_used - flips  # flips and perpendicular ones


def test_replace_att_edits_size_only_when_both_objects_share_it():
    cfg = WorldConfig()
    rng = random.Random(3)
    size_edits = 0
    for scene in scenes(cfg, 300):
        true, negative = benchmark_negatives(scene, rng, cfg)["replace_att"]
        if parse_caption(true, cfg) != parse_caption(negative, cfg) and \
                {w for w in negative.split()} - set(true.split()) <= set(cfg.sizes):
            size_edits += 1
            assert scene.objects[0].size == scene.objects[1].size
    assert size_edits > 20


# --- geometry and pixels ------------------------------------------------------------------------

def test_relation_definitions_mirror_each_other():
    rng = random.Random(4)
    for _ in range(2000):
        a = Obj("circle", "red", "small", rng.randrange(64), rng.randrange(64), rng.choice((6, 11)))
        b = Obj("square", "blue", "large", rng.randrange(64), rng.randrange(64), rng.choice((6, 11)))
        holding = [r for r in shapes.RELATIONS if relation_holds(a, b, r)]
        assert len(holding) <= 1
        for relation in shapes.RELATIONS:
            assert relation_holds(a, b, relation) == relation_holds(b, a, CONVERSE[relation])
    touching = (Obj("circle", "red", "small", 20, 32, 6), Obj("circle", "blue", "small", 32, 32, 6))
    assert not relation_holds(*touching, "left of")  # boxes meet: no clear gap
    diagonal = (Obj("circle", "red", "small", 10, 10, 6), Obj("circle", "blue", "small", 40, 40, 6))
    assert not any(relation_holds(*diagonal, r) for r in shapes.RELATIONS)


def pixels(image: Image.Image, colour: str) -> np.ndarray:
    """(y, x) of every pixel of exactly this palette colour."""
    array = np.asarray(image)
    return np.argwhere((array == np.array(PALETTE[colour], dtype=np.uint8)).all(axis=2))


@pytest.mark.parametrize("name", ["default", "left-right"])
def test_rendered_objects_stand_in_the_stated_relation(name):
    cfg = CONFIGS[name]
    checked = 0
    for scene in scenes(cfg, 200, seed="pixels"):
        a, b = scene.objects
        if a.colour == b.colour:
            continue
        image = render(scene, cfg)
        assert image.mode == "RGB" and image.size == (cfg.image_size, cfg.image_size)
        pa, pb = pixels(image, a.colour), pixels(image, b.colour)
        assert len(pa) and len(pb)
        (ya, xa), (yb, xb) = pa.mean(axis=0), pb.mean(axis=0)
        axis, sign = {"left of": (1, 1), "right of": (1, -1), "above": (0, 1), "below": (0, -1)}[scene.relation]
        centre_a, centre_b = (ya, xa)[axis], (yb, xb)[axis]
        assert sign * (centre_b - centre_a) > 0, (scene, (xa, ya), (xb, yb))
        # Stronger: the drawn pixels do not overlap along the relation's axis.
        if sign > 0:
            assert pa[:, axis].max() < pb[:, axis].min()
        else:
            assert pb[:, axis].max() < pa[:, axis].min()
        checked += 1
    assert checked > 150


def test_two_colour_objects_are_split_into_halves_and_sizes_differ():
    cfg = WorldConfig(two_colour=True)
    checked = 0
    for scene in scenes(cfg, 100, seed="halves"):
        a, b = scene.objects
        if set(a.colours) & set(b.colours):
            continue
        image = render(scene, cfg)
        for obj in scene.objects:
            left, right = pixels(image, obj.colours[0]), pixels(image, obj.colours[1])
            assert len(left) and len(right)
            assert left[:, 1].max() < obj.x <= right[:, 1].min()
        checked += 1
    assert checked > 30
    cfg = WorldConfig()
    for shape in cfg.shapes:
        areas = {}
        for size in cfg.sizes:
            obj = Obj(shape, "red", size, 32, 32, shapes.radius_of(size, cfg.image_size))
            lone = Scene((obj, Obj("circle", "blue", "small", 5, 5, 1)), "left of")  # placement irrelevant here
            areas[size] = len(pixels(render(lone, cfg), "red"))
        assert areas["large"] > 2 * areas["small"], (shape, areas)


# --- writing ------------------------------------------------------------------------------------

def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_write_corpus_is_deterministic_across_processes_and_seeds(tmp_path):
    first = write_corpus(tmp_path / "one", 40, WorldConfig(), seed=7)
    write_corpus(tmp_path / "two", 40, WorldConfig(), seed=7)
    write_corpus(tmp_path / "other", 40, WorldConfig(), seed=8)
    script = ("import sys; from fgclip.synthetic.shapes import write_corpus, WorldConfig; "
              "write_corpus(sys.argv[1], 40, WorldConfig(), seed=7)")
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "process")], check=True, cwd=REPO, env=env,
                   timeout=120)

    one = digests(tmp_path / "one")
    assert first == tmp_path / "one" / "corpus.jsonl"
    assert len([k for k in one if k.startswith("images/")]) == 40
    assert not [k for k in one if ".tmp" in k]  # atomic writes leave no temporary files
    assert digests(tmp_path / "two") == one
    assert digests(tmp_path / "process") == one
    other = digests(tmp_path / "other")
    assert other["corpus.jsonl"] != one["corpus.jsonl"]
    assert sum(other[k] != one[k] for k in one if k.startswith("images/")) > 30


def test_corpus_rows_are_true_and_read_by_the_pipeline(tmp_path):
    from fgclip.pipeline.sources import SourceRow, read_rows

    cfg = WorldConfig(captions_per_image=4)
    path = write_corpus(tmp_path / "corpus", 30, cfg, seed=0)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30
    rows = [json.loads(line) for line in lines]
    for index, row in enumerate(rows):
        assert row["image"] == f"images/{index:06d}.png"
        assert len(row["caption"]) == 4
        scene = scene_from_dict(row["scene"])
        assert all(caption_is_true(scene, text, cfg) for text in row["caption"])
        with Image.open(tmp_path / "corpus" / row["image"]) as image:
            assert image.size == (64, 64)
    world = json.loads((tmp_path / "corpus" / "world.json").read_text())
    assert world == {"config": shapes.config_to_dict(cfg), "seed": 0, "count": 30}
    assert shapes.config_from_dict(world["config"]) == cfg
    with pytest.raises(ValueError, match="^colour:"):
        shapes.config_from_dict({**world["config"], "colour": ["red"]})

    read = list(read_rows([path], "jsonl"))
    assert all(isinstance(r, SourceRow) for r in read) and len(read) == 30
    assert [r.captions for r in read] == [row["caption"] for row in rows]
    assert all(os.path.isfile(r.image.path) for r in read)


def canonical(scene_dict: dict) -> frozenset:
    """What an image shows: its objects as a set (the order and relation word are one picture)."""
    return frozenset(json.dumps(o, sort_keys=True) for o in scene_dict["objects"])


def test_benchmark_scenes_are_held_out_from_the_corpus(tmp_path):
    cfg = WorldConfig()
    corpus = [json.loads(line)["scene"] for line in
              write_corpus(tmp_path / "corpus", 400, cfg, seed=0).read_text().splitlines()]
    write_benchmark(tmp_path / "bench", 100, cfg, seed=0)
    bench = [s["scene"] for s in json.loads((tmp_path / "bench" / "shapes.json").read_text())["scenes"]]
    assert len(bench) == 100
    assert not {canonical(s) for s in corpus} & {canonical(s) for s in bench}
    assert all(is_held_out(scene_from_dict(s)) for s in bench)
    assert not any(is_held_out(scene_from_dict(s)) for s in corpus)
    # The split is by picture: the same objects stated the other way round land on the same side.
    for values in bench[:20]:
        scene = scene_from_dict(values)
        mirrored = Scene(scene.objects[::-1], CONVERSE[scene.relation])
        assert is_held_out(mirrored)


def test_write_benchmark_files(tmp_path):
    cfg = WorldConfig(captions_per_image=2)
    assert write_benchmark(tmp_path, 30, cfg, seed=3) == tmp_path
    document = json.loads((tmp_path / "shapes.json").read_text())
    retrieval = json.loads((tmp_path / "shapes_retrieval.json").read_text())
    assert list(document["subsets"]) == list(SUBSETS)
    assert document["config"] == shapes.config_to_dict(cfg) and document["seed"] == 3
    assert retrieval["images"] == [f"images/{i:06d}.png" for i in range(30)]
    assert all((tmp_path / name).is_file() for name in retrieval["images"])
    by_image = {s["image"]: scene_from_dict(s["scene"]) for s in document["scenes"]}
    for image, texts in zip(retrieval["images"], retrieval["captions"]):
        assert len(texts) == 2 and all(caption_is_true(by_image[image], t, cfg) for t in texts)
    for subset, cases in document["subsets"].items():
        for case in cases:
            assert caption_is_true(by_image[case["image"]], case["caption"], cfg)
            assert not caption_is_true(by_image[case["image"]], case["negative_caption"], cfg)


# --- configuration and layering -----------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("image_size", 16), ("image_size", "64"), ("shapes", ("circle", "hexagon", "star")),
    ("shapes", ("circle", "square")), ("colours", ("red", "red", "blue")), ("colours", ("red", "blue")),
    ("sizes", ()), ("sizes", ("small", "huge")), ("relations", ("left of", "above")),
    ("relations", ("left of",)), ("objects", 3), ("objects", 2.0), ("two_colour", "yes"), ("captions_per_image", 0),
    ("jitter", -0.1), ("jitter", 0.5),
])
def test_config_errors_name_the_field(field, value):
    with pytest.raises(ValueError, match=rf"^{field}:"):
        WorldConfig(**{field: value})


def test_two_colour_needs_five_colours_and_lists_become_tuples():
    with pytest.raises(ValueError, match="^colours:"):
        WorldConfig(two_colour=True, colours=("red", "green", "blue", "white"))
    cfg = WorldConfig(relations=["above", "below"], colours=["red", "green", "blue"])
    assert cfg.relations == ("above", "below") and hash(cfg)
    assert all(s.relation in ("above", "below") for s in scenes(cfg, 50))
    with pytest.raises(ValueError, match="^count:"):
        write_corpus("/nonexistent-never-created", -1)


def test_the_world_imports_nothing_heavy():
    check = ("import sys, fgclip.synthetic.shapes\n"
             "bad = sorted(m for m in sys.modules if m == 'torch' or m.split('.')[:2] in "
             "(['fgclip', 'pipeline'], ['fgclip', 'trainer'], ['fgclip', 'eval']))\n"
             "sys.exit('imported: ' + ', '.join(bad) if bad else 0)\n")
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
