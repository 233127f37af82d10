"""Errors a user can act on are one `Error:` line naming the file, with exit 2 (bad input) or 1 (a
failed run); a traceback only under --debug / FGCLIP_DEBUG=1; a bug keeps its traceback."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fgclip.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args])


def assert_one_line_error(result, code: int, *names: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # handled, not escaped
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1 and error_lines[0].startswith("Error: "), result.stderr
    assert all(name in error_lines[0] for name in names), (names, error_lines[0])
    assert "Traceback" not in result.output


# --- YAML that safe_load refuses


BAD_YAML = {
    "syntax": ("shards: [a.tar\noutput: run\n", ":2:"),
    "python tag": ("shards: !!python/object/apply:os.system ['echo owned']\noutput: run\n", "python/object"),
}


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_a_bad_train_config_is_one_line_naming_the_file(case, tmp_path):
    text, detail = BAD_YAML[case]
    (tmp_path / "train.yaml").write_text(text)
    assert_one_line_error(invoke("train", "--config", tmp_path / "train.yaml"), 2, "train.yaml", detail)


def test_a_bad_pipeline_config_is_one_line_naming_the_file_and_line(tmp_path):
    (tmp_path / "count.yaml").write_text("input: corpus.jsonl\noutput: [x\n")
    assert_one_line_error(invoke("pipeline", "count", "--config", tmp_path / "count.yaml"), 2, "count.yaml:")


def test_a_binary_config_file_is_one_line_naming_it(tmp_path):
    (tmp_path / "train.yaml").write_bytes(b"\xff\xfe\x00garbage")
    assert_one_line_error(invoke("train", "--config", tmp_path / "train.yaml"), 2, "train.yaml")


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_a_bad_workflow_file_is_one_line_naming_the_file(case, tmp_path):
    text, detail = BAD_YAML[case]
    (tmp_path / "workflow.yaml").write_text(text.replace("shards", "seed"))
    assert_one_line_error(invoke("workflow", "run", tmp_path / "workflow.yaml"), 2, "workflow.yaml", detail)


# --- weights files that are not weights


def not_weights(tmp_path, kind: str):
    path = tmp_path / f"{kind}.pt"
    if kind == "text":
        path.write_text("hello, this is not a checkpoint\n")
    elif kind == "random":
        path.write_bytes(os.urandom(4096))
    else:  # a real checkpoint cut short, as by a failed download
        from eval.test_run import write_ck

        whole = write_ck(tmp_path, seed=5).read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny model config, tiny shards and a tiny fgclip checkpoint (tests/trainer's helpers)."""
    from eval.test_run import write_ck
    from trainer.conftest import write_shards, write_tiny_config

    folder = tmp_path_factory.mktemp("tiny")
    return {"config": write_tiny_config(folder), "shards": write_shards(folder / "shards", shards=1, per_shard=8),
            "checkpoint": write_ck(folder, seed=1)}


@pytest.mark.parametrize("kind", ["text", "random", "cut"])
def test_weights_that_cannot_be_read_are_a_model_error_naming_the_file(kind, tmp_path, tiny):
    from fgclip import model as model_io

    bad = not_weights(tmp_path, kind)
    arch = model_io.resolve_architecture(str(tiny["config"]))
    with pytest.raises(model_io.ModelError, match=f"{bad.name} cannot be read") as caught:
        model_io.create(arch, pretrained=str(bad))
    assert "\n" not in str(caught.value)


def test_weights_of_another_architecture_are_a_model_error_saying_so(tmp_path, tiny):
    import torch

    from fgclip import model as model_io

    wider = tmp_path / "wider.json"
    wider.write_text(tiny["config"].read_text().replace('"embed_dim": 32', '"embed_dim": 48'))
    weights = tmp_path / "plain.pt"
    torch.save(model_io.read_checkpoint(tiny["checkpoint"])["state_dict"], weights)
    with pytest.raises(model_io.ModelError, match="plain.pt does not fit the architecture 'wider'"):
        model_io.create(model_io.resolve_architecture(str(wider)), pretrained=str(weights))


def test_train_with_unreadable_pretrained_weights_exits_2_naming_them(tmp_path, tiny):
    bad = not_weights(tmp_path, "random")
    result = invoke("train", "--shards", tiny["shards"], "--output", tmp_path / "run", "--model", tiny["config"],
                    "--pretrained", bad, "--steps", "1", "--batch-size", "4", "--workers", "0", "--device", "cpu")
    assert_one_line_error(result, 2, str(bad))


def test_interpolate_with_an_unreadable_base_exits_2_naming_it(tmp_path, tiny):
    bad = not_weights(tmp_path, "text")
    result = invoke("interpolate", bad, tiny["checkpoint"], "--output", tmp_path / "mixed.pt")
    assert_one_line_error(result, 2, str(bad))
    assert not (tmp_path / "mixed.pt").exists()


def test_eval_with_unreadable_weights_exits_2_naming_them(tmp_path, tiny):
    from eval.test_eval_cli import sugarcrepe_folder

    bad = not_weights(tmp_path, "random")
    data = sugarcrepe_folder(tmp_path / "sugarcrepe")
    result = invoke("eval", "-c", bad, "-b", "sugarcrepe", "--data-root", data, "--model", tiny["config"],
                    "--results", tmp_path / "results.jsonl", "--device", "cpu")
    assert_one_line_error(result, 2, str(bad))


# --- a full disk, a read-only file


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as write() raises it: no file named


def test_a_full_disk_while_training_exits_1_naming_the_checkpoint(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr("fgclip.model.write_atomically", enospc)
    result = invoke("train", "--shards", tiny["shards"], "--output", tmp_path / "run", "--model", tiny["config"],
                    "--steps", "1", "--batch-size", "4", "--workers", "0", "--device", "cpu")
    assert_one_line_error(result, 1, "latest.pt", "No space left on device")


def test_a_full_disk_with_no_file_named_still_exits_1_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr("fgclip.eval.interpolate.interpolate", enospc)
    for name in ("a.pt", "b.pt"):
        (tmp_path / name).write_bytes(b"x")
    result = invoke("interpolate", tmp_path / "a.pt", tmp_path / "b.pt", "--output", tmp_path / "c.pt")
    assert_one_line_error(result, 1, "No space left on device", "--debug")


def ray_task_error(cause, traceback_text: str):
    from ray.exceptions import RayTaskError

    return RayTaskError("MapWorker.submit", traceback_text, cause, proctitle="ray::MapWorker", pid=1,
                        ip="127.0.0.1").as_instanceof_cause()


# What Ray Data raised when a shard's write found the disk full (the original error travels only
# as text; trimmed from 157 lines).
RAY_DATA_TRACEBACK = """\x1b[36mray::MapWorker(Map(Worker)).submit()\x1b[39m (pid=20089, ip=192.0.2.2)
  File "/work/main/fgclip/ray_backend.py", line 112, in __call__
    return call(pickle.loads(row["item"]))
  File "/work/main/fgclip/files.py", line 37, in write_atomically
    handle.write(data)
OSError: [Errno 28] No space left on device: '/data/shards/000001.tar'

The above exception was the direct cause of the following exception:

\x1b[36mray::MapWorker(Map(Worker)).submit()\x1b[39m (pid=20089, ip=192.0.2.2)
ray.exceptions.UserCodeException: UDF failed to process a data block.
Failed to apply UDF transform after 1/1 attempts (total backoff 0.0s)."""


def test_a_full_disk_under_ray_data_exits_1_in_one_line_naming_the_file(tmp_path, monkeypatch):
    from ray.exceptions import UserCodeException

    def build(cfg, echo):
        raise ray_task_error(UserCodeException("UDF failed to process a data block."), RAY_DATA_TRACEBACK)

    monkeypatch.setattr("fgclip.pipeline.build.build_negatives", build)
    result = invoke("pipeline", "build-negatives", "--input", tmp_path / "c.jsonl", "--output", tmp_path / "out",
                    "--no-negatives")
    assert_one_line_error(result, 1, "/data/shards/000001.tar", "No space left on device")


def test_a_full_disk_in_a_ray_task_exits_1_naming_the_file(tmp_path, monkeypatch):
    def build(cfg, echo):
        cause = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/data/shards/000002.tar")
        raise ray_task_error(cause, "Traceback (most recent call last):\n  ...\n" * 60)

    monkeypatch.setattr("fgclip.pipeline.build.build_negatives", build)
    result = invoke("pipeline", "build-negatives", "--input", tmp_path / "c.jsonl", "--output", tmp_path / "out",
                    "--no-negatives")
    assert_one_line_error(result, 1, "/data/shards/000002.tar", "No space left on device")


def test_a_read_only_results_file_found_by_the_run_exits_1_naming_it(tmp_path, tiny, monkeypatch):
    results = tmp_path / "results.jsonl"

    def evaluate(cfg, echo):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), cfg.results)

    monkeypatch.setattr("fgclip.eval.run.evaluate_where_configured", evaluate)
    result = invoke("eval", "-c", tiny["checkpoint"], "-b", "sugarcrepe", "--data-root", tmp_path, "--results", results)
    assert_one_line_error(result, 1, str(results), "Permission denied")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only files")
def test_a_read_only_results_file_is_refused_before_the_run(tmp_path, tiny):
    results = tmp_path / "results.jsonl"
    results.write_text("")
    results.chmod(0o444)
    result = invoke("eval", "-c", tiny["checkpoint"], "-b", "sugarcrepe", "--data-root", tmp_path, "--results", results)
    assert_one_line_error(result, 2, str(results), "not writable")


def test_a_results_file_without_write_access_is_refused_before_the_run(tmp_path, tiny, monkeypatch):
    """The check above, where root (which ignores permissions) runs the tests."""
    results = tmp_path / "results.jsonl"
    results.write_text("")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if str(path) == str(results) and mode == os.W_OK
                        else real_access(path, mode, **kw))
    monkeypatch.setattr("fgclip.eval.run.evaluate_where_configured", lambda cfg, echo: pytest.fail("ran"))
    result = invoke("eval", "-c", tiny["checkpoint"], "-b", "sugarcrepe", "--data-root", tmp_path, "--results", results)
    assert_one_line_error(result, 2, str(results), "not writable")


# --- bugs keep their traceback; --debug shows every traceback


def test_an_unknown_error_keeps_its_traceback(tmp_path, monkeypatch):
    def interpolate(*args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("fgclip.eval.interpolate.interpolate", interpolate)
    for name in ("a.pt", "b.pt"):
        (tmp_path / name).write_bytes(b"x")
    result = invoke("interpolate", tmp_path / "a.pt", tmp_path / "b.pt", "--output", tmp_path / "c.pt")
    assert isinstance(result.exception, ZeroDivisionError)


def test_debug_lets_a_handled_error_through_with_its_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr("fgclip.eval.interpolate.interpolate", enospc)
    for name in ("a.pt", "b.pt"):
        (tmp_path / name).write_bytes(b"x")
    result = invoke("--debug", "interpolate", tmp_path / "a.pt", tmp_path / "b.pt", "--output", tmp_path / "c.pt")
    assert isinstance(result.exception, OSError) and result.exception.errno == errno.ENOSPC


def test_debug_prints_the_traceback_of_an_error_a_command_reports(tmp_path):
    (tmp_path / "train.yaml").write_text(BAD_YAML["syntax"][0])
    result = invoke("--debug", "train", "--config", tmp_path / "train.yaml")
    assert result.exit_code == 2 and "Traceback" in result.stderr and "train.yaml:2:" in result.stderr


@pytest.mark.parametrize("debug", [False, True])
def test_the_real_stderr_is_one_line_and_fgclip_debug_shows_the_traceback(debug, tmp_path):
    (tmp_path / "train.yaml").write_text(BAD_YAML["python tag"][0])
    env = {key: value for key, value in os.environ.items() if key != "FGCLIP_DEBUG"}
    if debug:
        env["FGCLIP_DEBUG"] = "1"
    done = subprocess.run([sys.executable, "-m", "fgclip.cli", "train", "--config", str(tmp_path / "train.yaml")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    assert ("Traceback" in done.stderr) is debug, done.stderr
    if not debug:
        assert done.stderr.count("\n") == 1 and "train.yaml:1:" in done.stderr, done.stderr


def test_every_error_fgclip_raises_on_purpose_has_its_exit_status_from_fgclip_errors():
    from fgclip import errors
    from fgclip.cli import known_failure
    from fgclip.eval.benchmarks import BenchmarkDataError
    from fgclip.export import ExportError
    from fgclip.model import ModelError
    from fgclip.pipeline.build import UsageError
    from fgclip.trainer.shard_lists import ShardListError
    from fgclip.trainer.loop import TrainingError, TrainUsageError
    from fgclip.workflow_real import WorkflowError

    for cls in (UsageError, ModelError, ShardListError, TrainUsageError, BenchmarkDataError, WorkflowError, ExportError):
        assert issubclass(cls, errors.UsageError) and known_failure(cls("bad input here")) == ("bad input here", 2)
    assert issubclass(TrainingError, errors.RunError) and known_failure(TrainingError("it diverged")) == ("it diverged", 1)

    class NewKindOfBadInput(errors.UsageError):  # a future module's error needs no entry in the CLI
        pass

    assert known_failure(NewKindOfBadInput("x")) == ("x", 2)
    assert known_failure(ValueError("a bug")) is None  # not fgclip's on purpose: keeps its traceback
