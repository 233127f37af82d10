"""`fgclip workflow run` with a corpus: a COCO-format caption file with drawn images, a tiny model
whose random weights stand in for pretrained ones, SugarCrepe (and VALSE) text from
../shared/data with drawn stand-in images."""

from __future__ import annotations

import json
import random
from pathlib import Path

import open_clip
import pytest
import torch
import yaml
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from fgclip import model as model_io
from fgclip.cli import app
from fgclip.eval.run import read_results

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TINY = {"embed_dim": 32, "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
        "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
SUGARCREPE = ("add_att", "add_obj", "replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")
CAPTIONS = ["a man riding a horse on a beach", "a red bus parked next to a white building",
            "two dogs playing with a ball in the grass", "a woman holding an umbrella in the rain",
            "a cat sitting on top of a wooden table", "a plate of food with broccoli and rice",
            "a young boy throwing a frisbee in a park", "a train moving along the tracks near a station"]


def needs_shared_data():
    if not (SHARED / "sugarcrepe").is_dir() or not (SHARED / "valse").is_dir():
        pytest.skip(f"{SHARED} (the shared benchmark text) is absent")


def draw(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    image = Image.new("RGB", (48, 40), tuple(rng.randrange(256) for _ in range(3)))
    ImageDraw.Draw(image).ellipse((rng.randrange(20), rng.randrange(15), 30, 35), fill=(rng.randrange(256), 40, 90))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def coco_corpus(root: Path, images: int = 32) -> Path:
    entries, annotations = [], []
    for index in range(images):
        name = f"COCO_train2014_{index:012d}.jpg"
        draw(root / "train2014" / name, index)
        entries.append({"id": index, "file_name": name})
        for k in range(2):
            annotations.append({"id": len(annotations), "image_id": index, "caption": CAPTIONS[(index + k) % len(CAPTIONS)]})
    path = root / "captions_train2014.json"
    path.write_text(json.dumps({"images": entries, "annotations": annotations}))
    return path


def sugarcrepe_subset(root: Path, images: Path, per_file: int = 3) -> Path:
    folder = root / "sugarcrepe"
    folder.mkdir(parents=True)
    for stem in SUGARCREPE:
        records = json.loads((SHARED / "sugarcrepe" / f"{stem}.json").read_text())
        kept = dict(list(records.items())[:per_file])
        (folder / f"{stem}.json").write_text(json.dumps(kept))
        for n, record in enumerate(kept.values()):
            draw(images / record["filename"], n)
    return folder


def valse_subset(root: Path, images: Path, count: int = 4) -> Path:
    folder = root / "valse"
    folder.mkdir(parents=True)
    records = json.loads((SHARED / "valse" / "existence.json").read_text())
    kept = dict([(k, v) for k, v in records.items() if v.get("mturk", {}).get("caption", 0) >= 2][:count])
    (folder / "existence.json").write_text(json.dumps(kept))
    for n, record in enumerate(kept.values()):
        draw(images / record["image_file"], 100 + n)
    return folder


def random_weights(path: Path) -> Path:
    torch.manual_seed(0)
    net, _, _ = model_io.create(model_io.Architecture("fgclip-real-workflow-tiny", TINY))
    torch.save(net.state_dict(), path)
    return path


@pytest.fixture
def setup(tmp_path):
    needs_shared_data()
    corpus = coco_corpus(tmp_path / "coco")
    sugarcrepe = sugarcrepe_subset(tmp_path / "benchmarks", tmp_path / "val2017")
    valse = valse_subset(tmp_path / "benchmarks", tmp_path / "valse-images")
    config = {
        "output": str(tmp_path / "run"),
        "corpus": {"input": str(corpus), "format": "coco", "image_root": str(tmp_path / "coco" / "train2014")},
        "build": {"shard_size": 16, "executor": "local", "workers": 1, "negatives_per_kind": 1},
        "model": TINY,
        "pretrained": str(random_weights(tmp_path / "tiny-random.pt")),
        "finetune": {"steps": 2, "batch_size": 8, "workers": 0, "log_every": 1, "save_every": 2, "device": "cpu",
                     "precision": "fp32", "lr": 1e-4, "warmup": 0},
        "runs": {"ce": {}, "control": {}},
        "eval": {"device": "cpu", "batch_size": 32,
                 "benchmarks": {"sugarcrepe": {"data_root": str(sugarcrepe), "images": str(tmp_path / "val2017")}}},
    }
    published = tmp_path / "published.yaml"
    published.write_text(yaml.safe_dump({"rows": [
        {"model": "CLIP (test row)", "benchmark": "sugarcrepe", "subset": "swap_obj", "metric": "accuracy",
         "value": 12.5, "source": "a test, not a paper"}]}))
    return tmp_path, config, valse, published


def write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def invoke(path: Path):
    return CliRunner().invoke(app, ["workflow", "run", str(path)])


@pytest.mark.slow
def test_the_real_data_workflow_runs_skips_and_reruns_only_what_changed(setup, monkeypatch):
    from fgclip.eval import report

    tmp_path, config, valse, published = setup
    monkeypatch.setattr(report, "default_published_path", lambda: published)
    out = tmp_path / "run"
    first = invoke(write(tmp_path, config))
    assert first.exit_code == 0, first.output
    for stage in ("shards", "ce", "control", "exports", "eval", "report"):
        assert (out / stage / "fgclip-stage.json").is_file(), stage
    assert (out / "shards" / "sizes.json").is_file()
    for run in ("ce", "control"):
        assert (out / run / "checkpoints" / "latest.pt").is_file()
        assert (out / "exports" / run / "open_clip_model.safetensors").is_file()
    rows = read_results(out / "eval" / "results.jsonl")
    assert {r["name"] for r in rows} == {"pretrained", "ce", "control"}
    assert {r["subset"] for r in rows if not r["convention"]} == set(SUGARCREPE)
    control = json.loads((out / "control" / "train_config.json").read_text())["config"]
    assert control["no_hard_negatives"] and control["pretrained"] == config["pretrained"]
    text = (out / "report" / "report.md").read_text()
    assert "Published numbers beside this run" in text and "CLIP (test row) (published)" in text and "12.5" in text

    again = invoke(write(tmp_path, config))
    assert again.exit_code == 0, again.output
    assert "running" not in again.output and again.output.count("skipped") == 6

    config["eval"]["benchmarks"]["valse"] = {"data_root": str(valse), "images": str(tmp_path / "valse-images")}
    more = invoke(write(tmp_path, config))
    assert more.exit_code == 0, more.output
    ran = {line.split("]")[0][1:] for line in more.output.splitlines() if line.endswith("] running")}
    assert ran == {"eval", "report"}
    assert {r["benchmark"] for r in read_results(out / "eval" / "results.jsonl")} == {"sugarcrepe", "valse"}


def test_a_missing_image_folder_stops_the_run_before_any_model_loads(setup, monkeypatch):
    tmp_path, config, _, _ = setup
    config["eval"]["benchmarks"]["sugarcrepe"]["images"] = str(tmp_path / "no-such-folder")
    monkeypatch.setattr(model_io, "create", lambda *a, **k: pytest.fail("a model was loaded"))
    result = invoke(write(tmp_path, config))
    assert result.exit_code == 2, result.output
    assert "eval.benchmarks.sugarcrepe.images" in result.output and "no-such-folder" in result.output
    assert not (tmp_path / "run" / "shards").exists()


def test_an_open_clip_tag_not_in_the_cache_stops_the_run_naming_it(setup, monkeypatch):
    import huggingface_hub.constants

    tmp_path, config, _, _ = setup
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # open_clip's URL cache (~/.cache/clip) is empty too
    attempts = []

    def no_network(tag_cfg, *args, **kwargs):  # a machine without internet: the hub refuses at once
        attempts.append(tag_cfg)
        raise OSError("stand-in for a hub that cannot be reached")

    monkeypatch.setattr(open_clip.pretrained, "download_pretrained", no_network)
    config.update(model="ViT-B-32-quickgelu", pretrained="openai")
    result = invoke(write(tmp_path, config))
    assert result.exit_code == 2, result.output
    assert "'openai'" in result.output and "models--timm--vit_base_patch32_clip_224.openai" in result.output
    assert "create_model_and_transforms" in result.output
    assert len(attempts) == 1 and "cannot be reached" in result.output
    assert not (tmp_path / "run" / "shards").exists()


def test_a_tag_in_the_cache_resolves_offline_and_plain_gelu_is_refused(tmp_path, monkeypatch):
    import huggingface_hub.constants

    from fgclip.workflow import WorkflowConfig
    from fgclip.workflow_real import WorkflowError, resolve_pretrained

    cache = tmp_path / "hub"
    snapshot = cache / "models--timm--vit_base_patch32_clip_224.openai" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "open_clip_model.safetensors").write_bytes(b"stand-in")
    (cache / "models--timm--vit_base_patch32_clip_224.openai" / "refs").mkdir()
    (cache / "models--timm--vit_base_patch32_clip_224.openai" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(open_clip.pretrained, "download_pretrained", lambda *a, **k: pytest.fail("went to the network"))
    base = dict(output=str(tmp_path / "run"), corpus={"input": "c.json"}, runs={"ce": {}, "control": {}},
                eval={"benchmarks": {"sugarcrepe": {"data_root": "sc"}}}, pretrained="openai")
    weights, aliases = resolve_pretrained(WorkflowConfig(model="ViT-B-32-quickgelu", **base))
    assert weights == str(snapshot / "open_clip_model.safetensors") and weights in aliases
    with pytest.raises(WorkflowError, match="QuickGELU"):
        resolve_pretrained(WorkflowConfig(model="ViT-B-32", **base))


@pytest.mark.parametrize("recipe", ["ce-clip-coco.yaml", "negclip-coco.yaml"])
def test_the_shipped_recipes_load_and_build_every_stage_config(recipe):
    from fgclip.workflow import load_workflow_config, stage_configs

    cfg = load_workflow_config(Path(__file__).resolve().parents[1] / "recipes" / recipe)
    stages = stage_configs(cfg)
    assert cfg.model == "ViT-B-32-quickgelu" and cfg.pretrained == "openai"
    assert stages["shards"].input.endswith("captions_train2014.json") and stages["shards"].format == "coco"
    assert stages["ce"].lr == 5e-6 and stages["ce"].batch_size == 256 and stages["ce"].epochs == 5
    assert not stages["ce"].no_hard_negatives and stages["control"].no_hard_negatives
    assert set(stages["eval"]) == {"sugarcrepe"}
    if recipe.startswith("negclip"):
        assert stages["itc_hn"].imc_weight == 0 and stages["itc_hn"].cmr_weight == 0
        assert not stages["itc_hn"].no_hard_negatives


def test_a_real_config_with_demo_keys_or_without_control_is_refused(tmp_path):
    from fgclip.workflow import load_workflow_config

    base = {"corpus": {"input": "c.json"}, "model": "ViT-B-32-quickgelu", "pretrained": "openai",
            "runs": {"ce": {}, "control": {}}, "eval": {"benchmarks": {"sugarcrepe": {"data_root": "sc"}}}}
    for change, message in (({"pretrain": {"steps": 3}}, "pretrain"), ({"runs": {"ce": {}}}, "control"),
                            ({"runs": {"ce": {}, "control": {}, "eval": {}}}, "'eval'"),
                            ({"eval": {"benchmarks": {}}}, "eval.benchmarks"),
                            ({"wise_ft": [1.5]}, "wise_ft")):
        path = tmp_path / "w.yaml"
        path.write_text(yaml.safe_dump({**base, **change}))
        with pytest.raises(ValueError, match=message):
            load_workflow_config(path)
    path.write_text(yaml.safe_dump({"runs": {"ce": {}, "control": {}}}))
    with pytest.raises(ValueError, match="real-data"):
        load_workflow_config(path)
