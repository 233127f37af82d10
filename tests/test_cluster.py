"""The stages on a real multi-node Ray cluster: two Ray nodes (ray.cluster_utils.Cluster) on this
machine, each with its own raylet and one CPU, joined by the stages through `address`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("ray.train")
pytestmark = pytest.mark.slow

from fgclip import model as model_io  # noqa: E402
from fgclip.config import BuildConfig, EvalConfig, TrainConfig  # noqa: E402
from fgclip.eval.run import evaluate, read_results  # noqa: E402
from fgclip.pipeline.build import build_negatives  # noqa: E402
from fgclip.synthetic.shapes import WorldConfig, write_benchmark  # noqa: E402
from fgclip.trainer import loop  # noqa: E402
from pipeline.corpus import write_jsonl_corpus  # noqa: E402
from pipeline.test_build import digests, stable_stats  # noqa: E402
from trainer.conftest import write_shards, write_tiny_config  # noqa: E402

CRASH_SHARD, CRASH_AFTER = 3, 4  # the first worker to write sample 4 of shard 3 dies (os._exit)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two nodes of one CPU each. Its processes inherit this environment when they start, so the
    crash hook is armed here: it fires once, in whichever node's worker writes shard 3."""
    from ray.cluster_utils import Cluster

    marker = tmp_path_factory.mktemp("crash") / "crashed"
    settings = {"RAY_DATA_DISABLE_PROGRESS_BARS": "1", "RAY_DEDUP_LOGS": "0", "HF_HUB_OFFLINE": "1",
                "FGCLIP_TEST_CRASH": f"{CRASH_SHARD}:{CRASH_AFTER}:{marker}"}
    saved = {name: os.environ.get(name) for name in [*settings, "RAY_ADDRESS"]}
    os.environ.update(settings)
    os.environ.pop("RAY_ADDRESS", None)
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        nodes.add_node(num_cpus=1)
        nodes.wait_for_nodes()
        # The nodes' processes have it; this process and those it starts (a local build) must not.
        os.environ.pop("FGCLIP_TEST_CRASH")
        nodes.crash_marker = marker
        yield nodes
    finally:
        nodes.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_build_spreads_shards_over_both_nodes_and_survives_a_killed_worker(cluster, tmp_path):
    corpus = write_jsonl_corpus(tmp_path / "corpus", 60, bad_rows=True)
    reference = tmp_path / "reference"
    build_negatives(BuildConfig(input=str(corpus), output=str(reference), shard_size=10, executor="local"),
                    echo=lambda line: None)
    output = tmp_path / "shards"
    totals = build_negatives(BuildConfig(input=str(corpus), output=str(output), shard_size=10, workers=2,
                                         address=cluster.address), echo=lambda line: None)
    assert cluster.crash_marker.exists(), "the injected worker crash did not happen"
    assert totals["written"] == 60 and totals["shards"] == 7
    # One actor per node (each has one CPU): both wrote shards, and the stats say which.
    assert totals["nodes"] == 2
    assert digests(output) == digests(reference)  # every tar and sizes.json byte-identical
    assert stable_stats(output) == stable_stats(reference)


def test_torch_trainer_with_one_worker_per_node_writes_one_checkpoint(cluster, tmp_path):
    config = write_tiny_config(tmp_path)
    shards = write_shards(tmp_path / "train-shards")
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "fgclip.cli", "train", "--shards", str(shards), "--output", str(run),
         "--model", str(config), "--steps", "2", "--batch-size", "4", "--workers", "0", "--log-every", "1",
         "--device", "cpu", "--ray-workers", "2", "--address", cluster.address],
        capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = model_io.read_checkpoint(run / "checkpoints" / "latest.pt")
    assert record["world_size"] == 2 and record["progress"]["samples_seen"] == 16


def test_eval_runs_as_a_task_on_the_cluster_and_scores_as_it_does_here(cluster, tmp_path):
    config = write_tiny_config(tmp_path)
    run = tmp_path / "run"
    loop.train(TrainConfig(shards=str(write_shards(tmp_path / "train-shards")), output=str(run), model=str(config),
                           steps=1, batch_size=8, workers=0, device="cpu", precision="fp32"), echo=lambda _: None)
    benchmark = write_benchmark(tmp_path / "shapes", 24, WorldConfig(), seed=3)
    checkpoint = str(run / "checkpoints" / "latest.pt")
    here = tmp_path / "here.jsonl"
    evaluate(EvalConfig(checkpoints=(checkpoint,), benchmarks=("shapes",), data_root=str(benchmark),
                        results=str(here), device="cpu"), echo=lambda _: None)
    there = tmp_path / "there.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "fgclip.cli", "eval", "--checkpoint", checkpoint, "--benchmark", "shapes",
         "--data-root", str(benchmark), "--results", str(there), "--device", "cpu", "--address", cluster.address],
        capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # Ray forwards a task's printed lines with the task's name and process id.
    assert "(evaluate pid=" in proc.stdout + proc.stderr

    def values(path):
        return {(r["subset"], r["metric"], r["convention"]): r["value"] for r in read_results(path)}
    assert values(there) == values(here) and len(values(here)) >= 5


def test_the_real_data_workflow_runs_its_stages_on_the_cluster(cluster, tmp_path):
    # The same config as the real-data workflow test, with --address: its build, fine-tunes and eval
    # run as Ray work on the two nodes, and the report holds all three checkpoints.
    import yaml

    from test_workflow_real import TINY, coco_corpus, needs_shared_data, random_weights, sugarcrepe_subset

    needs_shared_data()
    corpus = coco_corpus(tmp_path / "coco", images=16)
    sugarcrepe = sugarcrepe_subset(tmp_path / "benchmarks", tmp_path / "val2017", per_file=2)
    config = {
        "output": str(tmp_path / "run"),
        "corpus": {"input": str(corpus), "format": "coco", "image_root": str(tmp_path / "coco" / "train2014")},
        "build": {"shard_size": 8, "negatives_per_kind": 1},  # the Ray executor: the cluster's
        "model": TINY,
        "pretrained": str(random_weights(tmp_path / "tiny-random.pt")),
        "finetune": {"steps": 2, "batch_size": 8, "workers": 0, "log_every": 1, "save_every": 2, "device": "cpu",
                     "precision": "fp32", "warmup": 0},
        "runs": {"ce": {}, "control": {}},
        "eval": {"device": "cpu", "batch_size": 32,
                 "benchmarks": {"sugarcrepe": {"data_root": str(sugarcrepe), "images": str(tmp_path / "val2017")}}},
    }
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run([sys.executable, "-m", "fgclip.cli", "workflow", "run", str(path), "--address", cluster.address],
                          capture_output=True, text=True, timeout=900, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = tmp_path / "run"
    for stage in ("shards", "ce", "control", "exports", "eval", "report"):
        assert (out / stage / "fgclip-stage.json").is_file(), stage
    assert {r["name"] for r in read_results(out / "eval" / "results.jsonl")} == {"pretrained", "ce", "control"}
    assert json.loads((out / "ce" / "train_config.json").read_text())["config"]["address"] == cluster.address


def test_a_build_of_several_input_files_plans_them_on_both_nodes_and_writes_the_serial_plans_shards(cluster, tmp_path):
    """The parallel plan (issue 25) on two nodes: img2dataset tars behind a file:// URL, planned
    one task per tar, give the shards, sizes and stats of the serial plan run here."""
    from pipeline.test_parallel_plan import config, output_digests, output_stats, place, tar_corpus

    files, pattern, options = tar_corpus(tmp_path)
    tars = f"file://{tmp_path}/tars-in"
    place(files, tars)
    reference = str(tmp_path / "reference")
    build_negatives(config(tars, pattern, options, reference, workers=1, no_negatives=True), echo=lambda line: None)
    output = f"file://{tmp_path}/cluster-build"
    totals = build_negatives(config(tars, pattern, options, output, workers=2, executor="ray",
                                    address=cluster.address, no_negatives=True), echo=lambda line: None)
    assert totals["skipped"]["duplicate_key"] == 2  # the third tar repeats two keys of the second
    assert output_digests(output) == output_digests(reference)
    assert output_stats(output) == output_stats(reference)
