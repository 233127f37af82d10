"""The shard: unit of work, of retry and of resume.

Two steps, neither of which knows about Ray:

1. :func:`write_plan` reads the corpus once, in order, and cuts it into runs of ``shard_size``
   input rows: row ``r`` goes to shard ``r // shard_size`` and its sample key is ``r`` written
   with nine digits. Each shard's rows (captions cleaned, image located, bad rows counted) go to
   a plan file under ``_build/plan/``. The plan depends on the input and the config alone.
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
    """Cut ``rows`` into plan files; returns ``{"shards": n, "rows": n, "skipped": {reason: n}}``
    (also in plan.json).

    Bad rows, duplicate keys and dropped captions are counted in the plan of the shard their
    row falls in, so that every input row is accounted for in exactly one stats file. The
    skipped rows of all shards are summed in plan.json too, so that a build can refuse input it
    would mostly skip before it writes a shard.
    """
    output.make(f"{BUILD_DIR}/plan")
    seen: set[bytes] = set()  # 8-byte digests of the keys: about 100 bytes a row, not a row's text
    rows = iter(rows)
    shard = total = 0
    skipped: Counter = Counter()
    while True:
        chunk = list(islice(rows, shard_size))
        if not chunk:
            break
        header = {"shard": shard, "rows": len(chunk), "skipped": Counter(), "captions_skipped": Counter(),
                  "errors": []}
        entries = []
        for offset, row in enumerate(chunk):
            entry, dropped, reason, message = plan_entry(row, shard * shard_size + offset, seen, max_caption_chars)
            header["captions_skipped"].update(dropped)
            if entry is not None:
                entries.append(entry)
                continue
            header["skipped"][reason] += 1
            if len(header["errors"]) < MAX_ERRORS_KEPT:
                header["errors"].append(message)
        lines = [json.dumps(header, ensure_ascii=False)] + [json.dumps(e, ensure_ascii=False) for e in entries]
        output.write_bytes(plan_name(shard), ("\n".join(lines) + "\n").encode("utf-8"))
        skipped.update(header["skipped"])
        total += len(chunk)
        shard += 1
    summary = {"shards": shard, "rows": total, "skipped": dict(sorted(skipped.items()))}
    output.write_json(f"{BUILD_DIR}/plan.json", summary)
    return summary


def plan_entry(row: SourceRow | BadRow, row_index: int, seen: set[bytes], max_caption_chars: int):
    """``(entry, captions dropped, None, "")`` for a usable row; ``(None, [], reason, message)``
    for one that is skipped."""
    if isinstance(row, BadRow):
        return None, [], row.reason, row.message()
    where = f"{row.source.get('file', '?')}: {row.key}"
    digest = hashlib.blake2b(row.key.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    if digest in seen:
        return None, [], "duplicate_key", f"{where}: duplicate_key (seen earlier in the input)"
    seen.add(digest)
    captions, dropped = clean_captions(row.captions, max_caption_chars)
    if not captions:
        reason = dropped[0] if dropped else "no_caption"
        return None, [], reason, f"{where}: {reason}"
    entry = {
        "key": sample_key(row_index),
        "source_key": row.key,
        "image": [row.image.path, row.image.offset, row.image.size],
        "captions": captions,
        "source": row.source,
    }
    return entry, dropped, None, ""


def read_plan(output: Folder, shard: int) -> tuple[dict, list[dict]]:
    lines = output.read_text(plan_name(shard)).splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


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
