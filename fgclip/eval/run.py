"""``evaluate(cfg)``: every checkpoint on every benchmark, one results row per number.

Rows go to a jsonl file as each subset finishes: ``{"checkpoint", "name", "benchmark", "subset",
"metric", "value", "n", "convention", "missing"}`` (value in percent, n the cases scored). A rerun
skips the (checkpoint, benchmark, subset) already there, so an interrupted eval resumes. A
benchmark's averages (rows with a non-empty ``convention``, and ``covers``: the subsets they were
computed from) are recomputed from every subset row present after each run, and appended again
when they changed; a table (:func:`current_rows`, ``fgclip report``) always recomputes them, so an
average never shows fewer subsets than the file holds.

The results file may be a URL (fgclip.files.Folder). An object store cannot append, so there a
batch of rows is added by reading the whole file, adding them and uploading it whole: one atomic
write, so that a reader sees the rows before or after, never half. Two evals writing one
results URL at the same time would lose rows to each other; run them one after the other, or
give each its own file. Checkpoints may be URLs too; the feature cache is always local.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from pathlib import Path
from typing import Callable

from ..config import EvalConfig
from ..files import is_url, local_cache_folder, local_file, parent_and_name
from . import benchmarks
from .benchmarks import BenchmarkDataError, Score
from .cases import Subset
from .scoring import Encoder, score_subset

log = logging.getLogger(__name__)


def evaluate_where_configured(cfg: EvalConfig, echo: Callable[[str], None] = print) -> list[dict]:
    """``evaluate(cfg)`` in this process; or, given a cluster (``cfg.address`` or $RAY_ADDRESS),
    as one Ray task there that asks for a GPU when ``cfg.device`` is cuda (the benchmark files,
    checkpoints and results file must then be on a file system every node sees)."""
    address = cfg.address or os.environ.get("RAY_ADDRESS")
    if not address:
        return evaluate(cfg, echo)
    from .. import ray_backend

    gpus = 1 if (cfg.device or "").startswith("cuda") else 0
    return ray_backend.run_task(evaluate, cfg, echo, num_gpus=gpus, address=address)


def evaluate(cfg: EvalConfig, echo: Callable[[str], None] = print,
             encoder_for: Callable[[str], Encoder] | None = None) -> list[dict]:
    """Score; returns the rows written by this call. ``encoder_for(checkpoint)`` replaces the
    open_clip encoder (tests)."""
    loaded = {name: _load_benchmark(cfg, name) for name in cfg.benchmarks}  # all data checked before any model
    results = cfg.results if is_url(cfg.results) else Path(cfg.results)
    folder, file_name = parent_and_name(results)
    folder.make()
    existing = read_results(results) if folder.exists(file_name) else []
    names = cfg.names or tuple(Path(c.rstrip("/").rpartition("/")[2] if is_url(c) else c).stem for c in cfg.checkpoints)
    written: list[dict] = []
    for checkpoint, name in zip(cfg.checkpoints, names):
        checkpoint_id = checkpoint_identity(checkpoint)
        done = {(r["benchmark"], r["subset"]) for r in existing if r["checkpoint"] == checkpoint_id and not r["convention"]}
        if all((b, s.name) in done or _empty(s) for b, (_, subsets) in loaded.items() for s in subsets):
            echo(f"{name}: every subset already scored in {results}")
        encoder = None  # the model is loaded only if some subset still needs it
        for benchmark, (module, subsets) in loaded.items():
            rows = [r for r in existing if r["checkpoint"] == checkpoint_id and r["benchmark"] == benchmark]
            before = len(written)
            for subset in subsets:
                if (benchmark, subset.name) in done or _empty(subset):
                    continue  # an empty subset (VL-CheckList ships some) has no score, not a 0
                if encoder is None:
                    encoder = (encoder_for or (lambda path: default_encoder(path, cfg)))(checkpoint)
                scores = score_subset(subset, encoder)
                new = [_row(checkpoint_id, name, benchmark, score) for score in scores]
                _append(results, new)
                rows += new
                written += new
                if subset.missing_images:
                    echo(f"{name} {benchmark}/{subset.name}: {subset.missing_summary()}; their cases count as wrong")
            # Averages are recomputed from every subset row there is now, never kept from an
            # earlier run that saw fewer subsets; a new snapshot is written when they changed.
            subset_rows = _latest_subset_rows(rows)
            averages = average_rows(module, checkpoint_id, name, benchmark, subset_rows)
            stored = {(r["subset"], r["metric"]): r for r in rows if r["convention"]}
            if any(stored.get((r["subset"], r["metric"])) != r for r in averages):
                _append(results, averages)
                written += averages
            if hasattr(encoder, "flush"):
                encoder.flush()  # the features so far reach the disk cache benchmark by benchmark
            if len(written) > before:
                echo(_headline(name, benchmark, subset_rows + averages))
    return written


def checkpoint_identity(checkpoint: str) -> str:
    """How results rows name a checkpoint: its absolute path, or its URL as given."""
    return checkpoint if is_url(checkpoint) else str(Path(checkpoint).resolve())


def average_rows(module, checkpoint: str, name: str, benchmark: str, subset_rows: list[dict]) -> list[dict]:
    """The benchmark's averages over ``subset_rows``, as rows; each names the subsets it covers."""
    scores = [Score(r["subset"], r["metric"], r["value"], r["n"], "", r.get("missing", 0)) for r in subset_rows]
    return [_row(checkpoint, name, benchmark, score) for score in module.averages(scores)]


def _latest_subset_rows(rows: list[dict]) -> list[dict]:
    """Each (checkpoint, benchmark, subset, metric)'s last subset row, in first-seen order."""
    latest: dict[tuple, dict] = {}
    for row in rows:
        if not row["convention"]:
            latest[(row["checkpoint"], row["benchmark"], row["subset"], row["metric"])] = row
    return list(latest.values())


def current_rows(rows: list[dict]) -> list[dict]:
    """What a table of ``rows`` (a results file, read in order) should show: each subset's latest
    score, then its benchmark's averages recomputed from those. A results file is a log, and an
    average in it is a snapshot of the subsets scored when it was written (its ``covers``); a
    later run may have added subsets, or an older fgclip averaged differently. For a benchmark
    fgclip does not know, the last stored value of each average is kept."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["checkpoint"], row["benchmark"]), []).append(row)
    out: list[dict] = []
    for (checkpoint, benchmark), group in groups.items():
        subset_rows = _latest_subset_rows(group)
        out += subset_rows
        if benchmark in benchmarks.BENCHMARKS:
            name = (subset_rows or group)[-1]["name"]
            out += average_rows(benchmarks.module(benchmark), checkpoint, name, benchmark, subset_rows)
        else:
            out += list({(r["subset"], r["metric"]): r for r in group if r["convention"]}.values())
    return out


def _load_benchmark(cfg: EvalConfig, name: str) -> tuple[object, list[Subset]]:
    module = benchmarks.module(name)
    root = _per_benchmark(Path(cfg.data_root), name, len(cfg.benchmarks))
    images = _per_benchmark(Path(cfg.images), name, len(cfg.benchmarks)) if cfg.images else None
    if not root.is_dir():
        raise BenchmarkDataError(f"{name}: {root} is not a folder; expected {module.EXPECTED}")
    return module, module.load(root, images)


def _empty(subset: Subset) -> bool:
    task = subset.task
    if isinstance(task, (list, tuple)):
        return not task
    return not getattr(task, "images", True)


def _per_benchmark(folder: Path, name: str, count: int) -> Path:
    return folder / name if count > 1 and (folder / name).is_dir() else folder


def _row(checkpoint: str, name: str, benchmark: str, score: Score) -> dict:
    row = {"checkpoint": checkpoint, "name": name, "benchmark": benchmark, "subset": score.subset,
           "metric": score.metric, "value": round(score.value, 4), "n": score.n, "convention": score.convention,
           "missing": score.missing}
    if score.convention:
        row["covers"] = list(score.covers)
    return row


def _append(path: Path | str, rows: list[dict]) -> None:
    """Add ``rows`` to the results file in one write, then fsync, so that a kill leaves at most a
    cut last line. A line already cut by a kill is ended first: it stays a bad line of its own
    (skipped on reading) instead of swallowing the first row written after it. A results URL is
    read, extended and written back whole (the module docstring says why)."""
    if not rows:
        return
    data = "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")
    if is_url(path):
        folder, name = parent_and_name(path)
        before = folder.read_bytes(name) if folder.exists(name) else b""
        if before and not before.endswith(b"\n"):
            before += b"\n"
        folder.write_bytes(name, before + data)
        return
    handle = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
    try:
        size = os.fstat(handle).st_size
        if size:
            os.lseek(handle, size - 1, os.SEEK_SET)  # O_APPEND still sends the write to the end
            if os.read(handle, 1) != b"\n":
                data = b"\n" + data
        view = memoryview(data)
        while view:  # a regular file takes it whole; the loop only guards a short write
            view = view[os.write(handle, view):]
        os.fsync(handle)
    finally:
        os.close(handle)


# What a results row must hold, and the fields it may leave out (rows of early versions had no
# convention); the report and the resume logic rely on these types.
ROW_FIELDS = {"checkpoint": str, "name": str, "benchmark": str, "subset": str, "metric": str, "value": float, "n": int}
OPTIONAL_ROW_FIELDS = {"convention": ("", str), "missing": (0, int)}
_WARNED_LINES = 20  # per file; the rest are only counted, so a garbage file does not flood the log


def read_results(path: str | Path) -> list[dict]:
    """The rows of a results file. A line that is not a row (a line cut by a kill, a hand edit,
    another program's output) is skipped with a warning naming the file and line, and counted."""
    return read_results_counted(path)[0]


def read_results_counted(path: str | Path) -> tuple[list[dict], dict[str, int]]:
    """``read_results``, and the lines skipped per reason. ``path`` may be a URL."""
    rows: list[dict] = []
    skipped: dict[str, int] = {}
    folder, name = parent_and_name(path)
    for number, line in enumerate(folder.read_bytes(name).split(b"\n"), 1):
        if not line.strip():
            continue
        row, problem = _parse_row(line)
        if problem:
            skipped[problem] = skipped.get(problem, 0) + 1
            if sum(skipped.values()) <= _WARNED_LINES:
                log.warning("%s:%d: %s; line skipped", path, number, problem)
            continue
        rows.append(row)
    if skipped:
        unnamed = sum(skipped.values()) - _WARNED_LINES
        log.warning("%s: %s%s", path, describe_skipped(skipped),
                    f" (only the first {_WARNED_LINES} named)" if unnamed > 0 else "")
    return rows, skipped


def describe_skipped(skipped: dict[str, int]) -> str:
    """``skipped`` (reason -> lines) as one phrase: '3 bad line(s) skipped: 2 not JSON, ...'."""
    reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items(), key=lambda rc: -rc[1]))
    return f"{sum(skipped.values())} bad line(s) skipped: {reasons}"


def _parse_row(line: bytes) -> tuple[dict | None, str]:
    """The row a line holds, or None and why it is not one."""
    try:
        row = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8"
    except (ValueError, RecursionError):  # also a number too long for an int, arrays nested too deep
        return None, "not JSON (cut by a kill?)"
    if not isinstance(row, dict):
        return None, f"{_JSON_KINDS[type(row)]}, not a JSON object"
    for key, kind in ROW_FIELDS.items():
        if key not in row:
            return None, f"no {key!r}"
        if not _is_a(row[key], kind):
            return None, f"{key!r} is not {_KIND_NAMES[kind]}"
    for key, (default, kind) in OPTIONAL_ROW_FIELDS.items():
        row.setdefault(key, default)
        if not _is_a(row[key], kind):
            return None, f"{key!r} is not {_KIND_NAMES[kind]}"
    return row, ""


_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false",
               type(None): "null"}
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_KIND_NAMES = {str: "a string of UTF-8 text", int: "a whole number >= 0", float: "a finite number"}


def _is_a(value, kind: type) -> bool:
    if isinstance(value, bool):  # JSON true is no count and no score
        return False
    if kind is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    if kind is int:
        return isinstance(value, int) and value >= 0
    if kind is str:  # a lone surrogate ("\\ud800" in the JSON) is text no UTF-8 file can hold
        return isinstance(value, str) and not _SURROGATE.search(value)
    return isinstance(value, kind)


def _headline(name: str, benchmark: str, rows: list[dict]) -> str:
    averages = [r for r in rows if r["convention"] and r["subset"] == "all"]
    shown = averages or [r for r in rows if not r["convention"]][:6]
    return f"{name} {benchmark}: " + ", ".join(f"{r['subset']} {r['metric']} {r['value']:.1f} (n={r['n']})" for r in shown)


def default_encoder(checkpoint: str, cfg: EvalConfig) -> Encoder:
    """The checkpoint's open_clip model behind a feature cache keyed by the file's hash. A
    checkpoint at a URL is downloaded once, to a temporary file, for both."""
    import torch

    from .. import model as model_io
    from .encoders import CachedEncoder, ClipEncoder, FeatureCache, file_digest

    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    with local_file(checkpoint) as local:
        try:
            arch, net, transform = model_io.load_for_inference(local, cfg.model, device=device)
        except model_io.ModelError as err:
            if not is_url(checkpoint):
                raise
            # named as given, not as the temporary download
            raise model_io.ModelError(str(err).replace(str(local), checkpoint)) from err.__cause__
        digest = file_digest(local)
    cache = FeatureCache(cache_folder(cfg) / f"{arch.name}-{digest}")
    encoder = CachedEncoder(ClipEncoder(net, transform, model_io.tokenizer(arch), device, cfg.batch_size), cache)
    encoder.flush = cache.flush
    return encoder


def cache_folder(cfg: EvalConfig) -> Path:
    """Where the features are cached: ``cache_dir``; else beside a local results file, or in
    this machine's cache folder for results at a URL (the cache is local files only)."""
    if cfg.cache_dir:
        return Path(cfg.cache_dir)
    if is_url(cfg.results):
        return local_cache_folder("eval-cache")
    return Path(cfg.results).resolve().parent / "fgclip-eval-cache"
