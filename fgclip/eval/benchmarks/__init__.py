"""The benchmark registry: one module per benchmark, each reading its authors' published files.

A benchmark module defines

    NAME: str                   the --benchmark name ("sugarcrepe")
    EXPECTED: str               what must be under --data-root, for the exit-2 message
    def load(data_root: Path, images: Path | None) -> list[Subset]
        its subsets (fgclip.eval.cases), raising BenchmarkDataError (naming the expected files)
        when they are absent; images it references but cannot find go in Subset.missing_images
    def averages(scores: list[Score]) -> list[Score]
        the averages its papers report, each a Score whose ``convention`` says how it was taken

and registers itself in BENCHMARKS below. Modules are imported on first use.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Iterable

from ...errors import UsageError

# --benchmark name -> module under fgclip.eval.benchmarks
BENCHMARKS: dict[str, str] = {
    "sugarcrepe": "sugarcrepe",
    "valse": "valse",
    "vl-checklist": "vl_checklist",
    "aro-relation": "aro_relation",
    "aro-attribution": "aro_attribution",
    "coco-order": "coco_order",
    "flickr-order": "flickr_order",
    "eqben": "eqben",
    "winoground": "winoground",
    "retrieval": "retrieval",
    "zeroshot": "zeroshot",
    "shapes": "shapes",  # the synthetic world of fgclip.synthetic (issue 6)
    "shapes-retrieval": "shapes_retrieval",
}


class BenchmarkDataError(UsageError):
    """A benchmark's files are missing or malformed; the message names the files expected."""


@dataclass(frozen=True)
class Score:
    """One number of one benchmark: ``value`` in percent over ``n`` scored cases."""

    subset: str
    metric: str
    value: float
    n: int
    convention: str = ""  # how an average was taken; "" for a subset's own score
    missing: int = 0  # cases whose image was absent (scored as wrong, and counted here)
    covers: tuple[str, ...] = ()  # an average's subsets (the rows it was computed from)


def module(name: str) -> ModuleType:
    if name not in BENCHMARKS:
        raise BenchmarkDataError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return importlib.import_module(f"{__name__}.{BENCHMARKS[name]}")


def mean_score(scores: list[Score], subset: str, metric: str, convention: str) -> Score | None:
    """The unweighted mean of ``scores`` (None if there are none): a macro average."""
    if not scores:
        return None
    return Score(subset, metric, sum(s.value for s in scores) / len(scores), sum(s.n for s in scores), convention,
                 sum(s.missing for s in scores), covered(scores))


def covered(scores: list[Score]) -> tuple[str, ...]:
    """The subsets behind ``scores``: a subset's own name, or what an average of them covers."""
    return tuple(dict.fromkeys(name for s in scores for name in (s.covers or (s.subset,))))


def read_json(path: Path) -> object:
    """A json file's content; BenchmarkDataError naming the file when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as error:
        raise BenchmarkDataError(f"{path}: cannot read as json ({error})") from error


def missing_paths(paths: Iterable[str]) -> list[str]:
    """The unique paths that are not on disk, each checked once, in first-use order."""
    return [p for p in dict.fromkeys(paths) if not os.path.exists(p)]
