"""Paths that must not be taken as given: a URL where only a local path works (it would become a
local folder named "file:" or "s3:"), and an interpolation output that is one of its inputs."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from fgclip.cli import app

runner = CliRunner()

FILE_URL = "file:///x/run"
S3_URL = "s3://bucket/run"


def invoke(*args):
    return runner.invoke(app, list(args))


def assert_refused(result, option: str, folder) -> None:
    """Exit 2, one message naming the option and where URLs do work, and no folder made of the URL."""
    assert result.exit_code == 2, result.output
    assert option in result.output, result.output
    assert "local path" in result.output and "--shards" in result.output, result.output
    assert "Traceback" not in result.output
    assert not (folder / "file:").exists() and not (folder / "s3:").exists()


# Each command's local-only paths, with a URL in one of them. The other values are plain names
# that need not exist: the URL must be refused before anything is read or written.
REFUSED = [
    (["train", "--shards", "s.tar", "--output", "{url}"], "--output"),
    (["train", "--shards", "s.tar", "--output", "run", "--pretrained", "{url}"], "--pretrained"),
    (["train", "--shards", "s.tar", "--output", "run", "--resume", "{url}"], "--resume"),
    (["train", "--shards", "s.tar", "--output", "run", "--model", "{url}/model.json"], "--model"),
    (["train", "--config", "{url}/train.yaml"], "--config"),
    (["eval", "-c", "{url}/ck.pt", "-b", "sugarcrepe", "--data-root", "data"], "--checkpoint"),
    (["eval", "-c", "ck.pt", "-b", "sugarcrepe", "--data-root", "{url}"], "--data-root"),
    (["eval", "-c", "ck.pt", "-b", "sugarcrepe", "--data-root", "data", "--images", "{url}"], "--images"),
    (["eval", "-c", "ck.pt", "-b", "sugarcrepe", "--data-root", "data", "--model", "{url}/m.json"], "--model"),
    (["eval", "-c", "ck.pt", "-b", "sugarcrepe", "--data-root", "data", "--results", "{url}/r.jsonl"], "--results"),
    (["report", "{url}/results.jsonl", "--output", "report"], "RESULTS"),
    (["report", "results.jsonl", "--output", "{url}"], "--output"),
    (["interpolate", "{url}/a.pt", "b.pt", "--output", "c.pt"], "BASE"),
    (["interpolate", "a.pt", "{url}/b.pt", "--output", "c.pt"], "FINETUNED"),
    (["interpolate", "a.pt", "b.pt", "--output", "{url}/c.pt"], "--output"),
    (["plot", "{url}"], "RUN_DIR"),
    (["workflow", "run", "{url}/workflow.yaml"], "CONFIG"),
    (["workflow", "run", "--output", "{url}"], "--output"),
    (["setup", "wordnet", "--target", "{url}"], "--target"),
    (["setup", "wordnet", "--deb", "{url}/wordnet.deb"], "--deb"),
    (["pipeline", "preview", "--file", "{url}/captions.txt"], "--file"),
    (["pipeline", "count", "--config", "{url}/count.yaml"], "--config"),
    (["pipeline", "build-negatives", "--config", "{url}/build.yaml"], "--config"),
]


@pytest.mark.parametrize("url", [FILE_URL, S3_URL])
@pytest.mark.parametrize("args, option", REFUSED, ids=[" ".join(a[:2]) + " " + o for a, o in REFUSED])
def test_a_url_for_a_local_path_is_refused_naming_the_option(args, option, url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_refused(invoke(*(arg.replace("{url}", url) for arg in args)), option, tmp_path)


@pytest.mark.parametrize("key", ["output", "pretrained", "resume"])
def test_a_url_in_a_train_config_file_is_refused_naming_the_key_and_the_file(key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    values = {"shards": "s.tar", "output": "run", key: FILE_URL}
    (tmp_path / "train.yaml").write_text("".join(f"{k}: {v}\n" for k, v in values.items()))
    result = invoke("train", "--config", "train.yaml")
    assert_refused(result, f"--{key}", tmp_path)
    assert "train.yaml" in result.output


def test_a_url_in_a_workflow_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "workflow.yaml").write_text(f"output: {FILE_URL}\n")
    assert_refused(invoke("workflow", "run", "workflow.yaml"), "--output", tmp_path)
    (tmp_path / "workflow.yaml").write_text(f"pretrain:\n  pretrained: {S3_URL}/w.pt\n")
    assert_refused(invoke("workflow", "run", "workflow.yaml"), "--pretrained", tmp_path)


def test_the_options_that_take_urls_still_take_them(tmp_path, monkeypatch):
    """A URL where one is supported gets past the check (and fails later, on the missing data)."""
    monkeypatch.chdir(tmp_path)
    result = invoke("train", "--shards", f"file://{tmp_path}/none/000000.tar", "--output", "run")
    assert result.exit_code == 2 and "local path" not in result.output and "not found" in result.output, result.output
    result = invoke("pipeline", "preview", "--stats", f"file://{tmp_path}/none.tsv.gz", "a dog")
    assert result.exit_code == 2 and "local path" not in result.output, result.output


def test_a_local_path_with_a_colon_is_not_a_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("plot", "runs:2024/x")
    assert result.exit_code == 2 and "local path" not in result.output, result.output


# --- interpolate onto one of its inputs


@pytest.fixture
def two_inputs(tmp_path, monkeypatch):
    """Two files standing for the checkpoints: the same-file check comes before any reading."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.pt").write_bytes(b"base weights")
    (tmp_path / "tuned.pt").write_bytes(b"tuned weights")
    os.symlink(tmp_path / "tuned.pt", tmp_path / "link.pt")
    os.link(tmp_path / "base.pt", tmp_path / "hard.pt")
    return tmp_path


@pytest.mark.parametrize("output", ["tuned.pt", "./tuned.pt", "{tmp}/tuned.pt", "link.pt", "sub/../tuned.pt",
                                    "base.pt", "hard.pt"])
def test_interpolate_refuses_to_overwrite_an_input(two_inputs, output):
    (two_inputs / "sub").mkdir()
    result = invoke("interpolate", "base.pt", "tuned.pt", "--output", output.replace("{tmp}", str(two_inputs)))
    assert result.exit_code == 2, result.output
    assert "is an input" in result.output and "Traceback" not in result.output
    assert (two_inputs / "base.pt").read_bytes() == b"base weights"
    assert (two_inputs / "tuned.pt").read_bytes() == b"tuned weights"


def test_interpolate_refuses_an_output_linked_to_an_input_in_the_library_too(two_inputs):
    from fgclip.eval.interpolate import interpolate

    with pytest.raises(ValueError, match="is an input"):
        interpolate("base.pt", "tuned.pt", 0.5, "link.pt")
