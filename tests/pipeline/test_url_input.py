"""build-negatives reading its input through fsspec URLs (file:// here; s3:// and gs:// take the
same code path with their packages installed)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import fsspec
import pytest

from fgclip.pipeline import sources
from fgclip.pipeline.sources import SourceError, expand_input, read_rows

from .corpus import write_jsonl_corpus
from .test_build import build, digests, stable_stats
from .test_interop import img2dataset_shard


def url(path: Path) -> str:
    return f"file://{path}"


def test_a_jsonl_corpus_from_a_url_gives_the_same_shards_as_from_its_path(tmp_path):
    corpus = write_jsonl_corpus(tmp_path / "corpus", 23, bad_rows=True)
    from_path, from_url = tmp_path / "from_path", tmp_path / "from_url"
    build(corpus, from_path)
    totals = build(url(corpus), from_url)
    assert digests(from_url) == digests(from_path) and len(digests(from_url)) == 6  # 4 tars, sizes.json, table
    # The bad rows skipped alike, by reason; the error lines name the images as the input did.
    without_errors = [{name: {k: v for k, v in stats.items() if k != "errors"} for name, stats in stable_stats(folder).items()}
                      for folder in (from_url, from_path)]
    assert without_errors[0] == without_errors[1]
    errors = [line for stats in stable_stats(from_url).values() for line in stats["errors"]]
    assert any(line.startswith(url(corpus.parent / "img" / "missing.jpg")) for line in errors), errors
    assert totals["skipped"]["missing_image"] == 1
    manifest = json.loads((from_url / "manifest.json").read_text())
    assert manifest["identity"]["input_files"][0]["path"] == url(corpus)
    assert manifest["identity"]["input_files"][0]["bytes"] == corpus.stat().st_size


def test_img2dataset_tars_from_a_url_folder_under_ray(tmp_path):
    pytest.importorskip("ray")
    source = tmp_path / "img2dataset"
    source.mkdir()
    img2dataset_shard(source / "00000.tar", 6)
    img2dataset_shard(source / "00001.tar", 5, start=6)
    from_path, from_url = tmp_path / "from_path", tmp_path / "from_url"
    build(source, from_path)
    # The Ray workers read each image's byte range from the tar through fsspec,
    build(url(source), url(from_url), executor="ray", workers=2)  # and write through it
    assert digests(from_url) == digests(from_path)
    with tarfile.open(from_url / "000000.tar") as tar:
        assert sum(name.endswith(".jpg") for name in tar.getnames()) == 10


def test_a_rerun_from_the_same_url_resumes_and_a_changed_file_is_refused(tmp_path):
    from fgclip.pipeline.build import UsageError

    corpus = write_jsonl_corpus(tmp_path / "corpus", 12)
    output = tmp_path / "out"
    build(url(corpus), output)
    before = digests(output)
    build(url(corpus), output)  # every shard done: nothing rewritten
    assert digests(output) == before
    corpus.write_text(corpus.read_text() + corpus.read_text().splitlines()[0] + "\n")
    sources._url_info.clear()  # a new process would list it afresh
    with pytest.raises(UsageError, match="input files changed"):
        build(url(corpus), output)


def test_url_globs_folders_and_brace_ranges_expand_like_paths(tmp_path):
    folder = tmp_path / "shards"
    folder.mkdir()
    for name in ("00000.tar", "00001.tar", "00002.tar", "00000.parquet", "notes.txt"):
        (folder / name).write_bytes(b"x")
    local = [str(p) for p in expand_input(str(folder))]
    assert [url(Path(p)) for p in local] == expand_input(url(folder))
    assert expand_input(url(folder / "0000[01].tar")) == [url(folder / "00000.tar"), url(folder / "00001.tar")]
    assert expand_input(url(folder) + "/{00002..00000}.tar") == [url(folder / f"0000{i}.tar") for i in (2, 1, 0)]
    assert expand_input(url(folder), "parquet") == [url(folder / "00000.parquet")]
    with pytest.raises(SourceError, match="1 of the 4 files it names do not exist"):
        expand_input(url(folder) + "/{00000..00003}.tar")
    with pytest.raises(SourceError, match="no file matches"):
        expand_input(url(folder / "*.jsonl"))
    with pytest.raises(SourceError, match="no such file or folder"):
        expand_input(url(tmp_path / "nowhere"))


def test_sizes_come_from_the_listing_not_a_request_per_file(tmp_path, monkeypatch):
    """On an object store a listing is one request for many files; info() is one per file."""
    folder = tmp_path / "shards"
    folder.mkdir()
    for i in range(5):
        img2dataset_shard(folder / f"{i:05d}.tar", 2, start=2 * i)
    sources._url_info.clear()
    files = expand_input(url(folder) + "/{00000..00004}.tar")
    fs = fsspec.filesystem("file")
    calls = []
    original = type(fs).info
    monkeypatch.setattr(type(fs), "info", lambda self, path, **kw: calls.append(path) or original(self, path, **kw))
    sizes = [sources._input_size(f) for f in files]
    assert sizes == [(folder / f"{i:05d}.tar").stat().st_size for i in range(5)]
    assert calls == []


def test_rows_of_a_memory_filesystem_table_name_url_images(tmp_path):
    """Any fsspec file system: images resolve against the table's own URL folder."""
    fs = fsspec.filesystem("memory")
    fs.pipe("/corpus/data.jsonl", b'{"image": "img/a.jpg", "caption": "a dog"}\n{"image": "img/b.jpg", "caption": ""}\n')
    fs.pipe("/corpus/img/a.jpg", b"JPEG bytes")
    rows = list(read_rows(expand_input("memory://corpus/data.jsonl"), "jsonl"))
    assert [row.image.path for row in rows] == ["memory://corpus/img/a.jpg", "memory://corpus/img/b.jpg"]
    assert rows[0].image.read() == b"JPEG bytes"
    with pytest.raises(FileNotFoundError):
        rows[1].image.read()
    assert rows[0].source["file"] == "data.jsonl"
