"""Caption corpora in the shapes people keep them, read as one stream of samples.

``read_rows(files, fmt, ...)`` yields, in a fixed order, one :class:`SourceRow` per image (all of
its captions together) or one :class:`BadRow` per input record that cannot become a sample
(a malformed json or csv line, a COCO image without captions, a tar cut short). Formats:

- ``coco``: a COCO captions json (``images`` + ``annotations``); an image's captions, in
  annotation order, are one sample. A json document cannot be streamed without a parser the
  project does not ship, so this one file is read whole (COCO 2014 train: about 90 MB).
- ``jsonl``, ``csv``, ``tsv``, ``parquet``: a column of image paths and a column holding one
  caption or a list of captions. Rows for the same image on consecutive lines (Flickr30k keeps
  five lines per image) are one sample. Streamed: memory does not grow with the file.
- ``webdataset``: uncompressed tars as img2dataset writes them: ``{key}.jpg`` (or png/webp)
  beside ``{key}.txt`` and/or ``{key}.json``. Images are not read here, only located (the tar
  and byte range), so that the shard workers read them in parallel.

Nothing is decoded beyond what the stream needs; captions come out raw (a str, possibly with
lone surrogates where the bytes were not UTF-8) and :func:`clean_captions` judges them.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..config import SOURCE_FORMATS as FORMATS

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")

_SUFFIX_FORMATS = {
    ".json": "coco",
    ".jsonl": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".tar": "webdataset",
}


class SourceError(ValueError):
    """The input as a whole cannot be read (wrong format, missing column): nothing to skip."""


@dataclass(frozen=True)
class ImageRef:
    """Where an image's bytes are: a whole file, or ``size`` bytes at ``offset`` inside a tar."""

    path: str
    offset: int = -1
    size: int = -1

    def read(self) -> bytes:
        with open(self.path, "rb") as handle:
            if self.offset < 0:
                return handle.read()
            handle.seek(self.offset)
            return handle.read(self.size)


@dataclass
class SourceRow:
    """One image and its raw captions. ``key`` names it within the corpus: it must be unique,
    and the negatives are seeded from it, so the same image gets the same negatives in any
    shard layout."""

    key: str
    captions: list[Any]
    image: ImageRef | None
    source: dict[str, Any] = field(default_factory=dict)


@dataclass
class BadRow:
    reason: str
    where: str  # "file:line" or "file: images[12]"
    detail: str = ""

    def message(self) -> str:
        return f"{self.where}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


# ---------------------------------------------------------------------------------------------
# Finding the files and their format


def expand_input(pattern: str, fmt: str | None = None) -> list[Path]:
    """The files an ``--input`` names, sorted: a file, a glob, a folder, or a brace range
    (``{00000..00099}.tar``, in its own order).

    Of a folder, the files of ``fmt`` are taken; with no format given, its tars if it has any
    (an img2dataset output folder also holds .parquet and _stats.json files), else every file
    with a known suffix.
    """
    path = Path(pattern)
    if path.is_file():
        return [path]
    if "{" in pattern and ".." in pattern:
        return _expand_braces(pattern)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIX_FORMATS)
        wanted = fmt or ("webdataset" if any(p.suffix.lower() == ".tar" for p in files) else None)
        if wanted is not None:
            files = [p for p in files if _SUFFIX_FORMATS[p.suffix.lower()] == wanted
                     or (wanted == "coco" and p.suffix.lower() == ".json")]
        if not files:
            raise SourceError(f"{pattern}: folder holds no {fmt or 'json/jsonl/csv/tsv/parquet/tar'} file")
        return files
    if glob.has_magic(pattern):
        files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        if files:
            return files
        raise SourceError(f"{pattern}: no file matches")
    raise SourceError(f"{pattern}: no such file or folder")


def _expand_braces(pattern: str) -> list[Path]:
    """webdataset's shard notation, ``cc3m/{00000..00331}.tar``: every file it names must exist."""
    from braceexpand import braceexpand

    files = [Path(name) for name in braceexpand(pattern)]
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise SourceError(f"{pattern}: {len(missing)} of the {len(files)} files it names do not exist "
                          f"(first: {missing[0]})")
    return files


def guess_format(files: list[Path]) -> str:
    formats = {_SUFFIX_FORMATS.get(p.suffix.lower()) for p in files}
    if None in formats:
        odd = next(p for p in files if p.suffix.lower() not in _SUFFIX_FORMATS)
        raise SourceError(f"{odd}: cannot tell the format from the name; give --format ({'|'.join(FORMATS)})")
    if len(formats) > 1:
        raise SourceError(f"input mixes formats ({', '.join(sorted(formats))}); give one kind of file")
    return formats.pop()


# ---------------------------------------------------------------------------------------------
# Captions


def clean_captions(raw: list[Any], max_chars: int) -> tuple[list[str], list[str]]:
    """The usable captions (stripped) and the reason each other one was dropped."""
    kept, dropped = [], []
    for caption in raw:
        if not isinstance(caption, str):
            dropped.append("malformed_caption")
            continue
        text = caption.strip()
        if not text:
            dropped.append("empty_caption")
        elif _has_surrogates(text):
            dropped.append("invalid_utf8")
        elif len(text) > max_chars:
            dropped.append("caption_too_long")
        else:
            kept.append(text)
    return kept, dropped


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# ---------------------------------------------------------------------------------------------
# Readers


def read_rows(
    files: Iterable[Path],
    fmt: str,
    *,
    image_root: str | None = None,
    image_column: str = "image",
    caption_column: str = "caption",
) -> Iterator[SourceRow | BadRow]:
    if fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    for path in files:
        root = Path(image_root) if image_root else path.parent
        if fmt == "coco":
            yield from _read_coco(path, root)
        elif fmt == "webdataset":
            yield from _read_tar(path)
        else:
            records = {"jsonl": _jsonl_records, "csv": _csv_records, "tsv": _csv_records,
                       "parquet": _parquet_records}[fmt]
            yield from _group_table_rows(
                records(path, fmt, (image_column, caption_column)), path, fmt, root, image_column, caption_column
            )


def _resolve(root: Path, name: str) -> str:
    # os.path, not pathlib: this runs once per input row, and pathlib costs 10 us a call.
    return os.path.join(str(root), name)


def _read_coco(path: Path, root: Path) -> Iterator[SourceRow | BadRow]:
    try:
        # surrogateescape: a caption with bad bytes is dropped alone, not the whole file.
        data = json.loads(path.read_bytes().decode("utf-8", "surrogateescape"))
    except json.JSONDecodeError as err:
        raise SourceError(f"{path}:{err.lineno}: not valid json ({err.msg})") from err
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) \
            or not isinstance(data.get("annotations"), list):
        raise SourceError(f"{path}: not a COCO captions file (needs 'images' and 'annotations' lists)")
    captions: dict[int | str, list[Any]] = {}
    first_annotation: dict[int | str, int] = {}
    for n, ann in enumerate(data["annotations"]):
        if isinstance(ann, dict) and isinstance(ann.get("image_id"), (int, str)) and "caption" in ann:
            captions.setdefault(ann["image_id"], []).append(ann["caption"])
            first_annotation.setdefault(ann["image_id"], n)
        else:
            yield BadRow("malformed_row", f"{path.name}: annotations[{n}]", "needs image_id (a number or string) and caption")
    known = set()
    for n, image in enumerate(data["images"]):
        where = f"{path.name}: images[{n}]"
        if not isinstance(image, dict) or not isinstance(image.get("id"), (int, str)) \
                or not isinstance(image.get("file_name"), str):
            yield BadRow("malformed_row", where, "needs id (a number or string) and file_name")
            continue
        known.add(image["id"])
        texts = captions.get(image["id"])
        if not texts:
            yield BadRow("no_caption", where, f"image id {image['id']} has no annotation")
            continue
        yield SourceRow(
            key=str(image["id"]),
            captions=texts,
            image=ImageRef(_resolve(root, image["file_name"])),
            source={"format": "coco", "file": path.name, "id": image["id"], "image": image["file_name"]},
        )
    # In annotation order, not set order: a row's position decides its shard.
    for image_id, n in sorted(first_annotation.items(), key=lambda item: item[1]):
        if image_id not in known:
            yield BadRow("malformed_row", f"{path.name}: annotations[{n}]",
                         f"image_id {image_id!r} is not in images ({len(captions[image_id])} caption(s))")


# A table record: (line number, the record as a dict) or (line number, BadRow).
_Record = tuple[int, "dict[str, Any] | BadRow"]


def _jsonl_records(path: Path, fmt: str, columns: tuple[str, str]) -> Iterator[_Record]:
    with open(path, "rb") as handle:
        for line_number, raw in enumerate(handle, 1):
            where = f"{path.name}:{line_number}"
            try:
                line = raw.decode("utf-8-sig" if line_number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield line_number, BadRow("invalid_utf8", where)
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield line_number, BadRow("malformed_row", where, err.msg)
                continue
            if not isinstance(record, dict):
                yield line_number, BadRow("malformed_row", where, "not a json object")
                continue
            yield line_number, record


def _csv_records(path: Path, fmt: str, columns: tuple[str, str]) -> Iterator[_Record]:
    with open(path, "rb") as binary:
        # utf-8-sig: Excel's "CSV UTF-8" starts the file with a byte-order mark.
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
        # TSV corpora (Conceptual Captions) do not quote: a caption starting with '"' is text.
        reader = (csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE) if fmt == "tsv"
                  else csv.reader(text))
        try:
            header = next(reader)
        except StopIteration:
            return
        missing = [c for c in columns if c not in header]
        if missing:
            raise SourceError(
                f"{path}:1: no column {', '.join(map(repr, missing))} (columns: {', '.join(header)}); "
                "name them with --image-column / --caption-column"
            )
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield reader.line_num, BadRow("malformed_row", f"{path.name}:{reader.line_num}", str(err))
                continue
            if not fields:
                continue
            if len(fields) != len(header):
                yield reader.line_num, BadRow(
                    "malformed_row", f"{path.name}:{reader.line_num}",
                    f"{len(fields)} fields, header has {len(header)}",
                )
                continue
            yield reader.line_num, dict(zip(header, fields))


def _parquet_records(path: Path, fmt: str, columns: tuple[str, str]) -> Iterator[_Record]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    missing = [c for c in columns if c not in parquet.schema_arrow.names]
    if missing:
        raise SourceError(
            f"{path}: no column {', '.join(map(repr, missing))} (columns: {', '.join(parquet.schema_arrow.names)}); "
            "name them with --image-column / --caption-column"
        )
    row = 0
    for batch in parquet.iter_batches(batch_size=4096, columns=list(columns)):
        for record in batch.to_pylist():
            row += 1
            yield row, record


def _group_table_rows(
    records: Iterator[_Record], path: Path, fmt: str, root: Path, image_column: str, caption_column: str
) -> Iterator[SourceRow | BadRow]:
    """Records to samples: consecutive records naming the same image become one sample."""
    pending: SourceRow | None = None
    for line_number, record in records:
        if not isinstance(record, BadRow):
            record = _table_sample(record, path, line_number, fmt, root, image_column, caption_column)
        if isinstance(record, BadRow):
            # Flushed first, so that rows come out in input order (their keys are positions).
            if pending is not None:
                yield pending
                pending = None
            yield record
            continue
        if pending is not None and pending.key == record.key:
            pending.captions.extend(record.captions)
            continue
        if pending is not None:
            yield pending
        pending = record
    if pending is not None:
        yield pending


def _table_sample(record: dict, path: Path, line_number: int, fmt: str, root: Path, image_column: str,
                  caption_column: str) -> SourceRow | BadRow:
    where = f"{path.name}:{line_number}"
    image, caption = record.get(image_column), record.get(caption_column)
    if not isinstance(image, str) or not image.strip():
        return BadRow("malformed_row", where, f"{image_column!r} is not an image path")
    if caption is None:
        return BadRow("malformed_row", where, f"no {caption_column!r}")
    captions = list(caption) if isinstance(caption, (list, tuple)) else [caption]
    image = image.strip()
    return SourceRow(
        key=image,
        captions=captions,
        image=ImageRef(_resolve(root, image)),
        source={"format": fmt, "file": path.name, "line": line_number, "image": image},
    )


# webdataset's own rule: the key is the member name up to the first dot of its base name.
_KEY_AND_EXTENSION = re.compile(r"^((?:.*/|)[^./]+)\.([^/]*)$")


def _read_tar(path: Path) -> Iterator[SourceRow | BadRow]:
    if path.suffix.lower() != ".tar":
        raise SourceError(f"{path}: only uncompressed .tar shards can be read (as img2dataset writes them)")
    size = path.stat().st_size
    key, members = None, {}
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                match = _KEY_AND_EXTENSION.match(member.name)
                if match is None:
                    continue  # __MACOSX junk, names without an extension: not sample members
                member_key, extension = match.group(1), match.group(2).lower()
                if member_key != key:
                    if key is not None:
                        yield _tar_sample(path, key, members)
                    key, members = member_key, {}
                if extension in ("txt", "json"):
                    handle = tar.extractfile(member)
                    members[extension] = handle.read() if handle else b""
                elif extension in IMAGE_EXTENSIONS:
                    if member.offset_data + member.size > size:
                        members["truncated"] = True
                    members["image"] = ImageRef(str(path), member.offset_data, member.size)
            ended_whole = _has_end_marker(tar.fileobj, tar.offset, size)
    except (tarfile.TarError, EOFError, OSError) as err:
        # What came before the damage is kept; the sample being read when it hit is lost.
        yield BadRow("truncated_tar", f"{path.name}: after key {key!r}", str(err) or type(err).__name__)
        return
    if not ended_whole:
        # tarfile takes a header cut short for the end of the archive and says nothing; the
        # last sample may be missing members, so it goes with the damage.
        yield BadRow("truncated_tar", f"{path.name}: after key {key!r}", "no end-of-archive marker")
        return
    if key is not None:
        yield _tar_sample(path, key, members)


def _has_end_marker(handle, offset: int, size: int) -> bool:
    """A whole tar ends with zero blocks after its last member (two by the standard; some
    writers leave one)."""
    if size - offset < 512:
        return False
    handle.seek(offset)
    return handle.read(512) == bytes(512)


def _tar_sample(path: Path, key: str, members: dict[str, Any]) -> SourceRow | BadRow:
    where = f"{path.name}: {key}"
    meta: Any = None
    if "json" in members:
        try:
            meta = json.loads(members["json"].decode("utf-8", "surrogateescape"))
        except json.JSONDecodeError as err:
            return BadRow("malformed_row", where, f"{key}.json: {err}")
    captions: list[Any] = []
    if isinstance(meta, dict) and isinstance(meta.get("captions"), list):
        # fgclip's own shards: re-sharding one keeps every caption, not just the .txt one.
        captions = [c.get("text") if isinstance(c, dict) else c for c in meta["captions"]]
    elif "txt" in members:
        captions = [members["txt"].decode("utf-8", "surrogateescape")]
    elif isinstance(meta, dict) and "caption" in meta:
        captions = [meta["caption"]]
    if not captions:
        return BadRow("no_caption", where, "no .txt and no caption in .json")
    if "image" not in members:
        return BadRow("missing_image", where, "no .jpg/.jpeg/.png/.webp member")
    if members.get("truncated"):
        return BadRow("truncated_image", where, "image member runs past the end of the tar")
    return SourceRow(
        key=key,
        captions=captions,
        image=members["image"],
        source={"format": "webdataset", "file": path.name, "key": key},
    )
