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

An input file is a local ``Path`` or a URL (``s3://``, ``gs://``, ``file://``...) read through
fsspec, which needs the scheme's package (s3fs, gcsfs). Images named in a table or a COCO json
are resolved against the file's folder or ``--image-root``, so they are URLs too when those are.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..config import SOURCE_FORMATS as FORMATS
from ..files import is_url, open_binary
from .. import images as image_checks
from ..schema import IMAGE_EXTENSIONS, BrokenTar, is_sample_record, iter_tar_samples

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


class UnreadableImage(OSError):
    """An image that is not read at all; ``reason`` is its skip reason (``image_not_a_file``,
    ``image_too_large``). An OSError, so that a caller that knows no better still skips it."""

    def __init__(self, path: str, reason: str, detail: str = ""):
        super().__init__(f"{path}: {reason}" + (f" ({detail})" if detail else ""))
        self.path, self.reason = path, reason


@dataclass(frozen=True)
class ImageRef:
    """Where an image's bytes are: a whole file, or ``size`` bytes at ``offset`` inside a tar."""

    path: str  # a local path or a URL
    offset: int = -1
    size: int = -1

    def read(self) -> bytes:
        """The image's bytes; UnreadableImage for a file that is not a regular one (a FIFO
        would block the read forever, /dev/zero never end it) or that holds more than
        ``images.MAX_IMAGE_BYTES``; FileNotFoundError for one that is absent."""
        path = self.path
        if is_url(path):
            fs, path = url_to_fs(path)
            if not _is_local(fs):
                return self._read_remote(fs, path)
        size, reason = image_checks.file_problem(path, whole=self.offset < 0)
        if reason is not None:
            raise UnreadableImage(self.path, reason, f"{size} bytes" if size else "")
        if self.offset >= 0:
            self._check_member_size()
        with open(path, "rb") as handle:
            if self.offset < 0:
                # The file may have grown since its size was looked at: read no more than the cap.
                return self._within_cap(handle.read(image_checks.MAX_IMAGE_BYTES + 1))
            handle.seek(self.offset)
            return handle.read(self.size)

    def _read_remote(self, fs, path: str) -> bytes:
        if self.offset >= 0:
            self._check_member_size()
            # One ranged request for a tar member, not the file system's read-ahead blocks.
            return fs.cat_file(path, self.offset, self.offset + self.size)
        # A ranged request too, so that an object of gigabytes is not fetched to find that out
        # (and no request for its size first: one request per image, as before the cap).
        return self._within_cap(fs.cat_file(path, 0, image_checks.MAX_IMAGE_BYTES + 1))

    def _check_member_size(self) -> None:
        if self.size > image_checks.MAX_IMAGE_BYTES:
            raise UnreadableImage(self.path, "image_too_large", f"tar member of {self.size} bytes")

    def _within_cap(self, data: bytes) -> bytes:
        if len(data) > image_checks.MAX_IMAGE_BYTES:
            raise UnreadableImage(self.path, "image_too_large", f"over {image_checks.MAX_IMAGE_BYTES} bytes")
        return data


def _is_local(fs) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


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
# Input files: local paths or URLs

InputFile = Path | str  # a URL is kept as its string

# Size and version of URL inputs from the listings that found them: one request per folder,
# not one per file (a LAION-size corpus is tens of thousands of tars).
_url_info: dict[str, dict] = {}


def url_to_fs(url: str):
    """(fsspec file system, path within it) of a URL."""
    import fsspec

    return fsspec.core.url_to_fs(url)


def file_name(file: InputFile) -> str:
    return file.name if isinstance(file, Path) else file.rstrip("/").rsplit("/", 1)[-1]


def _suffix(file: InputFile) -> str:
    return os.path.splitext(file_name(file))[1].lower()


def _folder(file: InputFile) -> str:
    return str(file.parent) if isinstance(file, Path) else file.rsplit("/", 1)[0]


def url_info(url: str) -> dict:
    """fsspec's info of a URL (size, and mtime or ETag...), from its listing when there was one."""
    if url not in _url_info:
        fs, path = url_to_fs(url)
        _url_info[url] = fs.info(path)
    return _url_info[url]


def listed_size(file: InputFile) -> int | None:
    """The size of a URL input as its listing gave it (no request), else None."""
    info = _url_info.get(file) if is_url(file) else None
    return int(info["size"]) if info and "size" in info else None


def _input_size(file: InputFile) -> int:
    return file.stat().st_size if isinstance(file, Path) else int(url_info(file)["size"])


# ---------------------------------------------------------------------------------------------
# Finding the files and their format


def expand_input(pattern: str, fmt: str | None = None) -> list[InputFile]:
    """The files an ``--input`` names, sorted: a file, a glob, a folder, or a brace range
    (``{00000..00099}.tar``, in its own order); local paths, or URLs when ``pattern`` is one.

    Of a folder, the files of ``fmt`` are taken; with no format given, its tars if it has any
    (an img2dataset output folder also holds .parquet and _stats.json files), else every file
    with a known suffix.
    """
    if is_url(pattern):
        return _expand_url(pattern, fmt)
    path = Path(pattern)
    if path.is_file():
        return [path]
    if "{" in pattern and ".." in pattern:
        return _expand_braces(pattern)
    if path.is_dir():
        return _folder_files(pattern, [p for p in path.iterdir() if p.is_file()], fmt)
    if glob.has_magic(pattern):
        files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        if files:
            return files
        raise SourceError(f"{pattern}: no file matches")
    raise SourceError(f"{pattern}: no such file or folder")


def _folder_files(pattern: str, files: list[InputFile], fmt: str | None) -> list[InputFile]:
    files = sorted((f for f in files if _suffix(f) in _SUFFIX_FORMATS), key=str)
    wanted = fmt or ("webdataset" if any(_suffix(f) == ".tar" for f in files) else None)
    if wanted is not None:
        files = [f for f in files if _SUFFIX_FORMATS[_suffix(f)] == wanted or (wanted == "coco" and _suffix(f) == ".json")]
    if not files:
        raise SourceError(f"{pattern}: folder holds no {fmt or 'json/jsonl/csv/tsv/parquet/tar'} file")
    return files


def _expand_braces(pattern: str) -> list[Path]:
    """webdataset's shard notation, ``cc3m/{00000..00331}.tar``: every file it names must exist."""
    from braceexpand import braceexpand

    files = [Path(name) for name in braceexpand(pattern)]
    _all_exist(pattern, files, [f for f in files if not f.is_file()])
    return files


def _all_exist(pattern: str, files: list, missing: list) -> None:
    if missing:
        raise SourceError(f"{pattern}: {len(missing)} of the {len(files)} files it names do not exist "
                          f"(first: {missing[0]})")


def _expand_url(pattern: str, fmt: str | None) -> list[str]:
    """expand_input for a URL: each folder is listed once, and the listing's sizes kept."""
    fs, path = url_to_fs(pattern)

    def files_of(entries) -> dict[str, str]:  # path in the file system -> URL, of the files listed
        found = {}
        for entry in entries:
            if entry.get("type") == "file":
                url = fs.unstrip_protocol(entry["name"])
                _url_info[url] = entry
                found[fs._strip_protocol(entry["name"])] = url
        return found

    def listing(folder: str) -> dict[str, str]:
        try:
            return files_of(fs.ls(folder, detail=True))
        except FileNotFoundError:
            return {}

    if "{" in pattern and ".." in pattern:
        from braceexpand import braceexpand

        names = list(braceexpand(pattern))
        listed: dict[str, str] = {}
        for folder in dict.fromkeys(url_to_fs(name)[1].rsplit("/", 1)[0] for name in names):
            listed.update(listing(folder))
        wanted = [url_to_fs(name)[1] for name in names]
        _all_exist(pattern, names, [n for n, w in zip(names, wanted) if w not in listed])
        return [listed[w] for w in wanted]
    if glob.has_magic(path):
        found = fs.glob(path, detail=True)
        files = list(files_of(found[name] for name in sorted(found)).values())
        if not files:
            raise SourceError(f"{pattern}: no file matches")
        return files
    if fs.isdir(path):
        return _folder_files(pattern, list(listing(path).values()), fmt)
    if fs.isfile(path):
        return [pattern]
    raise SourceError(f"{pattern}: no such file or folder")


def guess_format(files: list[InputFile]) -> str:
    formats = {_SUFFIX_FORMATS.get(_suffix(p)) for p in files}
    if None in formats:
        odd = next(p for p in files if _suffix(p) not in _SUFFIX_FORMATS)
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
    files: Iterable[InputFile],
    fmt: str,
    *,
    image_root: str | None = None,
    image_column: str = "image",
    caption_column: str = "caption",
    sizes: dict[str, int] | None = None,
) -> Iterator[SourceRow | BadRow]:
    """The rows of ``files``, in order. ``sizes``: the byte sizes of URL inputs that the caller
    already knows (from the listing that found them), so that a process which did not list them
    (a plan task) needs no request to learn them."""
    if fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    for path in files:
        root = (image_root if is_url(image_root) else str(Path(image_root))) if image_root else _folder(path)
        if fmt == "coco":
            yield from _read_coco(path, root)
        elif fmt == "webdataset":
            yield from _read_tar(path, (sizes or {}).get(str(path)))
        else:
            records = {"jsonl": _jsonl_records, "csv": _csv_records, "tsv": _csv_records,
                       "parquet": _parquet_records}[fmt]
            yield from _group_table_rows(
                records(path, fmt, (image_column, caption_column)), path, fmt, root, image_column, caption_column
            )


def _resolve(root: str, name: str) -> str:
    # os.path, not pathlib: this runs once per input row, and pathlib costs 10 us a call. It
    # joins URLs too ("s3://b/images" + "x.jpg"); an absolute name stays a local path.
    return os.path.join(root, name)


def _read_coco(path: InputFile, root: str) -> Iterator[SourceRow | BadRow]:
    with open_binary(path) as handle:
        raw = handle.read()
    try:
        # surrogateescape: a caption with bad bytes is dropped alone, not the whole file.
        data = json.loads(raw.decode("utf-8", "surrogateescape"))
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
            yield BadRow("malformed_row", f"{file_name(path)}: annotations[{n}]", "needs image_id (a number or string) and caption")
    known = set()
    for n, image in enumerate(data["images"]):
        where = f"{file_name(path)}: images[{n}]"
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
            source={"format": "coco", "file": file_name(path), "id": image["id"], "image": image["file_name"]},
        )
    # In annotation order, not set order: a row's position decides its shard.
    for image_id, n in sorted(first_annotation.items(), key=lambda item: item[1]):
        if image_id not in known:
            yield BadRow("malformed_row", f"{file_name(path)}: annotations[{n}]",
                         f"image_id {image_id!r} is not in images ({len(captions[image_id])} caption(s))")


# A table record: (line number, the record as a dict) or (line number, BadRow).
_Record = tuple[int, "dict[str, Any] | BadRow"]


def _jsonl_records(path: InputFile, fmt: str, columns: tuple[str, str]) -> Iterator[_Record]:
    with open_binary(path) as handle:
        for line_number, raw in enumerate(handle, 1):
            where = f"{file_name(path)}:{line_number}"
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


def _csv_records(path: InputFile, fmt: str, columns: tuple[str, str]) -> Iterator[_Record]:
    with open_binary(path) as binary:
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
                yield reader.line_num, BadRow("malformed_row", f"{file_name(path)}:{reader.line_num}", str(err))
                continue
            if not fields:
                continue
            if len(fields) != len(header):
                yield reader.line_num, BadRow(
                    "malformed_row", f"{file_name(path)}:{reader.line_num}",
                    f"{len(fields)} fields, header has {len(header)}",
                )
                continue
            yield reader.line_num, dict(zip(header, fields))


def _parquet_records(path: InputFile, fmt: str, columns: tuple[str, str]) -> Iterator[_Record]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path if isinstance(path, Path) else open_binary(path))
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


TABLE_FORMATS = ("jsonl", "csv", "tsv", "parquet")


def table_columns(files: Iterable[InputFile], fmt: str, *, files_read: int = 8, records_read: int = 100) -> list[str]:
    """The columns a table input holds, in order of first appearance, for an error message that
    has to name them: a csv's header, a parquet's schema, the keys of a jsonl's first objects.
    Reads the head of the first few files only; [] for other formats, or files it cannot read."""
    if fmt not in TABLE_FORMATS:
        return []
    found: dict[str, None] = {}
    for path in list(files)[:files_read]:
        try:
            found.update(dict.fromkeys(_columns_of(path, fmt, records_read)))
        except (OSError, ValueError):  # the message this feeds already names the real problem
            continue
    return list(found)


def _columns_of(path: InputFile, fmt: str, records_read: int) -> list[str]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with open_binary(path) as handle:
            return list(pq.ParquetFile(handle).schema_arrow.names)
    if fmt == "jsonl":
        keys: list[str] = []
        records = _jsonl_records(path, fmt, ("", ""))
        try:
            for _, (_, record) in zip(range(records_read), records):
                if isinstance(record, dict):
                    keys.extend(record)
        finally:
            records.close()  # the file, left open by a generator stopped half-way
        return keys
    with open_binary(path) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = (csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE) if fmt == "tsv" else csv.reader(text))
        return next(reader, [])


def _group_table_rows(
    records: Iterator[_Record], path: InputFile, fmt: str, root: str, image_column: str, caption_column: str
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


def _table_sample(record: dict, path: InputFile, line_number: int, fmt: str, root: str, image_column: str,
                  caption_column: str) -> SourceRow | BadRow:
    where = f"{file_name(path)}:{line_number}"
    # A key absent altogether (jsonl has no header to check up front) is most often a column
    # named otherwise: its own reason, so that a build skipping every row can say so.
    for column, reason in ((image_column, "no_image_column"), (caption_column, "no_caption_column")):
        if column not in record:
            return BadRow(reason, where, f"no {column!r} key (keys: {', '.join(map(str, record))})")
    image, caption = record[image_column], record[caption_column]
    if not isinstance(image, str) or not image.strip():
        return BadRow("malformed_row", where, f"{image_column!r} is not an image path")
    if caption is None:
        return BadRow("malformed_row", where, f"{caption_column!r} is null")
    captions = list(caption) if isinstance(caption, (list, tuple)) else [caption]
    image = image.strip()
    return SourceRow(
        key=image,
        captions=captions,
        image=ImageRef(_resolve(root, image)),
        source={"format": fmt, "file": file_name(path), "line": line_number, "image": image},
    )


def _read_tar(path: InputFile, size: int | None = None) -> Iterator[SourceRow | BadRow]:
    if _suffix(path) != ".tar":
        raise SourceError(f"{path}: only uncompressed .tar shards can be read (as img2dataset writes them)")
    size = _input_size(path) if size is None else size
    where = f"{file_name(path)}: after key"
    try:
        with open_binary(path) as handle:
            # Only the captions are read: the images are located, for the shard workers to read.
            for key, members in iter_tar_samples(handle, read=("txt", "json")):
                yield _tar_sample(path, key, members, size)
    except BrokenTar as broken:
        # What came before the damage is kept; the sample being read when it hit is lost.
        cause = broken.cause
        detail = (str(cause) or type(cause).__name__) if cause is not None else "no end-of-archive marker"
        yield BadRow("truncated_tar", f"{where} {broken.key!r}", detail)
    except OSError as err:  # opening the file (the tar itself breaking is BrokenTar)
        yield BadRow("truncated_tar", f"{where} None", str(err) or type(err).__name__)


def _tar_sample(path: InputFile, key: str, members: dict[str, Any], size: int) -> SourceRow | BadRow:
    where = f"{file_name(path)}: {key}"
    meta: Any = None
    if "json" in members:
        try:
            meta = json.loads(members["json"].decode("utf-8", "surrogateescape"))
        except json.JSONDecodeError as err:
            return BadRow("malformed_row", where, f"{key}.json: {err}")
    captions: list[Any] = []
    if is_sample_record(meta) and isinstance(meta["captions"], list):
        # fgclip's own shards: re-sharding one keeps every caption, not just the .txt one.
        captions = [c.get("text") if isinstance(c, dict) else c for c in meta["captions"]]
    elif "txt" in members:
        captions = [members["txt"].decode("utf-8", "surrogateescape")]
    elif isinstance(meta, dict) and "caption" in meta:
        captions = [meta["caption"]]
    if not captions:
        return BadRow("no_caption", where, "no .txt and no caption in .json")
    images = [members[extension] for extension in members if extension in IMAGE_EXTENSIONS]
    if not images:
        return BadRow("missing_image", where, "no .jpg/.jpeg/.png/.webp member")
    if any(image.offset_data + image.size > size for image in images):
        return BadRow("truncated_image", where, "image member runs past the end of the tar")
    image = images[-1]  # of two images under one key (a.jpg and a.png), the later in the tar
    return SourceRow(
        key=key,
        captions=captions,
        image=ImageRef(str(path), image.offset_data, image.size),
        source={"format": "webdataset", "file": file_name(path), "key": key},
    )
