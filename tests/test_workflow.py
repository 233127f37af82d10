"""`fgclip workflow run` on a miniature config: every stage's outputs, and a rerun that skips them."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from fgclip.cli import app
from fgclip.eval.run import read_results

pytestmark = pytest.mark.slow

SUBSETS = {"replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj"}
TINY = {"embed_dim": 32, "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
        "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}


def mini_config(tmp_path, **finetune):
    config = {
        "train_images": 48, "test_images": 40, "model": TINY,
        "build": {"shard_size": 16, "executor": "local", "workers": 1},
        "pretrain": {"steps": 3, "batch_size": 16, "workers": 0, "log_every": 1, "save_every": 3, "device": "cpu"},
        "finetune": {"steps": 2, "batch_size": 16, "workers": 0, "log_every": 1, "save_every": 2, "device": "cpu",
                     **finetune},
        "eval": {"device": "cpu", "batch_size": 64},
    }
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run(tmp_path, config):
    return CliRunner().invoke(app, ["workflow", "run", str(config), "--output", str(tmp_path / "demo")])


def test_the_address_reaches_the_build_and_the_training_stages(tmp_path):
    from fgclip.workflow import load_workflow_config, stage_configs

    stages = stage_configs(load_workflow_config(mini_config(tmp_path), output=str(tmp_path / "w"),
                                                address="ray://head:10001"))
    assert stages["shards"].address == "ray://head:10001"
    assert {stages[name].address for name in ("pretrained", "ce", "control", "eval")} == {"ray://head:10001"}
    assert stage_configs(load_workflow_config(mini_config(tmp_path), output=str(tmp_path / "w")))["shards"].address is None


def test_the_swaps_mode_and_skipped_rules_reach_their_stages(tmp_path):
    from fgclip.workflow import load_workflow_config, stage_configs

    stages = stage_configs(load_workflow_config(mini_config(tmp_path), output=str(tmp_path / "w")))
    assert stages["shards"].swaps == "plausible" and stages["ce"].skip_rules == ()
    config = yaml.safe_load(mini_config(tmp_path).read_text())
    config["build"]["swaps"] = "paper"
    config["finetune"]["skip_rules"] = ["swap-np"]
    (tmp_path / "workflow.yaml").write_text(yaml.safe_dump(config))
    stages = stage_configs(load_workflow_config(tmp_path / "workflow.yaml", output=str(tmp_path / "w")))
    assert stages["shards"].swaps == "paper" and stages["ce"].skip_rules == ("swap-np",)


def test_the_workflow_runs_every_stage_then_skips_them(tmp_path):
    out = tmp_path / "demo"
    first = run(tmp_path, mini_config(tmp_path))
    assert first.exit_code == 0, first.output
    for stage in ("corpus", "shards", "pretrained", "ce", "control", "eval", "report"):
        assert (out / stage / "fgclip-stage.json").is_file(), stage
    assert (out / "shards" / "sizes.json").is_file() and (out / "corpus" / "benchmark" / "shapes.json").is_file()
    rows = read_results(out / "eval" / "results.jsonl")
    names = {r["name"] for r in rows}
    assert names == {"pretrained", "control", "ce"}
    for name in names:
        subsets = {r["subset"] for r in rows if r["name"] == name and r["benchmark"] == "shapes" and not r["convention"]}
        assert subsets == SUBSETS
        metrics = {r["metric"] for r in rows if r["name"] == name and r["benchmark"] == "shapes-retrieval"}
        assert {"i2t_r1", "t2i_r1"} <= metrics
    # the checkpoints the eval scored are the fine-tunes of the pretrained one
    ce = json.loads((out / "ce" / "train_config.json").read_text())
    assert ce["config"]["pretrained"].endswith("pretrained/checkpoints/latest.pt") and not ce["config"]["no_hard_negatives"]
    control = json.loads((out / "control" / "train_config.json").read_text())
    assert control["config"]["no_hard_negatives"] and control["config"]["steps"] == ce["config"]["steps"]
    assert "| checkpoint |" in first.output and (out / "report" / "summary.png").is_file()

    again = run(tmp_path, mini_config(tmp_path))
    assert again.exit_code == 0, again.output
    assert again.output.count("skipped") == 7
    # Where the stages run is not part of their settings: naming a cluster (here one that does
    # not exist: any connection attempt would fail) reruns nothing.
    elsewhere = CliRunner().invoke(app, ["workflow", "run", str(mini_config(tmp_path)), "--output", str(out),
                                         "--address", "127.0.0.1:9"])
    assert elsewhere.exit_code == 0, elsewhere.output
    assert elsewhere.output.count("skipped") == 7
    # Nor is a check that only refuses bad input (added after runs were recorded without it).
    stricter = yaml.safe_load(mini_config(tmp_path).read_text())
    stricter["build"]["max_skip_fraction"] = 0.1
    (tmp_path / "stricter.yaml").write_text(yaml.safe_dump(stricter))
    checked = CliRunner().invoke(app, ["workflow", "run", str(tmp_path / "stricter.yaml"), "--output", str(out)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.count("skipped") == 7

    changed = run(tmp_path, mini_config(tmp_path, lr=0.002))  # only the fine-tunes and what follows rerun
    assert changed.exit_code == 0, changed.output
    for stage in ("corpus", "shards", "pretrained"):
        assert f"[{stage}] done before" in changed.output
    for stage in ("ce", "control", "eval", "report"):
        assert f"[{stage}] running" in changed.output


def test_a_bad_key_exits_2_naming_it(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"pretrain": {"stepz": 3}}))
    result = run(tmp_path, path)
    assert result.exit_code == 2 and "stepz" in result.output


def test_a_moved_run_folder_is_still_done(tmp_path):
    config = mini_config(tmp_path)
    assert run(tmp_path, config).exit_code == 0
    (tmp_path / "demo").rename(tmp_path / "moved")
    moved = CliRunner().invoke(app, ["workflow", "run", str(config), "--output", str(tmp_path / "moved")])
    assert moved.exit_code == 0, moved.output
    assert moved.output.count("skipped") == 7
