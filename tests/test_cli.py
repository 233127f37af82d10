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
