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

The output may be a URL (``s3://bucket/demo``): every stage's folder and record is then under it,
written through fgclip.files.Folder. What only local files can serve is kept in a local folder
of this machine's cache (fgclip.stages.local_copies): the copy of the benchmark the eval reads, and
the eval's feature cache. Its paths are hashed as the output's own, so a stage's hash does not
depend on the machine, nor on whether the output is local.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import yaml

from .config import BuildConfig, EvalConfig, TrainConfig, check_url_scheme, dump_config, load_config, read_yaml
from .files import Folder, join
from .stages import STAGE_RECORD, run_build, run_eval, main_table, run_report, run_train, without, run_stage  # noqa: F401
from .stages import local_aliases, local_copies

MODEL_NAME = "fgclip-shapes-tiny"
NEGATIVE_CHOICES = ("generated", "scene-graph", "both")
SCENE_GRAPH_FILE = "scene_graph_negatives.jsonl"  # in the corpus's train folder
CHECKPOINT_NAMES = ("pretrained", "control", "ce")


@dataclass(frozen=True)
class WorkflowConfig:
    """The workflow's YAML: one mapping per stage, each key a field of that stage's config."""

    output: str = "runs/demo"
    seed: int = 0
    train_images: int = 2000
    test_images: int = 500
    world: dict = field(default_factory=dict)  # fgclip.synthetic.shapes.WorldConfig fields
    # An open_clip model config (embed_dim, vision_cfg, text_cfg); with a corpus, also a model name or config path.
    model: dict | str = field(default_factory=dict)
    build: dict = field(default_factory=dict)  # BuildConfig fields
    pretrain: dict = field(default_factory=dict)  # TrainConfig fields
    finetune: dict = field(default_factory=dict)  # TrainConfig fields, for both ce and control
    eval: dict = field(default_factory=dict)  # EvalConfig fields (batch_size, device)
    # The shapes corpus's training negatives (NEGATIVE_CHOICES): "generated" by the pipeline's
    # rules (the default), "scene-graph" made exact from each scene (fgclip.synthetic.shapes,
    # merged by build-negatives --extra-negatives), or "both" side by side.
    negatives: str = "generated"
    # A Ray cluster (auto, ray://host:10001) for the build and for training with ray_workers;
    # None: $RAY_ADDRESS, else a local Ray. A stage section's own `address` wins.
    address: str | None = None
    # The real-data workflow (fgclip.workflow_real), chosen by giving a corpus: build-negatives'
    # input and options (BuildConfig fields but output). Then `model` may also be an open_clip
    # name or a config JSON path, and the fields below apply; world, train_images, test_images
    # and pretrain do not.
    corpus: dict | None = None
    pretrained: str | None = None  # a local weights file, or an open_clip pretrained tag ("openai")
    runs: dict = field(default_factory=dict)  # fine-tune name -> its TrainConfig fields (over `finetune`)
    wise_ft: tuple[float, ...] = ()  # WiSE-FT alphas: each fine-tune mixed with the pretrained weights

    def __post_init__(self):
        check_url_scheme("--output", self.output)
        if self.negatives not in NEGATIVE_CHOICES:
            raise ValueError(f"negatives must be one of {', '.join(NEGATIVE_CHOICES)}, got {self.negatives!r}")
        if self.corpus is not None and self.negatives != "generated":
            raise ValueError("negatives: scene-graph negatives are the shapes world's; a corpus has no scene graph")
        for name in ("train_images", "test_images"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.corpus is not None:
            from .workflow_real import validate

            validate(self)
            return
        for name in ("pretrained", "runs", "wise_ft"):
            if getattr(self, name):
                raise ValueError(f"{name}: only for the real-data workflow; give a corpus (docs/workflow.md)")
        if not isinstance(self.model, dict):
            raise ValueError(f"model: the shapes workflow needs an open_clip model config mapping, got {self.model!r}")
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
        if mine.get("corpus") is not None:
            # A real-data config is complete on its own: the demo's sizes and learning rates
            # must not leak into a fine-tune of real weights.
            from .workflow_real import DEMO_ONLY

            misplaced = [key for key in DEMO_ONLY if key in mine]
            if misplaced:
                raise ValueError(f"{path}: {', '.join(misplaced)} only apply to the shapes workflow, not with a corpus")
            values = {"output": values["output"]}
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

    if cfg.corpus is None:
        WorldConfig(**cfg.world)
    stage_configs(cfg)


def stage_configs(cfg: WorkflowConfig) -> dict:
    """{stage: its config} for "shards" (BuildConfig), "pretrained", "ce", "control"
    (TrainConfig) and "eval" (EvalConfig), with the paths ``run`` gives them."""
    if cfg.corpus is not None:
        from .workflow_real import stage_configs as real_stage_configs

        return real_stage_configs(cfg)
    return _stage_configs(cfg, cfg.output, join(cfg.output, "model", f"{MODEL_NAME}.json"))



def run(cfg: WorkflowConfig, echo: Callable[[str], None] = print) -> dict:
    """Run every stage not already done; returns {stage: "ran" | "skipped"} and the report path."""
    from .synthetic.shapes import WorldConfig

    if cfg.corpus is not None:
        from .workflow_real import run as run_real

        return run_real(cfg, echo)
    out = Folder(cfg.output)
    out.make()
    world = WorldConfig(**cfg.world)
    model_path = join(cfg.output, "model", f"{MODEL_NAME}.json")
    out.make("model")
    out.write_json(f"model/{MODEL_NAME}.json", cfg.model)
    stages = _stage_configs(cfg, cfg.output, model_path)  # every stage config checked before any work
    outcome: dict[str, str] = {}
    hashes: dict[str, str] = {}

    def stage(name: str, settings: dict, upstream: tuple[str, ...], work: Callable[[Folder], None]) -> None:
        run_stage(out, name, settings, upstream, work, hashes, outcome, echo, local_aliases(cfg.output))

    corpus = {"world": dataclasses.asdict(world), "train_images": cfg.train_images, "test_images": cfg.test_images,
              "seed": cfg.seed}
    if cfg.negatives != "generated":  # then the corpus holds the scene-graph negatives too
        corpus["negatives"] = cfg.negatives
    stage("corpus", corpus, (), lambda folder: _make_corpus(folder, cfg, world))
    stage("shards", dump_config(stages["shards"]), ("corpus",), lambda folder: run_build(stages["shards"], echo))
    stage("pretrained", dump_config(stages["pretrained"]) | {"model": cfg.model}, ("shards",),
          lambda folder: run_train(stages["pretrained"], echo))
    for name in ("ce", "control"):
        stage(name, dump_config(stages[name]), ("pretrained",), lambda folder, name=name: run_train(stages[name], echo))
    stage("eval", dump_config(stages["eval"]), ("corpus", "ce", "control"),
          lambda folder: _evaluate(out, stages["eval"], echo))
    stage("report", {}, ("eval",), lambda folder: run_report(stages["eval"].results, folder))
    report = join(cfg.output, "report", "report.md")
    echo(main_table(report))
    return {"stages": outcome, "report": report, "results": stages["eval"].results}


def _evaluate(out: Folder, evaluation: EvalConfig, echo: Callable[[str], None]) -> None:
    """The eval stage. For a URL output, the benchmark is first copied from it into the local
    folder the eval's data_root names (anew: the corpus stage may have been redone since)."""
    copies = local_copies(out.location)
    if copies is not None:
        benchmark = copies / "corpus" / "benchmark"
        shutil.rmtree(benchmark, ignore_errors=True)
        out.download_tree("corpus/benchmark", benchmark)
    run_eval(evaluation, echo)


def _negative_options(cfg: WorkflowConfig, out: str) -> dict:
    """The build options that give the shards the chosen negatives (none for the default)."""
    if cfg.negatives == "generated":
        return {}
    scene_graph = (join(out, "corpus", "train", SCENE_GRAPH_FILE),)
    return {"extra_negatives": scene_graph, **({"no_negatives": True} if cfg.negatives == "scene-graph" else {})}


def _stage_configs(cfg: WorkflowConfig, out: str, model_path: str) -> dict:
    """Each stage's own config, built (and so validated) before any stage runs."""
    checkpoints = {name: join(out, name, "checkpoints", "latest.pt") for name in ("pretrained", "ce", "control")}
    shards = join(out, "shards")
    local = local_copies(out) or out  # the eval reads the benchmark and keeps its cache in local files
    cluster = {"address": cfg.address} if cfg.address else {}
    common = {"shards": shards, "model": model_path, "seed": cfg.seed, **cluster}
    finetune = {**common, "pretrained": checkpoints["pretrained"], **cfg.finetune}
    return {
        "shards": load_config(BuildConfig, input=join(out, "corpus", "train", "corpus.jsonl"), output=shards,
                              seed=cfg.seed, **{**cluster, **_negative_options(cfg, out),
                                                **without(cfg.build, "input", "output")}),
        "pretrained": load_config(TrainConfig, output=join(out, "pretrained"), no_hard_negatives=True,
                                  **{**common, **cfg.pretrain}),
        "ce": load_config(TrainConfig, output=join(out, "ce"), **{**finetune, "no_hard_negatives": False}),
        "control": load_config(TrainConfig, output=join(out, "control"), **{**finetune, "no_hard_negatives": True}),
        "eval": load_config(EvalConfig, checkpoints=tuple(checkpoints[n] for n in CHECKPOINT_NAMES),
                            names=CHECKPOINT_NAMES, benchmarks=("shapes", "shapes-retrieval"),
                            data_root=join(local, "corpus", "benchmark"), results=join(out, "eval", "results.jsonl"),
                            cache_dir=join(local, "eval", "cache"),
                            **{**cluster, **without(cfg.eval, "checkpoints", "results")}),
    }


def _make_corpus(folder: Folder, cfg: WorkflowConfig, world) -> None:
    """The corpus stage: written in place in a local folder; for a URL, into a local temporary
    folder first (the scene writers take local paths), then uploaded file by file."""
    if not folder.is_url:
        _write_corpus(Path(folder.location), cfg, world)
        return
    with tempfile.TemporaryDirectory(prefix="fgclip-corpus-") as scratch:
        _write_corpus(Path(scratch), cfg, world)
        folder.upload_tree(scratch, "")


def _write_corpus(folder: Path, cfg: WorkflowConfig, world) -> None:
    from .synthetic.shapes import write_benchmark, write_corpus

    corpus = write_corpus(folder / "train", cfg.train_images, world, cfg.seed)
    if cfg.negatives != "generated":
        from .synthetic.shapes import write_scene_graph_negatives

        write_scene_graph_negatives(folder / "train" / SCENE_GRAPH_FILE, corpus, world)
    write_benchmark(folder / "benchmark", cfg.test_images, world, cfg.seed)


