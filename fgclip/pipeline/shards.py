"""The shard: unit of work, of retry and of resume.

Two steps, neither of which knows about Ray:

1. The plan cuts the corpus, read in order, into runs of ``shard_size`` input rows: row ``r``
   goes to shard ``r // shard_size`` and its sample key is ``r`` written with nine digits. Each
   shard's rows (captions cleaned, image located, bad rows and repeated keys counted) go to a
   plan file under ``_build/plan/``; ``_build/plan.json``, written last, marks it complete. The
   plan depends on the input and the config alone. :func:`write_plan` makes it in one process;
   :mod:`.plan` makes the same bytes with one task per input file, from the same three steps
   (:func:`row_record`, :func:`row_outcome`, :func:`write_shard_plan`).
2. :func:`write_shard` turns one plan file into ``{shard:06d}.tar``: it reads and checks each
   image, makes the negatives, writes the tar under a temporary name and renames it into place
   when complete (on an object store: uploads it whole), then writes ``{shard:06d}_stats.json``,
   which marks the shard done. It is a plain function of (shard id, output folder, options): any
   executor can run it, any number of times, and it writes the same bytes each time.

The output folder is a :class:`~fgclip.files.Folder`: a local path or a URL.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import resource
import tarfile
import time
from collections import Counter
from dataclasses import dataclass
from itertools import islice
from typing import Iterable

from ..files import Folder, open_binary
from ..schema import KINDS, Negative, record_to_json
from ..images import check_image
from ..ray_backend import node_name
from .sources import BadRow, ImageRef, SourceRow, UnreadableImage, clean_captions

log = logging.getLogger(__name__)

BUILD_DIR = "_build"  # the plan and the config of a build in progress
TAR_MTIME = 0  # every member gets this mtime, so that equal input gives byte-equal tars
MAX_ERRORS_KEPT = 20  # bad-input messages kept per shard in its stats (all are counted)


def shard_name(shard: int) -> str:
    return f"{shard:06d}"


def sample_key(row: int) -> str:
    return f"{row:09d}"


def plan_name(shard: int) -> str:
    return f"{BUILD_DIR}/plan/{shard_name(shard)}.jsonl"


def stats_name(shard: int) -> str:
    return f"{shard_name(shard)}_stats.json"


def tar_name(shard: int) -> str:
    return f"{shard_name(shard)}.tar"


# ---------------------------------------------------------------------------------------------
# Step 1: the plan


def write_plan(rows: Iterable[SourceRow | BadRow], output: Folder, shard_size: int, max_caption_chars: int) -> dict:
    """Cut ``rows`` into plan files, in this process; returns ``{"shards": n, "rows": n,
    "skipped": {reason: n}}`` (also in plan.json, which marks the plan complete).

    Bad rows, duplicate keys and dropped captions are counted in the plan of the shard their
    row falls in, so that every input row is accounted for in exactly one stats file. The
    skipped rows of all shards are summed in plan.json too, so that a build can refuse input it
    would mostly skip before it writes a shard. (:mod:`.plan` writes the same files from several
    input files in parallel, through the same three steps: :func:`row_record`,
    :func:`row_outcome`, :func:`write_shard_plan`.)
    """
    output.make(f"{BUILD_DIR}/plan")
    seen: set[bytes] = set()  # 8-byte digests of the keys: about 100 bytes a row, not a row's text
    outcomes = (row_outcome(row_record(row, seen, max_caption_chars)) for row in rows)
    shard = total = 0
    skipped: Counter = Counter()
    while True:
        chunk = list(islice(outcomes, shard_size))
        if not chunk:
            break
        skipped.update(write_shard_plan(output, shard, shard_size, chunk)["skipped"])
        total += len(chunk)
        shard += 1
    return finish_plan(output, shard, total, skipped)


def finish_plan(output: Folder, shards: int, rows: int, skipped: Counter) -> dict:
    """Write plan.json, the mark of a complete plan, once every shard's plan file is written."""
    summary = {"shards": shards, "rows": rows, "skipped": dict(sorted(skipped.items()))}
    output.write_json(f"{BUILD_DIR}/plan.json", summary)
    return summary


# What the plan makes of one input row, before it knows the row's place in the corpus (its
# key) and what the input files before the row's own hold. A tuple of JSON values, so that a
# plan task can write it for the shard it will fall in (plan.py):
#   (SKIPPED, reason, message): a bad row, or a key seen earlier in the rows given before it;
#   (UNUSABLE, reason, where): the first row of its key, without a usable caption;
#   (SAMPLE, entry without its key, captions dropped, where): the first row of its key, usable.
# The last two become duplicate_key skips when an earlier input file holds their key.
SKIPPED, UNUSABLE, SAMPLE = "skipped", "unusable", "sample"


def key_digest(key: str) -> bytes:
    """The 8 bytes by which the plan tells keys apart (two keys with one digest are duplicates)."""
    return hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=8).digest()


def row_record(row: SourceRow | BadRow, seen: set[bytes], max_caption_chars: int) -> tuple:
    """The row's plan record (above); a key not in ``seen`` is added to it."""
    if isinstance(row, BadRow):
        return SKIPPED, row.reason, row.message()
    where = f"{row.source.get('file', '?')}: {row.key}"
    digest = key_digest(row.key)
    if digest in seen:
        return SKIPPED, "duplicate_key", duplicate_message(where)
    seen.add(digest)
    captions, dropped = clean_captions(row.captions, max_caption_chars)
    if not captions:
        return UNUSABLE, dropped[0] if dropped else "no_caption", where
    entry = {"source_key": row.key, "image": [row.image.path, row.image.offset, row.image.size],
             "captions": captions, "source": row.source}
    return SAMPLE, entry, dropped, where


def duplicate_message(where: str) -> str:
    return f"{where}: duplicate_key (seen earlier in the input)"


def row_outcome(record: tuple | list, duplicate: bool = False) -> tuple[dict | str | None, list[str], str | None, str]:
    """``(entry without its key, captions dropped, None, "")`` for a row that becomes a sample,
    ``(None, [], reason, message)`` for one that is skipped; ``duplicate``: an earlier input
    file holds the row's key. The entry is the record's: a dict, or its JSON text."""
    kind = record[0]
    if kind == SKIPPED:
        return None, [], record[1], record[2]
    if duplicate:
        return None, [], "duplicate_key", duplicate_message(record[-1])
    if kind == UNUSABLE:
        return None, [], record[1], f"{record[2]}: {record[1]}"
    return record[1], record[2], None, ""


def write_shard_plan(output: Folder, shard: int, shard_size: int,
                     outcomes: Iterable[tuple[dict | str | None, list[str], str | None, str]]) -> dict:
    """Write the plan file of shard ``shard`` from its rows' outcomes (:func:`row_outcome`), in
    input order; returns its header. A sample's key is its row's place in the corpus."""
    header = {"shard": shard, "rows": 0, "skipped": Counter(), "captions_skipped": Counter(), "errors": []}
    lines = [""]  # the header's, once the rows are counted
    first_row = shard * shard_size
    rows = 0
    for entry, dropped, reason, message in outcomes:
        header["captions_skipped"].update(dropped)
        if entry is not None:
            text = entry if isinstance(entry, str) else json.dumps(entry, ensure_ascii=False)
            # What json.dumps({"key": ..., **entry}) writes, without encoding an entry given as text again.
            lines.append(f'{{"key": "{sample_key(first_row + rows)}", {text[1:]}')
        else:
            header["skipped"][reason] += 1
            if len(header["errors"]) < MAX_ERRORS_KEPT:
                header["errors"].append(message)
        rows += 1
    header["rows"] = rows
    lines[0] = json.dumps(header, ensure_ascii=False)
    output.write_bytes(plan_name(shard), ("\n".join(lines) + "\n").encode("utf-8"))
    return header


def read_plan(output: Folder, shard: int) -> tuple[dict, list[dict]]:
    lines = split_lines(output.read_text(plan_name(shard)))
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def split_lines(text: str) -> list[str]:
    """The lines of a file of JSON lines. Not ``str.splitlines``: JSON written with
    ``ensure_ascii=False`` keeps U+2028, U+2029 and U+0085 raw inside its strings (a web
    caption may hold them), and ``splitlines`` would cut a line there."""
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


# ---------------------------------------------------------------------------------------------
# Step 2: one shard


@dataclass(frozen=True)
class ShardOptions:
    """What write_shard needs of the build config (small, so it pickles cheaply to workers)."""

    negatives: bool = True
    kinds: tuple[str, ...] = KINDS
    per_kind: int = 2
    seed: int = 0
    swaps: str = "plausible"  # the generator's order swaps (fgclip.config.SWAP_MODES)
    # The corpus table the generator reads: its path or URL (beside the shards) and fingerprint;
    # None for none. Each worker process reads it once (cached_table below).
    table: str | None = None
    table_fingerprint: str | None = None
    # The build's imported negatives (fgclip.pipeline.extra_negatives), normalised into one file
    # by the driver: its path or URL and fingerprint; None for none. Read once per process too.
    extra: str | None = None
    extra_fingerprint: str | None = None


def write_shard(shard: int, output: str, options: ShardOptions) -> dict:
    """Write shard ``shard`` from its plan into the folder (path or URL) ``output``; returns its
    stats (also written to its stats file)."""
    started = time.perf_counter()
    output = Folder(output)
    header, entries = read_plan(output, shard)
    skipped = Counter(header["skipped"])
    errors = list(header["errors"])
    by_kind: Counter = Counter()
    by_rule: Counter = Counter()
    by_source: Counter = Counter()
    refused: Counter = Counter()
    extra_skipped: Counter = Counter()
    extra_matched: set[int] = set()
    table = _table(options)
    extra = cached_extra(options.extra, options.extra_fingerprint) if options.extra else None
    rule_errors_before = _rule_error_count(options)
    written = captions_written = 0
    with output.open_atomically(tar_name(shard)) as file, \
            tarfile.open(fileobj=file, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for entry in entries:
            image, reason = _read_image(entry)
            if reason is not None:
                skipped[reason] += 1
                if len(errors) < MAX_ERRORS_KEPT:
                    errors.append(f"{entry['image'][0]}: {reason} ({entry['source'].get('file')}: {entry['source_key']})")
                continue
            extension, data = image
            captions = []
            for text in entry["captions"]:
                negs = _negatives(text, entry["source_key"], options, table, refused)
                if extra is not None:
                    negs += _imported(extra, entry["key"], text, negs, options.kinds, extra_matched, extra_skipped)
                by_kind.update(n.kind for n in negs)
                by_rule.update(n.rule for n in negs)
                by_source.update(n.source for n in negs)
                captions.append((text, negs))
            key = entry["key"]
            _add_member(tar, f"{key}.{extension}", data)
            _add_member(tar, f"{key}.txt", entry["captions"][0].encode("utf-8"))
            _add_member(tar, f"{key}.json", record_to_json(captions, entry["source"]))
            written += 1
            captions_written += len(captions)
            _injected_faults(shard, written)
    stats = {
        "shard": shard,
        "rows": header["rows"],
        "written": written,
        "captions": captions_written,
        "skipped": dict(sorted(skipped.items())),
        "captions_skipped": dict(sorted(header["captions_skipped"].items())),
        "negatives": {kind: by_kind[kind] for kind in options.kinds} if options.negatives or extra else {},
        "rules": dict(sorted(by_rule.items())),
        "sources": dict(sorted(by_source.items())),
        "refused": dict(sorted(refused.items())),
        "rule_errors": _rule_error_count(options) - rule_errors_before,
        "errors": errors,
        **({"extra_negatives": {"matched": sorted(extra_matched), "skipped": dict(sorted(extra_skipped.items()))}}
           if extra is not None else {}),
        "seconds": round(time.perf_counter() - started, 3),
        "node": node_name(),
        "pid": os.getpid(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    output.write_json(stats_name(shard), stats)
    return stats


def _negatives(caption: str, source_key: str, options: ShardOptions, table, refused: Counter) -> list:
    """The caption's negatives, each edit the rules refuse counted in ``refused``; none for a
    plain reshard, which never loads WordNet."""
    if not options.negatives:
        return []
    from .negatives import negatives

    # Seeded from the source's own key, not the output key: the same image and caption get the
    # same negatives whatever the shard size or the order of the input files.
    return negatives(caption, f"{options.seed}|{source_key}", table=table, swaps=options.swaps, kinds=options.kinds,
                     per_kind=options.per_kind, refused=refused)


def _imported(extra, key: str, caption: str, present: list[Negative], kinds: tuple[str, ...],
              matched: set[int], skipped: Counter) -> list[Negative]:
    """The imported negatives of this caption of sample ``key``, after the generated ones and
    beside them (no cap per kind: every one the files give). The entries that matched go to
    ``matched``; those not written are counted in ``skipped`` by reason."""
    added: list[Negative] = []
    seen = {n.text for n in present}
    for entry_ids, negatives in extra.lookup(key, caption):
        matched.update(entry_ids)
        for text, kind, rule, source in negatives:
            if kind not in kinds:  # the build's --kinds hold for imported negatives too
                skipped["kind_not_built"] += 1
            elif text == caption:
                skipped["same_as_caption"] += 1
            elif text in seen:  # a slot choosing between two equal texts would weigh that one double
                skipped["duplicate"] += 1
            else:
                seen.add(text)
                added.append(Negative(text, kind, rule, source))
    return added


_extras: dict = {}  # (location, fingerprint) -> ExtraNegatives, in this process


def cached_extra(location: str, fingerprint: str | None):
    """The build's normalised imported negatives, read once per process (see cached_table)."""
    key = (location, fingerprint)
    if key not in _extras:
        from .extra_negatives import ExtraNegatives

        with open_binary(location) as handle:
            extra = ExtraNegatives.from_bytes(handle.read())
        if fingerprint is not None and extra.fingerprint != fingerprint:
            raise ValueError(f"{location}: imported negatives {extra.fingerprint}, but the build started with "
                             f"{fingerprint}; the file changed during the build (rerun with --overwrite)")
        _extras.clear()  # one build at a time in a process
        _extras[key] = extra
        log.info("imported negatives %s read: %d entries", location, extra.entries)
    return _extras[key]


def _table(options: ShardOptions):
    """The corpus table of the build (a ``CorpusTable``), or None."""
    if not options.negatives or options.table is None:
        return None
    return cached_table(options.table, options.table_fingerprint)


_tables: dict = {}  # (location, fingerprint) -> CorpusTable, in this process


def cached_table(location: str, fingerprint: str | None):
    """The table file at ``location`` (a path or URL), read once per process and kept for the
    next shard. ``fingerprint`` is the one the build recorded: a file that no longer has it
    (replaced during the build) fails the shard, rather than silently changing its negatives."""
    key = (location, fingerprint)
    if key not in _tables:
        from .negatives.corpus import CorpusTable

        table = CorpusTable.load(location)
        if fingerprint is not None and table.fingerprint != fingerprint:
            raise ValueError(f"{location}: table fingerprint {table.fingerprint}, but the build started with "
                             f"{fingerprint}; the file changed during the build (rerun with --overwrite)")
        _tables.clear()  # one build at a time in a process: the previous table is not needed again
        _tables[key] = table
        log.info("corpus table %s read: %d keys", location, len(table))
    return _tables[key]


def _rule_error_count(options: ShardOptions) -> int:
    """Rule calls that raised so far in this process (the generator counts them)."""
    if not options.negatives:
        return 0
    from .negatives import rule_errors

    return sum(rule_errors.values())


def _read_image(entry: dict) -> tuple[tuple[str, bytes] | None, str | None]:
    path, offset, size = entry["image"]
    try:
        data = ImageRef(path, offset, size).read()
    except FileNotFoundError:
        return None, "missing_image"
    except UnreadableImage as err:
        return None, err.reason
    except (IsADirectoryError, PermissionError, OSError):
        return None, "unreadable_image"
    if offset >= 0 and len(data) < size:
        return None, "truncated_image"
    extension, reason = check_image(data)
    return (None, reason) if reason else ((extension, data), None)


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = TAR_MTIME
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _injected_faults(shard: int, written: int) -> None:
    """Test hooks for the fault tests (workers are other processes, so no monkeypatching):

    - ``FGCLIP_TEST_CRASH=SHARD:SAMPLES:MARKER``: the first process to write SAMPLES samples of
      shard SHARD creates MARKER and dies on the spot, as a killed worker would.
    - ``FGCLIP_TEST_SLOW_SAMPLE_S=SECONDS``: sleep after each sample, to give a test time to
      kill the job half-way.
    """
    crash = os.environ.get("FGCLIP_TEST_CRASH")
    if crash:
        crash_shard, crash_after, marker = crash.split(":", 2)
        if shard == int(crash_shard) and written == int(crash_after):
            try:
                with open(marker, "x"):
                    pass
            except FileExistsError:
                return
            os._exit(17)
    delay = os.environ.get("FGCLIP_TEST_SLOW_SAMPLE_S")
    if delay:
        time.sleep(float(delay))
