import dataclasses
import inspect
import json
import logging

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


def test_preview_swaps_paper_adds_the_papers_order_swaps():
    caption = "A man riding a horse on a beach."

    def rules(*extra):
        result = invoke("pipeline", "preview", caption, "--json", "--kinds", "relation", *extra)
        assert result.exit_code == 0, result.output
        return {n["rule"] for n in json.loads(result.stdout)["negatives"]}

    assert "swap-np" not in rules() and rules("--swaps", "plausible") == rules()
    assert "swap-np" in rules("--swaps", "paper")


def test_preview_unknown_swaps_exits_2_naming_the_modes():
    result = invoke("pipeline", "preview", "--swaps", "absurd", "A dog chasing a cat.")
    assert result.exit_code == 2
    assert "swaps must be one of plausible, paper, got 'absurd'" in result.output


def test_train_unknown_skipped_rule_exits_2_listing_the_rules(tmp_path):
    result = invoke("train", "--shards", str(tmp_path), "--output", str(tmp_path / "run"),
                    "--skip-rules", "swap-np,swap-everything")
    assert result.exit_code == 2
    assert "'swap-everything' in skip_rules; valid rules: replace-rel, swap-obj, swap-np" in result.output


def build_args(corpus, output, *extra):
    return ["pipeline", "build-negatives", "--input", str(corpus), "--output", str(output),
            "--executor", "local", "--shard-size", "4", *extra]


@pytest.fixture
def small_corpus(tmp_path):
    from pipeline.corpus import write_jsonl_corpus

    return write_jsonl_corpus(tmp_path / "corpus", 6)


def test_build_negatives_writes_shards_and_prints_the_summary(small_corpus, tmp_path):
    output = tmp_path / "out"
    result = invoke(*build_args(small_corpus, output, "--kinds", "relation,object", "--negatives-per-kind", "1",
                                "--swaps", "paper"))
    assert result.exit_code == 0, result.output
    assert "samples written" in result.stdout and "negatives: relation" in result.stdout
    assert "negatives: attribute" not in result.stdout
    assert json.loads((output / "sizes.json").read_text()) == {"000000.tar": 4, "000001.tar": 2}
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["config"]["kinds"] == ["relation", "object"] and manifest["config"]["negatives_per_kind"] == 1
    assert manifest["config"]["swaps"] == "paper"


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
    ("unreadable stats", "bad.tsv.gz: line 2: expected COUNT<TAB>KEY"),
    ("stats and no stats", "exclude each other"),
    ("bad swaps", "swaps must be one of plausible, paper, got 'absurd'"),
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
    elif case == "unreadable stats":
        args += ["--stats", str(bad_table(tmp_path))]
    elif case == "stats and no stats":
        args += ["--stats", str(bad_table(tmp_path)), "--no-stats"]
    elif case == "bad swaps":
        args += ["--swaps", "absurd"]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def bad_table(folder):
    import gzip

    path = folder / "bad.tsv.gz"
    path.write_bytes(gzip.compress(b"# fgclip corpus counts 1\nthree\tn\tdog\n"))
    return path


def test_count_writes_the_table_the_build_counts_and_prints_its_summary(small_corpus, tmp_path):
    table = tmp_path / "stats" / "coco.tsv.gz"
    result = invoke("pipeline", "count", "--input", str(small_corpus), "--output", str(table), "--executor", "local",
                    "--workers", "1")
    assert result.exit_code == 0, result.output
    from fgclip.pipeline.negatives.corpus import CorpusTable

    fingerprint = CorpusTable.load(table).fingerprint
    assert "corpus table: 6 samples, 6 captions" in result.stdout and fingerprint in result.stdout
    output = tmp_path / "out"
    result = invoke(*build_args(small_corpus, output, "--workers", "1"))
    assert result.exit_code == 0, result.output
    assert (output / "corpus_counts.tsv.gz").read_bytes() == table.read_bytes()
    assert f"fingerprint {fingerprint}" in result.stdout and "edits refused" in result.stdout


@pytest.mark.parametrize("case, message", [
    ("no output", "--input and --output are required"),
    ("not a table name", "ending in .tsv.gz"),
    ("no caption", "no usable caption to count (empty_caption 1)"),
    ("bad executor", "executor must be 'ray' or 'local'"),
])
def test_count_usage_errors_exit_2(case, message, small_corpus, tmp_path):
    args = ["pipeline", "count", "--input", str(small_corpus), "--output", str(tmp_path / "t.tsv.gz"),
            "--executor", "local"]
    if case == "no output":
        args = args[:4]
    elif case == "not a table name":
        args[5] = str(tmp_path / "t.tsv")
    elif case == "no caption":
        (tmp_path / "blank.jsonl").write_text('{"image": "a.jpg", "caption": ""}\n')
        args[3] = str(tmp_path / "blank.jsonl")
    else:
        args[-1] = "dask"
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_preview_with_a_table(tmp_path):
    from fgclip.pipeline.negatives import negatives
    from fgclip.pipeline.negatives.corpus import CorpusTable, count_corpus

    caption = "A dog chasing a cat on a red couch."
    path = tmp_path / "t.tsv.gz"
    table = CorpusTable(count_corpus([[caption], ["A cat sleeping on a blue couch."]]))
    path.write_bytes(table.to_bytes())
    result = invoke("pipeline", "preview", caption, "--json", "--stats", str(path))
    assert result.exit_code == 0, result.output
    expected = [n.to_dict() for n in negatives(caption, 0, table=table)]
    assert json.loads(result.stdout)["negatives"] == expected


@pytest.mark.parametrize("make, message", [
    (bad_table, "bad.tsv.gz: line 2: expected COUNT<TAB>KEY"),
    (lambda folder: folder / "missing.tsv.gz", "missing.tsv.gz: no such file"),
])
def test_preview_with_an_unreadable_table_exits_2_naming_it(make, message, tmp_path):
    result = invoke("pipeline", "preview", "A dog.", "--stats", str(make(tmp_path)))
    assert result.exit_code == 2
    assert message in result.output and str(tmp_path) in result.output


# ---------------------------------------------------------------------------------------------
# One logging setup (fgclip.log): fgclip's loggers at INFO everywhere, the others by context


@pytest.fixture
def log_levels():
    """(root level, fgclip's effective level) as a function; the loggers start too quiet, so that
    only the code under test can bring them to the levels it asserts, and are put back after."""
    loggers = logging.getLogger(), logging.getLogger("fgclip")
    before = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield lambda: (loggers[0].level, loggers[1].getEffectiveLevel())
    for logger, level in zip(loggers, before):
        logger.setLevel(level)


@pytest.mark.parametrize("command", ["train", "eval"])
def test_train_and_eval_commands_log_fgclip_at_info_and_other_libraries_at_warning(command, log_levels, monkeypatch,
                                                                                   tmp_path):
    from fgclip.eval import run as eval_run
    from fgclip.trainer import launch

    seen = []
    monkeypatch.setattr(launch, "run", lambda cfg, echo: seen.append(log_levels()) or
                        {"steps": 0, "samples_seen": 0, "checkpoint": "-"})
    monkeypatch.setattr(eval_run, "evaluate_where_configured", lambda cfg, echo: seen.append(log_levels()) or [])
    (tmp_path / "a.pt").touch()
    args = {"train": ["--shards", str(tmp_path), "--output", str(tmp_path / "run")],
            "eval": ["-c", str(tmp_path / "a.pt"), "-b", "sugarcrepe", "--data-root", str(tmp_path),
                     "--results", str(tmp_path / "results.jsonl")]}[command]
    result = invoke(command, *args)
    assert result.exit_code == 0, result.output
    assert seen == [(logging.WARNING, logging.INFO)]


def test_a_ray_train_worker_logs_as_the_train_command_does(log_levels, monkeypatch, tmp_path):
    from fgclip.trainer import launch, loop

    seen = []
    monkeypatch.setattr(loop, "train", lambda cfg, echo: seen.append(log_levels()))
    launch._ray_worker({"shards": str(tmp_path), "output": str(tmp_path / "run")})
    assert seen == [(logging.WARNING, logging.INFO)]


def test_pipeline_commands_log_everything_at_info(log_levels, monkeypatch, small_corpus, tmp_path):
    from fgclip.pipeline import build

    seen = []
    monkeypatch.setattr(build, "build_negatives", lambda cfg, echo: seen.append(log_levels()))
    result = invoke(*build_args(small_corpus, tmp_path / "out", "--no-negatives"))
    assert result.exit_code == 0, result.output
    assert seen == [(logging.INFO, logging.INFO)]


@pytest.mark.parametrize("command, config_class", [
    ("train_command", "TrainConfig"), ("eval_command", "EvalConfig"),
    ("build_negatives_command", "BuildConfig"), ("count_command", "CountConfig"),
])
def test_every_option_of_a_stage_command_is_named_after_its_config_field(command, config_class):
    # The command hands its options to the config by name: an option named otherwise would be
    # dropped without a word.
    from fgclip import cli, config

    options = set(inspect.signature(getattr(cli, command)).parameters) - {"config"}
    fields = {field.name for field in dataclasses.fields(getattr(config, config_class))}
    assert options <= fields, options - fields
