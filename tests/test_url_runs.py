"""Run folders at URLs: training, eval results, reports and the workflow written through
fgclip.files.Folder into fsspec's in-memory file system (``memory://``, standing in for a bucket
within one process) and ``file://`` (the same code path across processes). No network.

The kill-and-resume of a training run into a ``file://`` folder, across processes, is in
tests/trainer/test_train_processes.py; the in-process resume into ``memory://`` in
tests/trainer/test_train.py. Both end at the weights of an uninterrupted run.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid

import fsspec
import pytest
import torch
import yaml
from typer.testing import CliRunner

from fgclip import model as model_io
from fgclip.cli import app
from fgclip.config import TrainConfig
from fgclip.eval.run import read_results
from fgclip.files import Folder, is_file_at, local_file, read_bytes_at, temporary_name, write_bytes_at
from fgclip.trainer import loop
from fgclip.trainer import metrics as metrics_module
from fgclip.trainer.metrics import MetricsLog, read_metrics

from trainer.conftest import TINY_CONFIG, write_shards  # tests/ is on sys.path (rootdir-relative packages)

runner = CliRunner()


@pytest.fixture
def bucket():
    """A fresh ``memory://`` location, emptied afterwards (the in-memory store is per process)."""
    top = f"fgclip-test-{uuid.uuid4().hex[:12]}"
    yield f"memory://{top}"
    store = fsspec.filesystem("memory")
    if store.exists(f"/{top}"):
        store.rm(f"/{top}", recursive=True)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return write_shards(tmp_path_factory.mktemp("url-shards"), shards=2, per_shard=8)


@pytest.fixture
def model_json(bucket):
    """The tiny model config, itself read from the bucket (``--model URL``)."""
    location = f"{bucket}/configs/fgclip-url-tiny.json"
    write_bytes_at(location, json.dumps(TINY_CONFIG).encode("utf-8"))
    return location


def train_config(shards, output, model, **overrides) -> TrainConfig:
    values = dict(shards=str(shards), output=output, model=model, batch_size=8, steps=4, lr=1e-3, warmup=1,
                  workers=0, log_every=1, save_every=2, device="cpu", precision="fp32")
    values.update(overrides)
    return TrainConfig(**values)


# --- Folder: what run folders need of it


@pytest.mark.parametrize("scheme", ["memory", "file"])
def test_a_folder_copies_uploads_and_downloads_whole_files(scheme, bucket, tmp_path):
    root = bucket if scheme == "memory" else f"file://{tmp_path}/store"
    folder = Folder(root)
    folder.make()
    folder.write_bytes("latest.pt", b"weights of step 2")
    folder.copy("latest.pt", "step_2.pt")
    folder.write_bytes("latest.pt", b"weights of step 4")
    assert folder.read_bytes("step_2.pt") == b"weights of step 2"  # a copy, not a link
    assert folder.names("*.pt") == ["latest.pt", "step_2.pt"]

    local = tmp_path / "tree"
    (local / "a" / "b").mkdir(parents=True)
    (local / "a" / "b" / "x.png").write_bytes(b"png")
    (local / "top.json").write_text("{}")
    folder.upload_tree(local, "uploaded")
    assert folder.read_bytes("uploaded/a/b/x.png") == b"png" and folder.read_text("uploaded/top.json") == "{}"
    folder.download_tree("uploaded", tmp_path / "back")
    assert (tmp_path / "back" / "a" / "b" / "x.png").read_bytes() == b"png"

    with local_file(folder.path("latest.pt")) as copy:
        assert copy.name == "latest.pt" and copy.read_bytes() == b"weights of step 4"
    assert not copy.exists()  # the download goes with the block
    assert is_file_at(folder.path("latest.pt")) and not is_file_at(folder.path("uploaded"))
    assert not any(".tmp-" in name for name in folder.names())


def test_only_local_and_file_url_folders_keep_temporaries(bucket, tmp_path):
    assert Folder(tmp_path).keeps_temporaries and Folder(f"file://{tmp_path}").keeps_temporaries
    assert not Folder(bucket).keeps_temporaries


# --- training into a bucket


def test_a_run_into_a_bucket_writes_checkpoints_metrics_and_records_there(bucket, shards, model_json, tmp_path):
    run = f"{bucket}/runs/first"
    summary = loop.train(train_config(shards, run, model_json), echo=lambda _: None)
    assert summary["checkpoint"] == f"{run}/checkpoints/latest.pt" and summary["steps"] == 4
    folder = Folder(run)
    assert folder.sub("checkpoints").names() == ["latest.pt", "step_00000002.pt", "step_00000004.pt"]
    assert {"metrics.jsonl", "train_config.json", "summary.json"} <= set(folder.names())
    assert [row["step"] for row in read_metrics(folder.path("metrics.jsonl"))] == [1, 2, 3, 4]
    assert json.loads(folder.read_text("summary.json"))["steps"] == 4
    assert not tmp_path.joinpath("memory:").exists() and not os.path.exists("memory:")

    # A checkpoint in the bucket is a plain torch file, loaded with weights_only=True.
    raw = torch.load(io.BytesIO(folder.read_bytes("checkpoints/latest.pt")), weights_only=True)
    assert raw["progress"]["step"] == 4 and raw["arch"]["name"] == "fgclip-url-tiny"
    snapshot = model_io.read_checkpoint(folder.path("checkpoints/step_00000002.pt"))
    assert snapshot["progress"]["step"] == 2

    plotted = runner.invoke(app, ["plot", run])
    assert plotted.exit_code == 0, plotted.output
    assert {"losses.png", "margins.png", "kinds.png"} <= set(folder.names())
    assert folder.read_bytes("losses.png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_fine_tune_reads_its_pretrained_weights_from_the_bucket(bucket, shards, model_json):
    loop.train(train_config(shards, f"{bucket}/pretrained", model_json, steps=2), echo=lambda _: None)
    pretrained = f"{bucket}/pretrained/checkpoints/latest.pt"
    loop.train(train_config(shards, f"{bucket}/tuned", model_json, steps=1, lr=0.0, pretrained=pretrained),
               echo=lambda _: None)
    start = model_io.read_checkpoint(pretrained)["state_dict"]
    tuned = model_io.read_checkpoint(f"{bucket}/tuned/checkpoints/latest.pt")["state_dict"]
    for name in start:  # lr 0: the one step leaves the loaded weights as they were
        torch.testing.assert_close(tuned[name], start[name], msg=name)


def test_resume_latest_from_a_bucket_takes_its_latest_checkpoint_and_drops_later_metrics(bucket, shards, model_json):
    run = f"{bucket}/run"
    loop.train(train_config(shards, run, model_json, steps=2), echo=lambda _: None)
    folder = Folder(run)
    # Rows logged after the checkpoint by a run that was then killed: the resume drops them.
    rows = folder.read_text("metrics.jsonl") + json.dumps({"step": 3, "total": 9.0}) + "\n"
    folder.write_bytes("metrics.jsonl", rows.encode("utf-8"))
    lines = []
    summary = loop.train(train_config(shards, run, model_json, steps=4, resume="latest"), echo=lines.append)
    assert summary["steps"] == 4
    assert any(line.startswith(f"resumed from {run}/checkpoints/latest.pt at step 2") for line in lines), lines
    assert [row["step"] for row in read_metrics(folder.path("metrics.jsonl"))] == [1, 2, 3, 4]
    assert read_metrics(folder.path("metrics.jsonl"))[2]["total"] != 9.0


def test_resume_from_a_checkpoint_url_and_latest_of_an_empty_bucket(bucket, shards, model_json):
    lines = []
    loop.train(train_config(shards, f"{bucket}/fresh", model_json, steps=2, resume="latest"), echo=lines.append)
    assert not any("resumed" in line for line in lines)  # nothing there yet: a fresh run
    checkpoint = f"{bucket}/fresh/checkpoints/step_00000002.pt"
    lines = []
    loop.train(train_config(shards, f"{bucket}/other", model_json, steps=4, resume=checkpoint), echo=lines.append)
    assert any(f"resumed from {checkpoint} at step 2" in line for line in lines)


def test_stale_temporaries_of_a_dead_writer_go_at_the_start_of_a_file_url_run(shards, tmp_path, model_json):
    """A ``file://`` folder is written through temporaries, as a local one; an object store's
    writes leave none, and its cleanup is skipped (the bucket runs above show it does not fail)."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    stale = checkpoints / temporary_name("latest.pt").replace(f"-{os.getpid()}", f"-{pid}")
    stale.write_bytes(b"half a checkpoint")
    loop.train(train_config(shards, f"file://{tmp_path}/run", model_json, steps=1), echo=lambda _: None)
    assert not stale.exists()
    assert sorted(p.name for p in checkpoints.iterdir()) == ["latest.pt"]


def test_metrics_at_a_url_are_uploaded_whole_at_each_persist_and_at_most_so_often_between(bucket, monkeypatch):
    folder = Folder(f"{bucket}/metrics")
    uploads = []
    real = Folder.write_bytes

    def counted(self, name, data):
        uploads.append(name)
        real(self, name, data)

    monkeypatch.setattr(Folder, "write_bytes", counted)
    monkeypatch.setattr(metrics_module, "UPLOAD_INTERVAL_S", 3600.0)
    log = MetricsLog(folder.location)
    for step in (1, 2, 3):
        log.write({"step": step, "total": 1.0})
    assert uploads == [] and not folder.exists("metrics.jsonl")  # within the interval: kept in memory
    log.persist()  # as before a checkpoint
    assert [row["step"] for row in read_metrics(folder.path("metrics.jsonl"))] == [1, 2, 3]
    log.persist()
    assert len(uploads) == 1  # nothing new, nothing sent
    monkeypatch.setattr(metrics_module, "UPLOAD_INTERVAL_S", 0.0)
    log.write({"step": 4, "total": 1.0})
    assert len(uploads) == 2 and len(read_metrics(folder.path("metrics.jsonl"))) == 4
    log.close()
    assert len(uploads) == 2


def test_a_killed_upload_leaves_the_previous_checkpoint(bucket, shards, model_json, monkeypatch):
    """All or nothing: an upload that fails leaves latest.pt as the last one that completed."""
    run = f"{bucket}/run"
    loop.train(train_config(shards, run, model_json, steps=2), echo=lambda _: None)
    before = read_bytes_at(f"{run}/checkpoints/latest.pt")
    store = type(fsspec.filesystem("memory"))
    upload = store.pipe_file

    def cut_checkpoints(self, path, value, **kwargs):
        if path.endswith("latest.pt"):
            raise ConnectionError("connection reset by the store")
        return upload(self, path, value, **kwargs)

    monkeypatch.setattr(store, "pipe_file", cut_checkpoints)
    with pytest.raises(OSError, match="connection reset.*latest.pt"):
        loop.train(train_config(shards, run, model_json, steps=4, resume="latest"), echo=lambda _: None)
    monkeypatch.undo()
    assert read_bytes_at(f"{run}/checkpoints/latest.pt") == before


# --- eval results and reports at a URL


def test_eval_appends_results_to_a_url_and_skips_what_is_there(bucket, tmp_path):
    from eval.test_eval_cli import sugarcrepe_folder
    from eval.test_run import write_ck

    data = sugarcrepe_folder(tmp_path / "sugarcrepe")
    checkpoint = f"{bucket}/ck/tiny.pt"
    write_bytes_at(checkpoint, write_ck(tmp_path).read_bytes())
    results = f"{bucket}/eval/results.jsonl"
    args = ["eval", "--checkpoint", checkpoint, "--benchmark", "sugarcrepe", "--data-root", str(data),
            "--images", str(data / "images"), "--results", results, "--device", "cpu",
            "--config", str(_eval_cache_config(tmp_path))]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    rows = read_results(results)
    assert {r["checkpoint"] for r in rows} == {checkpoint} and {r["name"] for r in rows} == {"tiny"}
    assert len([r for r in rows if not r["convention"]]) == 7
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "already scored" in again.output and "0 row(s) added" in again.output

    # A row cut by a kill (possible in a local file copied up) is ended, not glued to the next.
    write_bytes_at(results, read_bytes_at(results) + b'{"checkpoint": "cut')
    from fgclip.eval import run as eval_run

    eval_run._append(results, [dict(rows[0], subset="extra")])
    assert read_results(results)[-1]["subset"] == "extra" and len(read_results(results)) == len(rows) + 1

    report = runner.invoke(app, ["report", results, "--output", f"{bucket}/report"])
    assert report.exit_code == 0, report.output
    assert "| checkpoint | sugarcrepe accuracy |" in Folder(f"{bucket}/report").read_text("report.md")
    assert "summary.png" in Folder(f"{bucket}/report").names()


def _eval_cache_config(tmp_path):
    """The feature cache in tmp_path: a results URL would otherwise put it in ~/.cache."""
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump({"cache_dir": str(tmp_path / "features")}))
    return path


def test_a_results_url_without_cache_dir_caches_features_in_the_local_cache_folder(monkeypatch, tmp_path):
    from fgclip.config import EvalConfig
    from fgclip.eval.run import cache_folder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cfg = EvalConfig(checkpoints=("memory://b/ck.pt",), benchmarks=("sugarcrepe",), data_root="data",
                     results="memory://b/results.jsonl")
    assert cache_folder(cfg) == tmp_path / "cache" / "fgclip" / "eval-cache"


# --- the workflow into a URL


@pytest.mark.slow
def test_the_workflow_runs_into_a_file_url_then_skips_every_stage(tmp_path, monkeypatch):
    from test_workflow import mini_config

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    output = f"file://{tmp_path}/store/demo"
    first = runner.invoke(app, ["workflow", "run", str(mini_config(tmp_path)), "--output", output])
    assert first.exit_code == 0, first.output
    out = Folder(output)
    for stage in ("corpus", "shards", "pretrained", "ce", "control", "eval", "report"):
        assert out.is_file(f"{stage}/fgclip-stage.json"), stage
    assert out.is_file("ce/checkpoints/latest.pt") and out.is_file("report/summary.png")
    assert {r["name"] for r in read_results(out.path("eval/results.jsonl"))} == {"pretrained", "control", "ce"}
    ce = json.loads(out.read_text("ce/train_config.json"))
    assert ce["config"]["pretrained"] == f"{output}/pretrained/checkpoints/latest.pt"
    assert ce["config"]["model"] == f"{output}/model/fgclip-shapes-tiny.json"
    # Only caches live outside the URL: the benchmark copy the eval read, and its features.
    local = [p.name for p in (tmp_path / "cache" / "fgclip" / "workflow").iterdir()]
    assert len(local) == 1
    record = json.loads(out.read_text("eval/fgclip-stage.json"))
    assert record["settings"]["data_root"] == "<output>/corpus/benchmark"
    assert record["settings"]["cache_dir"] == "<output>/eval/cache"
    assert not (tmp_path / "file:").exists()

    again = runner.invoke(app, ["workflow", "run", str(mini_config(tmp_path)), "--output", output])
    assert again.exit_code == 0, again.output
    assert again.output.count("skipped") == 7

    # The stages' hashes do not depend on where the output is: a local run records the same.
    local_run = runner.invoke(app, ["workflow", "run", str(mini_config(tmp_path)), "--output", str(tmp_path / "local")])
    assert local_run.exit_code == 0, local_run.output
    for stage in ("corpus", "shards", "pretrained", "ce", "control", "eval", "report"):
        here = json.loads((tmp_path / "local" / stage / "fgclip-stage.json").read_text())
        assert json.loads(out.read_text(f"{stage}/fgclip-stage.json"))["hash"] == here["hash"], stage


@pytest.mark.slow
def test_the_real_data_workflow_runs_into_a_file_url_with_exports_and_wise_ft_there(tmp_path, monkeypatch):
    from test_workflow_real import TINY as REAL_TINY
    from test_workflow_real import coco_corpus, needs_shared_data, random_weights, sugarcrepe_subset

    needs_shared_data()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    corpus = coco_corpus(tmp_path / "coco", images=16)
    sugarcrepe = sugarcrepe_subset(tmp_path / "benchmarks", tmp_path / "val2017", per_file=2)
    output = f"file://{tmp_path}/store/real"
    config = {
        "output": output,
        "corpus": {"input": str(corpus), "format": "coco", "image_root": str(tmp_path / "coco" / "train2014")},
        "build": {"shard_size": 16, "executor": "local", "workers": 1, "negatives_per_kind": 1},
        "model": REAL_TINY,
        "pretrained": str(random_weights(tmp_path / "tiny-random.pt")),
        "finetune": {"steps": 1, "batch_size": 8, "workers": 0, "log_every": 1, "save_every": 1, "device": "cpu",
                     "precision": "fp32", "lr": 1e-4, "warmup": 0},
        "runs": {"ce": {}, "control": {}},
        "wise_ft": [0.5],
        "eval": {"device": "cpu", "batch_size": 32,
                 "benchmarks": {"sugarcrepe": {"data_root": str(sugarcrepe), "images": str(tmp_path / "val2017")}}},
    }
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(config))
    first = runner.invoke(app, ["workflow", "run", str(path)])
    assert first.exit_code == 0, first.output
    out = Folder(output)
    for stage in ("shards", "ce", "control", "exports", "wise-ft", "eval", "report"):
        assert out.is_file(f"{stage}/fgclip-stage.json"), stage
    assert out.is_file("exports/ce/open_clip_model.safetensors") and out.is_file("wise-ft/ce-wise0.5.pt")
    mixed = model_io.read_checkpoint(out.path("wise-ft/ce-wise0.5.pt"))
    assert mixed["arch"].config == REAL_TINY
    names = {r["name"] for r in read_results(out.path("eval/results.jsonl"))}
    assert names == {"pretrained", "ce", "control", "ce-wise0.5", "control-wise0.5"}
    assert not (tmp_path / "file:").exists()

    again = runner.invoke(app, ["workflow", "run", str(path)])
    assert again.exit_code == 0, again.output
    assert "running" not in again.output and again.output.count("skipped") == 7
