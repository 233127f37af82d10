"""``fgclip pipeline build-negatives``: check, plan, count, write the shards, sum up; and
``fgclip pipeline count``, the counting alone.

:func:`build_negatives` is the whole job. Everything that can be wrong with the command (a
missing input, an unknown format, an output folder inside the input, a different config in
a folder already in use, an unreadable ``--stats`` table) raises :class:`UsageError` before any
shard is written; bad records inside the corpus are skipped and counted by the shards instead.
Input that is mostly skipped is a wrong option rather than bad records (a caption column named
otherwise): no sample at all, or more than ``max_skip_fraction`` of the rows skipped, is a
:class:`UsageError` too, before any shard where the plan's own counts show it, else once the
shards are written (they are kept, and a rerun with a higher threshold finishes from them).

Output folder::

    000000.tar  000000_stats.json  000001.tar  ...  sizes.json  manifest.json  negatives.png
    corpus_counts.tsv.gz  (the corpus table the negatives were made with; not with --no-stats)
    _build/     (while the job runs: config.json, plan.json, plan/, extra_negatives.json with
                 --extra-negatives, parts/ while a parallel plan is made; removed when it completes)

The plan (``_build/plan``) is written by this process for one input file or one worker, else by
one task per input file on the executor (:mod:`.plan`), the same bytes either way.

The statistics pass runs between the plan and the shards: every planned shard's captions are
counted in parallel (:mod:`.count`, summed by the executor) into the table, which is written
beside the shards before any shard, and which every shard task reads once per process.
:func:`count_table` is that pass on its own, from the input straight to one table file.

The folder may be a URL (``s3://``, ``gs://``, ``file://``), written through fsspec; see
:class:`~fgclip.files.Folder` for how each write stays all-or-nothing there.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import glob
import hashlib
import importlib.util
import json
import logging
import math
import os
import platform
import sys
import threading
import time
from collections import Counter
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, TypeVar

from .. import errors
from ..config import BUILD_OUTPUT_FIELDS, BuildConfig, CountConfig, dump_config
from ..files import Folder, is_temporary
from . import shards as shard_io
from .count import chunks, count_plan_shard, count_samples, samples_of
from .executors import LocalExecutor, RayExecutor
from .plan import PlanOptions, is_parallel, plan_in_parallel
from .report import plot_negatives, print_summary, print_table_summary, summarize
from .shards import BUILD_DIR, ShardOptions
from .sources import (InputFile, SourceError, expand_input, guess_format, is_url, read_rows, table_columns, url_info,
                      url_to_fs)

if TYPE_CHECKING:
    from .extra_negatives import ExtraNegatives
    from .negatives.corpus import CorpusTable

log = logging.getLogger(__name__)

# The build's imported negatives, normalised by the driver for the shard workers (removed with
# the rest of _build when the build completes; the manifest records the files read).
EXTRA_FILE = f"{BUILD_DIR}/extra_negatives.json"
TOP_SKIP_REASONS = 3  # skip reasons a refused build names (the stats files count them all)

T = TypeVar("T")
R = TypeVar("R")


class UsageError(errors.UsageError):
    """The command cannot run as given; the CLI exits with status 2 and this message."""


def build_negatives(cfg: BuildConfig, *, echo: Callable[[str], None] = print) -> dict:
    """Run the whole job (resuming a killed one) and return the totals written to manifest.json."""
    started = time.perf_counter()
    files, fmt = _input_files(cfg.input, cfg.format)
    executor = _executor(cfg.executor, cfg.workers, cfg.address)
    output = _output_folder(cfg.output)
    _check_output_outside_input(cfg.input, files, output)
    given = read_stats_table(cfg.stats) if cfg.stats is not None else None  # before --overwrite may remove it
    extra = read_extra(cfg)
    identity = _build_identity(cfg, files, fmt, given, extra)
    _claim_output(output, identity, cfg.overwrite, echo)

    with contextlib.ExitStack() as executor_running:
        running = False

        def start_executor() -> None:
            nonlocal running
            if not running:
                executor_running.enter_context(executor.session())
                running = True

        phase_started = time.perf_counter()
        plan = _read_or_write_plan(cfg, files, fmt, output, executor, start_executor=start_executor)
        _check_planned_skips(cfg, files, fmt, plan, output)
        plan_seconds = time.perf_counter() - phase_started
        # Unless it started beside the plan: one session for the statistics pass and the shards.
        phase_started = time.perf_counter()
        start_executor()
        start_seconds = time.perf_counter() - phase_started
        table = _corpus_table(identity["table"]["mode"], given, output, plan["shards"], executor, echo)
        if extra is not None:  # rewritten by a resumed run too: the same bytes, as the identity matched
            output.write_bytes(EXTRA_FILE, extra.to_bytes())
        finished = set(output.names("*_stats.json"))  # one listing, not a request per shard
        pending = [s for s in range(plan["shards"]) if shard_io.stats_name(s) not in finished]
        done = plan["shards"] - len(pending)
        echo(f"{plan['rows']} input rows in {plan['shards']} shards of up to {cfg.shard_size}; "
             f"{done} already written, {len(pending)} to write")
        task = functools.partial(
            shard_io.write_shard,
            output=output.location,
            options=ShardOptions(not cfg.no_negatives, cfg.kinds, cfg.negatives_per_kind, cfg.seed, cfg.swaps,
                                 table=output.path(table["file"]) if table else None,
                                 table_fingerprint=table["fingerprint"] if table else None,
                                 extra=output.path(EXTRA_FILE) if extra is not None else None,
                                 extra_fingerprint=extra.fingerprint if extra is not None else None),
        )
        phase_started = time.perf_counter()
        for stats in executor.run(task, pending):
            done += 1
            log.info("shard %06d written (%d of %d): %d samples in %.1f s", stats["shard"], done,
                     plan["shards"], stats["written"], stats["seconds"])

    shards_seconds = time.perf_counter() - phase_started
    all_stats = [json.loads(output.read_text(shard_io.stats_name(s))) for s in range(plan["shards"])]
    totals = summarize(all_stats)
    if extra is not None:
        totals["extra_negatives"] = _extra_totals(extra, totals.get("extra_negatives"))
    refusal = _skip_refusal(cfg, files, fmt, totals["rows"], totals["skipped"], totals["written"])
    if refusal:
        print_summary(totals, echo)
        raise UsageError(f"{refusal}; the {plan['shards']} shards written are kept: "
                         f"{_how_to_go_on(totals['rows'], totals['skipped'], totals['written'])}")
    totals["plan_seconds"] = round(plan_seconds, 3)  # with the executor's start when it ran beside the plan
    totals["start_seconds"] = round(start_seconds, 3)  # the executor's start when the plan was done first
    totals["stats_seconds"] = table["seconds"] if table else 0.0  # the statistics pass (or the table's copy)
    totals["shards_wall_seconds"] = round(shards_seconds, 3)  # run and stop
    totals["wall_seconds"] = round(time.perf_counter() - started, 3)
    totals["samples_per_second"] = round(totals["written"] / totals["wall_seconds"], 1) if totals["wall_seconds"] else 0.0
    output.write_json("sizes.json", {shard_io.tar_name(s["shard"]): s["written"] for s in all_stats})
    output.write_bytes("negatives.png", plot_negatives(totals))
    output.write_json("manifest.json", {
        "identity": identity,
        "config": dump_config(cfg),
        "format": fmt,
        "shards": plan["shards"],
        "table": table,
        **({"extra_negatives": extra.summary()} if extra is not None else {}),
        "totals": totals,
        "versions": _versions(),
    })
    output.remove_tree(BUILD_DIR)
    print_summary(totals, echo)
    if table:
        print_table_summary(table, echo)
    extra = f", {table['file']}" if table else ""
    echo(f"wrote {plan['shards']} shards to {output} (with sizes.json, manifest.json, negatives.png{extra})")
    return totals


def count_table(cfg: CountConfig, *, echo: Callable[[str], None] = print) -> dict:
    """``fgclip pipeline count``: the statistics pass alone, the input's rows read as a build
    reads them (images not at all), counted in parallel, the table file written all at once.
    Returns the summary it prints (the table's, with rows, skipped rows, bytes and seconds)."""
    from .negatives.corpus import CorpusTable

    started = time.perf_counter()
    files, fmt = _input_files(cfg.input, cfg.format)
    executor = _executor(cfg.executor, cfg.workers, cfg.address)
    folder, name = _table_target(cfg.output)
    skipped: Counter = Counter()
    rows = read_rows(files, fmt, image_root=cfg.image_root, image_column=cfg.image_column,
                     caption_column=cfg.caption_column)
    try:
        items = chunks(samples_of(rows, cfg.max_caption_chars, skipped))
    except SourceError as err:
        raise UsageError(str(err)) from err
    samples = sum(map(len, items))
    if not samples:
        raise UsageError(nothing_usable(cfg.input, "no usable caption to count", skipped, table_columns(files, fmt)))
    with executor.session():
        table = CorpusTable(executor.sum_counts(count_samples, items), source=cfg.output)
    data = table.to_bytes()
    folder.make()
    folder.write_bytes(name, data)
    summary = {"output": cfg.output, "rows": samples + sum(skipped.values()), "skipped": dict(sorted(skipped.items())),
               **table.summary(), "bytes": len(data), "seconds": round(time.perf_counter() - started, 3)}
    echo(f"{summary['rows']} input rows" + "".join(f"; skipped {reason}: {n}" for reason, n in summary["skipped"].items()))
    print_table_summary(summary, echo)
    echo(f"wrote {cfg.output}")
    return summary


def _input_files(pattern: str, fmt: str | None) -> tuple[list[InputFile], str]:
    try:
        files = expand_input(pattern, fmt)
        return files, fmt or guess_format(files)
    except SourceError as err:
        raise UsageError(str(err)) from err


def _executor(name: str, workers: int | None, address: str | None) -> LocalExecutor | RayExecutor:
    if name == "local":
        return LocalExecutor(workers or os.cpu_count() or 1)
    if importlib.util.find_spec("ray") is None:
        raise UsageError("Ray is not installed: pip install 'fgclip[ray]', or run with --executor local")
    return RayExecutor(workers, address)


def _table_target(location: str) -> tuple[Folder, str]:
    """(folder, file name) of ``fgclip pipeline count --output``: a path or URL of a file."""
    if is_url(location):
        head, _, name = location.rpartition("/")
    else:
        head, name = os.path.split(location)
    folder = _output_folder(head or ".")
    if folder.is_dir(name):
        raise UsageError(f"--output {location} is a folder; name the table file (e.g. {folder.path('corpus_counts.tsv.gz')})")
    return folder, name


def _read_or_write_plan(cfg: BuildConfig, files: list[InputFile], fmt: str, output: Folder, executor,
                        start_executor: Callable[[], object]) -> dict:
    """The plan a killed run left, else a new one (:func:`plan_corpus`)."""
    plan_file = f"{BUILD_DIR}/plan.json"
    if output.exists(plan_file):
        return json.loads(output.read_text(plan_file))
    try:
        return plan_corpus(cfg, files, fmt, output, executor, start_executor=start_executor)
    except SourceError as err:  # a missing column, a json that is not COCO: no shard written yet
        _forget_unstarted_build(output)
        raise UsageError(str(err)) from err


def plan_corpus(cfg: BuildConfig, files: list[InputFile], fmt: str, output: Folder, executor,
                start_executor: Callable[[], object] = lambda: None) -> dict:
    """Write the build's plan into ``output``; returns plan.json's summary. Raises SourceError
    for input that cannot be read as ``fmt``.

    Several input files and more than one worker: one task per file on the executor
    (:mod:`.plan`), its session started first. Else this process reads the rows (the serial
    plan), and ``start_executor`` is called while it does (see :func:`_beside`). Both write the
    same bytes.
    """
    if is_parallel(files, cfg.workers):
        start_executor()
        options = PlanOptions(fmt, cfg.shard_size, cfg.max_caption_chars, cfg.image_root, cfg.image_column,
                              cfg.caption_column)
        return plan_in_parallel(files, output, options, executor)
    rows = read_rows(files, fmt, image_root=cfg.image_root, image_column=cfg.image_column,
                     caption_column=cfg.caption_column)
    return _beside(lambda rows: shard_io.write_plan(rows, output, cfg.shard_size, cfg.max_caption_chars),
                   rows, start_executor)


def _forget_unstarted_build(output: Folder) -> None:
    """Remove what a build that stopped before its first shard left, so that the command run
    again with a corrected column or input needs no --overwrite; a folder with shards keeps all."""
    if output.names("[0-9]*_stats.json") or output.names("[0-9]*.tar"):
        return
    output.remove_tree(BUILD_DIR)
    if not output.is_url and output.exists() and not os.listdir(output.path()):
        os.rmdir(output.path())


def skip_reasons(skipped: Mapping[str, int], top: int = TOP_SKIP_REASONS) -> str:
    """``"reason n, reason n"``: the commonest skip reasons, most first ("no rows" for none)."""
    ranked = sorted(((reason, n) for reason, n in skipped.items() if n), key=lambda item: (-item[1], item[0]))
    if not ranked:
        return "no rows"
    words = ", ".join(f"{reason} {n}" for reason, n in ranked[:top])
    return words + (f" and {len(ranked) - top} more reason(s)" if len(ranked) > top else "")


def nothing_usable(source: str, what: str, skipped: Mapping[str, int], columns: list[str]) -> str:
    """``"{source}: {what} (reasons)"``, why ``count`` or a build has nothing to work on: the
    commonest skip reasons, and for a table the columns it holds (a caption column named
    otherwise is the usual cause)."""
    return f"{source}: {what} ({skip_reasons(skipped)})" + _columns_found(columns)


def _columns_found(columns: list[str]) -> str:
    if not columns:
        return ""
    return f"; found columns: {', '.join(columns)} (name them with --image-column / --caption-column)"


def _skip_refusal(cfg: BuildConfig, files: list[InputFile], fmt: str, rows: int, skipped: Mapping[str, int],
                  written: int | None) -> str | None:
    """Why the build must stop, or None: nothing usable (always), or a larger share of the input
    rows skipped than ``max_skip_fraction``. ``written`` is None before the shards, where
    ``skipped`` holds the plan's skips alone (the images are not read yet)."""
    lost = sum(skipped.values())
    if written == 0:
        return nothing_usable(cfg.input, "no sample written", skipped, table_columns(files, fmt))
    if rows - lost <= 0:
        return nothing_usable(cfg.input, "no usable caption to build from", skipped, table_columns(files, fmt))
    share = lost / rows
    if share <= cfg.max_skip_fraction:
        return None
    return (f"{cfg.input}: {lost} of {rows} input rows skipped ({share:.1%}), more than --max-skip-fraction "
            f"{cfg.max_skip_fraction:g} allows ({skip_reasons(skipped)})" + _columns_found(table_columns(files, fmt)))


def _check_planned_skips(cfg: BuildConfig, files: list[InputFile], fmt: str, plan: dict, output: Folder) -> None:
    """Refuse, before any shard, input whose plan alone skips too much (the shards can only skip
    more). A resumed build checks the plan it reads back, so it reaches the same verdict."""
    if "skipped" not in plan:  # a plan written before plan.json summed its skips: checked after the shards
        return
    refusal = _skip_refusal(cfg, files, fmt, plan["rows"], plan["skipped"], None)
    if refusal is None:
        return
    finished = len(output.names("[0-9]*_stats.json"))  # by a resumed run that had a higher threshold
    if not finished:
        _forget_unstarted_build(output)
        raise UsageError(f"{refusal}; no shard was written")
    usable = plan["rows"] - sum(plan["skipped"].values())
    raise UsageError(f"{refusal}; the {finished} shards written are kept: "
                     f"{_how_to_go_on(plan['rows'], plan['skipped'], usable)}")


def _how_to_go_on(rows: int, skipped: Mapping[str, int], usable: int) -> str:
    """What to rerun after a refusal that left shards: a higher threshold finishes from them; a
    fixed input or option is another build (the images are not read again without --overwrite)."""
    fix = "rerun with --overwrite once the input or options are fixed"
    if usable <= 0:  # no threshold lets a build of nothing through
        return fix
    # Rounded up to whole percent, so that the share named lets this build through.
    needed = math.ceil(round(sum(skipped.values()) / rows * 100, 6)) / 100
    return f"rerun with --max-skip-fraction {needed:g} (1 turns the check off) to finish the build from them, or {fix}"


def _beside(work: Callable[[Iterator[T]], R], items: Iterable[T], start: Callable[[], object]) -> R:
    """``work(items)`` on a second thread; ``start()`` on this one once ``work`` has taken its first
    item and is still going. Returns what ``work`` returns, or raises what it raised.

    Why: reading a large corpus into the plan and starting Ray (its processes, about 2-4 s) each
    take seconds, and neither needs the other, so side by side the build saves the shorter one.
    Ray starts on the main thread because it installs signal handlers there, and only after a
    first row was read, so that input that cannot be read at all (a missing column) fails as
    quickly as before. A plan that finishes at once (a small corpus) leaves the start to the caller.
    """
    first_taken = threading.Event()
    outcome: dict[str, Any] = {}

    def counted() -> Iterator[T]:
        for n, item in enumerate(items):
            if n == 1:  # the first item came through whole
                first_taken.set()
            yield item

    def target() -> None:
        try:
            outcome["result"] = work(counted())
        except BaseException as err:  # handed to the main thread below
            outcome["error"] = err
        finally:
            first_taken.set()

    # A daemon thread, so that Ctrl-C ends the process without waiting for the plan.
    thread = threading.Thread(target=target, name="fgclip-plan", daemon=True)
    thread.start()
    first_taken.wait()
    if not outcome:  # still planning (not yet done or failed)
        start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _output_folder(location: str) -> Folder:
    try:
        return Folder(location)
    except (ImportError, ValueError) as err:  # fsspec knows no such scheme, or lacks its package
        raise UsageError(f"--output {location}: {err}") from err


def _check_output_outside_input(pattern: str, files: list[InputFile], output: Folder) -> None:
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output} is a file; give a folder")
    store, out = _place(output.location)
    input_store, given = _place(pattern)
    if input_store != store:
        return  # say a local output and an s3:// input: they cannot overlap
    named = Folder(pattern)  # the input as named: a folder, a file or a glob
    if named.is_dir() and (out == given or given in out.parents):
        raise UsageError(f"--output {output} is inside the input folder {pattern}; a rerun would read its own shards")
    inputs = [path for where, path in map(_place, files) if where == store]
    if any(path == out or out in path.parents for path in inputs):
        raise UsageError(f"--output {output} holds input files; write the shards somewhere else")
    if glob.has_magic(pattern) and not named.exists():
        if _glob_matches((out / shard_io.tar_name(0)).parts, given.parts):
            raise UsageError(f"--output {output}: the shards written there would match --input {pattern}")


def _place(target: InputFile) -> tuple[str, PurePosixPath]:
    """(file system, absolute path) of a path or URL; a path and its file:// URL give the same."""
    if is_url(target):
        from fsspec.implementations.local import LocalFileSystem

        fs, path = url_to_fs(target)
        if not isinstance(fs, LocalFileSystem):
            protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
            return protocol, PurePosixPath("/" + path.strip("/"))
        target = path
    return "file", PurePosixPath(Path(target).resolve())


def _glob_matches(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether glob.glob(pattern, recursive=True) would list ``path`` (both split in parts)."""
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_glob_matches(path[i:], rest) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and _glob_matches(path[1:], rest)


def read_extra(cfg: BuildConfig) -> ExtraNegatives | None:
    """The build's --extra-negatives, read once here in the driver (None without any); a file
    that cannot be used at all is a usage error naming it, before any work."""
    if not cfg.extra_negatives:
        return None
    from .extra_negatives import ExtraNegativesError, read_extra_negatives

    try:
        return read_extra_negatives(cfg.extra_negatives, cfg.extra_negatives_format)
    except ExtraNegativesError as err:
        raise UsageError(f"--extra-negatives {err}") from err


def _extra_totals(extra: ExtraNegatives, counted: dict | None) -> dict:
    """What the summary and the manifest say of the imported negatives: the files' entries, how
    many of them some sample matched (the shards counted), and what was malformed or not written."""
    summary = extra.summary()
    matched = counted["matched"] if counted else 0
    return {"entries": summary["entries"], "negatives": summary["negatives"], "matched": matched,
            "unmatched": summary["entries"] - matched, "malformed_lines": summary["malformed_lines"],
            "malformed_negatives": summary["malformed_negatives"], "skipped": counted["skipped"] if counted else {}}


def _build_identity(cfg: BuildConfig, files: list[InputFile], fmt: str, given: CorpusTable | None,
                    extra: ExtraNegatives | None = None) -> dict:
    """What decides the bytes of the output: two runs into one folder must agree on it.

    The corpus table enters as its mode, and for a given table (``--stats``) its fingerprint; a
    counted table is a function of the input and the generator's code, both here already.
    Imported negatives enter by each file's path, format and content hash, and only when there
    are some, so that a build without them keeps the identity it had before they existed."""
    options = {name: value for name, value in dump_config(cfg).items() if name in BUILD_OUTPUT_FIELDS}
    options["format"] = fmt
    # The same folder named from another working directory is the same input.
    options["input"] = cfg.input if is_url(cfg.input) else os.path.abspath(cfg.input)
    if cfg.image_root is not None:
        options["image_root"] = cfg.image_root if is_url(cfg.image_root) else os.path.abspath(cfg.image_root)
    identity = {
        "options": options,
        "input_files": [_file_identity(f) for f in files],
        "generator": None if cfg.no_negatives else generator_fingerprint(),
        "table": _table_identity(cfg, given),
    }
    if extra is not None:
        identity["extra_negatives"] = [{k: f[k] for k in ("path", "format", "sha256")} for f in extra.files]
    return identity


def _table_identity(cfg: BuildConfig, given: CorpusTable | None) -> dict:
    if cfg.no_negatives or cfg.no_stats:
        return {"mode": "none"}
    if given is not None:
        return {"mode": "given", "fingerprint": given.fingerprint}
    return {"mode": "counted"}


def read_stats_table(location: str) -> CorpusTable:
    """The table of ``--stats`` (build-negatives, preview), read whole; an unreadable one is a
    usage error naming the file (and the line, for a file that is not a table)."""
    from .negatives.corpus import CorpusTable, TableError

    try:
        return CorpusTable.load(location)
    except TableError as err:
        raise UsageError(f"--stats {err}") from err
    except FileNotFoundError as err:
        raise UsageError(f"--stats {location}: no such file") from err
    except (OSError, ImportError, ValueError) as err:  # a folder, no permission, an unknown URL scheme
        raise UsageError(f"--stats {location}: cannot read it ({err})") from err


def _corpus_table(mode: str, given: CorpusTable | None, output: Folder, shards: int, executor,
                  echo: Callable[[str], None]) -> dict | None:
    """The build's table beside the shards, before any shard: counted from the plan (the
    statistics pass), copied from ``--stats``, or the one an interrupted run of this build left.
    Returns what the manifest records of it (None with no table)."""
    if mode == "none":
        return None
    from .negatives.corpus import TABLE_FILE, CorpusTable, TableError

    started = time.perf_counter()
    table, how = None, "reused"
    if output.exists(TABLE_FILE):  # written whole, before any shard: this build's (the identity matched)
        try:
            table = CorpusTable.from_bytes(output.read_bytes(TABLE_FILE), output.path(TABLE_FILE))
        except TableError as err:
            echo(f"warning: {err}; writing it again")
    if table is None or (given is not None and table.fingerprint != given.fingerprint):
        if given is not None:
            table, how = given, "copied"
        else:
            echo(f"counting the captions of {shards} shards")
            counts = executor.sum_counts(functools.partial(count_plan_shard, output=output.location), range(shards))
            table, how = CorpusTable(counts, source=output.path(TABLE_FILE)), "counted"
        output.write_bytes(TABLE_FILE, table.to_bytes())
    info = {"file": TABLE_FILE, "mode": mode, "how": how, **table.summary(), "bytes": len(table.to_bytes()),
            "seconds": round(time.perf_counter() - started, 3)}
    if given is not None:
        info["source"] = given.source
    log.info("corpus table %s (%s): %d keys in %.1f s", TABLE_FILE, how, info["keys"], info["seconds"])
    return info


def _file_identity(file: InputFile) -> dict:
    if isinstance(file, Path):
        return {"path": str(file.resolve()), "bytes": file.stat().st_size, "mtime_ns": file.stat().st_mtime_ns}
    info = url_info(file)
    # What the store says changes with the content: an ETag (S3, GCS) or a modification time.
    version = next((info[k] for k in ("ETag", "etag", "md5Hash", "mtime", "LastModified", "updated") if k in info), None)
    return {"path": file, "bytes": int(info["size"]), "version": str(version)}


@functools.lru_cache(maxsize=1)
def generator_fingerprint() -> str:
    """A digest of the generator's code and word lists: a changed rule changes the negatives."""
    folder = Path(__file__).parent / "negatives"
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _claim_output(output: Folder, identity: dict, overwrite: bool, echo: Callable[[str], None]) -> None:
    """Make ``output`` ours for this build: new, the same build resumed, or wiped (--overwrite)."""
    config_file = f"{BUILD_DIR}/config.json"
    earlier = None
    for record in (config_file, "manifest.json"):
        if output.exists(record):
            try:
                earlier = json.loads(output.read_text(record)).get("identity")
            except (json.JSONDecodeError, AttributeError) as err:
                raise UsageError(f"{output.path(record)}: unreadable ({err}); remove it or pass --overwrite") from err
            break
    strangers = output.names("*.tar") if earlier is None else []
    if not overwrite:
        if earlier is not None and earlier != identity:
            raise UsageError(
                f"{output} holds a build with another config or input ({_difference(earlier, identity)}); "
                "pass --overwrite to replace it, or choose another --output"
            )
        if strangers:
            raise UsageError(f"{output} already holds tars fgclip did not write ({strangers[0]}, ...); "
                             "choose an empty folder or pass --overwrite")
    elif earlier is not None or strangers:
        echo(f"--overwrite: removing the earlier shards in {output}")
        _remove_build_outputs(output)
    output.make()
    if earlier == identity and output.exists("manifest.json"):
        output.remove("manifest.json")  # complete already: the rerun rewrites it (and finds nothing to do)
    output.make(BUILD_DIR)
    # A killed run's half-written tars and stats; the plan and the finished shards stay.
    for name in output.names(".*"):
        if is_temporary(name):
            output.remove(name)
    output.write_json(config_file, {"identity": identity})


def _difference(earlier: dict, now: dict) -> str:
    changed = [k for k in now["options"] if earlier.get("options", {}).get(k) != now["options"][k]]
    if earlier.get("input_files") != now["input_files"]:
        changed.append("input files changed")
    if earlier.get("generator") != now["generator"]:
        changed.append("generator code changed")
    if earlier.get("extra_negatives") != now.get("extra_negatives"):
        changed.append("extra negatives changed")
    if earlier.get("table") != now["table"]:
        changed.append(f"corpus table {_table_words(earlier.get('table'))} -> {_table_words(now['table'])}")
    return ", ".join(changed) or "unknown difference"


def _table_words(table: dict | None) -> str:
    if not table:
        return "unknown"
    return table["mode"] + (f" {table['fingerprint']}" if "fingerprint" in table else "")


def _remove_build_outputs(output: Folder) -> None:
    from .negatives.corpus import TABLE_FILE

    for pattern in ("[0-9]*.tar", "[0-9]*_stats.json", "sizes.json", "manifest.json", "negatives.png", TABLE_FILE):
        for name in output.names(pattern):
            output.remove(name)
    output.remove_tree(BUILD_DIR)


def _versions() -> dict:
    versions = {"python": platform.python_version()}
    for package in ("fgclip", "nltk", "textblob", "webdataset", "ray", "pillow"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    versions["generator"] = generator_fingerprint()
    versions["platform"] = sys.platform
    return versions
