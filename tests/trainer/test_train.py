"""End to end on tiny shards and a tiny open_clip config: the loop, its checkpoints, resume,
faults, metrics and plots, and the command line."""

from __future__ import annotations

import json
import math
import uuid

import fsspec
import open_clip
import pytest
import torch
from typer.testing import CliRunner

from fgclip import model as model_io
from fgclip.cli import app
from fgclip.config import TrainConfig
from fgclip.trainer import loop
from fgclip.trainer.losses import CompositionLoss
from fgclip.trainer.metrics import plot_run, read_metrics

from .conftest import write_shards


def config(tiny_config, shards, output, **overrides) -> TrainConfig:
    values = dict(shards=str(shards), output=str(output), model=str(tiny_config), batch_size=8, steps=4, lr=1e-3,
                  warmup=1, workers=0, log_every=1, save_every=2, device="cpu", precision="fp32")
    values.update(overrides)
    return TrainConfig(**values)


def weights(path):
    return model_io.read_checkpoint(path)["state_dict"]


def test_a_run_writes_checkpoints_metrics_and_a_summary(tiny_config, tiny_shards, tmp_path):
    summary = loop.train(config(tiny_config, tiny_shards, tmp_path / "run"), echo=lambda _: None)
    run = tmp_path / "run"
    assert summary["steps"] == 4 and summary["samples_seen"] == 32 and summary["bad_steps"] == 0
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["latest.pt", "step_00000002.pt", "step_00000004.pt"]
    rows = read_metrics(run / "metrics.jsonl")
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    last = rows[-1]
    for key in ("total", "itc", "imc", "cmr", "lr", "logit_scale", "samples_per_s", "skipped", "grad_norm"):
        assert key in last, key
    assert set(last["tau"]) == set(last["text_cosine"]) == set(last["gap"]) == {"relation", "attribute", "object", "action"}
    assert rows[0]["tau"] == {k: 0.0 for k in last["tau"]}  # no previous batch before step 1
    assert any(v > 0 for v in last["tau"].values())
    assert all(-1.0 <= v <= 1.0 for v in last["text_cosine"].values())
    assert all(math.isfinite(row["total"]) for row in rows)
    record = model_io.read_checkpoint(run / "checkpoints" / "latest.pt")
    assert record["progress"]["step"] == 4 and record["config"]["batch_size"] == 8
    assert record["arch"].name == tiny_config.stem and record["arch"].config == json.loads(tiny_config.read_text())


def test_the_checkpoint_loads_with_open_clip_itself(tiny_config, tiny_shards, tmp_path):
    loop.train(config(tiny_config, tiny_shards, tmp_path / "run", steps=1), echo=lambda _: None)
    path = tmp_path / "run" / "checkpoints" / "latest.pt"
    arch = model_io.read_checkpoint(path)["arch"]
    model_io.register(arch)  # a custom config; a built-in name needs nothing
    net, _, _ = open_clip.create_model_and_transforms(arch.name, pretrained=str(path))
    for name, value in net.state_dict().items():
        assert torch.equal(value, weights(path)[name]), name


@pytest.mark.parametrize("where", ["local", "memory"])
def test_resume_after_an_interruption_ends_at_the_weights_of_an_uninterrupted_run(where, tiny_config, tmp_path,
                                                                                  monkeypatch):
    """``memory``: the interrupted and the resumed run write into fsspec's in-memory file system,
    a bucket within this process (tests/test_url_runs.py); ``latest`` is found there."""
    shards = write_shards(tmp_path / "shards", shards=3, per_shard=8)  # 24 samples: 3 steps an epoch
    loop.train(config(tiny_config, shards, tmp_path / "straight", steps=8, save_every=4), echo=lambda _: None)
    bucket = f"fgclip-resume-{uuid.uuid4().hex[:12]}"
    run = tmp_path / "resumed" if where == "local" else f"memory://{bucket}/resumed"

    saved = model_io.save_checkpoint

    def save_then_die(path, **state):
        saved(path, **state)
        if state["progress"]["step"] == 4:
            raise KeyboardInterrupt  # as if killed right after the checkpoint of step 4

    monkeypatch.setattr(model_io, "save_checkpoint", save_then_die)
    interrupted = config(tiny_config, shards, run, steps=8, save_every=4)
    with pytest.raises(KeyboardInterrupt):
        loop.train(interrupted, echo=lambda _: None)
    monkeypatch.setattr(model_io, "save_checkpoint", saved)
    lines = []
    loop.train(config(tiny_config, shards, run, steps=8, save_every=4, resume="latest"), echo=lines.append)
    assert any("resumed" in line and "step 4" in line for line in lines)

    straight = weights(tmp_path / "straight" / "checkpoints" / "latest.pt")
    resumed = weights(f"{run}/checkpoints/latest.pt")
    for name in straight:
        torch.testing.assert_close(resumed[name], straight[name], rtol=1e-5, atol=1e-6, msg=name)
    steps = [row["step"] for row in read_metrics(f"{run}/metrics.jsonl")]
    assert steps == list(range(1, 9))
    straight_rows = read_metrics(tmp_path / "straight" / "metrics.jsonl")
    resumed_rows = read_metrics(f"{run}/metrics.jsonl")
    assert [r["total"] for r in resumed_rows] == pytest.approx([r["total"] for r in straight_rows], rel=1e-5)
    assert resumed_rows[-1]["tau"] == pytest.approx(straight_rows[-1]["tau"], rel=1e-5)
    if where == "memory":  # the in-memory store lives as long as the test process
        fsspec.filesystem("memory").rm(f"/{bucket}", recursive=True)


def test_resume_refuses_a_different_batch_size(tiny_config, tiny_shards, tmp_path):
    loop.train(config(tiny_config, tiny_shards, tmp_path / "run", steps=2), echo=lambda _: None)
    with pytest.raises(loop.TrainUsageError, match="batch_size: 8 -> 4"):
        loop.train(config(tiny_config, tiny_shards, tmp_path / "run", steps=4, batch_size=4, resume="latest"),
                   echo=lambda _: None)


def test_resume_refuses_other_skipped_rules_but_takes_a_checkpoint_from_before_them(tiny_config, tiny_shards, tmp_path):
    loop.train(config(tiny_config, tiny_shards, tmp_path / "run", steps=2), echo=lambda _: None)
    with pytest.raises(loop.TrainUsageError, match=r"skip_rules: \[\] -> \['swap-np'\]"):
        loop.train(config(tiny_config, tiny_shards, tmp_path / "run", resume="latest", skip_rules=("swap-np",)),
                   echo=lambda _: None)
    # A checkpoint written before skip_rules existed skipped none.
    latest = tmp_path / "run" / "checkpoints" / "latest.pt"
    record = torch.load(latest, weights_only=True)
    del record["config"]["skip_rules"]
    torch.save(record, latest)
    summary = loop.train(config(tiny_config, tiny_shards, tmp_path / "run", resume="latest"), echo=lambda _: None)
    assert summary["steps"] == 4


def _nan_on(steps_with_nan: set[int], monkeypatch):
    real = CompositionLoss.__call__
    calls = {"n": 0}

    def maybe_nan(self, *args, **kwargs):
        calls["n"] += 1
        loss, terms = real(self, *args, **kwargs)
        if calls["n"] in steps_with_nan:
            loss = loss * float("nan")
            terms = dict(terms, total=loss.detach())
        return loss, terms

    monkeypatch.setattr(CompositionLoss, "__call__", maybe_nan)


def test_a_non_finite_step_is_skipped_and_counted(tiny_config, tiny_shards, tmp_path, monkeypatch):
    _nan_on({2}, monkeypatch)
    lines = []
    summary = loop.train(config(tiny_config, tiny_shards, tmp_path / "run"), echo=lines.append)
    assert summary["bad_steps"] == 1 and summary["steps"] == 4
    assert any("non-finite" in line for line in lines)
    rows = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert rows[-1]["bad_steps"] == 1


def test_too_many_non_finite_steps_stop_the_run_with_a_usable_checkpoint(tiny_config, tiny_shards, tmp_path, monkeypatch):
    loop.train(config(tiny_config, tiny_shards, tmp_path / "good", steps=1), echo=lambda _: None)
    _nan_on({2, 3, 4}, monkeypatch)
    with pytest.raises(loop.TrainingError, match="3 steps in a row.*latest.pt"):
        loop.train(config(tiny_config, tiny_shards, tmp_path / "run", max_bad_steps=3), echo=lambda _: None)
    # Step 1 was good and steps 2-4 changed nothing: the saved weights are those after step 1.
    after_one = weights(tmp_path / "good" / "checkpoints" / "latest.pt")
    saved = weights(tmp_path / "run" / "checkpoints" / "latest.pt")
    for name in after_one:
        assert torch.equal(saved[name], after_one[name]), name


def test_logit_scale_is_clamped_at_100(tiny_config, tiny_shards, tmp_path):
    torch.manual_seed(0)
    arch = model_io.resolve_architecture(str(tiny_config))
    net, _, _ = model_io.create(arch)
    with torch.no_grad():
        net.logit_scale.fill_(math.log(400.0))
    torch.save(net.state_dict(), tmp_path / "hot.pt")
    loop.train(config(tiny_config, tiny_shards, tmp_path / "run", steps=1, pretrained=str(tmp_path / "hot.pt")),
               echo=lambda _: None)
    scale = weights(tmp_path / "run" / "checkpoints" / "latest.pt")["logit_scale"]
    assert float(scale.exp()) == pytest.approx(100.0, rel=1e-5)


def test_the_control_run_has_no_negative_terms(tiny_config, tiny_shards, tmp_path):
    loop.train(config(tiny_config, tiny_shards, tmp_path / "run", steps=2, no_hard_negatives=True), echo=lambda _: None)
    row = read_metrics(tmp_path / "run" / "metrics.jsonl")[-1]
    assert "tau" not in row and row["imc"] == 0.0 and row["cmr"] == 0.0 and row["total"] == row["itc"]


def test_a_fixed_margin_run_uses_that_margin_at_every_step(tiny_config, tiny_shards, tmp_path):
    loop.train(config(tiny_config, tiny_shards, tmp_path / "run", steps=3, cmr_fixed_margin=2.5), echo=lambda _: None)
    rows = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert len(rows) == 3
    for row in rows:
        assert set(row["tau"].values()) == {2.5}, row["tau"]
        assert row["cmr"] > 0.0  # margin 2.5 from a random start: the hinge is active


def test_plot_draws_losses_and_margins(tiny_config, tiny_shards, tmp_path):
    loop.train(config(tiny_config, tiny_shards, tmp_path / "run"), echo=lambda _: None)
    written = plot_run(tmp_path / "run")
    assert [p.name for p in written] == ["losses.png", "margins.png", "kinds.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)


runner = CliRunner()


def test_cli_trains_and_plots(tiny_config, tiny_shards, tmp_path):
    result = runner.invoke(app, ["train", "--shards", str(tiny_shards), "--output", str(tmp_path / "run"),
                                 "--model", str(tiny_config), "--steps", "2", "--batch-size", "8", "--workers", "0",
                                 "--log-every", "1", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "step 2/2" in result.output and "done: 2 steps" in result.output
    result = runner.invoke(app, ["plot", str(tmp_path / "run")])
    assert result.exit_code == 0 and "margins.png" in result.output


@pytest.mark.parametrize("shards, message", [
    ("{missing}/000000.tar", "not found"),
    ("{empty}", "holds no *.tar shard"),
])
def test_cli_refuses_missing_or_empty_shards_with_status_2(tiny_config, tmp_path, shards, message):
    (tmp_path / "empty").mkdir()
    spec = shards.format(missing=tmp_path / "missing", empty=tmp_path / "empty")
    result = runner.invoke(app, ["train", "--shards", spec, "--output", str(tmp_path / "run"), "--model", str(tiny_config)])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_cli_refuses_an_unknown_model_and_a_missing_weights_file(tiny_shards, tmp_path, tiny_config):
    result = runner.invoke(app, ["train", "--shards", str(tiny_shards), "--output", str(tmp_path / "a"), "--model", "ViT-Q-99"])
    assert result.exit_code == 2 and "unknown open_clip model" in result.output
    result = runner.invoke(app, ["train", "--shards", str(tiny_shards), "--output", str(tmp_path / "b"),
                                 "--model", str(tiny_config), "--pretrained", str(tmp_path / "nope.pt")])
    assert result.exit_code == 2 and "no such file" in result.output
