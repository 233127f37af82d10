"""build-negatives as users run it: a Ray Data job on an embedded Ray, killed and resumed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fgclip.config import BuildConfig
from fgclip.pipeline.build import build_negatives
from fgclip.pipeline.shards import BUILD_DIR

from .corpus import write_jsonl_corpus
from .test_build import digests, rows_pausing_until, stable_stats

pytest.importorskip("ray")
pytestmark = pytest.mark.slow

QUIET_RAY = {"RAY_DATA_DISABLE_PROGRESS_BARS": "1", "RAY_DEDUP_LOGS": "0"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_jsonl_corpus(tmp_path_factory.mktemp("corpus"), 60, bad_rows=True)


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> Path:
    """The same build, uninterrupted, on the local executor."""
    output = tmp_path_factory.mktemp("reference") / "shards"
    build_negatives(BuildConfig(input=str(corpus), output=str(output), shard_size=10, executor="local"),
                    echo=lambda line: None)
    return output


def test_ray_job_survives_a_worker_that_dies_mid_shard(corpus, reference, tmp_path, monkeypatch):
    for name, value in QUIET_RAY.items():
        monkeypatch.setenv(name, value)
    # Set before Ray starts, so that its workers inherit it.
    monkeypatch.setenv("FGCLIP_TEST_CRASH", f"3:4:{tmp_path / 'crashed'}")
    output = tmp_path / "shards"
    totals = build_negatives(BuildConfig(input=str(corpus), output=str(output), shard_size=10, workers=2),
                             echo=lambda line: None)
    assert (tmp_path / "crashed").exists(), "the injected crash did not happen"
    assert totals["written"] == 60 and totals["shards"] == 7
    assert digests(output) == digests(reference)
    assert stable_stats(output) == stable_stats(reference)
    # Two worker processes wrote the shards, and one more replaced the one that died.
    assert totals["nodes"] == 1


def test_sigkill_half_way_then_rerun_gives_the_uninterrupted_output(corpus, reference, tmp_path):
    output = tmp_path / "shards"
    command = [sys.executable, "-m", "fgclip.cli", "pipeline", "build-negatives", "--input", str(corpus),
               "--output", str(output), "--shard-size", "10", "--workers", "1"]
    env = {**os.environ, **QUIET_RAY, "FGCLIP_TEST_SLOW_SAMPLE_S": "0.05"}
    job = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list(output.glob("*_stats.json")):
            assert job.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline, "no shard finished in 120 s"
            time.sleep(0.05)
    finally:
        os.killpg(job.pid, signal.SIGKILL)  # the driver and the Ray processes it started
        job.wait()
    finished = len(list(output.glob("*_stats.json")))
    assert 1 <= finished < 7, f"{finished} shards finished before the kill: not half-way"
    assert (output / BUILD_DIR).exists() and not (output / "manifest.json").exists()

    env.pop("FGCLIP_TEST_SLOW_SAMPLE_S")
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    # Ray workers may finish the shard in hand after the driver dies: more may be done now.
    already = int(re.search(r"(\d+) already written", rerun.stdout).group(1))
    assert finished <= already < 7
    assert digests(output) == digests(reference)
    assert stable_stats(output) == stable_stats(reference)
    assert sorted(p.name for p in output.iterdir()) == sorted(p.name for p in reference.iterdir())


def test_ray_started_beside_the_plan_runs_the_job_and_stops_after(corpus, reference, tmp_path, monkeypatch):
    import ray

    from fgclip.pipeline import build as build_module

    for name, value in QUIET_RAY.items():
        monkeypatch.setenv(name, value)
    events: list[str] = []
    monkeypatch.setattr(build_module, "read_rows", rows_pausing_until(ray.is_initialized, events, timeout=60))
    assert not ray.is_initialized()
    output = tmp_path / "shards"
    build_negatives(BuildConfig(input=str(corpus), output=str(output), shard_size=10, workers=1), echo=lambda line: None)
    assert events == ["plan saw the session"]
    assert not ray.is_initialized(), "the build left the Ray it started running"
    assert digests(output) == digests(reference)


def test_count_on_ray_writes_the_table_the_local_build_counted(corpus, reference, tmp_path, monkeypatch):
    from fgclip.config import CountConfig
    from fgclip.pipeline.build import count_table

    for name, value in QUIET_RAY.items():
        monkeypatch.setenv(name, value)
    table = tmp_path / "stats" / "counts.tsv.gz"
    summary = count_table(CountConfig(input=str(corpus), output=str(table), workers=2), echo=lambda line: None)
    assert table.read_bytes() == (reference / "corpus_counts.tsv.gz").read_bytes()
    assert summary["samples"] == 63  # the 60 rows and the three whose images are bad (not read)


def test_imported_negatives_reach_the_shards_on_ray_as_on_the_local_executor(corpus, tmp_path, monkeypatch):
    from .test_extra_negatives import extra_file

    for name, value in QUIET_RAY.items():
        monkeypatch.setenv(name, value)
    extra = str(extra_file(tmp_path))
    outputs, totals = {}, {}
    for executor in ("local", "ray"):
        outputs[executor] = tmp_path / executor
        totals[executor] = build_negatives(BuildConfig(input=str(corpus), output=str(outputs[executor]), shard_size=10,
                                                       workers=2, executor=executor, extra_negatives=(extra,)),
                                           echo=lambda line: None)
    assert totals["local"]["extra_negatives"]["matched"] >= 1 and set(totals["local"]["sources"]) - {"generated"}
    # Ray's workers must see the imported table as the local ones do: same matches, same shards.
    assert totals["ray"]["extra_negatives"] == totals["local"]["extra_negatives"]
    assert totals["ray"]["sources"] == totals["local"]["sources"]
    assert digests(outputs["ray"]) == digests(outputs["local"])


def test_the_plan_made_by_ray_tasks_is_the_serial_plan(tmp_path, monkeypatch):
    """Several input files on Ray: one plan task per file on the Ray workers, the driver reading
    no row; the plan files and the shards are the serial plan's."""
    from fgclip.pipeline.executors import LocalExecutor, RayExecutor

    from .test_parallel_plan import (config, forbid_driver_reads, jsonl_corpus, make_plan, output_digests, output_stats,
                                     place, plan_files, tar_corpus)

    for name, value in QUIET_RAY.items():
        monkeypatch.setenv(name, value)
    files, pattern, options = jsonl_corpus(tmp_path)
    place(files, str(tmp_path / "jsonl"))
    make_plan(config(str(tmp_path / "jsonl"), pattern, options, str(tmp_path / "serial-plan"), workers=1),
              LocalExecutor(1))
    files, tar_pattern, tar_options = tar_corpus(tmp_path)
    tars = f"file://{tmp_path}/tars-in"
    place(files, tars)
    reference = str(tmp_path / "reference")
    build_negatives(config(tars, tar_pattern, tar_options, reference, workers=1, no_negatives=True),
                    echo=lambda line: None)

    forbid_driver_reads(monkeypatch)
    make_plan(config(str(tmp_path / "jsonl"), pattern, options, str(tmp_path / "ray-plan"), workers=2,
                     executor="ray"), RayExecutor(2))
    assert plan_files(str(tmp_path / "ray-plan")) == plan_files(str(tmp_path / "serial-plan"))
    output = f"file://{tmp_path}/ray-build"
    totals = build_negatives(config(tars, tar_pattern, tar_options, output, workers=2, executor="ray", no_negatives=True),
                             echo=lambda line: None)
    assert totals["skipped"]["duplicate_key"] == 2
    assert output_digests(output) == output_digests(reference)
    assert output_stats(output) == output_stats(reference)
