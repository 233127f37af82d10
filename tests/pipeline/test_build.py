"""build-negatives without Ray: the plan, one shard, the whole job on the local executor."""

from __future__ import annotations

import contextlib
import hashlib
import json
import tarfile
import time
from pathlib import Path

import pytest

from fgclip.config import BuildConfig
from fgclip.files import Folder
from fgclip.pipeline import build as build_module
from fgclip.pipeline import shards as shard_io
from fgclip.pipeline.build import UsageError, build_negatives
from fgclip.pipeline.executors import LocalExecutor
from fgclip.pipeline.shards import BUILD_DIR, ShardOptions, write_plan, write_shard
from fgclip.pipeline.sources import SourceError, read_rows

from .corpus import BAD_ROW_REASONS, captions, jpeg_bytes, write_jsonl_corpus


def build(corpus: Path, output: Path, **options) -> dict:
    options.setdefault("executor", "local")
    options.setdefault("shard_size", 10)
    return build_negatives(BuildConfig(input=str(corpus), output=str(output), **options), echo=lambda line: None)


def digests(folder: Path) -> dict[str, str]:
    """Content hashes of the files that must not vary between runs (stats hold timings)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.suffix == ".tar" or p.name in ("sizes.json", "corpus_counts.tsv.gz")}


def tar_members(path: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return tar.getmembers()


def stable_stats(folder: Path) -> dict:
    volatile = {"seconds", "node", "pid", "peak_rss_mb"}
    return {p.name: {k: v for k, v in json.loads(p.read_text()).items() if k not in volatile}
            for p in sorted(folder.glob("*_stats.json"))}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_jsonl_corpus(tmp_path_factory.mktemp("corpus"), 35, bad_rows=True)


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory) -> tuple[Path, dict]:
    output = tmp_path_factory.mktemp("built") / "shards"
    return output, build(corpus, output)


def test_plan_assigns_rows_to_shards_in_input_order(corpus, tmp_path):
    summary = write_plan(read_rows([corpus], "jsonl"), Folder(tmp_path), shard_size=10, max_caption_chars=2000)
    assert summary == {"shards": 5, "rows": 43, "skipped": {"malformed_row": 1, "duplicate_key": 1, "empty_caption": 1,
                                                            "caption_too_long": 1, "invalid_utf8": 1}}
    header, entries = shard_io.read_plan(Folder(tmp_path), 0)
    assert header["rows"] == 10
    # Keys are the input row numbers: a row skipped at plan time leaves a gap, never a shift.
    assert [e["key"] for e in entries][:3] == ["000000000", "000000002", "000000003"]
    assert header["skipped"] == {"malformed_row": 1, "duplicate_key": 1}
    assert header["errors"][0] == "data.jsonl:2: malformed_row (Expecting property name enclosed in double quotes)"
    header, entries = shard_io.read_plan(Folder(tmp_path), 4)
    assert header["rows"] == 3 and entries[-1]["key"] == "000000042"


def test_write_shard_keeps_image_bytes_and_writes_the_record(built, corpus):
    output, _ = built
    members = tar_members(output / "000000.tar")
    names = [m.name for m in members]
    assert names[:3] == ["000000000.jpg", "000000000.txt", "000000000.json"]
    assert {m.mtime for m in members} == {shard_io.TAR_MTIME} and {m.mode for m in members} == {0o644}
    with tarfile.open(output / "000000.tar") as tar:
        image = tar.extractfile("000000000.jpg").read()
        text = tar.extractfile("000000000.txt").read().decode()
        record = json.loads(tar.extractfile("000000000.json").read())
    assert image == (corpus.parent / "img/00000.jpg").read_bytes() == jpeg_bytes(0)
    assert text == captions()[0] == record["captions"][0]["text"]
    assert record["source"] == {"format": "jsonl", "file": "data.jsonl", "line": 1, "image": "img/00000.jpg"}
    negatives = record["captions"][0]["negatives"]
    assert negatives and all(set(n) == {"text", "kind", "rule"} and n["text"] != text for n in negatives)


def test_every_input_row_is_written_or_skipped_by_reason(built):
    output, totals = built
    assert totals["rows"] == 43
    assert totals["skipped"] == BAD_ROW_REASONS
    assert totals["written"] == 35 == totals["rows"] - sum(totals["skipped"].values())
    sizes = json.loads((output / "sizes.json").read_text())
    assert sum(sizes.values()) == 35
    for name, count in sizes.items():
        assert len(tar_members(output / name)) == 3 * count
    kinds = {kind for kind, count in totals["negatives"].items() if count}
    assert kinds == {"relation", "attribute", "object", "action"}
    assert sum(totals["negatives"].values()) == sum(totals["rules"].values()) > 35


def test_each_shard_accounts_for_each_of_its_rows(built):
    output, _ = built
    for path in sorted(output.glob("*_stats.json")):
        stats = json.loads(path.read_text())
        assert stats["rows"] == stats["written"] + sum(stats["skipped"].values()), path.name
        assert len(stats["errors"]) == sum(stats["skipped"].values())  # fewer than 20 here, so all kept


def test_parquet_with_a_list_of_captions(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "img").mkdir()
    texts = captions()
    for i in range(5):
        (tmp_path / "img" / f"{i}.jpg").write_bytes(jpeg_bytes(i))
    table = pa.table({"url": [f"img/{i}.jpg" for i in range(5)],
                      "texts": [[texts[i], texts[i + 1]] for i in range(5)]})
    pq.write_table(table, tmp_path / "data.parquet")
    output = tmp_path / "out"
    totals = build(tmp_path / "data.parquet", output, image_column="url", caption_column="texts")
    assert totals["written"] == 5 and totals["captions"] == 10
    with tarfile.open(output / "000000.tar") as tar:
        record = json.loads(tar.extractfile("000000004.json").read())
    assert [c["text"] for c in record["captions"]] == [texts[4], texts[5]]
    assert record["source"] == {"format": "parquet", "file": "data.parquet", "line": 5, "image": "img/4.jpg"}


def test_ray_missing_is_a_usage_error_before_any_work(corpus, tmp_path, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real_find_spec(name, *a))
    with pytest.raises(UsageError, match="Ray is not installed.*--executor local"):
        build(corpus, tmp_path / "out", executor="ray")
    assert not (tmp_path / "out").exists()


def test_outputs_beside_the_shards(built):
    output, totals = built
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["totals"]["written"] == totals["written"] and manifest["config"]["shard_size"] == 10
    assert manifest["versions"]["generator"] and manifest["shards"] == 5
    assert (output / "negatives.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (output / BUILD_DIR).exists()
    # Nothing but the documented files (temporary names would start with a dot).
    names = {p.name for p in output.iterdir()}
    assert names == {f"{s:06d}{suffix}" for s in range(5) for suffix in (".tar", "_stats.json")} | {
        "sizes.json", "manifest.json", "negatives.png", "corpus_counts.tsv.gz"}


def test_same_input_same_bytes_whatever_the_workers(built, corpus, tmp_path):
    output, _ = built
    again = tmp_path / "again"
    build(corpus, again, workers=2)
    assert digests(again) == digests(output)
    assert stable_stats(again) == stable_stats(output)


def test_negatives_follow_the_source_not_the_shard_layout(built, corpus, tmp_path):
    def negatives_by_image(folder):
        found = {}
        for tar_file in folder.glob("*.tar"):
            with tarfile.open(tar_file) as tar:
                for member in tar:
                    if member.name.endswith(".json"):
                        record = json.loads(tar.extractfile(member).read())
                        found[record["source"]["image"]] = record["captions"]
        return found

    output, _ = built
    other = tmp_path / "other"
    build(corpus, other, shard_size=7)
    assert negatives_by_image(other) == negatives_by_image(output)


def test_rerun_skips_finished_shards_and_completes_the_rest(built, corpus, tmp_path, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    reference, _ = built
    output = tmp_path / "out"
    # A pool worker dies after 3 samples of shard 2, which breaks the whole local job.
    monkeypatch.setenv("FGCLIP_TEST_CRASH", f"2:3:{tmp_path / 'crashed'}")
    with pytest.raises(BrokenProcessPool):
        build(corpus, output, workers=2)
    monkeypatch.delenv("FGCLIP_TEST_CRASH")
    assert (tmp_path / "crashed").exists() and (output / BUILD_DIR / "plan.json").exists()
    assert not (output / "000002_stats.json").exists()
    # As if killed between a shard's rename and its stats, and half-way through another.
    if (output / "000000_stats.json").exists():
        (output / "000000_stats.json").unlink()
    (output / ".000004.tar.tmp-999").write_bytes(b"half a tar")
    finished = {p.name: p.stat().st_mtime_ns for p in output.glob("*.tar")
                if (output / p.name.replace(".tar", "_stats.json")).exists()}
    totals = build(corpus, output, workers=2)
    assert digests(output) == digests(reference)
    assert stable_stats(output) == stable_stats(reference)
    assert totals["written"] == 35
    assert all((output / name).stat().st_mtime_ns == mtime for name, mtime in finished.items())
    assert not (output / BUILD_DIR).exists() and not (output / ".000004.tar.tmp-999").exists()


def test_a_different_config_in_the_same_folder_is_refused(built, corpus, tmp_path, monkeypatch):
    output = tmp_path / "out"
    build(corpus, output)
    with pytest.raises(UsageError, match="another config.*seed.*--overwrite"):
        build(corpus, output, seed=1)
    with pytest.raises(UsageError, match="shard_size"):
        build(corpus, output, shard_size=20)
    # Speed settings are not part of the output and may change between runs, nor is the way
    # the input is named.
    build(corpus, output, workers=2)
    monkeypatch.chdir(corpus.parent)
    build(Path(corpus.name), output)
    totals = build(corpus, output, seed=1, overwrite=True)
    assert totals["written"] == 35
    assert json.loads((output / "manifest.json").read_text())["config"]["seed"] == 1


def test_a_changed_input_is_refused(tmp_path):
    corpus = write_jsonl_corpus(tmp_path / "corpus", 5)
    output = tmp_path / "out"
    build(corpus, output)
    corpus.write_text(corpus.read_text() + corpus.read_text().splitlines()[0] + "\n")
    with pytest.raises(UsageError, match="input files changed"):
        build(corpus, output)


@pytest.mark.parametrize("problem", ["missing input", "inside input", "matches input glob", "foreign tars",
                                     "unknown suffix", "unknown output scheme", "inside input url", "missing url",
                                     "output url inside input", "output url is a file"])
def test_usage_errors_stop_before_any_work(problem, tmp_path):
    corpus = write_jsonl_corpus(tmp_path / "corpus", 3)
    output = tmp_path / "out"
    options = {}
    if problem == "missing input":
        corpus, match = tmp_path / "nowhere.jsonl", "no such file"
    elif problem == "inside input":
        corpus, output, match = corpus.parent, corpus.parent / "shards", "inside the input folder"
    elif problem == "matches input glob":
        corpus, output, match = tmp_path / "*" / "*.tar", tmp_path / "shards", "would match"
        (tmp_path / "old").mkdir()
        (tmp_path / "old" / "a.tar").write_bytes(b"")
    elif problem == "foreign tars":
        output.mkdir()
        (output / "000000.tar").write_bytes(b"someone else's")
        match = "did not write"
    elif problem == "unknown output scheme":
        output, match = "nosuchscheme://bucket/shards", "--output nosuchscheme://bucket/shards: .*nosuchscheme"
    elif problem == "output url inside input":
        corpus, output, match = corpus.parent, f"file://{corpus.parent}/shards", "inside the input folder"
    elif problem == "output url is a file":
        output, match = f"file://{corpus}", "is a file"
    elif problem == "inside input url":
        corpus, output, match = f"file://{corpus.parent}", corpus.parent / "shards", "inside the input folder"
    elif problem == "missing url":
        corpus, match = f"file://{tmp_path}/nowhere.jsonl", "no such file"
    else:
        corpus = corpus.rename(corpus.with_suffix(".txt"))
        match = "cannot tell the format"
    with pytest.raises(UsageError, match=match):
        build(corpus, output, **options)
    local_output = Path(str(output).removeprefix("file://"))
    assert not (local_output / BUILD_DIR).exists() and not Path("nosuchscheme:").exists()


@pytest.mark.parametrize("pattern, output, matches", [
    ("in/*.tar", "in/out", False),  # glob's * does not cross folders
    ("in/**/*.tar", "in/out", True),
    ("*/0000*.tar", "out", True),
    ("in/*/*.jsonl", "in/out", False),
])
def test_output_refused_only_where_the_input_glob_would_read_it(tmp_path, monkeypatch, pattern, output, matches):
    from fgclip.pipeline.build import _check_output_outside_input

    monkeypatch.chdir(tmp_path)
    if matches:
        with pytest.raises(UsageError, match="would match --input"):
            _check_output_outside_input(pattern, [], Folder(output))
    else:
        _check_output_outside_input(pattern, [], Folder(output))


def test_brace_ranges_name_shards_as_webdataset_does(tmp_path):
    from fgclip.pipeline.sources import SourceError, expand_input

    for n in range(3):
        (tmp_path / f"{n:05d}.tar").write_bytes(b"")
    assert expand_input(str(tmp_path / "{00000..00002}.tar")) == [tmp_path / f"{n:05d}.tar" for n in range(3)]
    with pytest.raises(SourceError, match="2 of the 5 files it names do not exist"):
        expand_input(str(tmp_path / "{00000..00004}.tar"))


def test_a_missing_column_leaves_nothing_behind(tmp_path):
    corpus = write_jsonl_corpus(tmp_path / "corpus", 4)
    table = tmp_path / "table.csv"
    table.write_text("path,text\n" + "".join(f"{corpus.parent}/img/{i:05d}.jpg,a dog on a bed\n" for i in range(4)))
    output = tmp_path / "out"
    with pytest.raises(UsageError, match="no column 'image'"):
        build(table, output)
    assert not output.exists()
    totals = build(table, output, image_column="path", caption_column="text")
    assert totals["written"] == 4


def test_unknown_format_or_kind_is_a_config_error():
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        BuildConfig(input="a", output="b", format="xml")
    with pytest.raises(ValueError, match="unknown negative kind"):
        BuildConfig(input="a", output="b", kinds=("colour",))


def test_no_negatives_is_a_plain_reshard(built, corpus, tmp_path):
    output = tmp_path / "plain"
    totals = build(corpus, output, no_negatives=True)
    assert totals["written"] == 35 and totals["negatives"] == {} and totals["rules"] == {}
    with tarfile.open(output / "000000.tar") as tar:
        record = json.loads(tar.extractfile("000000000.json").read())
    assert record["captions"] == [{"text": captions()[0], "negatives": []}]
    # Same images under the same keys as the build with negatives.
    with_negatives, _ = built
    assert [m.name for m in tar_members(output / "000001.tar")] == [m.name for m in tar_members(with_negatives / "000001.tar")]


def test_coco_captions_of_an_image_stay_one_sample(tmp_path):
    (tmp_path / "val").mkdir()
    images, annotations = [], []
    texts = captions()
    for image_id in (7, 3, 11):
        (tmp_path / "val" / f"{image_id}.jpg").write_bytes(jpeg_bytes(image_id))
        images.append({"id": image_id, "file_name": f"{image_id}.jpg"})
        for n in range(5):
            annotations.append({"id": len(annotations), "image_id": image_id, "caption": texts[(image_id + n) % len(texts)]})
    annotations.append({"id": 99, "image_id": 3, "caption": ""})
    (tmp_path / "captions.json").write_text(json.dumps({"images": images, "annotations": annotations}))
    output = tmp_path / "out"
    totals = build(tmp_path / "captions.json", output, image_root=str(tmp_path / "val"))
    assert totals["written"] == 3 and totals["captions"] == 15
    assert totals["captions_skipped"] == {"empty_caption": 1}
    with tarfile.open(output / "000000.tar") as tar:
        record = json.loads(tar.extractfile("000000001.json").read())
        first = tar.extractfile("000000001.txt").read().decode()
    assert record["source"]["id"] == 3
    assert [c["text"] for c in record["captions"]] == [texts[(3 + n) % len(texts)] for n in range(5)]
    assert first == texts[3]


def test_write_shard_twice_gives_the_same_bytes(corpus, tmp_path):
    write_plan(read_rows([corpus], "jsonl"), Folder(tmp_path), shard_size=10, max_caption_chars=2000)
    options = ShardOptions(per_kind=1, seed=3)
    first = write_shard(1, str(tmp_path), options)
    data = (tmp_path / "000001.tar").read_bytes()
    second = write_shard(1, str(tmp_path), options)
    assert (tmp_path / "000001.tar").read_bytes() == data
    measured = ("seconds", "pid", "peak_rss_mb")  # of the run, not of the shard: the process's peak may grow
    assert {k: v for k, v in first.items() if k not in measured} == {k: v for k, v in second.items() if k not in measured}
    assert all(count <= first["captions"] for count in first["negatives"].values())


# ---------------------------------------------------------------------------------------------
# The executor starts beside the plan (Ray's start takes seconds; so does planning a big corpus)


class RecordingExecutor:
    """The one-process local executor, noting in ``events`` when its session starts and ends, and
    each statistics pass and shard run."""

    def __init__(self, events: list[str]):
        self.events = events

    @contextlib.contextmanager
    def session(self):
        self.events.append("session start")
        try:
            yield
        finally:
            self.events.append("session end")

    def run(self, task, shards):
        self.events.append("run")
        yield from LocalExecutor(1).run(task, shards)

    def sum_counts(self, task, items):
        self.events.append("count")
        return LocalExecutor(1).sum_counts(task, items)


def rows_pausing_until(started, events: list[str], *, fail: bool = False, timeout: float = 10):
    """A ``read_rows`` that, once the plan has taken two rows, waits (up to ``timeout`` s) for
    ``started()``, as a large corpus would still be planning then, and notes in ``events`` whether
    it came; with ``fail``, it then raises as a bad file would."""

    def read(*args, **kwargs):
        for n, row in enumerate(read_rows(*args, **kwargs)):
            if n == 2:
                deadline = time.monotonic() + timeout
                while not started() and time.monotonic() < deadline:
                    time.sleep(0.01)
                events.append("plan saw the session" if started() else "plan gave up waiting")
                if fail:
                    raise SourceError("later.jsonl: no column 'caption'")
            yield row

    return read


def test_the_executor_starts_while_the_plan_is_written(built, corpus, tmp_path, monkeypatch):
    events: list[str] = []
    monkeypatch.setattr(build_module, "LocalExecutor", lambda workers: RecordingExecutor(events))
    monkeypatch.setattr(build_module, "read_rows", rows_pausing_until(lambda: "session start" in events, events))
    output = tmp_path / "shards"
    totals = build(corpus, output)
    assert events == ["session start", "plan saw the session", "count", "run", "session end"]
    assert digests(output) == digests(built[0])
    assert totals["written"] == built[1]["written"]


def test_input_that_cannot_be_read_fails_without_starting_the_executor(tmp_path, monkeypatch):
    events: list[str] = []
    monkeypatch.setattr(build_module, "LocalExecutor", lambda workers: RecordingExecutor(events))
    corpus = write_jsonl_corpus(tmp_path / "corpus", 30)
    table = tmp_path / "table.csv"
    table.write_text("path,text\n" + "".join(f"{corpus.parent}/img/{i:05d}.jpg,a dog\n" for i in range(30)))
    with pytest.raises(UsageError, match="no column 'image'"):
        build(table, tmp_path / "out")
    assert events == []


def test_a_plan_that_fails_after_the_start_stops_the_executor(corpus, tmp_path, monkeypatch):
    events: list[str] = []
    monkeypatch.setattr(build_module, "LocalExecutor", lambda workers: RecordingExecutor(events))
    monkeypatch.setattr(build_module, "read_rows",
                        rows_pausing_until(lambda: "session start" in events, events, fail=True))
    output = tmp_path / "out"
    with pytest.raises(UsageError, match="later.jsonl: no column 'caption'"):
        build(corpus, output)
    assert events == ["session start", "plan saw the session", "session end"]
    assert not output.exists()


def test_a_small_plan_done_before_the_check_starts_the_executor_after_it(corpus, tmp_path, monkeypatch):
    events: list[str] = []
    monkeypatch.setattr(build_module, "LocalExecutor", lambda workers: RecordingExecutor(events))
    one_row = tmp_path / "one.jsonl"
    one_row.write_bytes(corpus.read_bytes().splitlines(keepends=True)[0])
    (tmp_path / "img").symlink_to(corpus.parent / "img")
    totals = build(one_row, tmp_path / "out")
    assert totals["written"] == 1
    # One session for the statistics pass and the shards, whose processes keep what they loaded.
    assert events == ["session start", "count", "run", "session end"]


# ---------------------------------------------------------------------------------------------
# The order swaps: plausible (swap-obj only) or the paper's (swap-np too)


def rules_written(folder: Path) -> set[str]:
    with tarfile.open(folder / "000000.tar") as tar:
        records = [json.loads(tar.extractfile(m).read()) for m in tar.getmembers() if m.name.endswith(".json")]
    return {n["rule"] for record in records for caption in record["captions"] for n in caption["negatives"]}


def test_paper_swaps_write_swap_np_and_are_another_build(tmp_path):
    corpus = write_jsonl_corpus(tmp_path / "corpus", 2, texts=["A man riding a horse on a beach."])
    output = tmp_path / "out"
    build(corpus, output, kinds=("relation",), workers=1)
    assert "swap-np" not in rules_written(output)
    with pytest.raises(UsageError, match="another config.*swaps.*--overwrite"):
        build(corpus, output, kinds=("relation",), workers=1, swaps="paper")
    totals = build(corpus, output, kinds=("relation",), workers=1, swaps="paper", overwrite=True)
    assert "swap-np" in rules_written(output) and totals["rules"]["swap-np"] > 0
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["config"]["swaps"] == "paper" and manifest["identity"]["options"]["swaps"] == "paper"


def test_unknown_swaps_mode_is_a_config_error():
    with pytest.raises(ValueError, match="swaps must be one of plausible, paper, got 'absurd'"):
        BuildConfig(input="a", output="b", swaps="absurd")
