"""The plan of several input files made by one task per file (fgclip.pipeline.plan) against the
serial plan of one process (shards.write_plan): the same plan files, shards and stats, on
jsonl, COCO and img2dataset corpora, from paths, file:// URLs and fsspec's in-memory file
system (an object store's stand-in); duplicate keys across files; a killed build resumed."""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import fsspec
import pytest

from fgclip.config import BuildConfig
from fgclip.files import Folder
from fgclip.pipeline import build as build_module
from fgclip.pipeline import plan as plan_module
from fgclip.pipeline.build import UsageError, build_negatives, plan_corpus
from fgclip.pipeline.executors import LocalExecutor
from fgclip.pipeline.shards import BUILD_DIR, read_plan
from fgclip.pipeline.sources import expand_input, guess_format

from .corpus import captions, jpeg_bytes, write_jsonl_corpus
from .test_interop import img2dataset_shard

SHARD_SIZE = 4  # small, so that shards span input files and files span shards
MEASURED = {"seconds", "node", "pid", "peak_rss_mb"}


# ---------------------------------------------------------------------------------------------
# Corpora, as {relative path: bytes}, placed in a folder, under file://, or in memory


def jsonl_corpus(tmp_path: Path) -> tuple[dict[str, bytes], str, dict]:
    """The bad-rows corpus of the other build tests, its lines cut unevenly into four files and
    an empty one, with keys repeated across files."""
    source = write_jsonl_corpus(tmp_path / "source", 30, bad_rows=True)
    lines = source.read_bytes().splitlines(keepends=True)
    files = {f"img/{p.name}": p.read_bytes() for p in (source.parent / "img").iterdir()}
    cuts = [0, 9, 10, 10, 23, len(lines)]
    for n in range(len(cuts) - 1):
        files[f"part{n}.jsonl"] = b"".join(lines[cuts[n]:cuts[n + 1]])
    files["part5.jsonl"] = lines[12] + lines[0]  # keys of part0 and part3 again
    return files, "*.jsonl", {}


def coco_corpus(tmp_path: Path) -> tuple[dict[str, bytes], str, dict]:
    """Two COCO caption files; image 3 is in both."""
    texts = captions()
    files = {}
    for part, ids in enumerate(((7, 3, 11, 2, 5), (3, 8, 1))):
        images, annotations = [], []
        for image_id in ids:
            files[f"val/{image_id}.jpg"] = jpeg_bytes(image_id)
            images.append({"id": image_id, "file_name": f"{image_id}.jpg"})
            for n in range(2):
                annotations.append({"id": len(annotations), "image_id": image_id,
                                    "caption": texts[(image_id + n + part) % len(texts)]})
        annotations.append({"id": 99, "image_id": ids[0], "caption": ""})
        files[f"captions{part}.json"] = json.dumps({"images": images, "annotations": annotations}).encode()
    return files, "*.json", {"image_root": "val"}


def tar_corpus(tmp_path: Path) -> tuple[dict[str, bytes], str, dict]:
    """img2dataset tars; the third repeats the second's last two keys, the fourth is cut short."""
    folder = tmp_path / "tars"
    folder.mkdir()
    for name, n, start in (("00000.tar", 6, 0), ("00001.tar", 5, 6), ("00002.tar", 7, 9), ("00003.tar", 4, 20)):
        img2dataset_shard(folder / name, n, start=start)
    (folder / "00003.tar").write_bytes((folder / "00003.tar").read_bytes()[:3000])
    return {p.name: p.read_bytes() for p in folder.iterdir()}, "*.tar", {}


CORPORA = {"jsonl": jsonl_corpus, "coco": coco_corpus, "tars": tar_corpus}


def place(files: dict[str, bytes], base: str) -> None:
    """Write ``files`` under ``base``, a folder path or a URL."""
    if "://" in base:
        fs, root = fsspec.core.url_to_fs(base)
        for name, data in files.items():
            fs.makedirs(f"{root}/{name}".rsplit("/", 1)[0], exist_ok=True)
            fs.pipe_file(f"{root}/{name}", data)
        return
    for name, data in files.items():
        (Path(base) / name).parent.mkdir(parents=True, exist_ok=True)
        (Path(base) / name).write_bytes(data)


def config(base: str, pattern: str, options: dict, output: str, **more) -> BuildConfig:
    options = dict(options)
    if "image_root" in options:
        options["image_root"] = f"{base}/{options['image_root']}"
    more.setdefault("executor", "local")
    return BuildConfig(input=f"{base}/{pattern}", output=output, shard_size=SHARD_SIZE, **options, **more)


def plan_files(location: str) -> dict[str, bytes]:
    """Every file of a plan: plan.json and the shards' plan files."""
    folder = Folder(location)
    found = {"plan.json": folder.read_bytes(f"{BUILD_DIR}/plan.json")}
    for name in Folder(folder.path(f"{BUILD_DIR}/plan")).names("*.jsonl"):
        found[name] = folder.read_bytes(f"{BUILD_DIR}/plan/{name}")
    return found


def output_digests(location: str) -> dict[str, str]:
    """Content hashes of the files that must not vary between runs (stats hold timings)."""
    folder = Folder(location)
    return {name: hashlib.sha256(folder.read_bytes(name)).hexdigest() for name in folder.names("*")
            if name.endswith(".tar") or name in ("sizes.json", "corpus_counts.tsv.gz")}


def output_stats(location: str) -> dict:
    folder = Folder(location)
    return {name: {k: v for k, v in json.loads(folder.read_text(name)).items() if k not in MEASURED}
            for name in folder.names("*_stats.json")}


def counted(totals: dict) -> dict:
    """The totals that count rows, samples and skips (not times, memory or processes)."""
    return {k: v for k, v in totals.items() if not k.endswith(("seconds", "_per_second", "rss_mb")) and k != "nodes"}


def make_plan(cfg: BuildConfig, executor) -> dict:
    files = expand_input(cfg.input)
    with executor.session():
        return plan_corpus(cfg, files, guess_format(files), Folder(cfg.output), executor)


def forbid_driver_reads(monkeypatch) -> None:
    """From here on the driver may not read input rows: only the pool's processes (which import
    the modules afresh, without this patch) may."""
    def refuse(*args, **kwargs):
        raise AssertionError("the driver read input rows")

    monkeypatch.setattr(build_module, "read_rows", refuse)
    monkeypatch.setattr(plan_module, "read_rows", refuse)


# ---------------------------------------------------------------------------------------------
# The same plan, the same shards


@pytest.mark.parametrize("where", ["path", "file-url"])
@pytest.mark.parametrize("kind", sorted(CORPORA))
def test_the_parallel_plan_writes_the_serial_plans_bytes(kind, where, tmp_path, monkeypatch):
    files, pattern, options = CORPORA[kind](tmp_path)
    base = str(tmp_path / "corpus") if where == "path" else f"file://{tmp_path}/corpus"
    place(files, base)
    serial = make_plan(config(base, pattern, options, str(tmp_path / "serial"), workers=1), LocalExecutor(1))
    forbid_driver_reads(monkeypatch)
    output = str(tmp_path / "parallel") if where == "path" else f"file://{tmp_path}/parallel"
    parallel = make_plan(config(base, pattern, options, output, workers=2), LocalExecutor(2))
    assert parallel == serial and serial["shards"] >= 2
    assert plan_files(output) == plan_files(str(tmp_path / "serial"))
    # Its own working files are gone; what stays is what the serial plan writes.
    assert sorted(p.name for p in (tmp_path / "parallel" / BUILD_DIR).iterdir()) == ["plan", "plan.json"]


@pytest.mark.parametrize("kind", sorted(CORPORA))
def test_a_build_planned_in_parallel_writes_the_serial_builds_shards(kind, tmp_path, monkeypatch):
    files, pattern, options = CORPORA[kind](tmp_path)
    base = f"file://{tmp_path}/corpus"
    place(files, base)
    outputs, totals = {}, {}
    for name, workers in (("serial", 1), ("parallel", 2)):
        if workers > 1:
            forbid_driver_reads(monkeypatch)
        outputs[name] = str(tmp_path / name)
        cfg = config(base, pattern, options, outputs[name], workers=workers, no_negatives=kind != "jsonl")
        totals[name] = build_negatives(cfg, echo=lambda line: None)
    assert output_digests(outputs["parallel"]) == output_digests(outputs["serial"])
    assert output_stats(outputs["parallel"]) == output_stats(outputs["serial"])
    assert counted(totals["parallel"]) == counted(totals["serial"]) and totals["serial"]["written"] >= 7
    assert totals["serial"]["skipped"]["duplicate_key"] >= 1
    assert not (Path(outputs["parallel"]) / BUILD_DIR).exists()


class ThreadedExecutor(LocalExecutor):
    """Every task on one of 2 threads of this process, where the in-memory file system lives
    (a process pool's workers would each see an empty one); the threads are named, so that a
    test can tell a task's reads from the driver's."""

    def map(self, task, items):
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="task") as pool:
            futures = [pool.submit(task, item) for item in items]
            for future in as_completed(futures):
                yield future.result()


@pytest.mark.parametrize("kind", sorted(CORPORA))
def test_an_object_store_corpus_is_planned_by_the_tasks_alone(kind, tmp_path, monkeypatch):
    """memory:// for the input and the output: the tasks read the input with ranged requests,
    the driver never opens an input file, and the output equals a serial build's."""
    from fsspec.implementations.memory import MemoryFileSystem

    files, pattern, options = CORPORA[kind](tmp_path)
    base = f"memory://parallel-plan-{kind}"
    place(files, base)
    fs = fsspec.filesystem("memory")
    reads: list[tuple[str, str]] = []
    original_open, original_cat = MemoryFileSystem._open, MemoryFileSystem.cat_file

    def noted_open(self, path, *args, **kwargs):
        reads.append((path, threading.current_thread().name))
        return original_open(self, path, *args, **kwargs)

    def noted_cat(self, path, *args, **kwargs):
        reads.append((path, threading.current_thread().name))
        return original_cat(self, path, *args, **kwargs)

    try:
        serial = build_negatives(config(base, pattern, options, f"{base}-serial", workers=1, no_negatives=True),
                                 echo=lambda line: None)
        monkeypatch.setattr(MemoryFileSystem, "_open", noted_open)
        monkeypatch.setattr(MemoryFileSystem, "cat_file", noted_cat)
        monkeypatch.setattr(build_module, "LocalExecutor", ThreadedExecutor)
        parallel = build_negatives(config(base, pattern, options, f"{base}-parallel", workers=2, no_negatives=True),
                                   echo=lambda line: None)
        assert output_digests(f"{base}-parallel") == output_digests(f"{base}-serial")
        assert output_stats(f"{base}-parallel") == output_stats(f"{base}-serial")
        assert counted(parallel) == counted(serial)
        inputs = {f"/parallel-plan-{kind}/{name}" for name in files if not name.startswith(("img/", "val/"))}
        input_reads = [(path, thread) for path, thread in reads if path in inputs]
        assert {path for path, _ in input_reads} == inputs
        assert all(thread.startswith("task") for _, thread in input_reads), input_reads
    finally:
        for folder in (base, f"{base}-serial", f"{base}-parallel"):
            if fs.exists(folder.removeprefix("memory://")):
                fs.rm(folder.removeprefix("memory://"), recursive=True)


# ---------------------------------------------------------------------------------------------
# Duplicate keys across files


def test_a_key_repeated_in_a_later_file_is_skipped_as_the_serial_plan_skips_it(tmp_path):
    (tmp_path / "img").mkdir()
    for i in range(5):
        (tmp_path / "img" / f"{i}.jpg").write_bytes(jpeg_bytes(i))

    def jsonl(*rows: tuple[str, str]) -> bytes:
        return b"".join(json.dumps({"image": f"img/{image}.jpg", "caption": text}).encode() + b"\n"
                        for image, text in rows)

    (tmp_path / "a.jsonl").write_bytes(jsonl(("0", "a dog on a sofa"), ("1", "   "), ("2", "a red car")))
    # 2: usable in a.jsonl, so dropped here; 1: unusable in a.jsonl but its key was taken there;
    # 3 twice in this file: the second is a duplicate whatever the other files hold.
    (tmp_path / "b.jsonl").write_bytes(jsonl(("2", "a car again"), ("1", "a cat on a mat"), ("3", "a boat"),
                                             ("4", "a bird"), ("3", "a boat again")))
    (tmp_path / "c.jsonl").write_bytes(jsonl(("0", "the dog again"), ("4", "the bird again"), ("3", "   ")))
    plans = {}
    for name, workers in (("serial", 1), ("parallel", 2)):
        cfg = BuildConfig(input=str(tmp_path / "*.jsonl"), output=str(tmp_path / name), shard_size=3,
                          workers=workers, executor="local")
        plans[name] = make_plan(cfg, LocalExecutor(workers))
    assert plans["parallel"] == plans["serial"] == {
        "shards": 4, "rows": 11, "skipped": {"duplicate_key": 6, "empty_caption": 1}}
    assert plan_files(str(tmp_path / "parallel")) == plan_files(str(tmp_path / "serial"))
    kept = {}
    for shard in range(4):
        header, entries = read_plan(Folder(str(tmp_path / "parallel")), shard)
        kept.update({entry["source_key"]: (entry["key"], entry["captions"]) for entry in entries})
        if shard == 1:
            assert header["skipped"] == {"duplicate_key": 2}
            assert header["errors"] == ["b.jsonl: img/2.jpg: duplicate_key (seen earlier in the input)",
                                        "b.jsonl: img/1.jpg: duplicate_key (seen earlier in the input)"]
    # The first row of each key stays, under its place in the input.
    assert kept == {"img/0.jpg": ("000000000", ["a dog on a sofa"]), "img/2.jpg": ("000000002", ["a red car"]),
                    "img/3.jpg": ("000000005", ["a boat"]), "img/4.jpg": ("000000006", ["a bird"])}


def test_keys_are_told_apart_across_many_digest_ranges(tmp_path, monkeypatch):
    """With a range of key digests per task, each task finds the repeats of its own range."""
    monkeypatch.setattr(plan_module, "KEYS_PER_TASK", 3)
    folder = tmp_path / "tars"
    folder.mkdir()
    for n in range(4):
        img2dataset_shard(folder / f"{n:05d}.tar", 10, start=7 * n)  # each repeats 3 keys of the one before
    plans = {}
    for name, executor in (("serial", LocalExecutor(1)), ("parallel", ThreadedExecutor(2))):
        cfg = BuildConfig(input=str(folder), output=str(tmp_path / name), shard_size=6, workers=executor.workers,
                          executor="local")
        plans[name] = make_plan(cfg, executor)
    assert plans["parallel"] == plans["serial"] == {"shards": 7, "rows": 40, "skipped": {"duplicate_key": 9}}
    assert plan_files(str(tmp_path / "parallel")) == plan_files(str(tmp_path / "serial"))


# ---------------------------------------------------------------------------------------------
# Killed, resumed, refused


def test_a_build_killed_after_its_plan_resumes_from_the_plan_it_wrote(tmp_path, monkeypatch):
    files, pattern, options = tar_corpus(tmp_path)
    base = str(tmp_path / "corpus")
    place(files, base)
    reference = str(tmp_path / "reference")
    build_negatives(config(base, pattern, options, reference, workers=1, no_negatives=True), echo=lambda line: None)
    output = str(tmp_path / "out")
    cfg = config(base, pattern, options, output, workers=2, no_negatives=True)
    # A pool worker dies in shard 2, which ends the whole local job: after the plan.
    monkeypatch.setenv("FGCLIP_TEST_CRASH", f"2:1:{tmp_path / 'crashed'}")
    with pytest.raises(BrokenProcessPool):
        build_negatives(cfg, echo=lambda line: None)
    monkeypatch.delenv("FGCLIP_TEST_CRASH")
    assert (tmp_path / "crashed").exists()
    left = plan_files(output)
    serial = str(tmp_path / "serial-plan")
    make_plan(config(base, pattern, options, serial, workers=1, no_negatives=True), LocalExecutor(1))
    assert left == plan_files(serial)

    def replan(*args, **kwargs):
        raise AssertionError("the resumed build planned again")

    monkeypatch.setattr(build_module, "plan_in_parallel", replan)
    monkeypatch.setattr(build_module.shard_io, "write_plan", replan)
    build_negatives(cfg, echo=lambda line: None)
    assert output_digests(output) == output_digests(reference)
    assert output_stats(output) == output_stats(reference)


def test_a_plan_killed_half_way_is_made_again(tmp_path):
    files, pattern, options = jsonl_corpus(tmp_path)
    base = str(tmp_path / "corpus")
    place(files, base)
    reference = str(tmp_path / "reference")
    build_negatives(config(base, pattern, options, reference, workers=1, no_negatives=True), echo=lambda line: None)
    output = tmp_path / "out"
    # What a plan killed half-way leaves: some rows' records and key files, no plan.json.
    for name, data in ((f"{plan_module.PARTS_DIR}/000000", b'["skipped", "x", "stale"]\n'),
                       (f"{plan_module.PARTS_DIR}/000009", b"half a line"),
                       (f"{plan_module.PARTS_DIR}/000001", b"\0" * 10),
                       (f"{BUILD_DIR}/plan/000000.jsonl", b"{}\n")):
        (output / name).parent.mkdir(parents=True, exist_ok=True)
        (output / name).write_bytes(data)
    build_negatives(config(base, pattern, options, str(output), workers=2, no_negatives=True), echo=lambda line: None)
    assert output_digests(str(output)) == output_digests(reference)
    assert output_stats(str(output)) == output_stats(reference)
    assert not (output / BUILD_DIR).exists()


def test_a_later_file_the_build_cannot_read_stops_it_as_the_serial_plan_does(tmp_path):
    corpus = write_jsonl_corpus(tmp_path / "corpus", 6)
    (tmp_path / "a.csv").write_text("image,caption\n" + "".join(f"{corpus.parent}/img/{i:05d}.jpg,a dog\n" for i in range(3)))
    (tmp_path / "b.csv").write_text("image,text\n" + "".join(f"{corpus.parent}/img/{i:05d}.jpg,a dog\n" for i in range(3, 6)))
    (tmp_path / "c.csv").write_text("path,caption\n")
    messages = []
    for workers in (1, 2):
        output = tmp_path / f"out{workers}"
        with pytest.raises(UsageError) as raised:
            build_negatives(BuildConfig(input=str(tmp_path / "*.csv"), output=str(output), executor="local",
                                        workers=workers), echo=lambda line: None)
        messages.append(str(raised.value))
        assert not output.exists()  # nothing left: the corrected command needs no --overwrite
    assert messages[0] == messages[1] and messages[0].startswith(f"{tmp_path / 'b.csv'}:1: no column 'caption'")


# ---------------------------------------------------------------------------------------------
# Pieces


def test_one_file_or_one_worker_is_planned_by_the_driver():
    assert not plan_module.is_parallel(["a.tar"], None) and not plan_module.is_parallel(["a.tar"], 8)
    assert not plan_module.is_parallel(["a.tar", "b.tar"], 1)
    assert plan_module.is_parallel(["a.tar", "b.tar"], 2) and plan_module.is_parallel(["a.tar", "b.tar"], None)


def test_shards_take_their_rows_from_the_files_they_span():
    # Five files, two of them empty; "chunks": where each run of 4 rows starts in a file's part.
    parts = [{"rows": 3, "chunks": [0, 30]}, {"rows": 0, "chunks": [0, 0]}, {"rows": 5, "chunks": [0, 40, 50]},
             {"rows": 0, "chunks": [0, 0]}, {"rows": 2, "chunks": [0, 20]}]
    items = list(plan_module._shard_items(parts, {2: [1, 4], 4: [0]}, shard_size=4))
    assert items == [
        (0, [(0, 0, 3, [], (0, 30)), (2, 0, 1, [], (0, 40))]),
        (1, [(2, 1, 5, [1, 4], (0, 50))]),
        (2, [(4, 0, 2, [0], (0, 20))]),
    ]


def test_captions_with_unicode_line_separators_survive_the_plan(tmp_path):
    """JSON written without ASCII escapes keeps U+2028 raw; a plan line must not be cut there."""
    corpus = write_jsonl_corpus(tmp_path / "corpus", 3, texts=["a dog\u2028on a sofa", "a cat\x85on a mat",
                                                                "a bird\u2029in a tree"])
    second = corpus.with_name("more.jsonl")
    second.write_bytes(corpus.read_bytes().replace(b"img/0000", b"img/../img/0000"))
    for workers in (1, 2):
        output = tmp_path / f"out{workers}"
        totals = build_negatives(BuildConfig(input=str(corpus.parent / "*.jsonl"), output=str(output),
                                             executor="local", workers=workers, no_negatives=True),
                                 echo=lambda line: None)
        assert totals["written"] == 6
    assert output_digests(str(tmp_path / "out1")) == output_digests(str(tmp_path / "out2"))
