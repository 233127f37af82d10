"""build-negatives writing its shards to an fsspec URL: ``file://`` (a rename after each write,
as on a local path) and fsspec's in-memory file system, which stands for an object store (one
upload per file, no rename). s3:// and gs:// take the second path with their packages installed."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from fgclip.files import Folder
from fgclip.pipeline.shards import BUILD_DIR

from .corpus import write_jsonl_corpus
from .test_build import build, digests, stable_stats


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_jsonl_corpus(tmp_path_factory.mktemp("corpus"), 23, bad_rows=True)


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("reference") / "shards"
    build(corpus, output)
    return output


def test_a_file_url_output_is_the_same_folder_as_its_path(corpus, reference, tmp_path):
    output = tmp_path / "shards"
    totals = build(corpus, f"file://{output}")
    assert sorted(p.name for p in output.iterdir()) == sorted(p.name for p in reference.iterdir())
    assert digests(output) == digests(reference) and len(digests(output)) == 6  # 4 tars, sizes.json, table
    assert stable_stats(output) == stable_stats(reference)
    assert json.loads((output / "manifest.json").read_text())["totals"]["written"] == totals["written"] > 0
    assert not (output / BUILD_DIR).exists()


def test_an_object_store_output_gets_whole_files_in_one_upload_each(corpus, reference, monkeypatch):
    def no_rename(self, *args, **kwargs):
        raise AssertionError("an object store has no rename: each file is one upload")

    monkeypatch.setattr(MemoryFileSystem, "mv", no_rename)
    fs = fsspec.filesystem("memory")
    # One worker runs the shards in this process, where the in-memory file system lives.
    build(corpus, "memory://built/shards", workers=1)
    names = sorted(path.rsplit("/", 1)[-1] for path in fs.ls("/built/shards", detail=False))
    assert names == sorted(p.name for p in reference.iterdir())
    for name, digest in digests(reference).items():
        assert hashlib.sha256(fs.cat_file(f"/built/shards/{name}")).hexdigest() == digest, name
    stats = json.loads(fs.cat_file("/built/shards/000001_stats.json"))
    assert stats["written"] == json.loads((reference / "000001_stats.json").read_text())["written"]
    # Rerun: everything is done, and nothing is rewritten.
    before = {path: fs.info(path)["created"] for path in fs.ls("/built/shards", detail=False) if path.endswith(".tar")}
    totals = build(corpus, "memory://built/shards", workers=1)
    assert totals["written"] == json.loads((reference / "manifest.json").read_text())["totals"]["written"]
    assert {path: fs.info(path)["created"] for path in before} == before
    fs.rm("/built", recursive=True)


def test_a_crashed_build_into_a_url_resumes_to_the_same_bytes(corpus, reference, tmp_path, monkeypatch):
    output = tmp_path / "out"
    monkeypatch.setenv("FGCLIP_TEST_CRASH", f"1:3:{tmp_path / 'crashed'}")
    with pytest.raises(BrokenProcessPool):
        build(corpus, f"file://{output}", workers=2)
    monkeypatch.delenv("FGCLIP_TEST_CRASH")
    assert (tmp_path / "crashed").exists() and (output / BUILD_DIR / "plan.json").exists()
    assert not (output / "000001_stats.json").exists() and not (output / "manifest.json").exists()
    (output / ".000002.tar.tmp-999").write_bytes(b"half a tar, as a killed writer leaves it")
    build(corpus, f"file://{output}", workers=2)
    assert digests(output) == digests(reference)
    assert stable_stats(output) == stable_stats(reference)
    assert not (output / ".000002.tar.tmp-999").exists() and not (output / BUILD_DIR).exists()


def test_a_failed_write_leaves_nothing_under_the_final_name(tmp_path):
    for location in (str(tmp_path / "local"), f"file://{tmp_path}/url", "memory://failed-write"):
        folder = Folder(location)
        folder.make()
        with pytest.raises(RuntimeError), folder.open_atomically("000000.tar") as handle:
            handle.write(b"half")
            raise RuntimeError("the worker fails mid-shard")
        assert folder.names("*") == [] and not folder.exists("000000.tar"), location
        with folder.open_atomically("000000.tar") as handle:
            handle.write(b"whole")
        assert folder.names("*") == ["000000.tar"] and folder.read_bytes("000000.tar") == b"whole", location
    fsspec.filesystem("memory").rm("/failed-write", recursive=True)
