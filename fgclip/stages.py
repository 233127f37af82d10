"""The stage machinery both workflows share (fgclip.workflow, fgclip.workflow_real): a stage runs
into its own folder unless its record holds the same hash of its settings and upstream stages,
and the calls into the three stages and the report.

The output folder is a local path or a URL (fgclip.files.Folder). A stage's record is written
last, after everything the stage wrote, each file all or nothing; so a stage with a record is
complete, wherever its folder is, and one without is redone from scratch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable

from .config import BuildConfig, EvalConfig, TrainConfig
from .files import Folder, is_url, local_cache_folder, parent_and_name, url_key

STAGE_RECORD = "fgclip-stage.json"


def run_stage(out: Folder, name: str, settings: dict, upstream: tuple[str, ...], work: Callable[[Folder], None],
              hashes: dict[str, str], outcome: dict[str, str], echo: Callable[[str], None],
              aliases: dict[str, str] | None = None) -> None:
    """Run stage ``name`` into ``out/name`` unless its record holds the same hash of ``settings``
    and of its ``upstream`` stages' hashes (in ``hashes``, which gets this stage's). ``aliases``
    (text -> stand-in) replaces machine-specific paths in the hashed settings."""
    folder = out.sub(name)
    # Paths inside the output folder are hashed relative to it: a moved run folder is still done.
    text = json.dumps(settings, default=str)
    for original, stand_in in (aliases or {}).items():
        text = text.replace(json.dumps(original)[1:-1], stand_in)
    for spelling in output_spellings(out):
        text = text.replace(spelling, "<output>")
    settings = json.loads(text)
    # Where a stage runs does not change what it writes: moving to a cluster reruns nothing.
    # (Hashed as "no address", not left out, so that runs recorded before this was so
    # keep their hashes.)
    settings = {key: None if key == "address" else value for key, value in settings.items()}
    digest = settings_hash({"settings": hashed_settings(settings), "upstream": [hashes[u] for u in upstream]})
    hashes[name] = digest
    if record(folder).get("hash") == digest:
        outcome[name] = "skipped"
        echo(f"[{name}] done before, settings unchanged: skipped")
        return
    echo(f"[{name}] running")
    started = time.perf_counter()
    out.remove_tree(name)  # a changed stage starts from scratch
    folder.make()
    work(folder)
    folder.write_json(STAGE_RECORD, {"hash": digest, "settings": settings, "upstream": list(upstream),
                                     "seconds": round(time.perf_counter() - started, 1)})
    outcome[name] = "ran"


def output_spellings(out: Folder) -> list[str]:
    """How paths under ``out`` are spelled in stage settings: a URL as given (without a closing
    "/"); a local folder absolute, then as given."""
    if out.is_url:
        return [out.location.rstrip("/")]
    return [str(Path(out.location).resolve()), str(Path(out.location))]


def local_copies(output: str) -> Path | None:
    """The local folder that stands in for a URL ``output`` where only local files will do
    (None for a local output, which serves itself)."""
    return local_cache_folder("workflow", url_key(output)) if is_url(output) else None


def local_aliases(output: str) -> dict[str, str]:
    """The stage-hash stand-ins that make :func:`local_copies` paths hash as ``output``'s own."""
    copies = local_copies(output)
    return {str(copies): output.rstrip("/")} if copies is not None else {}


def without(values: dict, *keys: str) -> dict:
    clash = [k for k in keys if k in values]
    if clash:
        raise ValueError(f"the workflow sets {', '.join(clash)} itself; remove it from the config")
    return values


def run_build(build: BuildConfig, echo: Callable[[str], None]) -> None:
    from .pipeline.build import build_negatives

    build_negatives(dataclasses.replace(build, overwrite=True), echo=echo)


def run_train(train: TrainConfig, echo: Callable[[str], None]) -> None:
    from .trainer.launch import run as train_run

    train_run(train, echo=echo)


def run_eval(evaluation: EvalConfig, echo: Callable[[str], None]) -> None:
    from .eval.run import evaluate_where_configured

    evaluate_where_configured(evaluation, echo=echo)


def run_report(results: str, folder: Folder) -> None:
    from .eval.report import write_report

    write_report(results, folder.location)


def record(folder: Folder) -> dict:
    try:
        return json.loads(folder.read_text(STAGE_RECORD))
    except (OSError, ValueError):
        return {}


# A check that only refuses bad input changes nothing a finished stage wrote: never hashed.
UNHASHED_SETTINGS = ("max_skip_fraction",)
# Settings added after runs were recorded, with their defaults: hashed only when set, since at
# their defaults they change nothing a stage writes, and finished stages keep their hashes.
LATER_DEFAULTS = {"extra_negatives": [], "extra_negatives_format": None, "negative_sources": None, "compile": False}


def hashed_settings(settings: dict) -> dict:
    """The part of a stage's settings (plain JSON types) that its hash covers."""
    return {key: value for key, value in settings.items()
            if key not in UNHASHED_SETTINGS and not (key in LATER_DEFAULTS and value == LATER_DEFAULTS[key])}


def settings_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


def main_table(report: str | Path) -> str:
    """The report's first table (checkpoints x benchmarks); ``report`` is a path or URL."""
    folder, name = parent_and_name(report)
    lines = folder.read_text(name).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])
