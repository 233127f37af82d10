"""``evaluate(cfg)``: every checkpoint on every benchmark, one results row per number.

Rows go to a jsonl file as each subset finishes: ``{"checkpoint", "name", "benchmark", "subset",
"metric", "value", "n", "convention", "missing"}`` (value in percent, n the cases scored). A rerun
skips the (checkpoint, benchmark, subset) already there, so an interrupted eval resumes; the
averages are computed from the subset rows once all are in.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable

from ..config import EvalConfig
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
    results = Path(cfg.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    existing = read_results(results) if results.exists() else []
    names = cfg.names or tuple(Path(c).stem for c in cfg.checkpoints)
    written: list[dict] = []
    for checkpoint, name in zip(cfg.checkpoints, names):
        checkpoint_id = str(Path(checkpoint).resolve())
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
                    echo(f"{name} {benchmark}/{subset.name}: {len(subset.missing_images)} image(s) missing "
                         f"(their cases count as wrong), e.g. {subset.missing_images[0]}")
            have = {(r["subset"], r["metric"]) for r in rows}
            subset_scores = [Score(r["subset"], r["metric"], r["value"], r["n"], "", r.get("missing", 0))
                             for r in rows if not r["convention"]]
            averages = [_row(checkpoint_id, name, benchmark, s) for s in module.averages(subset_scores)
                        if (s.subset, s.metric) not in have]
            _append(results, averages)
            written += averages
            if hasattr(encoder, "flush"):
                encoder.flush()  # the features so far reach the disk cache benchmark by benchmark
            if len(written) > before:
                echo(_headline(name, benchmark, rows + averages))
    return written


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
    return {"checkpoint": checkpoint, "name": name, "benchmark": benchmark, "subset": score.subset,
            "metric": score.metric, "value": round(score.value, 4), "n": score.n, "convention": score.convention,
            "missing": score.missing}


def _append(path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(row) + "\n" for row in rows))
        handle.flush()


def read_results(path: str | Path) -> list[dict]:
    """The rows of a results file; a torn last line (an eval killed mid-write) is left out."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            log.warning("%s:%d: unreadable results row skipped", path, number)
            continue
        row.setdefault("convention", "")
        rows.append(row)
    return rows


def _headline(name: str, benchmark: str, rows: list[dict]) -> str:
    averages = [r for r in rows if r["convention"] and r["subset"] == "all"]
    shown = averages or [r for r in rows if not r["convention"]][:6]
    return f"{name} {benchmark}: " + ", ".join(f"{r['subset']} {r['metric']} {r['value']:.1f} (n={r['n']})" for r in shown)


def default_encoder(checkpoint: str, cfg: EvalConfig) -> Encoder:
    """The checkpoint's open_clip model behind a feature cache keyed by the file's hash."""
    import torch

    from .. import model as model_io
    from .encoders import CachedEncoder, ClipEncoder, FeatureCache, file_digest

    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    arch, net, transform = model_io.load_for_inference(checkpoint, cfg.model, device=device)
    cache_root = Path(cfg.cache_dir) if cfg.cache_dir else Path(cfg.results).resolve().parent / "fgclip-eval-cache"
    cache = FeatureCache(cache_root / f"{arch.name}-{file_digest(checkpoint)}")
    encoder = CachedEncoder(ClipEncoder(net, transform, model_io.tokenizer(arch), device, cfg.batch_size), cache)
    encoder.flush = cache.flush
    return encoder
