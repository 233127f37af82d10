"""Paths that must not be taken as given: a URL where only a local path works (it would become a
local folder named "file:" or "s3:"), a URL whose scheme cannot be opened here, and an
interpolation output that is one of its inputs. (What the options that take URLs do with one:
tests/test_url_runs.py.)"""

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
    (["train", "--config", "{url}/train.yaml"], "--config"),
    (["eval", "--config", "{url}/eval.yaml"], "--config"),
    (["eval", "-c", "ck.pt", "-b", "sugarcrepe", "--data-root", "{url}"], "--data-root"),
    (["eval", "-c", "ck.pt", "-b", "sugarcrepe", "--data-root", "data", "--images", "{url}"], "--images"),
    (["interpolate", "{url}/a.pt", "b.pt", "--output", "c.pt"], "BASE"),
    (["interpolate", "a.pt", "{url}/b.pt", "--output", "c.pt"], "FINETUNED"),
    (["interpolate", "a.pt", "b.pt", "--output", "{url}/c.pt"], "--output"),
    (["workflow", "run", "{url}/workflow.yaml"], "CONFIG"),
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


@pytest.mark.parametrize("key", ["data_root", "images"])
def test_a_url_in_an_eval_config_file_is_refused_naming_the_key_and_the_file(key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    values = {"checkpoints": "[ck.pt]", "benchmarks": "[sugarcrepe]", "data_root": "data", key: FILE_URL}
    (tmp_path / "eval.yaml").write_text("".join(f"{k}: {v}\n" for k, v in values.items()))
    result = invoke("eval", "--config", "eval.yaml")
    assert_refused(result, f"--{key.replace('_', '-')}", tmp_path)
    assert "eval.yaml" in result.output


def test_a_url_in_a_workflow_file_is_refused_where_its_stage_takes_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "workflow.yaml").write_text(f"eval:\n  images: {S3_URL}/images\n")
    assert_refused(invoke("workflow", "run", "workflow.yaml"), "--images", tmp_path)


# The options that take a URL (a run folder, or what is read from one), each with a file:// URL
# of something missing: past the URL check, they fail on the missing file or folder.
TAKEN = [
    ["train", "--shards", "{url}/none/000000.tar", "--output", "run"],
    ["train", "--shards", "s.tar", "--output", "{url}/run"],
    ["train", "--shards", "s.tar", "--output", "run", "--pretrained", "{url}/w.pt"],
    ["train", "--shards", "s.tar", "--output", "run", "--resume", "{url}/ck.pt"],
    ["train", "--shards", "s.tar", "--output", "run", "--model", "{url}/model.json"],
    ["eval", "-c", "{url}/ck.pt", "-b", "sugarcrepe", "--data-root", "data"],
    ["eval", "-c", "ck.pt", "-b", "sugarcrepe", "--data-root", "data", "--model", "{url}/m.json"],
    ["eval", "-c", "ck.pt", "-b", "sugarcrepe", "--data-root", "data", "--results", "{url}/r.jsonl"],
    ["report", "{url}/results.jsonl", "--output", "report"],
    ["report", "results.jsonl", "--output", "{url}/report"],
    ["plot", "{url}/run"],
    ["pipeline", "preview", "--stats", "{url}/none.tsv.gz", "a dog"],
]


@pytest.mark.parametrize("args", TAKEN, ids=[" ".join(a[:2]) for a in TAKEN])
def test_the_options_that_take_urls_take_them(args, tmp_path, monkeypatch):
    """A URL where one is supported gets past the check (and fails later, on the missing data)."""
    monkeypatch.chdir(tmp_path)
    result = invoke(*(arg.replace("{url}", f"file://{tmp_path}") for arg in args))
    assert result.exit_code == 2, result.output
    assert "local path" not in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "file:").exists()


def test_a_url_of_a_scheme_that_cannot_be_opened_here_exits_2_naming_the_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("train", "--shards", "s.tar", "--output", "nosuchscheme://bucket/run")
    assert result.exit_code == 2 and "--output" in result.output and "nosuchscheme" in result.output, result.output
    result = invoke("workflow", "run", "--output", "nosuchscheme://bucket/demo")
    assert result.exit_code == 2 and "--output" in result.output, result.output
    assert not (tmp_path / "nosuchscheme:").exists()


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
