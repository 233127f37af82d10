import json

import pytest
from typer.testing import CliRunner

from fgclip.cli import app
from fgclip.schema import KINDS

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_help_lists_command_groups():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "pipeline" in result.stdout
    assert "setup" in result.stdout


@pytest.mark.parametrize("args", [["--no-such-flag"], ["pipeline", "preview", "--no-such-flag", "x"]])
def test_bad_flag_exits_2_with_message(args):
    result = invoke(*args)
    assert result.exit_code == 2
    assert "--no-such-flag" in result.output


def test_preview_json_one_caption():
    result = invoke("pipeline", "preview", "A dog chasing a cat.", "--json")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["caption"] == "A dog chasing a cat."
    assert record["negatives"]
    for negative in record["negatives"]:
        assert set(negative) == {"text", "kind", "rule"}
        assert negative["kind"] in KINDS
        assert negative["text"] != record["caption"]


def test_preview_json_from_file(tmp_path):
    captions = tmp_path / "captions.txt"
    captions.write_text("A dog chasing a cat.\n\n  \nA red car next to a blue truck.\n", encoding="utf-8")
    result = invoke("pipeline", "preview", "--file", str(captions), "--json", "--kinds", "object,attribute")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["caption"] for r in records] == ["A dog chasing a cat.", "A red car next to a blue truck."]
    assert all(n["kind"] in ("object", "attribute") for r in records for n in r["negatives"])


def test_preview_table():
    result = invoke("pipeline", "preview", "A dog chasing a cat.")
    assert result.exit_code == 0, result.output
    for column in ("caption", "kind", "rule", "negative"):
        assert column in result.stdout
    assert "first load" in result.stderr


def test_preview_missing_file_exits_2_naming_it(tmp_path):
    missing = tmp_path / "no-such-captions.txt"
    result = invoke("pipeline", "preview", "--file", str(missing))
    assert result.exit_code == 2
    assert "no-such-captions.txt" in result.output


def test_preview_without_captions_exits_2():
    result = invoke("pipeline", "preview")
    assert result.exit_code == 2
    assert "no captions" in result.output


def test_preview_unknown_kind_exits_2_listing_valid_kinds():
    result = invoke("pipeline", "preview", "--kinds", "object,colour", "A dog chasing a cat.")
    assert result.exit_code == 2
    assert "colour" in result.output
    assert all(kind in result.output for kind in KINDS)


def build_args(corpus, output, *extra):
    return ["pipeline", "build-negatives", "--input", str(corpus), "--output", str(output),
            "--executor", "local", "--shard-size", "4", *extra]


@pytest.fixture
def small_corpus(tmp_path):
    from tests.pipeline.corpus import write_jsonl_corpus

    return write_jsonl_corpus(tmp_path / "corpus", 6)


def test_build_negatives_writes_shards_and_prints_the_summary(small_corpus, tmp_path):
    output = tmp_path / "out"
    result = invoke(*build_args(small_corpus, output, "--kinds", "relation,object", "--negatives-per-kind", "1"))
    assert result.exit_code == 0, result.output
    assert "samples written" in result.stdout and "negatives: relation" in result.stdout
    assert "negatives: attribute" not in result.stdout
    assert json.loads((output / "sizes.json").read_text()) == {"000000.tar": 4, "000001.tar": 2}
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["config"]["kinds"] == ["relation", "object"] and manifest["config"]["negatives_per_kind"] == 1


def test_build_negatives_reads_a_yaml_config_and_flags_win(small_corpus, tmp_path):
    config = tmp_path / "build.yaml"
    config.write_text(f"input: {small_corpus}\noutput: {tmp_path / 'out'}\nshard_size: 2\nseed: 5\n"
                      "executor: local\nno_negatives: true\n")
    result = invoke("pipeline", "build-negatives", "--config", str(config), "--shard-size", "3")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["config"]["shard_size"] == 3 and manifest["config"]["seed"] == 5
    assert manifest["totals"]["negatives"] == {}


@pytest.mark.parametrize("case, message", [
    ("missing input", "no such file"),
    ("no output", "--input and --output are required"),
    ("unknown format", "unknown format 'xml'"),
    ("unknown kind", "unknown negative kind"),
    ("bad yaml key", "unknown key 'shards'"),
    ("output inside input", "inside the input folder"),
    ("other config", "another config"),
    ("bad shard size", "shard_size must be >= 1"),
])
def test_build_negatives_usage_errors_exit_2(case, message, small_corpus, tmp_path):
    output = tmp_path / "out"
    args = build_args(small_corpus, output)
    if case == "missing input":
        args = build_args(tmp_path / "missing.jsonl", output)
    elif case == "no output":
        args = ["pipeline", "build-negatives", "--input", str(small_corpus)]
    elif case == "unknown format":
        args += ["--format", "xml"]
    elif case == "unknown kind":
        args += ["--kinds", "relation,colour"]
    elif case == "bad yaml key":
        config = tmp_path / "build.yaml"
        config.write_text("shards: 3\n")
        args += ["--config", str(config)]
    elif case == "output inside input":
        args = build_args(small_corpus.parent, small_corpus.parent / "shards")
    elif case == "other config":
        assert invoke(*args).exit_code == 0
        args += ["--seed", "9"]
    elif case == "bad shard size":
        args += ["--shard-size", "0"]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
