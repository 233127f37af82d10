"""The shard contract in one place: what the pipeline's writer puts in a shard, the one tar reader
(fgclip.schema.iter_tar_samples) and both stages that read shards give back unchanged; and the
reader's two rules, a repeated extension starting a new sample and a tar cut short reported."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from fgclip.files import Folder
from fgclip.pipeline.shards import ShardOptions, write_plan, write_shard
from fgclip.pipeline.sources import BadRow, ImageRef, SourceRow, read_rows
from fgclip.schema import (
    IMAGE_EXTENSIONS, BrokenTar, Negative, iter_tar_samples, record_from_json, record_to_json,
)
from fgclip.trainer.samples import Problems, caption_records, read_shard
from pipeline.test_sources import write_tar  # one tar writer for the tests

CAPTIONS = [
    ["A man riding a brown horse next to a red car.", "A man on a horse."],
    ["Two dogs playing on the green grass."],
    ["A woman holding a white umbrella in the rain."],
]


def drawn_png(index: int) -> bytes:
    image = Image.new("RGB", (20, 20), (index * 70 % 256, 90, 200 - index * 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def read_all(path: Path, read=None) -> list[tuple[str, dict]]:
    with open(path, "rb") as handle:
        return list(iter_tar_samples(handle, read))


def trainer_samples(path: Path, expected: int | None = None) -> tuple[list[tuple[str, dict]], dict]:
    problems = Problems("test")
    samples = list(read_shard(str(path), expected, problems))
    return samples, problems.take()


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, list[bytes]]:
    """A shard the pipeline's own writer made, with generated negatives, and its images."""
    folder = tmp_path_factory.mktemp("contract")
    images = []
    rows = []
    for index, captions in enumerate(CAPTIONS):
        image = folder / f"image{index}.png"
        image.write_bytes(drawn_png(index))
        images.append(image.read_bytes())
        rows.append(SourceRow(f"source-{index}", list(captions), ImageRef(str(image)), {"format": "test", "n": index}))
    write_plan(rows, Folder(str(folder)), shard_size=len(rows), max_caption_chars=500)
    stats = write_shard(0, str(folder), ShardOptions(negatives=True))
    assert stats["written"] == len(CAPTIONS) and sum(stats["negatives"].values()) > 0
    return folder / "000000.tar", images


def test_the_writer_s_shard_reads_back_through_the_one_reader(written):
    path, images = written
    samples = read_all(path)
    assert [key for key, _ in samples] == ["000000000", "000000001", "000000002"]
    for (key, members), captions, image in zip(samples, CAPTIONS, images):
        assert sorted(members) == ["json", "png", "txt"]
        assert members["png"] == image
        assert members["txt"].decode("utf-8") == captions[0]
        parsed, source = record_from_json(members["json"])
        assert [text for text, _ in parsed] == captions
        assert source == {"format": "test", "n": int(key)}
        assert all(isinstance(n, Negative) and n.text != text for text, negatives in parsed for n in negatives)
        # What the reader parses, the writer writes again byte for byte: nothing is lost between them.
        assert record_to_json(parsed, source) == members["json"]
    assert any(negatives for _, members in samples for _, negatives in record_from_json(members["json"])[0])


def test_both_stages_read_the_writer_s_shard_alike(written):
    path, images = written
    resharded = list(read_rows([path], "webdataset"))
    assert [(row.key, row.captions) for row in resharded] == [(f"{n:09d}", c) for n, c in enumerate(CAPTIONS)]
    assert [row.image.read() for row in resharded] == images
    samples, problems = trainer_samples(path, expected=len(CAPTIONS))
    assert problems == {}
    for (key, files), captions in zip(samples, CAPTIONS):
        records = caption_records(files, with_negatives=True)
        assert [text for text, _ in records] == captions
        parsed, _ = record_from_json(files["json"])
        assert [sorted(n.text for n in negatives) for _, negatives in parsed] == \
            [sorted(t for texts in by_kind.values() for t in texts) for _, by_kind in records]


def test_record_round_trips_imported_negatives_and_keeps_generated_bytes():
    generated = Negative("a red dog", "attribute", "replace-att")
    imported = Negative("a dog under a cat", "relation", "replace-rel", source="humans")
    data = record_to_json([("a blue dog", [generated, imported]), ("a dog", [])], {"file": "x.jsonl", "line": 3})
    assert record_from_json(data) == ([("a blue dog", [generated, imported]), ("a dog", [])],
                                      {"file": "x.jsonl", "line": 3})
    # Generated negatives carry no "source" key: shards keep the bytes they had before imports.
    assert json.loads(data)["captions"][0]["negatives"][0] == {"text": "a red dog", "kind": "attribute",
                                                               "rule": "replace-att"}


def test_an_img2dataset_json_is_no_sample_record():
    with pytest.raises(ValueError, match="not a sample record"):
        record_from_json(json.dumps({"url": "u", "caption": "x", "width": 4}).encode())


def test_a_repeated_extension_under_one_key_starts_a_new_sample(tmp_path):
    first, second = drawn_png(1), drawn_png(2)
    path = write_tar(tmp_path / "s.tar", [
        ("a.png", first), ("a.txt", b"the first"),
        ("a.png", second), ("a.txt", b"the second"),
        ("b.png", first), ("b.txt", b"another key"),
    ])
    assert read_all(path) == [("a", {"png": first, "txt": b"the first"}), ("a", {"png": second, "txt": b"the second"}),
                              ("b", {"png": first, "txt": b"another key"})]
    rows = list(read_rows([path], "webdataset"))
    assert [(row.key, row.captions, row.image.read()) for row in rows] == [
        ("a", ["the first"], first), ("a", ["the second"], second), ("b", ["another key"], first)]
    samples, _ = trainer_samples(path)
    assert [(key, files["txt"]) for key, files in samples] == [("a", b"the first"), ("a", b"the second"),
                                                               ("b", b"another key")]


def test_a_new_key_starts_a_new_sample_whatever_its_extensions(tmp_path):
    path = write_tar(tmp_path / "s.tar", [("a.png", b"1"), ("a.txt", b"a"), ("b.json", b"{}"), ("c.png", b"3")])
    assert read_all(path) == [("a", {"png": b"1", "txt": b"a"}), ("b", {"json": b"{}"}), ("c", {"png": b"3"})]


def test_members_not_read_are_located(tmp_path):
    image = drawn_png(3)
    path = write_tar(tmp_path / "s.tar", [("k.PNG", image), ("k.txt", b"caption")])
    [(key, members)] = read_all(path, read=("txt",))
    assert key == "k" and members["txt"] == b"caption"
    located = members["png"]  # extensions are lower-cased
    assert path.read_bytes()[located.offset_data:located.offset_data + located.size] == image


def test_image_extensions_in_the_order_the_trainer_prefers():
    assert IMAGE_EXTENSIONS == ("jpg", "jpeg", "png", "webp")


def _three_samples(tmp_path: Path) -> tuple[Path, bytes]:
    members = []
    for n in range(3):
        members += [(f"{n}.png", drawn_png(n)), (f"{n}.txt", f"caption {n}".encode())]
    path = write_tar(tmp_path / "full.tar", members)
    return path, path.read_bytes()


def test_a_tar_without_its_end_block_is_broken_and_its_last_sample_withheld(tmp_path):
    path, data = _three_samples(tmp_path)
    with tarfile.open(path) as tar:
        last = tar.getmembers()[-1]
    end = last.offset_data + (last.size + 511) // 512 * 512  # the members, without the zero blocks
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[:end])
    with open(cut, "rb") as handle:
        samples = iter_tar_samples(handle)
        assert [key for key, _ in (next(samples), next(samples))] == ["0", "1"]
        with pytest.raises(BrokenTar) as broken:
            next(samples)
    assert broken.value.key == "2" and broken.value.cause is None
    assert [(getattr(r, "key", None), getattr(r, "reason", None)) for r in read_rows([cut], "webdataset")] == [
        ("0", None), ("1", None), (None, "truncated_tar")]
    kept, problems = trainer_samples(cut, expected=3)
    assert [key for key, _ in kept] == ["0", "1"] and problems == {"truncated_shard": 1}


def test_a_tar_cut_inside_a_member_is_broken(tmp_path):
    path, data = _three_samples(tmp_path)
    with tarfile.open(path) as tar:
        member = tar.getmember("1.txt")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[:member.offset_data + 3])
    with open(cut, "rb") as handle, pytest.raises(BrokenTar) as broken:
        list(iter_tar_samples(handle))
    assert broken.value.key == "1" and isinstance(broken.value.cause, tarfile.TarError)
    rows = list(read_rows([cut], "webdataset"))
    assert isinstance(rows[-1], BadRow) and rows[-1].where == "cut.tar: after key '1'"
    assert [row.key for row in rows[:-1]] == ["0"]
    kept, problems = trainer_samples(cut, expected=3)
    assert [key for key, _ in kept] == ["0"] and problems == {"truncated_shard": 2}
