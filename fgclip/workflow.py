"""``fgclip workflow run``: the whole job on the synthetic shapes world, stage after stage.

1. ``corpus``: training scenes (images + captions) and held-out benchmark scenes
   (fgclip.synthetic.shapes);
2. ``shards``: build-negatives on the corpus (the pipeline's normal jsonl input);
3. ``pretrained``: a tiny open_clip model trained from scratch with plain CLIP loss on those
   shards (negatives ignored): "the pretrained CLIP";
4. ``ce`` and ``control``: fine-tuned from it with the full objective, and with plain CLIP loss on
   the same data, steps and seed;
5. ``eval``: the three checkpoints on the ``shapes`` and ``shapes-retrieval`` benchmarks;
6. ``report``: tables and PNG charts; the main table is printed.

Each stage writes ``fgclip-stage.json`` into its folder when it completes, holding a hash of its
own settings and of the stages it depends on. A rerun skips a stage whose record matches and
redoes (from scratch) one whose settings, or whose inputs, changed. This module is the one place,
with the CLI, that knows every stage.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import yaml

from .config import BuildConfig, EvalConfig, TrainConfig, dump_config, load_config, read_yaml, refuse_url
from .files import write_json

STAGE_RECORD = "fgclip-stage.json"
MODEL_NAME = "fgclip-shapes-tiny"
CHECKPOINT_NAMES = ("pretrained", "control", "ce")


@dataclass(frozen=True)
class WorkflowConfig:
    """The workflow's YAML: one mapping per stage, each key a field of that stage's config."""

    output: str = "runs/demo"
    seed: int = 0
    train_images: int = 2000
    test_images: int = 500
    world: dict = field(default_factory=dict)  # fgclip.synthetic.shapes.WorldConfig fields
    model: dict = field(default_factory=dict)  # an open_clip model config (embed_dim, vision_cfg, text_cfg)
    build: dict = field(default_factory=dict)  # BuildConfig fields
    pretrain: dict = field(default_factory=dict)  # TrainConfig fields
    finetune: dict = field(default_factory=dict)  # TrainConfig fields, for both ce and control
    eval: dict = field(default_factory=dict)  # EvalConfig fields (batch_size, device)
    # A Ray cluster (auto, ray://host:10001) for the build and for training with ray_workers;
    # None: $RAY_ADDRESS, else a local Ray. A stage section's own `address` wins.
    address: str | None = None

    def __post_init__(self):
        refuse_url("--output", self.output)
        for name in ("train_images", "test_images"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for key in ("embed_dim", "vision_cfg", "text_cfg"):
            if key not in self.model:
                raise ValueError(f"model: missing key {key!r} (an open_clip model config)")


def default_config_path() -> Path:
    return Path(str(resources.files("fgclip") / "workflow_default.yaml"))


def load_workflow_config(path: str | Path | None = None, **overrides: Any) -> WorkflowConfig:
    """The shipped default, updated section by section by ``path``, then ``overrides``."""
    values = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    if path is not None:
        mine = read_yaml(path) or {}
        if not isinstance(mine, dict):
            raise ValueError(f"{path}: expected a mapping of workflow settings")
        unknown = sorted(set(mine) - {f.name for f in dataclasses.fields(WorkflowConfig)})
        if unknown:
            raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)}; valid: "
                             f"{', '.join(f.name for f in dataclasses.fields(WorkflowConfig))}")
        for key, value in mine.items():
            values[key] = {**values[key], **value} if isinstance(value, dict) and isinstance(values.get(key), dict) \
                else value
    values.update({k: v for k, v in overrides.items() if v is not None})
    cfg = load_config(WorkflowConfig, **values)
    check(cfg)
    return cfg


def check(cfg: WorkflowConfig) -> None:
    """Build the world's and every stage's config (no files touched): ValueError naming a bad key."""
    from .synthetic.shapes import WorldConfig

    WorldConfig(**cfg.world)
    stage_configs(cfg)


def stage_configs(cfg: WorkflowConfig) -> dict:
    """{stage: its config} for "shards" (BuildConfig), "pretrained", "ce", "control"
    (TrainConfig) and "eval" (EvalConfig), with the paths ``run`` gives them."""
    out = Path(cfg.output)
    return _stage_configs(cfg, out, out / "model" / f"{MODEL_NAME}.json")


def run(cfg: WorkflowConfig, echo: Callable[[str], None] = print) -> dict:
    """Run every stage not already done; returns {stage: "ran" | "skipped"} and the report path."""
    from .synthetic.shapes import WorldConfig

    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    world = WorldConfig(**cfg.world)
    model_path = out / "model" / f"{MODEL_NAME}.json"
    model_path.parent.mkdir(exist_ok=True)
    write_json(model_path, cfg.model)
    stages = _stage_configs(cfg, out, model_path)  # every stage config checked before any work
    outcome: dict[str, str] = {}
    hashes: dict[str, str] = {}

    def stage(name: str, settings: dict, upstream: tuple[str, ...], work: Callable[[Path], None]) -> None:
        folder = out / name
        # Paths inside the output folder are hashed relative to it: a moved run folder is still done.
        settings = json.loads(json.dumps(settings, default=str).replace(str(out.resolve()), "<output>")
                              .replace(str(out), "<output>"))
        # Where a stage runs does not change what it writes: moving to a cluster reruns nothing.
        # (Hashed as "no address", not left out, so that runs recorded before this was so
        # keep their hashes.)
        settings = {key: None if key == "address" else value for key, value in settings.items()}
        # A check that only refuses bad input changes nothing a finished stage wrote; left out,
        # so that runs recorded before it existed keep their hashes.
        hashed = {key: value for key, value in settings.items() if key not in UNHASHED_SETTINGS}
        digest = _hash({"settings": hashed, "upstream": [hashes[u] for u in upstream]})
        hashes[name] = digest
        if _record(folder).get("hash") == digest:
            outcome[name] = "skipped"
            echo(f"[{name}] done before, settings unchanged: skipped")
            return
        echo(f"[{name}] running")
        started = time.perf_counter()
        shutil.rmtree(folder, ignore_errors=True)  # a changed stage starts from scratch
        folder.mkdir(parents=True)
        work(folder)
        write_json(folder / STAGE_RECORD, {"hash": digest, "settings": settings, "upstream": list(upstream),
                                           "seconds": round(time.perf_counter() - started, 1)})
        outcome[name] = "ran"

    stage("corpus", {"world": dataclasses.asdict(world), "train_images": cfg.train_images,
                     "test_images": cfg.test_images, "seed": cfg.seed}, (),
          lambda folder: _make_corpus(folder, cfg, world))
    stage("shards", dump_config(stages["shards"]), ("corpus",), lambda folder: _build(stages["shards"], echo))
    stage("pretrained", dump_config(stages["pretrained"]) | {"model": cfg.model}, ("shards",),
          lambda folder: _train(stages["pretrained"], echo))
    for name in ("ce", "control"):
        stage(name, dump_config(stages[name]), ("pretrained",), lambda folder, name=name: _train(stages[name], echo))
    stage("eval", dump_config(stages["eval"]), ("corpus", "ce", "control"), lambda folder: _evaluate(stages["eval"], echo))
    stage("report", {}, ("eval",), lambda folder: _report(stages["eval"].results, folder))
    table = _main_table(out / "report" / "report.md")
    echo(table)
    return {"stages": outcome, "report": str(out / "report" / "report.md"), "results": stages["eval"].results}


def _stage_configs(cfg: WorkflowConfig, out: Path, model_path: Path) -> dict:
    """Each stage's own config, built (and so validated) before any stage runs."""
    checkpoints = {name: str(out / name / "checkpoints" / "latest.pt") for name in ("pretrained", "ce", "control")}
    shards = str(out / "shards")
    cluster = {"address": cfg.address} if cfg.address else {}
    common = {"shards": shards, "model": str(model_path), "seed": cfg.seed, **cluster}
    finetune = {**common, "pretrained": checkpoints["pretrained"], **cfg.finetune}
    return {
        "shards": load_config(BuildConfig, input=str(out / "corpus" / "train" / "corpus.jsonl"), output=shards,
                              seed=cfg.seed, **{**cluster, **_without(cfg.build, "input", "output")}),
        "pretrained": load_config(TrainConfig, output=str(out / "pretrained"), no_hard_negatives=True,
                                  **{**common, **cfg.pretrain}),
        "ce": load_config(TrainConfig, output=str(out / "ce"), **{**finetune, "no_hard_negatives": False}),
        "control": load_config(TrainConfig, output=str(out / "control"), **{**finetune, "no_hard_negatives": True}),
        "eval": load_config(EvalConfig, checkpoints=tuple(checkpoints[n] for n in CHECKPOINT_NAMES),
                            names=CHECKPOINT_NAMES, benchmarks=("shapes", "shapes-retrieval"),
                            data_root=str(out / "corpus" / "benchmark"), results=str(out / "eval" / "results.jsonl"),
                            cache_dir=str(out / "eval" / "cache"),
                            **{**cluster, **_without(cfg.eval, "checkpoints", "results")}),
    }


def _without(values: dict, *keys: str) -> dict:
    clash = [k for k in keys if k in values]
    if clash:
        raise ValueError(f"the workflow sets {', '.join(clash)} itself; remove it from the config")
    return values


def _make_corpus(folder: Path, cfg: WorkflowConfig, world) -> None:
    from .synthetic.shapes import write_benchmark, write_corpus

    write_corpus(folder / "train", cfg.train_images, world, cfg.seed)
    write_benchmark(folder / "benchmark", cfg.test_images, world, cfg.seed)


def _build(build: BuildConfig, echo: Callable[[str], None]) -> None:
    from .pipeline.build import build_negatives

    build_negatives(dataclasses.replace(build, overwrite=True), echo=echo)


def _train(train: TrainConfig, echo: Callable[[str], None]) -> None:
    from .trainer.launch import run as train_run

    train_run(train, echo=echo)


def _evaluate(evaluation: EvalConfig, echo: Callable[[str], None]) -> None:
    from .eval.run import evaluate_where_configured

    evaluate_where_configured(evaluation, echo=echo)


def _report(results: str, folder: Path) -> None:
    from .eval.report import write_report

    write_report(results, folder)


def _record(folder: Path) -> dict:
    try:
        return json.loads((folder / STAGE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


UNHASHED_SETTINGS = ("max_skip_fraction",)


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


def _main_table(report: Path) -> str:
    """The report's first table (checkpoints x benchmarks)."""
    lines = report.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])
