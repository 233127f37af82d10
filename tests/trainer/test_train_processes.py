"""The trainer as separate processes run it: killed with SIGKILL and resumed, and under torchrun."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from fgclip import model as model_io
from fgclip.trainer.metrics import read_metrics

from .conftest import write_shards

pytestmark = pytest.mark.slow

# Runs `fgclip train`, but the process SIGKILLs itself right after writing the checkpoint of
# step KILL_AT: a crash at the worst moment a checkpoint can leave behind.
KILLED_RUN = """
import os, signal, sys
from fgclip import model
from fgclip.cli import main
kill_at = int(os.environ["KILL_AT"])
save = model.save_checkpoint
def save_then_die(path, **state):
    save(path, **state)
    if state["progress"]["step"] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
model.save_checkpoint = save_then_die
sys.argv = ["fgclip"] + sys.argv[1:]
main()
"""


def _train_args(shards, output, tiny_config, *extra):
    return ["train", "--shards", str(shards), "--output", str(output), "--model", str(tiny_config), "--steps", "6",
            "--batch-size", "8", "--lr", "1e-3", "--save-every", "3", "--log-every", "1", "--workers", "1",
            "--device", "cpu", *extra]


def _env():
    return dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")


@pytest.mark.parametrize("where", ["local", "file-url"])
def test_sigkill_then_resume_ends_at_the_uninterrupted_weights(where, tiny_config, tmp_path):
    """``file-url``: the run folder is given as a ``file://`` URL, written through fsspec as a
    bucket is (the in-memory one cannot outlive a killed process)."""
    shards = write_shards(tmp_path / "shards", shards=2, per_shard=16)  # 32 samples: 4 steps an epoch
    straight = subprocess.run([sys.executable, "-m", "fgclip.cli", *_train_args(shards, tmp_path / "straight", tiny_config)],
                              capture_output=True, text=True, timeout=300, env=_env())
    assert straight.returncode == 0, straight.stderr[-2000:]

    output = tmp_path / "run" if where == "local" else f"file://{tmp_path}/run"
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, *_train_args(shards, output, tiny_config)],
                            capture_output=True, text=True, timeout=300, env=dict(_env(), KILL_AT="3"))
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert model_io.read_checkpoint(f"{output}/checkpoints/latest.pt")["progress"]["step"] == 3
    # The metrics of every step up to the checkpoint were stored before it (a URL's are uploaded).
    assert [row["step"] for row in read_metrics(f"{output}/metrics.jsonl")][:3] == [1, 2, 3]
    resumed = subprocess.run([sys.executable, "-m", "fgclip.cli",
                              *_train_args(shards, output, tiny_config, "--resume", "latest")],
                             capture_output=True, text=True, timeout=300, env=_env())
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from" in resumed.stdout and "at step 3 (epoch 0)" in resumed.stdout

    expected = model_io.read_checkpoint(tmp_path / "straight" / "checkpoints" / "latest.pt")["state_dict"]
    actual = model_io.read_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["state_dict"]
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=1e-5, atol=1e-6, msg=name)
    assert [row["step"] for row in read_metrics(tmp_path / "run" / "metrics.jsonl")] == [1, 2, 3, 4, 5, 6]


def test_torchrun_with_two_processes_trains_and_writes_one_checkpoint(tiny_config, tiny_shards, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "fgclip.cli", "train", "--shards", str(tiny_shards), "--output", str(tmp_path / "run"),
         "--model", str(tiny_config), "--steps", "2", "--batch-size", "4", "--workers", "0", "--log-every", "1",
         "--device", "cpu"],
        capture_output=True, text=True, timeout=300, env=_env())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.count("done: 2 steps, 16 samples") == 2  # both ranks finish; rank 0 alone logs steps
    record = model_io.read_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")
    assert record["world_size"] == 2
    assert [row["step"] for row in read_metrics(tmp_path / "run" / "metrics.jsonl")] == [1, 2]
