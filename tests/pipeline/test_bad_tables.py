"""A build that writes nothing, or skips most of its input, fails (exit 2) saying why."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fgclip.cli import app
from fgclip.config import BuildConfig, CountConfig, dump_config, load_config
from fgclip.pipeline import build as build_module
from fgclip.pipeline.build import UsageError, build_negatives, count_table
from fgclip.pipeline.sources import read_rows

from .corpus import write_jsonl_corpus


def build(corpus: Path, output: Path, **options) -> dict:
    options.setdefault("executor", "local")
    options.setdefault("workers", 1)
    options.setdefault("shard_size", 4)
    options.setdefault("no_negatives", True)  # the checks are about rows, not negatives
    return build_negatives(BuildConfig(input=str(corpus), output=str(output), **options), echo=lambda line: None)


def renamed_caption_column(folder: Path, n: int, column: str) -> Path:
    """A jsonl corpus whose captions sit under ``column`` instead of ``caption``."""
    corpus = write_jsonl_corpus(folder, n)
    lines = [json.loads(line) for line in corpus.read_text().splitlines()]
    corpus.write_text("".join(json.dumps({"image": row["image"], column: row["caption"], "url": "http://x"}) + "\n"
                              for row in lines))
    return corpus


def with_missing_images(folder: Path, n: int, missing: int) -> Path:
    """A jsonl corpus of ``n`` rows whose last ``missing`` images are not on disk."""
    corpus = write_jsonl_corpus(folder, n)
    for i in range(n - missing, n):
        (folder / f"img/{i:05d}.jpg").unlink()
    return corpus


@pytest.mark.parametrize("column", ["captions", "text"])
def test_a_renamed_caption_column_fails_naming_the_columns_found(column, tmp_path):
    corpus = renamed_caption_column(tmp_path / "corpus", 6, column)
    output = tmp_path / "out"
    with pytest.raises(UsageError) as failure:
        build(corpus, output)
    message = str(failure.value)
    assert "no usable caption to build from (no_caption_column 6)" in message
    assert f"found columns: image, {column}, url" in message and "--caption-column" in message
    assert "\n" not in message
    # Nothing left behind: the corrected command needs no --overwrite.
    assert not output.exists()
    assert build(corpus, output, caption_column=column)["written"] == 6


def test_the_count_stage_names_the_columns_found_too(tmp_path):
    corpus = renamed_caption_column(tmp_path / "corpus", 3, "captions")
    cfg = CountConfig(input=str(corpus), output=str(tmp_path / "t.tsv.gz"), executor="local", workers=1)
    with pytest.raises(UsageError, match=r"no usable caption to count \(no_caption_column 3\); "
                                         r"found columns: image, captions, url"):
        count_table(cfg, echo=lambda line: None)


def test_a_row_without_the_column_is_told_from_a_row_with_a_null_caption(tmp_path):
    corpus = tmp_path / "d.jsonl"
    corpus.write_text('{"image": "a.jpg", "text": "x"}\n{"image": "b.jpg", "caption": null}\n{"path": "c.jpg"}\n')
    reasons = [(row.reason, row.detail) for row in read_rows([corpus], "jsonl")]
    assert reasons == [("no_caption_column", "no 'caption' key (keys: image, text)"),
                       ("malformed_row", "'caption' is null"),
                       ("no_image_column", "no 'image' key (keys: path)")]


def test_a_tar_of_random_bytes_fails(tmp_path):
    tar = tmp_path / "000000.tar"
    tar.write_bytes(random.Random(0).randbytes(5000))
    output = tmp_path / "out"
    with pytest.raises(UsageError, match=r"no usable caption to build from \(truncated_tar 1\)") as failure:
        build(tar, output)
    assert "found columns" not in str(failure.value)  # a tar has no columns to name
    assert not output.exists()


def test_an_empty_table_fails(tmp_path):
    (tmp_path / "d.jsonl").write_text("\n")
    with pytest.raises(UsageError, match=r"no usable caption to build from \(no rows\)"):
        build(tmp_path / "d.jsonl", tmp_path / "out")


def test_a_csv_whose_rows_all_lack_an_image_fails_naming_its_columns(tmp_path):
    table = tmp_path / "d.csv"
    table.write_text("image,caption,width\n,a dog on a bed,3\n,a cat on a mat,4\n")
    with pytest.raises(UsageError, match=r"\(malformed_row 2\); found columns: image, caption, width"):
        build(table, tmp_path / "out")


def test_a_build_whose_images_are_all_missing_fails_keeping_its_shards(tmp_path):
    corpus = with_missing_images(tmp_path / "corpus", 5, 5)
    output = tmp_path / "out"
    with pytest.raises(UsageError, match=r"no sample written \(missing_image 5\).*kept") as failure:
        build(corpus, output, max_skip_fraction=1.0)  # not a share check: a build of nothing always fails
    assert "found columns: image, caption" in str(failure.value)
    assert sorted(p.name for p in output.glob("*.tar")) == ["000000.tar", "000001.tar"]
    assert not (output / "manifest.json").exists()


def test_too_many_images_missing_fails_after_the_shards_and_a_higher_threshold_resumes(tmp_path):
    corpus = with_missing_images(tmp_path / "corpus", 10, 6)
    output = tmp_path / "out"
    expected = (r"6 of 10 input rows skipped \(60.0%\), more than --max-skip-fraction 0.5 allows "
                r"\(missing_image 6\).*3 shards written are kept.*--max-skip-fraction")
    with pytest.raises(UsageError, match=expected):
        build(corpus, output)
    shards = {p.name: p.stat().st_mtime_ns for p in output.glob("*.tar")}
    assert len(shards) == 3 and not (output / "manifest.json").exists()
    with pytest.raises(UsageError, match=expected):  # resumed: the same verdict
        build(corpus, output)
    # The threshold is not part of the build's identity: the shards are kept, not rewritten.
    totals = build(corpus, output, max_skip_fraction=0.6)
    assert totals["written"] == 4
    assert {p.name: p.stat().st_mtime_ns for p in output.glob("*.tar")} == shards
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["config"]["max_skip_fraction"] == 0.6
    assert "max_skip_fraction" not in manifest["identity"]["options"]
    # A complete build rerun with a lower threshold fails again, and a higher one completes it.
    with pytest.raises(UsageError, match="more than --max-skip-fraction 0.5"):
        build(corpus, output)
    assert build(corpus, output, max_skip_fraction=1.0)["written"] == 4


def test_too_many_bad_rows_fail_before_any_shard_is_written(tmp_path):
    corpus = write_jsonl_corpus(tmp_path / "corpus", 4)
    corpus.write_text(corpus.read_text() + "{not json\n" * 5)
    output = tmp_path / "out"
    with pytest.raises(UsageError, match=r"5 of 9 input rows skipped \(55.6%\).*\(malformed_row 5\).*"
                                         r"no shard was written"):
        build(corpus, output)
    assert not output.exists()
    assert build(corpus, output, max_skip_fraction=0.6)["written"] == 4
    # The same refusal over a finished build keeps its shards, and the folder stays this build's.
    shards = {p.name: p.stat().st_mtime_ns for p in output.glob("*.tar")}
    with pytest.raises(UsageError, match=r"the 3 shards written are kept: rerun with --max-skip-fraction 0.56 "):
        build(corpus, output)
    assert build(corpus, output, max_skip_fraction=0.56)["written"] == 4
    assert {p.name: p.stat().st_mtime_ns for p in output.glob("*.tar")} == shards


def test_the_commonest_reasons_come_first(tmp_path):
    corpus = write_jsonl_corpus(tmp_path / "corpus", 1)
    lines = ['{"image": "x.jpg", "caption": ""}'] + ["{not json"] * 3 + ['{"image": "y.jpg", "text": "t"}'] * 2
    corpus.write_text(corpus.read_text() + "\n".join(lines) + "\n")
    with pytest.raises(UsageError, match=r"\(malformed_row 3, no_caption_column 2, empty_caption 1\)"):
        build(corpus, tmp_path / "out")


def test_a_few_bad_rows_pass_the_default_threshold(tmp_path):
    corpus = with_missing_images(tmp_path / "corpus", 10, 5)
    totals = build(corpus, tmp_path / "out")
    assert totals["written"] == 5 and totals["skipped"] == {"missing_image": 5}


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan])
def test_max_skip_fraction_is_a_share(value):
    with pytest.raises(ValueError, match="max_skip_fraction must be in"):
        BuildConfig(input="x", output="y", max_skip_fraction=value)


def test_max_skip_fraction_from_a_config_file_is_dumped_but_not_identity(tmp_path):
    (tmp_path / "build.yaml").write_text("input: x.jsonl\noutput: out\nmax_skip_fraction: 1\n")
    cfg = load_config(BuildConfig, tmp_path / "build.yaml")
    assert cfg.max_skip_fraction == 1.0
    assert dump_config(cfg)["max_skip_fraction"] == 1.0
    assert BuildConfig(input="x", output="y").max_skip_fraction == 0.5
    (tmp_path / "x.jsonl").write_text("")
    identities = [build_module._build_identity(BuildConfig(input=str(tmp_path / "x.jsonl"), output="y",
                                                           max_skip_fraction=share), [tmp_path / "x.jsonl"],
                                               "jsonl", None)
                  for share in (0.1, 0.9)]
    assert identities[0] == identities[1]


def test_the_cli_exits_2_and_takes_the_flag(tmp_path):
    corpus = with_missing_images(tmp_path / "corpus", 4, 3)
    output = tmp_path / "out"
    args = ["pipeline", "build-negatives", "--input", str(corpus), "--output", str(output), "--executor", "local",
            "--workers", "1", "--shard-size", "4", "--no-negatives"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "3 of 4 input rows skipped (75.0%)" in result.output
    result = CliRunner().invoke(app, [*args, "--max-skip-fraction", "0.8"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, [*args, "--max-skip-fraction", "2"])
    assert result.exit_code == 2 and "max_skip_fraction must be in [0, 1]" in result.output


def test_the_workflow_corpus_skips_nothing(tmp_path):
    from fgclip.synthetic.shapes import write_corpus

    corpus = write_corpus(tmp_path / "corpus", 6)
    totals = build(corpus, tmp_path / "out", max_skip_fraction=0.0)
    assert totals["written"] == 6 and totals["skipped"] == {}

