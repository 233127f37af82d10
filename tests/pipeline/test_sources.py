"""Source readers: every input format's samples, bad rows with their place, and whole-input errors."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from fgclip.pipeline.sources import (
    BadRow,
    ImageRef,
    SourceError,
    SourceRow,
    clean_captions,
    expand_input,
    guess_format,
    read_rows,
)

# ---------------------------------------------------------------------------------------------
# Helpers


def rows(path: Path | list[Path], fmt: str, **options) -> list[SourceRow | BadRow]:
    files = path if isinstance(path, list) else [path]
    return list(read_rows(files, fmt, **options))


def brief(items) -> list[tuple]:
    """("row", key, captions) or ("bad", reason, where), in stream order."""
    out = []
    for item in items:
        if isinstance(item, SourceRow):
            out.append(("row", item.key, item.captions))
        else:
            assert isinstance(item, BadRow)
            out.append(("bad", item.reason, item.where))
    return out


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_lines(path: Path, lines: list) -> Path:
    """A jsonl file: dicts are dumped, bytes and str written as they are; one line each."""
    out = b""
    for line in lines:
        if isinstance(line, (dict, list)):
            line = json.dumps(line)
        out += (line if isinstance(line, bytes) else line.encode("utf-8")) + b"\n"
    path.write_bytes(out)
    return path


def write_tar(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def tar_offsets(path: Path) -> dict[str, tuple[int, int]]:
    """Member name -> (offset of its header, offset of its data)."""
    with tarfile.open(path) as tar:
        return {m.name: (m.offset, m.offset_data) for m in tar.getmembers()}


def fake_image(n: int, size: int = 1500) -> bytes:
    return b"\xff\xd8" + bytes((n * 7 + i) % 256 for i in range(size)) + b"\xff\xd9"


def img2dataset_members(n: int, caption: str, image: bytes, *, txt: bool = True) -> list[tuple[str, bytes]]:
    """One sample as img2dataset (through webdataset's TarWriter) writes it: members sorted by extension."""
    key = f"{n:09d}"
    meta = {"caption": caption, "url": f"https://example.com/{n}.jpg", "key": key, "status": "success"}
    members = [(f"{key}.jpg", image), (f"{key}.json", json.dumps(meta).encode())]
    if txt:
        members.append((f"{key}.txt", caption.encode()))
    return members


# ---------------------------------------------------------------------------------------------
# COCO


def coco(tmp_path: Path, images, annotations, name: str = "captions.json") -> Path:
    return write_json(tmp_path / name, {"info": {}, "images": images, "annotations": annotations})


def test_coco_groups_an_images_captions_in_annotation_order(tmp_path):
    path = coco(
        tmp_path,
        images=[{"id": 7, "file_name": "a.jpg"}, {"id": 3, "file_name": "sub/b.jpg", "width": 9}],
        annotations=[
            {"id": 1, "image_id": 3, "caption": "b first"},
            {"id": 2, "image_id": 7, "caption": "a first"},
            {"id": 3, "image_id": 3, "caption": "b second"},
            {"id": 4, "image_id": 7, "caption": "a second"},
            {"id": 5, "image_id": 7, "caption": "a third"},
        ],
    )
    out = rows(path, "coco")
    assert brief(out) == [
        ("row", "7", ["a first", "a second", "a third"]),
        ("row", "3", ["b first", "b second"]),
    ]
    assert out[0].image == ImageRef(str(tmp_path / "a.jpg"))
    assert out[1].image == ImageRef(str(tmp_path / "sub" / "b.jpg"))
    assert out[0].source == {"format": "coco", "file": "captions.json", "id": 7, "image": "a.jpg"}


def test_coco_image_paths_resolve_against_image_root(tmp_path):
    absolute = str(tmp_path / "elsewhere" / "c.jpg")
    path = coco(tmp_path, [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": absolute}],
                [{"image_id": 1, "caption": "x"}, {"image_id": 2, "caption": "y"}])
    out = rows(path, "coco", image_root="/data/train2014")
    assert [r.image.path for r in out] == [str(Path("/data/train2014") / "a.jpg"), absolute]
    assert [r.image.offset for r in out] == [-1, -1]


def test_coco_image_without_captions_is_no_caption(tmp_path):
    path = coco(tmp_path, [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
                [{"image_id": 1, "caption": "x"}], name="val.json")
    out = rows(path, "coco")
    assert brief(out) == [("row", "1", ["x"]), ("bad", "no_caption", "val.json: images[1]")]
    assert "2" in out[1].detail


def test_coco_annotation_without_caption_or_image_id_is_malformed(tmp_path):
    path = coco(tmp_path, [{"id": 1, "file_name": "a.jpg"}],
                [{"image_id": 1, "caption": "x"}, {"image_id": 1}, {"caption": "y"}, "junk",
                 {"image_id": 1, "caption": "z"}])
    assert brief(rows(path, "coco")) == [
        ("bad", "malformed_row", "captions.json: annotations[1]"),
        ("bad", "malformed_row", "captions.json: annotations[2]"),
        ("bad", "malformed_row", "captions.json: annotations[3]"),
        ("row", "1", ["x", "z"]),
    ]


def test_coco_malformed_image_entry(tmp_path):
    path = coco(tmp_path, [{"file_name": "a.jpg"}, {"id": 2, "file_name": None}, {"id": 3, "file_name": "c.jpg"}],
                [{"image_id": 3, "caption": "x"}])
    assert brief(rows(path, "coco")) == [
        ("bad", "malformed_row", "captions.json: images[0]"),
        ("bad", "malformed_row", "captions.json: images[1]"),
        ("row", "3", ["x"]),
    ]


def test_coco_annotation_for_unknown_image_is_malformed(tmp_path):
    path = coco(tmp_path, [{"id": 1, "file_name": "a.jpg"}],
                [{"image_id": 1, "caption": "x"}, {"image_id": 99, "caption": "lost"}])
    out = rows(path, "coco")
    # The place names the annotations list but not the index; the detail names the image id.
    assert brief(out) == [("row", "1", ["x"]), ("bad", "malformed_row", "captions.json: annotations[1]")]
    assert "99" in out[1].detail


def test_coco_caption_with_bad_bytes_is_kept_raw_for_clean_captions(tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(b'{"images": [{"id": 1, "file_name": "a.jpg"}], '
                     b'"annotations": [{"image_id": 1, "caption": "ok"}, {"image_id": 1, "caption": "bad \xff"}]}')
    (row,) = rows(path, "coco")
    assert row.captions == ["ok", "bad \udcff"]
    assert clean_captions(row.captions, 100) == (["ok"], ["invalid_utf8"])


@pytest.mark.parametrize("data", [
    [{"id": 1, "file_name": "a.jpg"}],
    {"annotations": []},
    {"images": [], "annotations": {}},
    {"images": {}, "annotations": []},
])
def test_json_that_is_not_coco_is_a_source_error(tmp_path, data):
    path = write_json(tmp_path / "other.json", data)
    with pytest.raises(SourceError, match=re.escape(f"{path}: not a COCO captions file")):
        rows(path, "coco")


def test_invalid_json_is_a_source_error_with_its_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "images": [],\n  "annotations": [}\n')
    with pytest.raises(SourceError, match=re.escape(f"{path}:3: not valid json")):
        rows(path, "coco")


@pytest.mark.parametrize("images, annotations", [
    ([{"id": 1, "file_name": "a.jpg"}], [{"image_id": [1], "caption": "x"}, {"image_id": 1, "caption": "y"}]),
    ([{"id": [1], "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"}], [{"image_id": 1, "caption": "y"}]),
])
def test_coco_unhashable_ids_are_malformed_rows(tmp_path, images, annotations):
    out = brief(rows(coco(tmp_path, images, annotations), "coco"))
    assert ("row", "1", ["y"]) in out
    assert [item[1] for item in out if item[0] == "bad"] == ["malformed_row"]


_UNKNOWN_IDS_SCRIPT = """
import json, sys
from pathlib import Path
from fgclip.pipeline.sources import read_rows
path = Path(sys.argv[1])
print(json.dumps([r.detail for r in read_rows([path], "coco")]))
"""


def test_coco_unknown_image_ids_come_out_in_a_fixed_order(tmp_path):
    path = coco(tmp_path, [], [{"image_id": f"img{i}", "caption": "x"} for i in range(6)])
    orders = set()
    for seed in ("0", "1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _UNKNOWN_IDS_SCRIPT, str(path)], env=env,
                              capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2])
        orders.add(done.stdout)
    assert len(orders) == 1


# ---------------------------------------------------------------------------------------------
# jsonl


def test_jsonl_rows(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [
        {"image": "a.jpg", "caption": "a cat"},
        {"image": "imgs/b.jpg", "caption": "a dog", "extra": 1},
    ])
    out = rows(path, "jsonl")
    assert brief(out) == [("row", "a.jpg", ["a cat"]), ("row", "imgs/b.jpg", ["a dog"])]
    assert out[1].image == ImageRef(str(tmp_path / "imgs" / "b.jpg"))
    assert out[1].source == {"format": "jsonl", "file": "d.jsonl", "line": 2, "image": "imgs/b.jpg"}


def test_jsonl_bad_lines_are_bad_rows_with_file_and_line(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [
        {"image": "a.jpg", "caption": "one"},
        '{"image": "b.jpg", "caption": ',  # 2: not json
        b'{"image": "c.jpg", "caption": "caf\xe9"}',  # 3: latin-1, not UTF-8
        {"image": "d.jpg"},  # 4: no caption
        {"image": "e.jpg", "caption": None},  # 5: caption null
        ["f.jpg", "x"],  # 6: not an object
        {"image": 5, "caption": "x"},  # 7: image not a path
        {"image": "  ", "caption": "x"},  # 8: empty image path
        {"image": "g.jpg", "caption": "two"},
    ])
    assert brief(rows(path, "jsonl")) == [
        ("row", "a.jpg", ["one"]),
        ("bad", "malformed_row", "d.jsonl:2"),
        ("bad", "invalid_utf8", "d.jsonl:3"),
        ("bad", "no_caption_column", "d.jsonl:4"),
        ("bad", "malformed_row", "d.jsonl:5"),
        ("bad", "malformed_row", "d.jsonl:6"),
        ("bad", "malformed_row", "d.jsonl:7"),
        ("bad", "malformed_row", "d.jsonl:8"),
        ("row", "g.jpg", ["two"]),
    ]


def test_jsonl_blank_lines_are_ignored_but_counted(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", ["", {"image": "a.jpg", "caption": "x"}, "   ", "\t", "not json"])
    out = rows(path, "jsonl")
    assert brief(out) == [("row", "a.jpg", ["x"]), ("bad", "malformed_row", "d.jsonl:5")]
    assert out[0].source["line"] == 2


def test_jsonl_caption_list_gives_all_captions(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [{"image": "a.jpg", "caption": ["one", "two", "three"]}])
    assert brief(rows(path, "jsonl")) == [("row", "a.jpg", ["one", "two", "three"])]


def test_jsonl_consecutive_rows_of_one_image_are_one_sample(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [
        {"image": "a.jpg", "caption": "a1"},
        {"image": "a.jpg", "caption": ["a2", "a3"]},
        {"image": "a.jpg", "caption": "a4"},
        {"image": "b.jpg", "caption": "b1"},
        {"image": "a.jpg", "caption": "a5"},  # not consecutive: its own row (a duplicate, found later)
    ])
    out = rows(path, "jsonl")
    assert brief(out) == [
        ("row", "a.jpg", ["a1", "a2", "a3", "a4"]),
        ("row", "b.jpg", ["b1"]),
        ("row", "a.jpg", ["a5"]),
    ]
    assert [r.source["line"] for r in out] == [1, 4, 5]


def test_jsonl_custom_columns(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [{"url": "a.jpg", "text": "x", "caption": "ignored"}, {"url": "b.jpg"}])
    out = rows(path, "jsonl", image_column="url", caption_column="text")
    assert brief(out) == [("row", "a.jpg", ["x"]), ("bad", "no_caption_column", "d.jsonl:2")]
    assert "'text'" in out[1].detail


def test_rows_of_several_files_come_in_file_order(tmp_path):
    first = write_lines(tmp_path / "1.jsonl", [{"image": "a.jpg", "caption": "x"}])
    (tmp_path / "sub").mkdir()
    second = write_lines(tmp_path / "sub" / "2.jsonl", [{"image": "a.jpg", "caption": "y"}])
    out = rows([first, second], "jsonl")
    assert brief(out) == [("row", "a.jpg", ["x"]), ("row", "a.jpg", ["y"])]  # no grouping across files
    assert [r.image.path for r in out] == [str(tmp_path / "a.jpg"), str(tmp_path / "sub" / "a.jpg")]


def test_unknown_format_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="unknown format 'xml'"):
        rows(tmp_path / "x.xml", "xml")


# ---------------------------------------------------------------------------------------------
# csv and tsv


def write_table(path: Path, rows_: list[list[str]], delimiter: str) -> Path:
    path.write_text("".join(delimiter.join(r) + "\n" for r in rows_), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt, delimiter", [("csv", ","), ("tsv", "\t")])
def test_table_rows(tmp_path, fmt, delimiter):
    path = write_table(tmp_path / f"d.{fmt}", [
        ["id", "image", "caption"],
        ["1", "a.jpg", "a cat"],
        ["2", "b.jpg", "a dog"],
        ["3", "b.jpg", "a brown dog"],
    ], delimiter)
    out = rows(path, fmt)
    assert brief(out) == [("row", "a.jpg", ["a cat"]), ("row", "b.jpg", ["a dog", "a brown dog"])]
    assert out[1].image == ImageRef(str(tmp_path / "b.jpg"))
    assert out[1].source == {"format": fmt, "file": f"d.{fmt}", "line": 3, "image": "b.jpg"}


@pytest.mark.parametrize("fmt, delimiter", [("csv", ","), ("tsv", "\t")])
def test_table_custom_columns(tmp_path, fmt, delimiter):
    path = write_table(tmp_path / f"d.{fmt}", [["caption", "filepath", "title"], ["no", "a.jpg", "yes"]], delimiter)
    out = rows(path, fmt, image_column="filepath", caption_column="title", image_root="/imgs")
    assert brief(out) == [("row", "a.jpg", ["yes"])]
    assert out[0].image.path == str(Path("/imgs") / "a.jpg")


@pytest.mark.parametrize("fmt, delimiter", [("csv", ","), ("tsv", "\t")])
def test_table_missing_column_is_a_source_error(tmp_path, fmt, delimiter):
    path = write_table(tmp_path / f"d.{fmt}", [["image", "text"], ["a.jpg", "x"]], delimiter)
    with pytest.raises(SourceError, match=re.escape(f"{path}:1: no column 'caption'")):
        rows(path, fmt)
    with pytest.raises(SourceError, match="no column 'url', 'title'"):
        rows(path, fmt, image_column="url", caption_column="title")


@pytest.mark.parametrize("fmt, delimiter", [("csv", ","), ("tsv", "\t")])
def test_table_row_with_wrong_field_count_is_malformed(tmp_path, fmt, delimiter):
    path = write_table(tmp_path / f"d.{fmt}", [
        ["image", "caption"], ["a.jpg", "x"], ["b.jpg", "y", "extra"], [], ["c.jpg"], ["d.jpg", "z"],
    ], delimiter)
    out = rows(path, fmt)
    assert brief(out) == [
        ("row", "a.jpg", ["x"]),
        ("bad", "malformed_row", f"d.{fmt}:3"),
        ("bad", "malformed_row", f"d.{fmt}:5"),  # line 4 is empty and skipped, but counted
        ("row", "d.jpg", ["z"]),
    ]
    assert out[1].detail == "3 fields, header has 2"
    assert out[3].source["line"] == 6


def test_quoted_csv_caption_with_comma_and_newline(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('image,caption\na.jpg,"a cat, a hat and\na ""bat"""\nb.jpg,plain,extra\n', encoding="utf-8")
    out = rows(path, "csv")
    # csv.reader counts physical lines: the record after the two-line caption is on line 4.
    assert brief(out) == [("row", "a.jpg", ['a cat, a hat and\na "bat"']), ("bad", "malformed_row", "d.csv:4")]


def test_tsv_quotes_are_text(tmp_path):
    # TSV corpora do not quote: an opening '"' must not swallow the lines after it.
    path = tmp_path / "d.tsv"
    path.write_text('image\tcaption\na.jpg\t"Best" hat, ever\nb.jpg\ta dog\n', encoding="utf-8")
    assert brief(rows(path, "tsv")) == [("row", "a.jpg", ['"Best" hat, ever']), ("row", "b.jpg", ["a dog"])]


def test_csv_invalid_utf8_caption_is_dropped_by_clean_captions(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"image,caption\na.jpg,caf\xe9\na.jpg,fine\n")
    (row,) = rows(path, "csv")
    assert row.captions == ["caf\udce9", "fine"]
    assert clean_captions(row.captions, 100) == (["fine"], ["invalid_utf8"])


def test_empty_csv_gives_nothing(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"")
    assert rows(path, "csv") == []


def test_csv_with_byte_order_mark(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufeffimage,caption\na.jpg,x\n".encode("utf-8"))
    assert brief(rows(path, "csv")) == [("row", "a.jpg", ["x"])]


# ---------------------------------------------------------------------------------------------
# parquet


def write_parquet(path: Path, columns: dict) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)
    return path


def test_parquet_caption_strings(tmp_path):
    path = write_parquet(tmp_path / "d.parquet", {
        "image": ["a.jpg", "a.jpg", "b.jpg", "c.jpg"],
        "caption": ["a1", "a2", None, "c1"],
        "other": [1, 2, 3, 4],
    })
    out = rows(path, "parquet")
    assert brief(out) == [("row", "a.jpg", ["a1", "a2"]), ("bad", "malformed_row", "d.parquet:3"),
                          ("row", "c.jpg", ["c1"])]
    assert out[0].image == ImageRef(str(tmp_path / "a.jpg"))
    assert out[2].source == {"format": "parquet", "file": "d.parquet", "line": 4, "image": "c.jpg"}


def test_parquet_caption_lists(tmp_path):
    path = write_parquet(tmp_path / "d.parquet", {"path": ["a.jpg", "b.jpg"], "texts": [["a1", "a2"], []]})
    out = rows(path, "parquet", image_column="path", caption_column="texts")
    assert brief(out) == [("row", "a.jpg", ["a1", "a2"]), ("row", "b.jpg", [])]


def test_parquet_missing_column_is_a_source_error(tmp_path):
    path = write_parquet(tmp_path / "d.parquet", {"image": ["a.jpg"], "text": ["x"]})
    with pytest.raises(SourceError, match=re.escape(f"{path}: no column 'caption'")):
        rows(path, "parquet")


# ---------------------------------------------------------------------------------------------
# webdataset


def test_webdataset_img2dataset_shard(tmp_path):
    images = [fake_image(n, size=600 + 300 * n) for n in range(3)]
    members = []
    for n, image in enumerate(images):
        members += img2dataset_members(n, f"caption {n}", image)
    path = write_tar(tmp_path / "00000.tar", members)
    out = rows(path, "webdataset")
    assert brief(out) == [("row", f"{n:09d}", [f"caption {n}"]) for n in range(3)]
    assert [r.image.read() for r in out] == images
    assert all(r.image.path == str(path) and r.image.size == len(images[n]) for n, r in enumerate(out))
    assert out[0].image.offset == 512  # the data follows the first member's header
    assert out[2].source == {"format": "webdataset", "file": "00000.tar", "key": "000000002"}


def test_webdataset_txt_is_preferred_and_json_caption_is_enough(tmp_path):
    path = write_tar(tmp_path / "s.tar", [
        ("000000000.jpg", fake_image(0)),
        ("000000000.json", json.dumps({"caption": "from json"}).encode()),
        ("000000000.txt", b"from txt"),
        ("000000001.jpg", fake_image(1)),
        ("000000001.json", json.dumps({"caption": "only json", "url": "u"}).encode()),
    ])
    assert brief(rows(path, "webdataset")) == [("row", "000000000", ["from txt"]),
                                               ("row", "000000001", ["only json"])]


def test_webdataset_other_image_extensions_and_folders(tmp_path):
    path = write_tar(tmp_path / "s.tar", [
        ("shard/a1.PNG", b"png bytes"),
        ("shard/a1.txt", b"png sample"),
        ("b2.webp", b"webp bytes"),
        ("b2.txt", "caf\xe9 \u2603".encode()),
        ("README", b"not a sample member"),
        ("c3.jpeg", b"jpeg bytes"),
        ("c3.meta.txt", b"not the caption"),  # key "c3", extension "meta.txt": neither txt nor image
        ("c3.txt", b"jpeg sample"),
    ])
    out = rows(path, "webdataset")
    assert brief(out) == [("row", "shard/a1", ["png sample"]), ("row", "b2", ["caf\xe9 \u2603"]),
                          ("row", "c3", ["jpeg sample"])]
    assert [r.image.read() for r in out] == [b"png bytes", b"webp bytes", b"jpeg bytes"]


def test_webdataset_fgclip_json_gives_all_captions(tmp_path):
    meta = {"captions": [{"text": "long caption", "kind": "long"}, {"text": "short"}, "plain string"]}
    path = write_tar(tmp_path / "s.tar", [("k.jpg", fake_image(0)), ("k.json", json.dumps(meta).encode())])
    assert brief(rows(path, "webdataset")) == [("row", "k", ["long caption", "short", "plain string"])]


def test_webdataset_sample_without_caption_or_image(tmp_path):
    path = write_tar(tmp_path / "s.tar", [
        ("000000000.jpg", fake_image(0)),
        ("000000000.json", json.dumps({"url": "u", "caption": None}).encode()),  # null caption: treated as a caption
        ("000000001.jpg", fake_image(1)),
        ("000000001.json", json.dumps({"url": "u", "status": "success"}).encode()),
        ("000000002.txt", b"no image"),
        ("000000003.jpg", fake_image(3)),
        ("000000003.json", b"{not json"),
        ("000000004.jpg", fake_image(4)),
    ])
    out = rows(path, "webdataset")
    assert brief(out) == [
        ("row", "000000000", [None]),  # clean_captions drops it as malformed_caption
        ("bad", "no_caption", "s.tar: 000000001"),
        ("bad", "missing_image", "s.tar: 000000002"),
        ("bad", "malformed_row", "s.tar: 000000003"),
        ("bad", "no_caption", "s.tar: 000000004"),
    ]
    assert clean_captions(out[0].captions, 100) == ([], ["malformed_caption"])


def _shard_of_three(tmp_path: Path) -> tuple[Path, bytes, dict]:
    members = []
    for n in range(3):
        members += img2dataset_members(n, f"caption {n}", fake_image(n))
    path = write_tar(tmp_path / "full.tar", members)
    return path, path.read_bytes(), tar_offsets(path)


@pytest.mark.parametrize("member", ["000000001.jpg", "000000001.txt", "000000002.json"])
def test_truncated_tar_keeps_the_samples_before_the_cut(tmp_path, member):
    path, data, offsets = _shard_of_three(tmp_path)
    cut_path = tmp_path / "cut.tar"
    cut_path.write_bytes(data[: offsets[member][1] + 3])  # three bytes into the member's data
    key = member.split(".")[0]
    complete = [("row", f"{n:09d}", [f"caption {n}"]) for n in range(int(key))]
    assert brief(rows(cut_path, "webdataset")) == complete + [("bad", "truncated_tar", f"cut.tar: after key '{key}'")]


@pytest.mark.parametrize("member, into", [("000000001.jpg", 100), ("000000001.json", 100), ("000000001.json", 0)])
def test_tar_cut_inside_a_member_header_is_truncated(tmp_path, member, into):
    path, data, offsets = _shard_of_three(tmp_path)
    cut_path = tmp_path / "cut.tar"
    cut_path.write_bytes(data[: offsets[member][0] + into])
    # The last key read before the cut may be missing members, so it is given up with the cut:
    # cut before 000000001's first member, that is 000000000 (whole, but there is no telling).
    last_read = "000000000" if member.endswith(".jpg") else "000000001"
    kept = [("row", "000000000", ["caption 0"])] if last_read == "000000001" else []
    assert brief(rows(cut_path, "webdataset")) == kept + [
        ("bad", "truncated_tar", f"cut.tar: after key '{last_read}'"),
    ]


def test_compressed_tar_is_a_source_error(tmp_path):
    path = tmp_path / "s.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("k.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(SourceError, match=re.escape(f"{path}: only uncompressed .tar")):
        rows(path, "webdataset")


def test_upper_case_tar_suffix_is_read(tmp_path):
    path = write_tar(tmp_path / "S.TAR", [("k.jpg", fake_image(0)), ("k.txt", b"x")])
    assert guess_format([path]) == "webdataset"
    assert brief(rows(path, "webdataset")) == [("row", "k", ["x"])]


# ---------------------------------------------------------------------------------------------
# expand_input and guess_format


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_expand_a_file(tmp_path):
    path = touch(tmp_path / "notes.weird")
    assert expand_input(str(path)) == [path]


def test_expand_img2dataset_folder_takes_only_the_tars(tmp_path):
    for name in ["00001.tar", "00000.tar", "00000.parquet", "00001.parquet", "00000_stats.json",
                 "00001_stats.json", "stats.txt"]:
        touch(tmp_path / name)
    touch(tmp_path / "nested" / "00002.tar")
    assert expand_input(str(tmp_path)) == [tmp_path / "00000.tar", tmp_path / "00001.tar"]


def test_expand_folder_without_tars_takes_known_suffixes(tmp_path):
    for name in ["b.jsonl", "a.jsonl", "readme.txt", "c.CSV"]:
        touch(tmp_path / name)
    assert expand_input(str(tmp_path)) == [tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.CSV"]
    assert expand_input(str(tmp_path), "jsonl") == [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    assert expand_input(str(tmp_path), "csv") == [tmp_path / "c.CSV"]


def test_expand_folder_with_format_it_lacks_is_a_source_error(tmp_path):
    touch(tmp_path / "a.jsonl")
    touch(tmp_path / "x.txt")
    with pytest.raises(SourceError, match="folder holds no parquet file"):
        expand_input(str(tmp_path), "parquet")
    (tmp_path / "a.jsonl").unlink()
    with pytest.raises(SourceError, match="folder holds no"):
        expand_input(str(tmp_path))


def test_expand_glob(tmp_path):
    for name in ["train-2.parquet", "train-1.parquet", "val-1.parquet", "deep/train-3.parquet"]:
        touch(tmp_path / name)
    assert expand_input(str(tmp_path / "train-*.parquet")) == [tmp_path / "train-1.parquet",
                                                               tmp_path / "train-2.parquet"]
    assert expand_input(str(tmp_path / "**" / "train-*.parquet")) == [
        tmp_path / "deep" / "train-3.parquet", tmp_path / "train-1.parquet", tmp_path / "train-2.parquet"]


def test_expand_glob_without_match_is_a_source_error(tmp_path):
    touch(tmp_path / "a.tar")
    pattern = str(tmp_path / "*.jsonl")
    with pytest.raises(SourceError, match=re.escape(f"{pattern}: no file matches")):
        expand_input(pattern)


def test_expand_missing_path_is_a_source_error(tmp_path):
    missing = str(tmp_path / "nope.jsonl")
    with pytest.raises(SourceError, match=re.escape(f"{missing}: no such file or folder")):
        expand_input(missing)


@pytest.mark.parametrize("name, fmt", [
    ("captions_train2014.json", "coco"), ("d.jsonl", "jsonl"), ("d.csv", "csv"), ("d.tsv", "tsv"),
    ("d.parquet", "parquet"), ("00000.tar", "webdataset"), ("D.JSONL", "jsonl"),
])
def test_guess_format_by_suffix(name, fmt):
    assert guess_format([Path("x") / name, Path("y") / name]) == fmt


def test_guess_format_of_mixed_files_is_a_source_error():
    with pytest.raises(SourceError, match=re.escape("input mixes formats (csv, jsonl)")):
        guess_format([Path("a.jsonl"), Path("b.csv"), Path("c.jsonl")])


@pytest.mark.parametrize("name", ["data.txt", "shard.tar.gz", "noext"])
def test_guess_format_of_unknown_suffix_is_a_source_error(name):
    with pytest.raises(SourceError, match=re.escape(f"{name}: cannot tell the format")):
        guess_format([Path("a.jsonl"), Path(name)])


# ---------------------------------------------------------------------------------------------
# clean_captions


def test_clean_captions_strips_and_keeps_order():
    assert clean_captions(["  b first ", "a second\n", "\tc third"], 100) == (
        ["b first", "a second", "c third"], [])


def test_clean_captions_drops_with_reasons_in_order():
    kept, dropped = clean_captions(
        ["ok", "", "   \n", "x" * 11, None, 3, ["list"], "bad \udcff", " " + "y" * 10 + " ", "also ok"], 10)
    assert kept == ["ok", "y" * 10, "also ok"]
    assert dropped == ["empty_caption", "empty_caption", "caption_too_long", "malformed_caption",
                       "malformed_caption", "malformed_caption", "invalid_utf8"]


def test_clean_captions_limit_counts_characters_not_bytes():
    assert clean_captions(["\u00e9" * 5, "\u2603" * 6], 5) == (["\u00e9" * 5], ["caption_too_long"])
