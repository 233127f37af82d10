"""`fgclip train --ray-workers 2`: the same loop under Ray Train's TorchTrainer on a local Ray."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fgclip import model as model_io
from fgclip.trainer.metrics import read_metrics

pytest.importorskip("ray.train")
pytestmark = pytest.mark.slow


def test_two_ray_train_workers_complete_and_write_one_checkpoint(tiny_config, tiny_shards, tmp_path):
    run = tmp_path / "run"
    env = dict(os.environ, RAY_DATA_DISABLE_PROGRESS_BARS="1", HF_HUB_OFFLINE="1")
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "fgclip.cli", "train", "--shards", str(tiny_shards), "--output", str(run),
         "--model", str(tiny_config), "--steps", "2", "--batch-size", "4", "--workers", "0", "--log-every", "1",
         "--device", "cpu", "--ray-workers", "2"],
        capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "done: 2 steps, 16 samples" in proc.stdout
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["latest.pt"]
    record = model_io.read_checkpoint(run / "checkpoints" / "latest.pt")
    assert record["world_size"] == 2 and record["progress"]["samples_seen"] == 16
    assert json.loads((run / "train_config.json").read_text())["world_size"] == 2
    rows = read_metrics(run / "metrics.jsonl")
    assert [row["step"] for row in rows] == [1, 2]  # rank 0 alone writes
