"""The plan of a build of several input files, made by one task per file on the executor.

Invariant: the plan files written here (``_build/plan/{shard}.jsonl`` and ``_build/plan.json``)
are byte for byte those that :func:`.shards.write_plan` writes from the same files read in order
by one process: the same rows in the same shards under the same keys, the same skips, the same
first error messages. Both make each row's record with :func:`.shards.row_record`, turn it into
its outcome with :func:`.shards.row_outcome` and write a shard's file with
:func:`.shards.write_shard_plan`; what differs is only where each step runs.

Three rounds of tasks (``executor.map``), each a plain function of picklable arguments:

1. :func:`plan_input_file`, one per input file. It reads its file alone (a tar's images only
   located, never read, as before) and writes ``_build/parts/{file}``: each row's record, one
   line per row, then the digests of the keys that first appear in the file, sorted (a key seen
   earlier in the same file is a duplicate already). It returns the file's row and key counts
   and where in its part each run of ``shard_size`` rows starts.
2. :func:`find_duplicate_keys`, one per range of key digests: reads that range of every part's
   keys, in input order, and returns the (file, row) of each key that an earlier file holds.
   Those rows become ``duplicate_key`` skips, as the serial plan's set of seen keys makes them.
3. :func:`write_planned_shard`, one per shard: its rows' records, read by byte range from the
   one or more parts the shard spans, become its plan file. It returns the shard's skip counts.

The driver reads no input row. It holds the per-file counts and offsets, the duplicates found
across files and the work items in flight (made as they are handed out), and writes ``plan.json`` once every shard's file
is written. ``_build/parts`` is removed then; a plan killed before leaves it, and the next run
removes it and plans again.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import struct
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator

from ..files import Folder
from .shards import (BUILD_DIR, SAMPLE, SKIPPED, finish_plan, key_digest, row_outcome, row_record, split_lines,
                     write_shard_plan)
from .sources import InputFile, SourceError, listed_size, read_rows, url_to_fs

log = logging.getLogger(__name__)

PARTS_DIR = f"{BUILD_DIR}/parts"
# A part: the rows' records (JSON lines), then, at the offset plan_input_file returns, where
# each of 256 buckets (a digest's first byte) starts, then the keys, sorted by digest: 8 bytes
# of digest and the row within the file (big-endian, 8 bytes).
KEY_BUCKETS = 256
KEY_RECORD_BYTES = 16
KEY_HEADER_BYTES = 8 * (KEY_BUCKETS + 1)
# Keys one find_duplicate_keys task holds in its set (about 75 bytes each in Python): more
# tasks read more, smaller, ranges of every part.
KEYS_PER_TASK = 2_000_000


@dataclass(frozen=True)
class PlanOptions:
    """What the plan needs of the build config (small, so it pickles cheaply to workers)."""

    fmt: str
    shard_size: int
    max_caption_chars: int
    image_root: str | None = None
    image_column: str = "image"
    caption_column: str = "caption"


def part_name(file: int) -> str:
    return f"{PARTS_DIR}/{file:06d}"


def plan_in_parallel(files: list[InputFile], output: Folder, options: PlanOptions, executor) -> dict:
    """Write the plan of ``files`` into ``output`` with ``executor``'s tasks (its session
    started); returns plan.json's summary. SourceError, as the serial plan raises it, when a
    file cannot be read as ``options.fmt`` (the first such file in input order)."""
    output.remove_tree(PARTS_DIR)  # what a plan killed half-way left
    for name in (PARTS_DIR, f"{BUILD_DIR}/plan"):
        output.make(name)
    # A URL's size from the listing that found it: a task would otherwise ask the store for it.
    items = [(index, file, listed_size(file)) for index, file in enumerate(files)]
    task = functools.partial(plan_input_file, output=output.location, options=options)
    parts = sorted(executor.map(task, items), key=lambda part: part["file"])
    failed = [part["error"] for part in parts if "error" in part]
    if failed:
        raise SourceError(failed[0])
    rows = sum(part["rows"] for part in parts)
    duplicates = _duplicates_across_files(output, parts, executor)
    log.info("plan of %d files: %d rows, %d keys, %d repeated in a later file", len(files), rows,
             sum(part["keys"] for part in parts), sum(map(len, duplicates.values())))
    skipped: Counter = Counter()
    task = functools.partial(write_planned_shard, output=output.location, shard_size=options.shard_size)
    for counts in executor.map(task, _shard_items(parts, duplicates, options.shard_size)):
        skipped.update(counts)
    summary = finish_plan(output, math.ceil(rows / options.shard_size), rows, skipped)
    output.remove_tree(PARTS_DIR)
    return summary


def _duplicates_across_files(output: Folder, parts: list[dict], executor) -> dict[int, list[int]]:
    """file -> its rows (sorted) whose key an earlier file holds."""
    keys = sum(part["keys"] for part in parts)
    tasks = min(KEY_BUCKETS, max(2, math.ceil(keys / KEYS_PER_TASK)))
    key_offsets = tuple(part["keys_at"] for part in parts)  # one tuple, shared by every item
    items = [(t * KEY_BUCKETS // tasks, (t + 1) * KEY_BUCKETS // tasks, key_offsets) for t in range(tasks)]
    found: dict[int, list[int]] = {}
    for pairs in executor.map(functools.partial(find_duplicate_keys, output=output.location), items):
        for file, row in pairs:
            found.setdefault(file, []).append(row)
    return {file: sorted(rows) for file, rows in found.items()}


def _shard_items(parts: list[dict], duplicates: dict[int, list[int]], shard_size: int) -> Iterator[tuple]:
    """``(shard, [(file, first row, end row, duplicate rows among them, byte range), ...])`` per
    shard: the runs of input rows, each within one file, that make the shard, in input order.
    The byte range is that of the part's chunks (runs of ``shard_size`` rows) that hold the run."""
    starts = [0]
    for part in parts:
        starts.append(starts[-1] + part["rows"])
    total, file = starts[-1], 0
    for shard in range(math.ceil(total / shard_size)):
        first, end = shard * shard_size, min((shard + 1) * shard_size, total)
        pieces = []
        while first < end:
            while starts[file + 1] <= first:  # files that end before the row, empty ones included
                file += 1
            stop = min(end, starts[file + 1])
            lo, hi = first - starts[file], stop - starts[file]
            found = duplicates.get(file, [])
            chunks = parts[file]["chunks"]
            pieces.append((file, lo, hi, found[bisect_left(found, lo):bisect_left(found, hi)],
                           (chunks[lo // shard_size], chunks[(hi - 1) // shard_size + 1])))
            first = stop
        yield shard, pieces


# ---------------------------------------------------------------------------------------------
# The tasks


def plan_input_file(item: tuple[int, InputFile, int | None], output: str, options: PlanOptions) -> dict:
    """Round 1 for the input file ``item`` = (its place in the input, the file, its size when a
    listing gave it): its part written. Returns ``{"file", "rows", "keys", "chunks": [byte
    offset of each run of shard_size rows, and of the rows' end], "keys_at": byte offset of the
    keys}``, or ``{"file", "error"}`` for a file the build cannot read (a missing column)."""
    index, file, size = item
    rows = read_rows([file], options.fmt, image_root=options.image_root, image_column=options.image_column,
                     caption_column=options.caption_column, sizes={str(file): size} if size is not None else None)
    seen: set[bytes] = set()
    first_keys: list[tuple[bytes, int]] = []  # (digest, row) of each key's first row in the file
    chunks = [0]
    count = written = 0
    try:
        with Folder(output).open_atomically(part_name(index)) as part:
            for row in rows:
                record = row_record(row, seen, options.max_caption_chars)
                if record[0] != SKIPPED:
                    first_keys.append((key_digest(row.key), count))
                line = _record_line(record)
                part.write(line)
                written += len(line)
                count += 1
                if count % options.shard_size == 0:
                    chunks.append(written)
            if count % options.shard_size or not count:
                chunks.append(written)
            part.write(_keys(first_keys))
    except SourceError as err:
        return {"file": index, "error": str(err)}
    return {"file": index, "rows": count, "keys": len(first_keys), "chunks": chunks, "keys_at": written}


def _record_line(record: tuple) -> bytes:
    """A record as one line of its part. A sample's entry goes last, after a tab (which JSON text
    never holds raw), so that round 3 copies its text into the plan without decoding it."""
    if record[0] == SAMPLE:
        _, entry, dropped, where = record
        text = json.dumps([SAMPLE, dropped, where], ensure_ascii=False) + "\t" + json.dumps(entry, ensure_ascii=False)
    else:
        text = json.dumps(record, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def _line_record(line: str) -> list:
    head, _, entry = line.partition("\t")
    record = json.loads(head)
    return [SAMPLE, entry, record[1], record[2]] if record[0] == SAMPLE else record


def _keys(first_keys: list[tuple[bytes, int]]) -> bytes:
    first_keys.sort()
    starts = [0] * (KEY_BUCKETS + 1)
    for digest, _ in first_keys:
        starts[digest[0] + 1] += 1
    for bucket in range(KEY_BUCKETS):
        starts[bucket + 1] += starts[bucket]
    body = b"".join(digest + row.to_bytes(8, "big") for digest, row in first_keys)
    return struct.pack(f">{KEY_BUCKETS + 1}Q", *starts) + body


def find_duplicate_keys(item: tuple[int, int, tuple[int, ...]], output: str) -> list[tuple[int, int]]:
    """Round 2 for ``item`` = (first bucket, end bucket, where each part's keys start): (file,
    row) of each row, among those whose digest's first byte is in the buckets, whose key an
    earlier file holds."""
    first, end, key_offsets = item
    folder = Folder(output)
    names = [part_name(index) for index in range(len(key_offsets))]
    # Two batched reads: on an object store fsspec sends each batch's requests concurrently.
    heads = _read_ranges(folder, names, [at + 8 * first for at in key_offsets],
                         [at + 8 * (end + 1) for at in key_offsets])
    spans = [(index, struct.unpack(">Q", head[:8])[0], struct.unpack(">Q", head[-8:])[0])
             for index, head in enumerate(heads)]
    spans = [(index, start, stop) for index, start, stop in spans if stop > start]
    body_at = [key_offsets[index] + KEY_HEADER_BYTES for index, _, _ in spans]
    bodies = _read_ranges(folder, [names[index] for index, _, _ in spans],
                          [at + KEY_RECORD_BYTES * start for at, (_, start, _) in zip(body_at, spans)],
                          [at + KEY_RECORD_BYTES * stop for at, (_, _, stop) in zip(body_at, spans)])
    seen: set[bytes] = set()
    duplicates = []
    for (index, _, _), body in zip(spans, bodies):  # in input order: the first file keeps the key
        for at in range(0, len(body), KEY_RECORD_BYTES):
            digest = body[at:at + 8]
            if digest in seen:
                duplicates.append((index, int.from_bytes(body[at + 8:at + KEY_RECORD_BYTES], "big")))
            else:
                seen.add(digest)
    return duplicates


def _read_ranges(folder: Folder, names: list[str], starts: list[int], stops: list[int]) -> list[bytes]:
    if not names:
        return []
    if folder.is_url:
        fs, _ = url_to_fs(folder.location)
        paths = [url_to_fs(folder.path(name))[1] for name in names]
        return fs.cat_ranges(paths, starts, stops, on_error="raise")
    found = []
    for name, start, stop in zip(names, starts, stops):
        with open(folder.path(name), "rb") as handle:
            handle.seek(start)
            found.append(handle.read(stop - start))
    return found


def write_planned_shard(item: tuple[int, list], output: str, shard_size: int) -> dict[str, int]:
    """Round 3 for the shard ``item`` = (shard, its runs of rows, from ``_shard_items``): its plan
    file written from its rows' records; returns its skip counts by reason."""
    shard, pieces = item
    folder = Folder(output)
    texts = _read_ranges(folder, [part_name(piece[0]) for piece in pieces], [piece[4][0] for piece in pieces],
                         [piece[4][1] for piece in pieces])

    def outcomes() -> Iterator[Any]:
        for (_, first, end, duplicates, _), text in zip(pieces, texts):
            lines = split_lines(text.decode("utf-8"))
            offset = first // shard_size * shard_size  # the row the byte range starts at
            duplicates = set(duplicates)
            for row in range(first, end):
                yield row_outcome(_line_record(lines[row - offset]), row in duplicates)

    return dict(write_shard_plan(folder, shard, shard_size, outcomes())["skipped"])


def is_parallel(files: list[InputFile], workers: int | None) -> bool:
    """Whether the plan of ``files`` runs on the executor: with one input file, or one worker,
    there is nothing to share out, and the serial plan reads each row once, where this one
    writes it once more to ``_build/parts``."""
    return len(files) > 1 and workers != 1
