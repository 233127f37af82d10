"""The statistics pass: ``fgclip pipeline count``, and the corpus table inside build-negatives
(counted, given with --stats, or none), on the local executor."""

from __future__ import annotations

import gzip
import json
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from fgclip.config import BuildConfig, CountConfig
from fgclip.pipeline import build as build_module
from fgclip.pipeline import shards as shard_io
from fgclip.pipeline.build import UsageError, count_table
from fgclip.pipeline.negatives import negatives
from fgclip.pipeline.negatives.corpus import TABLE_FILE, CorpusTable, count_corpus
from fgclip.pipeline.sources import clean_captions

from .corpus import captions, write_jsonl_corpus
from .test_build import RecordingExecutor, build, digests, stable_stats


def count(corpus, output, **options) -> dict:
    options.setdefault("executor", "local")
    options.setdefault("workers", 1)
    return count_table(CountConfig(input=str(corpus), output=str(output), **options), echo=lambda line: None)


def one_build(corpus, output, **options) -> dict:
    options.setdefault("workers", 1)  # in this process: WordNet is loaded once for the module
    return build(corpus, output, **options)


def usable_captions(corpus: Path) -> list[list[str]]:
    """The captions of each usable row of a corpus written by write_jsonl_corpus(bad_rows=True),
    found independently of the code under test: json lines with a string caption, first sight of
    an image, cleaned captions left."""
    samples, seen = [], set()
    for raw in corpus.read_bytes().splitlines():
        try:
            row = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if row["image"] in seen:
            continue
        seen.add(row["image"])
        kept, _ = clean_captions([row["caption"]], 2000)
        if kept:
            samples.append(kept)
    return samples


def shard_records(folder: Path) -> list[dict]:
    records = []
    for tar_file in sorted(folder.glob("*.tar")):
        with tarfile.open(tar_file) as tar:
            records += [json.loads(tar.extractfile(m).read()) for m in tar if m.name.endswith(".json")]
    return records


def assert_negatives_made_with(folder: Path, table: CorpusTable | None, seed: int = 0) -> None:
    records = shard_records(folder)
    assert records
    for record in records[:6]:
        for caption in record["captions"]:
            expected = negatives(caption["text"], f"{seed}|{record['source']['image']}", table=table)
            assert caption["negatives"] == [n.to_dict() for n in expected], caption["text"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_jsonl_corpus(tmp_path_factory.mktemp("corpus"), 24, bad_rows=True)


@pytest.fixture(scope="module")
def other_table(tmp_path_factory) -> Path:
    """The table of another corpus (the sample captions in another order)."""
    folder = tmp_path_factory.mktemp("other")
    path = folder / "other.tsv.gz"
    path.write_bytes(CorpusTable(count_corpus([[c] for c in reversed(captions())])).to_bytes())
    return path


@pytest.fixture(scope="module")
def counted(corpus, tmp_path_factory) -> tuple[Path, dict]:
    output = tmp_path_factory.mktemp("counted") / "corpus.tsv.gz"
    return output, count(corpus, output)


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory) -> tuple[Path, dict]:
    output = tmp_path_factory.mktemp("built") / "shards"
    return output, one_build(corpus, output)


# ---------------------------------------------------------------------------------------------
# fgclip pipeline count


def test_count_sums_each_usable_row_as_one_sample(corpus, counted):
    output, summary = counted
    table = CorpusTable.load(output)
    assert table.counts == count_corpus(usable_captions(corpus))
    assert summary["samples"] == table.samples == 27  # 24 + the rows whose image is bad (not read here)
    assert summary["rows"] == 32 and summary["skipped"] == {
        "caption_too_long": 1, "duplicate_key": 1, "empty_caption": 1, "invalid_utf8": 1, "malformed_row": 1}
    assert summary["bytes"] == output.stat().st_size and summary["fingerprint"] == table.fingerprint
    assert sorted(p.name for p in output.parent.iterdir()) == [output.name]  # no temporary left


def test_count_gives_the_same_bytes_again_and_with_more_workers(corpus, counted, tmp_path):
    output, _ = counted
    again = tmp_path / "again.tsv.gz"
    count(corpus, again, workers=2)
    assert again.read_bytes() == output.read_bytes()


def test_count_writes_to_a_url(corpus, counted, tmp_path):
    import fsspec

    count(corpus, f"file://{tmp_path}/stats/url.tsv.gz")
    assert (tmp_path / "stats" / "url.tsv.gz").read_bytes() == counted[0].read_bytes()
    count(corpus, "memory://counted/url.tsv.gz")  # an object store: one upload
    assert fsspec.filesystem("memory").cat_file("/counted/url.tsv.gz") == counted[0].read_bytes()
    fsspec.filesystem("memory").rm("/counted", recursive=True)


def test_count_keeps_the_captions_of_a_coco_image_together(tmp_path):
    texts = captions()
    images = [{"id": i, "file_name": f"{i}.jpg"} for i in (7, 3, 11)]  # no image file exists: none is read
    annotations = [{"id": n, "image_id": image["id"], "caption": texts[(image["id"] + n) % len(texts)]}
                   for image in images for n in range(5)]
    annotations.append({"id": 99, "image_id": 3, "caption": "   "})
    (tmp_path / "captions.json").write_text(json.dumps({"images": images, "annotations": annotations}))
    summary = count(tmp_path / "captions.json", tmp_path / "stats" / "coco.tsv.gz")
    table = CorpusTable.load(tmp_path / "stats" / "coco.tsv.gz")
    expected = count_corpus([[texts[(i + n) % len(texts)] for n in range(5)] for i in (7, 3, 11)])
    assert table.counts == expected
    assert summary["samples"] == 3 and summary["captions"] == 15 and table.multi_caption_samples == 3


def test_the_build_counts_the_table_the_count_command_writes(built, counted):
    output, totals = built
    assert (output / TABLE_FILE).read_bytes() == counted[0].read_bytes()
    manifest = json.loads((output / "manifest.json").read_text())
    table = manifest["table"]
    assert table["fingerprint"] == counted[1]["fingerprint"] and manifest["identity"]["table"] == {"mode": "counted"}
    assert table["how"] == "counted" and table["bytes"] == (output / TABLE_FILE).stat().st_size
    assert {"samples", "captions", "keys"} <= set(table) and table["seconds"] == totals["stats_seconds"] > 0


def test_the_shards_negatives_are_made_with_the_table(built):
    output, _ = built
    assert_negatives_made_with(output, CorpusTable.load(output / TABLE_FILE))


def test_refusals_are_counted_by_shard_and_summed(built):
    output, totals = built
    per_shard = [json.loads(p.read_text())["refused"] for p in sorted(output.glob("*_stats.json"))]
    assert all(list(refused) == sorted(refused) for refused in per_shard)
    assert totals["refused"] == dict(sorted(sum(map(Counter, per_shard), Counter()).items()))
    assert sum(totals["refused"].values()) > 0
    assert all("/" in reason for reason in totals["refused"])  # "kind/reason"


def test_count_refuses_a_folder_for_the_table_and_a_missing_input(corpus, tmp_path):
    """(A name without .tsv.gz and a corpus without a usable caption: tests/test_cli.py.)"""
    (tmp_path / "t.tsv.gz").mkdir()
    with pytest.raises(UsageError, match="is a folder"):
        count(corpus, tmp_path / "t.tsv.gz")
    with pytest.raises(UsageError, match="no such file"):
        count(tmp_path / "nowhere.jsonl", tmp_path / "u.tsv.gz")
    assert not (tmp_path / "u.tsv.gz").exists()


# ---------------------------------------------------------------------------------------------
# The table in build-negatives: --stats, --no-stats, resume


def test_stats_uses_the_given_table_and_is_part_of_the_identity(corpus, other_table, tmp_path):
    output = tmp_path / "shards"
    one_build(corpus, output, stats=str(other_table))
    given = CorpusTable.load(other_table)
    assert (output / TABLE_FILE).read_bytes() == other_table.read_bytes()
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["identity"]["table"] == {"mode": "given", "fingerprint": given.fingerprint}
    assert manifest["table"]["how"] == "copied" and manifest["table"]["source"] == str(other_table)
    assert_negatives_made_with(output, given)
    # The same table elsewhere is the same build; another table is not.
    moved = tmp_path / "moved.tsv.gz"
    moved.write_bytes(other_table.read_bytes())
    one_build(corpus, output, stats=str(moved))
    changed = tmp_path / "changed.tsv.gz"
    changed.write_bytes(CorpusTable({**given.counts, "n\tunheard-of thing": 1}).to_bytes())
    with pytest.raises(UsageError, match=f"corpus table given {given.fingerprint} -> given .*--overwrite"):
        one_build(corpus, output, stats=str(changed))
    with pytest.raises(UsageError, match="corpus table given .* -> counted"):
        one_build(corpus, output)
    one_build(corpus, output, stats=str(changed), overwrite=True)
    assert (output / TABLE_FILE).read_bytes() == changed.read_bytes()


def test_a_table_from_the_output_folder_itself_survives_overwrite(built, corpus, tmp_path):
    output = tmp_path / "shards"
    one_build(corpus, output, no_stats=True)
    (output / TABLE_FILE).write_bytes((built[0] / TABLE_FILE).read_bytes())  # put there by hand
    one_build(corpus, output, stats=str(output / TABLE_FILE), overwrite=True)
    assert digests(output) == digests(built[0])


def test_no_stats_builds_without_a_table(built, corpus, tmp_path):
    output = tmp_path / "shards"
    totals = one_build(corpus, output, no_stats=True)
    assert not (output / TABLE_FILE).exists()
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["table"] is None and manifest["identity"]["table"] == {"mode": "none"}
    assert totals["stats_seconds"] == 0.0
    assert_negatives_made_with(output, None)
    with pytest.raises(UsageError, match="corpus table none -> counted"):
        one_build(corpus, output)


def test_a_resumed_build_reuses_its_table(built, corpus, tmp_path, monkeypatch):
    output = tmp_path / "shards"

    def fail(*args, **kwargs):
        raise OSError("disk full (as if killed after the statistics pass)")

    real_write_shard = shard_io.write_shard
    monkeypatch.setattr(shard_io, "write_shard", fail)
    with pytest.raises(OSError, match="disk full"):
        one_build(corpus, output)
    monkeypatch.setattr(shard_io, "write_shard", real_write_shard)
    table_written = (output / TABLE_FILE).stat().st_mtime_ns
    assert not list(output.glob("*.tar"))

    events: list[str] = []
    monkeypatch.setattr(build_module, "LocalExecutor", lambda workers: RecordingExecutor(events))
    totals = one_build(corpus, output)
    assert events == ["session start", "run", "session end"]  # no "count"
    assert (output / TABLE_FILE).stat().st_mtime_ns == table_written
    assert json.loads((output / "manifest.json").read_text())["table"]["how"] == "reused"
    assert digests(output) == digests(built[0]) and stable_stats(output) == stable_stats(built[0])
    assert totals["written"] == built[1]["written"]


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (gzip.compress(b"# fgclip corpus counts 1\n3\tn\tdog\nnot a count line\n"), "line 3: expected COUNT<TAB>KEY"),
    (b"plain text", "not a fgclip corpus table"),
], ids=["missing", "bad line", "not gzip"])
def test_an_unreadable_stats_table_stops_the_build_naming_it(content, message, corpus, tmp_path):
    table = tmp_path / "bad.tsv.gz"
    if content is not None:
        table.write_bytes(content)
    with pytest.raises(UsageError, match=f"--stats {table}.*{message}"):
        one_build(corpus, tmp_path / "shards", stats=str(table))
    assert not (tmp_path / "shards").exists()


def test_stats_options_are_checked():
    with pytest.raises(ValueError, match="exclude each other"):
        BuildConfig(input="a", output="b", stats="t.tsv.gz", no_stats=True)
    with pytest.raises(ValueError, match="no_negatives makes none"):
        BuildConfig(input="a", output="b", stats="t.tsv.gz", no_negatives=True)
    with pytest.raises(ValueError, match="executor"):
        CountConfig(input="a", output="t.tsv.gz", executor="dask")


def test_a_table_changed_during_the_build_fails_the_shard(built, tmp_path):
    table = tmp_path / TABLE_FILE
    table.write_bytes((built[0] / TABLE_FILE).read_bytes())
    with pytest.raises(ValueError, match="changed during the build"):
        shard_io.cached_table(str(table), "0" * 16)
