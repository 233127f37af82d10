"""``fgclip workflow run`` on a real caption corpus and pretrained weights (a config with ``corpus``).

Stages, each hashed and skipped as in the shapes workflow (fgclip.workflow.run_stage):

1. ``shards``: build-negatives on ``corpus`` (any input build-negatives reads, with its options);
2. one stage per entry of ``runs`` (at least ``ce`` and ``control``): a fine-tune of the
   ``pretrained`` weights on those shards, with ``finetune`` then the run's own options;
3. ``exports``: each fine-tune as open_clip's ``local-dir:`` folder (fgclip.export);
4. ``wise-ft`` (when ``wise_ft`` lists alphas): each fine-tune mixed with the pretrained weights;
5. ``eval``: the pretrained weights, every fine-tune and every mix on each benchmark of
   ``eval.benchmarks`` (its own data root and image folder);
6. ``report``: tables, charts, and the published numbers beside the run's own.

Before any stage runs, the pretrained weights are found (a local file, or an open_clip tag in
open_clip's cache: nothing is downloaded where the hub cannot be reached) and every benchmark's
files and images are checked, so that a missing file stops the run at once, not after training.

The output may be a URL, as in the shapes workflow (fgclip.workflow): every stage's folder and
record is under it. The export and the WiSE-FT mixing write local files only, so they work in a
local temporary folder whose files are then uploaded; the eval's feature cache stays in this
machine's cache folder (fgclip.stages.local_copies).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .config import BuildConfig, EvalConfig, TrainConfig, dump_config, load_config
from .errors import UsageError
from .files import Folder, join, local_file, parent_and_name
from .stages import (local_aliases, local_copies, main_table, run_build, run_eval, run_report, run_stage, run_train,
                     settings_hash, without)

if TYPE_CHECKING:  # the workflow imports this module; a runtime import back would be a cycle
    from .workflow import WorkflowConfig

REQUIRED_RUNS = ("ce", "control")
# The objective is what tells these two apart; their options may not undo it.
FORCED_OBJECTIVE = {"ce": {"no_hard_negatives": False}, "control": {"no_hard_negatives": True}}
# Stage and folder names of the output that a run's name may not take.
RESERVED_NAMES = ("shards", "model", "exports", "wise-ft", "eval", "report", "cache", "pretrained")
_RUN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Keys of the shapes workflow that mean nothing with a real corpus.
DEMO_ONLY = ("world", "train_images", "test_images", "pretrain")
BENCHMARK_KEYS = ("data_root", "images", "allow_missing")
# Settings the workflow sets itself in each stage's config.
SET_BY_WORKFLOW = ("shards", "output", "model", "pretrained")


class WorkflowError(UsageError):
    """Input the real-data workflow cannot start with; the message names the key or file."""


def validate(cfg: WorkflowConfig) -> None:
    """The shape of a real-data config (each stage's own options are checked by building its config)."""
    corpus = cfg.corpus
    if not isinstance(corpus, dict) or not isinstance(corpus.get("input"), str):
        raise ValueError("corpus: a mapping with input (the caption corpus build-negatives reads) and its options")
    if "output" in corpus:
        raise ValueError("corpus: output is set by the workflow (<output>/shards); remove it")
    clash = sorted(set(corpus) & set(cfg.build))
    if clash:
        raise ValueError(f"corpus and build both set {', '.join(clash)}; keep one")
    if isinstance(cfg.model, dict):
        missing = [key for key in ("embed_dim", "vision_cfg", "text_cfg") if key not in cfg.model]
        if missing:
            raise ValueError(f"model: missing key(s) {', '.join(missing)} (an open_clip model config)")
    elif not isinstance(cfg.model, str) or not cfg.model:
        raise ValueError("model: an open_clip model name, a model-config JSON path, or a config mapping")
    if not isinstance(cfg.pretrained, str) or not cfg.pretrained:
        raise ValueError("pretrained: a local weights file or an open_clip pretrained tag (e.g. openai) is needed")
    absent = [name for name in REQUIRED_RUNS if name not in cfg.runs]
    if absent:
        raise ValueError(f"runs: {', '.join(absent)} missing; every real-data workflow fine-tunes "
                         f"{' and '.join(REQUIRED_RUNS)} (an empty mapping takes the finetune options)")
    for name, options in cfg.runs.items():
        if not isinstance(name, str) or not _RUN_NAME.fullmatch(name) or name in RESERVED_NAMES:
            raise ValueError(f"runs: {name!r} is not a usable name (lower-case letters, digits, '_', '-'; "
                             f"not {', '.join(RESERVED_NAMES)})")
        if options is not None and not isinstance(options, dict):
            raise ValueError(f"runs.{name}: expected a mapping of train options, got {options!r}")
    for alpha in cfg.wise_ft:
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"wise_ft: alpha {alpha} must be in (0, 1): 0 is the pretrained weights, 1 the fine-tune")
    benchmarks = cfg.eval.get("benchmarks")
    if not isinstance(benchmarks, dict) or not benchmarks:
        raise ValueError("eval.benchmarks: a mapping of benchmark name -> {data_root, images} is needed")
    for name, spec in benchmarks.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("data_root"), str):
            raise ValueError(f"eval.benchmarks.{name}: expected a mapping with data_root (and images)")
        unknown = sorted(set(spec) - set(BENCHMARK_KEYS))
        if unknown:
            raise ValueError(f"eval.benchmarks.{name}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(BENCHMARK_KEYS)}")
        if spec.get("images") is not None and not isinstance(spec["images"], str):
            raise ValueError(f"eval.benchmarks.{name}.images: expected a folder path, got {spec['images']!r}")
        if not isinstance(spec.get("allow_missing", False), bool):
            raise ValueError(f"eval.benchmarks.{name}.allow_missing: expected true or false")


def model_reference(cfg: WorkflowConfig) -> str:
    """What the stages get as ``model``: the name or config path given, or for an inline config the
    JSON file the workflow writes (named by its content, so two configs never share a name)."""
    if isinstance(cfg.model, str):
        return cfg.model
    return join(cfg.output, "model", f"fgclip-model-{settings_hash(cfg.model)[:8]}.json")


def wise_ft_name(run: str, alpha: float) -> str:
    return f"{run}-wise{alpha:g}"


def stage_configs(cfg: WorkflowConfig, weights: str | None = None) -> dict:
    """{"shards": BuildConfig, <run>: TrainConfig for each run, "eval": {benchmark: EvalConfig},
    "wise-ft": [(run, alpha, path)]}. ``weights``: the pretrained weights file (``run`` resolves a
    tag to it first); None: the ``pretrained`` value stands in, so that a config is checked
    without looking for weights."""
    out = cfg.output
    local = local_copies(out) or out  # the eval keeps its feature cache in local files
    weights = weights or cfg.pretrained
    model = model_reference(cfg)
    cluster = {"address": cfg.address} if cfg.address else {}
    shards = join(out, "shards")
    stages: dict = {"shards": load_config(BuildConfig, output=shards, seed=cfg.seed,
                                          **{**cluster, **without(cfg.corpus, "output"), **cfg.build})}
    common = {"shards": shards, "model": model, "pretrained": weights, "seed": cfg.seed, **cluster}
    finetune = without(cfg.finetune, *SET_BY_WORKFLOW)
    for name, options in cfg.runs.items():
        options = without(options or {}, *SET_BY_WORKFLOW)
        stages[name] = load_config(TrainConfig, output=join(out, name),
                                   **{**common, **finetune, **options, **FORCED_OBJECTIVE.get(name, {})})
    mixes = [(name, alpha, join(out, "wise-ft", f"{wise_ft_name(name, alpha)}.pt"))
             for name in cfg.runs for alpha in cfg.wise_ft]
    stages["wise-ft"] = mixes
    checkpoints = ((weights, "pretrained"),
                   *((join(out, name, "checkpoints", "latest.pt"), name) for name in cfg.runs),
                   *((path, wise_ft_name(name, alpha)) for name, alpha, path in mixes))
    options = {key: value for key, value in cfg.eval.items() if key != "benchmarks"}
    options = without(options, "checkpoints", "names", "data_root", "images", "results", "model")
    stages["eval"] = {
        benchmark: load_config(EvalConfig, checkpoints=tuple(c for c, _ in checkpoints),
                               names=tuple(n for _, n in checkpoints), benchmarks=(benchmark,),
                               data_root=spec["data_root"], images=spec.get("images"), model=model,
                               results=join(out, "eval", "results.jsonl"),
                               cache_dir=join(local, "cache", "eval"), **{**cluster, **options})
        for benchmark, spec in cfg.eval["benchmarks"].items()
    }
    return stages


def run(cfg: WorkflowConfig, echo: Callable[[str], None] = print) -> dict:
    out = Folder(cfg.output)
    stages = stage_configs(cfg)  # every config checked before anything is looked up or written
    weights, aliases = resolve_pretrained(cfg)
    aliases = {**aliases, **local_aliases(cfg.output)}
    check_benchmark_data(cfg)
    out.make()
    if isinstance(cfg.model, dict):
        out.make("model")
        folder, name = parent_and_name(model_reference(cfg))
        folder.write_json(name, cfg.model)
    stages = stage_configs(cfg, weights)
    outcome: dict[str, str] = {}
    hashes = {"pretrained": settings_hash({"model": _model_identity(cfg), "pretrained": _weights_identity(cfg, weights)})}

    def stage(name: str, settings: dict, upstream: tuple[str, ...], work: Callable[[Folder], None]) -> None:
        run_stage(out, name, settings, upstream, work, hashes, outcome, echo, aliases)

    stage("shards", dump_config(stages["shards"]), (), lambda folder: run_build(stages["shards"], echo))
    for name in cfg.runs:
        stage(name, dump_config(stages[name]), ("shards", "pretrained"),
              lambda folder, name=name: run_train(stages[name], echo))
    runs = tuple(cfg.runs)
    stage("exports", {"runs": list(runs)}, runs, lambda folder: _export_runs(out, runs, folder, echo))
    evaluated = runs
    if stages["wise-ft"]:
        stage("wise-ft", {"mixes": [[n, a] for n, a, _ in stages["wise-ft"]]}, runs + ("pretrained",),
              lambda folder: _mix(out, weights, stages["wise-ft"], echo))
        evaluated += ("wise-ft",)
    evals = stages["eval"]
    stage("eval", {name: dump_config(c) for name, c in evals.items()}, ("pretrained",) + evaluated,
          lambda folder: [run_eval(c, echo) for c in evals.values()])
    results = join(cfg.output, "eval", "results.jsonl")
    from .eval.report import read_published

    # The published rows are part of what the report shows: a new table of them redoes it.
    stage("report", {"published": settings_hash(read_published())}, ("eval",),
          lambda folder: run_report(results, folder))
    report = join(cfg.output, "report", "report.md")
    echo(main_table(report))
    return {"stages": outcome, "report": report, "results": results}


def _export_runs(out: Folder, runs: tuple[str, ...], folder: Folder, echo: Callable[[str], None]) -> None:
    """Each run's checkpoint as open_clip's folder; for a URL output, exported locally, then uploaded."""
    from .export import export

    for name in runs:
        with local_file(join(out.location, name, "checkpoints", "latest.pt")) as checkpoint:
            if folder.is_url:
                with tempfile.TemporaryDirectory(prefix="fgclip-export-") as scratch:
                    export(checkpoint, Path(scratch) / name)
                    folder.upload_tree(Path(scratch) / name, name)
            else:
                export(checkpoint, Path(folder.location) / name)
        where = folder.path(name) if folder.is_url else Path(folder.location) / name
        echo(f"[exports] {name}: open_clip.create_model_and_transforms('local-dir:{where}')"
             + (" once copied to a local folder" if folder.is_url else ""))


def _mix(out: Folder, weights: str, mixes: list, echo: Callable[[str], None]) -> None:
    """Each WiSE-FT mix; for a URL output, the fine-tune is read from a local copy and the mix
    written locally, then uploaded."""
    from .eval.interpolate import interpolate

    for name, alpha, path in mixes:
        with local_file(join(out.location, name, "checkpoints", "latest.pt")) as finetuned:
            if out.is_url:
                with tempfile.TemporaryDirectory(prefix="fgclip-wise-ft-") as scratch:
                    mixed = Path(scratch) / Path(path.rpartition("/")[2])
                    interpolate(weights, str(finetuned), alpha, str(mixed))
                    folder, file_name = parent_and_name(path)
                    with folder.open_atomically(file_name) as handle, open(mixed, "rb") as source:
                        shutil.copyfileobj(source, handle)
            else:
                interpolate(weights, str(finetuned), alpha, path)
        echo(f"[wise-ft] {wise_ft_name(name, alpha)}: {path}")


def _model_identity(cfg: WorkflowConfig) -> object:
    """The architecture's config, not its name or file: what the fine-tunes depend on."""
    if isinstance(cfg.model, dict):
        return cfg.model
    from .model import resolve_architecture

    return resolve_architecture(cfg.model).config


def _weights_identity(cfg: WorkflowConfig, weights: str) -> object:
    """An open_clip tag stands for fixed weights; a local file is known by path, size and mtime,
    so that a new file put in its place reruns the fine-tunes."""
    if weights != cfg.pretrained:
        return {"tag": cfg.pretrained}
    stat = os.stat(weights)
    return {"file": cfg.pretrained, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


# ---------------------------------------------------------------------------- pretrained weights

WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt", ".npz")


def resolve_pretrained(cfg: WorkflowConfig) -> tuple[str, dict[str, str]]:
    """``(weights file, {file: stand-in for the stage hashes})``. A local file is itself; an
    open_clip tag is the file in open_clip's cache, downloaded there first only where the hub can
    be reached. WorkflowError when neither, naming the tag, the cache folder and how to fill it."""
    spec = cfg.pretrained
    if Path(spec).is_file():
        return spec, {}
    model = cfg.model
    if Path(spec).suffix in WEIGHT_SUFFIXES or os.sep in spec or not isinstance(model, str) or model.endswith(".json"):
        raise WorkflowError(f"pretrained: {spec} is not a file (an open_clip tag needs model to be one of "
                            "open_clip's model names)")
    import open_clip

    tag_cfg = open_clip.get_pretrained_cfg(model, spec)
    if not tag_cfg:
        tags = open_clip.list_pretrained_tags_by_model(model)
        raise WorkflowError(f"pretrained: {spec!r} is neither a file nor an open_clip tag of {model} "
                            f"(its tags: {', '.join(tags) or 'none'})")
    if bool(tag_cfg.get("quick_gelu", False)) != bool((open_clip.get_model_config(model) or {}).get("quick_gelu", False)):
        wanted = "with" if tag_cfg.get("quick_gelu") else "without"
        raise WorkflowError(f"pretrained: the {spec!r} weights were trained {wanted} QuickGELU but model {model} "
                            f"is not; use {model + '-quickgelu' if tag_cfg.get('quick_gelu') else model.replace('-quickgelu', '')}")
    cached = cached_weights(tag_cfg)
    if cached is None:
        try:
            cached = open_clip.pretrained.download_pretrained(tag_cfg)  # a no-network hub refuses at once
        except Exception as err:  # noqa: BLE001 - the hub client raises many types for "no network"
            raise WorkflowError(
                f"pretrained: open_clip weights {model} {spec!r} are not in the cache ({cache_folder(tag_cfg)}) and "
                f"cannot be downloaded here ({' '.join(str(err).split())[:200]}); on a machine with internet run "
                f"python -c \"import open_clip; open_clip.create_model_and_transforms('{model}', pretrained='{spec}')\" "
                f"and copy {cache_folder(tag_cfg)} to this machine (or set HF_HUB_CACHE to a copy), or set "
                "pretrained to a local weights file") from None
    return str(cached), {str(cached): f"<open_clip {model} {spec}>"}


def _hub_repo(tag_cfg: dict) -> tuple[str, list[str]]:
    """The hub repository of a tag and the files open_clip would take from it, in its order
    (open_clip.pretrained.download_pretrained_from_hf: a .safetensors twin first)."""
    from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

    repo, filename = os.path.split(tag_cfg["hf_hub"])  # "org/repo/" names the default file
    filename = filename or HF_WEIGHTS_NAME
    names = [HF_SAFE_WEIGHTS_NAME] if filename == HF_WEIGHTS_NAME else []
    if filename != HF_WEIGHTS_NAME and filename.endswith((".bin", ".pth")):
        names.append(filename[:-4] + ".safetensors")
    return repo, names + [filename]


def cached_weights(tag_cfg: dict) -> str | None:
    """The tag's weights file already in the local cache (the hub's, else open_clip's URL cache),
    without any network access; None when absent."""
    if tag_cfg.get("hf_hub"):
        from huggingface_hub import try_to_load_from_cache

        repo, names = _hub_repo(tag_cfg)
        for name in names:
            found = try_to_load_from_cache(repo, name)
            if isinstance(found, str) and os.path.isfile(found):
                return found
    if tag_cfg.get("url"):
        path = Path(os.path.expanduser("~/.cache/clip")) / os.path.basename(tag_cfg["url"])
        if path.is_file():
            return str(path)
    return None


def cache_folder(tag_cfg: dict) -> str:
    if tag_cfg.get("hf_hub"):
        from huggingface_hub import constants

        repo, _ = _hub_repo(tag_cfg)
        return str(Path(constants.HF_HUB_CACHE) / f"models--{repo.replace('/', '--')}")
    return os.path.expanduser("~/.cache/clip")


# ---------------------------------------------------------------------------- benchmark data

def check_benchmark_data(cfg: WorkflowConfig) -> None:
    """Every benchmark's files read, and its images found, before any stage: BenchmarkDataError
    naming the key and what is missing. A benchmark may allow missing images (scored as wrong)."""
    from .eval import benchmarks

    for name, spec in cfg.eval["benchmarks"].items():
        module = benchmarks.module(name)
        root = Path(spec["data_root"])
        if not root.is_dir():
            raise benchmarks.BenchmarkDataError(f"eval.benchmarks.{name}.data_root: {root} is not a folder; "
                                                f"expected {module.EXPECTED}")
        images = Path(spec["images"]) if spec.get("images") else None
        if images is not None and not images.is_dir():
            raise benchmarks.BenchmarkDataError(f"eval.benchmarks.{name}.images: {images} is not a folder "
                                                f"(the benchmark's images; expected {module.EXPECTED})")
        subsets = module.load(root, images)
        missing = [path for subset in subsets for path in subset.missing_images]
        if missing and not spec.get("allow_missing", False):
            raise benchmarks.BenchmarkDataError(
                f"eval.benchmarks.{name}: {len(missing)} image(s) not found (first: {missing[0]}); put them in "
                f"{images or 'the folder named by images'}, or set allow_missing: true to score them as wrong")

