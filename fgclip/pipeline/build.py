"""``fgclip pipeline build-negatives``: check, plan, write the shards, sum up.

:func:`build_negatives` is the whole job. Everything that can be wrong with the command (a
missing input, an unknown format, an output folder inside the input, a different config in
a folder already in use) raises :class:`UsageError` before any shard is written; bad records
inside the corpus are skipped and counted by the shards instead.

Output folder::

    000000.tar  000000_stats.json  000001.tar  ...  sizes.json  manifest.json  negatives.png
    _build/     (while the job runs: config.json, plan/, tmp/; removed when it completes)
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import hashlib
import importlib.util
import json
import logging
import os
import platform
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

from ..config import BUILD_OUTPUT_FIELDS, BuildConfig, dump_config
from ..files import write_json
from . import shards as shard_io
from .executors import LocalExecutor, RayExecutor
from .report import plot_negatives, print_summary, summarize
from .shards import BUILD_DIR, ShardOptions
from .sources import InputFile, SourceError, expand_input, guess_format, is_url, read_rows, url_info, url_to_fs

log = logging.getLogger(__name__)


class UsageError(ValueError):
    """The command cannot run as given; the CLI exits with status 2 and this message."""


def build_negatives(cfg: BuildConfig, *, echo: Callable[[str], None] = print) -> dict:
    """Run the whole job (resuming a killed one) and return the totals written to manifest.json."""
    started = time.perf_counter()
    if "://" in cfg.output:  # pathlib would read "s3://b/x" as the local folder "s3:/b/x"
        raise UsageError(f"--output {cfg.output}: build-negatives writes to a local or mounted folder, not a URL "
                         "(the input may be one); mount the bucket (s3fs, gcsfuse) and give its path")
    try:
        files = expand_input(cfg.input, cfg.format)
        fmt = cfg.format or guess_format(files)
    except SourceError as err:
        raise UsageError(str(err)) from err
    if cfg.executor == "local":
        executor = LocalExecutor(cfg.workers or os.cpu_count() or 1)
    elif importlib.util.find_spec("ray") is None:
        raise UsageError("Ray is not installed: pip install 'fgclip[ray]', or run with --executor local")
    else:
        executor = RayExecutor(cfg.workers, cfg.address)
    output = Path(cfg.output)
    _check_output_outside_input(cfg.input, files, output)
    identity = _build_identity(cfg, files, fmt)
    _claim_output(output, identity, cfg.overwrite, echo)

    phase_started = time.perf_counter()
    plan_file = output / BUILD_DIR / "plan.json"
    if plan_file.exists():
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
    else:
        rows = read_rows(files, fmt, image_root=cfg.image_root, image_column=cfg.image_column,
                         caption_column=cfg.caption_column)
        try:
            plan = shard_io.write_plan(rows, output, cfg.shard_size, cfg.max_caption_chars)
        except SourceError as err:  # a missing column, a json that is not COCO: nothing written yet
            shutil.rmtree(output / BUILD_DIR, ignore_errors=True)
            if not any(output.iterdir()):
                output.rmdir()
            raise UsageError(str(err)) from err
    if plan["rows"] == 0:
        echo(f"warning: {cfg.input} holds no rows")

    plan_seconds = time.perf_counter() - phase_started
    pending = [s for s in range(plan["shards"]) if not shard_io.stats_path(output, s).exists()]
    done = plan["shards"] - len(pending)
    echo(f"{plan['rows']} input rows in {plan['shards']} shards of up to {cfg.shard_size}; "
         f"{done} already written, {len(pending)} to write")
    task = functools.partial(
        shard_io.write_shard,
        output=str(output),
        options=ShardOptions(not cfg.no_negatives, cfg.kinds, cfg.negatives_per_kind, cfg.seed),
    )
    phase_started = time.perf_counter()
    for stats in executor.run(task, pending):
        done += 1
        log.info("shard %06d written (%d of %d): %d samples in %.1f s", stats["shard"], done,
                 plan["shards"], stats["written"], stats["seconds"])

    shards_seconds = time.perf_counter() - phase_started
    all_stats = [json.loads(shard_io.stats_path(output, s).read_text(encoding="utf-8"))
                 for s in range(plan["shards"])]
    totals = summarize(all_stats)
    totals["plan_seconds"] = round(plan_seconds, 3)
    totals["shards_wall_seconds"] = round(shards_seconds, 3)  # executor start-up and stop included
    totals["wall_seconds"] = round(time.perf_counter() - started, 3)
    totals["samples_per_second"] = round(totals["written"] / totals["wall_seconds"], 1) if totals["wall_seconds"] else 0.0
    write_json(output / "sizes.json",
                        {f"{shard_io.shard_name(s['shard'])}.tar": s["written"] for s in all_stats})
    plot_negatives(totals, output / "negatives.png")
    write_json(output / "manifest.json", {
        "identity": identity,
        "config": dump_config(cfg),
        "format": fmt,
        "shards": plan["shards"],
        "totals": totals,
        "versions": _versions(),
    })
    shutil.rmtree(output / BUILD_DIR, ignore_errors=True)
    print_summary(totals, echo)
    echo(f"wrote {plan['shards']} shards to {output} (with sizes.json, manifest.json, negatives.png)")
    return totals


def _check_output_outside_input(pattern: str, files: list[InputFile], output: Path) -> None:
    out = output.resolve()
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output} is a file; give a folder")
    if is_url(pattern):
        from fsspec.implementations.local import LocalFileSystem

        fs, pattern = url_to_fs(pattern)
        if not isinstance(fs, LocalFileSystem):
            return  # the output is local, the input is not
        files = [Path(url_to_fs(f)[1]) for f in files]
    given = Path(pattern)
    if given.is_dir() and (out == given.resolve() or given.resolve() in out.parents):
        raise UsageError(f"--output {output} is inside the input folder {pattern}; a rerun would read its own shards")
    if any(f.resolve() == out or out in f.resolve().parents for f in files):
        raise UsageError(f"--output {output} holds input files; write the shards somewhere else")
    if not given.exists() and glob.has_magic(pattern):
        parts = Path(os.path.abspath(pattern)).parts
        if _glob_matches((out / "000000.tar").parts, parts):
            raise UsageError(f"--output {output}: the shards written there would match --input {pattern}")


def _glob_matches(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether glob.glob(pattern, recursive=True) would list ``path`` (both split in parts)."""
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_glob_matches(path[i:], rest) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and _glob_matches(path[1:], rest)


def _build_identity(cfg: BuildConfig, files: list[InputFile], fmt: str) -> dict:
    """What decides the bytes of the output: two runs into one folder must agree on it."""
    options = {name: value for name, value in dump_config(cfg).items() if name in BUILD_OUTPUT_FIELDS}
    options["format"] = fmt
    # The same folder named from another working directory is the same input.
    options["input"] = cfg.input if is_url(cfg.input) else os.path.abspath(cfg.input)
    if cfg.image_root is not None:
        options["image_root"] = cfg.image_root if is_url(cfg.image_root) else os.path.abspath(cfg.image_root)
    return {
        "options": options,
        "input_files": [_file_identity(f) for f in files],
        "generator": None if cfg.no_negatives else generator_fingerprint(),
    }


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


def _claim_output(output: Path, identity: dict, overwrite: bool, echo: Callable[[str], None]) -> None:
    """Make ``output`` ours for this build: new, the same build resumed, or wiped (--overwrite)."""
    manifest = output / "manifest.json"
    config_file = output / BUILD_DIR / "config.json"
    earlier = None
    for record in (config_file, manifest):
        if record.exists():
            try:
                earlier = json.loads(record.read_text(encoding="utf-8")).get("identity")
            except (json.JSONDecodeError, AttributeError) as err:
                raise UsageError(f"{record}: unreadable ({err}); remove it or pass --overwrite") from err
            break
    strangers = sorted(p.name for p in output.glob("*.tar")) if output.is_dir() and earlier is None else []
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
    output.mkdir(parents=True, exist_ok=True)
    if manifest.exists() and earlier == identity:
        manifest.unlink()  # complete already: the rerun rewrites it (and finds nothing to do)
    (output / BUILD_DIR).mkdir(exist_ok=True)
    # A killed run's half-written tars; the plan and the finished shards stay.
    shutil.rmtree(output / BUILD_DIR / "tmp", ignore_errors=True)
    write_json(config_file, {"identity": identity})


def _difference(earlier: dict, now: dict) -> str:
    changed = [k for k in now["options"] if earlier.get("options", {}).get(k) != now["options"][k]]
    if earlier.get("input_files") != now["input_files"]:
        changed.append("input files changed")
    if earlier.get("generator") != now["generator"]:
        changed.append("generator code changed")
    return ", ".join(changed) or "unknown difference"


def _remove_build_outputs(output: Path) -> None:
    for pattern in ("[0-9]*.tar", "[0-9]*_stats.json", "sizes.json", "manifest.json", "negatives.png"):
        for path in output.glob(pattern):
            path.unlink()
    shutil.rmtree(output / BUILD_DIR, ignore_errors=True)


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
