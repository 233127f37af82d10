"""Stage configurations: one frozen dataclass per stage, loadable from YAML, dumped into outputs.

``load_config(NegativesConfig, "negatives.yaml", per_kind=4)`` reads the file, applies the
overrides and validates the result; ``dump_config(cfg)`` gives the plain dict that a stage writes
beside its outputs (and that ``load_config`` reads back to an equal config).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .files import is_url
from .schema import KINDS, RULE_NAMES, check_kinds, check_source_names

# The generator's two modes of order swaps (fgclip.pipeline.negatives.SWAP_MODES), the default
# first: "plausible" makes only swaps whose scene is possible (swap-obj); "paper" also the CE-CLIP
# paper's swaps of any two neighbouring noun phrases (swap-np), most of them absurd scenes.
SWAP_MODES: tuple[str, ...] = ("plausible", "paper")

T = TypeVar("T")

# A scheme and "://", as fsspec reads them. A local name never looks so: pathlib would turn
# "file:///x/run" into the local folder "file:/x/run".
# Each option that takes a URL, for the message that refuses one elsewhere. A run folder (train
# --output, workflow run --output, eval --results) is written through fgclip.files.Folder, and
# whatever reads from one takes a URL too: a checkpoint, a model config JSON, a results file.
URL_OPTIONS = ("train --shards, --output, --resume, --pretrained and --model; eval --checkpoint, --model and "
               "--results; report RESULTS and --output; plot RUN_DIR; workflow run --output; and the "
               "pipeline's --input, --output, --image-root and --stats (count, build-negatives; preview --stats)")


def refuse_url(option: str, value: object) -> None:
    """ValueError naming ``option`` when its ``value`` is a URL but the option takes a local path
    only (pathlib would make a URL there a local folder named "file:" or "s3:")."""
    if is_url(value):
        raise ValueError(f"{option} {value!r} is a URL, but {option} takes a local path only; "
                         f"URLs are taken by {URL_OPTIONS}")


def check_url_scheme(option: str, value: object) -> None:
    """ValueError naming ``option`` when its ``value`` is a URL that fsspec cannot open here: an
    unknown scheme, or one whose package (s3fs, gcsfs) is not installed. Checked with the other
    options, so that a run fails before it starts, not at its first checkpoint."""
    if not is_url(value):
        return
    import fsspec

    try:
        fsspec.core.url_to_fs(value)
    except (ImportError, ValueError) as err:
        raise ValueError(f"{option} {value!r}: {err}") from err


def _url_field(name: str, value: object) -> None:
    """``check_url_scheme`` for a config field that takes a path or a URL."""
    check_url_scheme("--" + name.replace("_", "-"), value)


def _local_path_field(name: str, value: object) -> None:
    """``refuse_url`` for a config field, named as its command-line option."""
    refuse_url("--" + name.replace("_", "-"), value)


def read_yaml(path: str | Path) -> Any:
    """The YAML document in ``path``. What safe_load refuses (a syntax error, a ``!!python/object``
    tag) and a file that is not UTF-8 text are ValueErrors naming the file, line and column."""
    refuse_url("--config", path)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a UTF-8 text file (byte {err.start}); expected YAML") from err
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ValueError(f"{where}: not valid YAML: {problem}") from err


def load_config(cls: type[T], path: str | Path | None = None, **overrides: Any) -> T:
    """Build ``cls`` from the YAML mapping in ``path`` (if any), then ``overrides`` on top.

    Overrides whose value is None are ignored, so that command-line options left unset do not
    mask what the file says. Unknown keys and values of the wrong type raise ValueError naming
    their source; lists become tuples for tuple-typed fields.
    """
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass")
    values: dict[str, Any] = {}
    if path is not None:
        data = read_yaml(path)
        path = Path(path)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ValueError(
                f"{path}: expected a mapping of {cls.__name__} fields, got {type(data).__name__}"
            )
        values.update(_checked(cls, data, str(path)))
    values.update(_checked(cls, {k: v for k, v in overrides.items() if v is not None}, "overrides"))
    try:
        return cls(**values)
    except ValueError as err:
        if path is None:
            raise
        raise ValueError(f"{path}: {err}") from err


def dump_config(cfg: Any) -> dict[str, Any]:
    """The config as a dict of plain YAML/JSON types (tuples become lists)."""
    if not (dataclasses.is_dataclass(cfg) and not isinstance(cfg, type)):
        raise TypeError(f"{cfg!r} is not a dataclass instance")
    return {f.name: _plain(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dump_config(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def _checked(cls: type, data: dict[str, Any], source: str) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    result = {}
    for key, value in data.items():
        if key not in names:
            raise ValueError(
                f"{source}: unknown key {key!r} for {cls.__name__}; valid keys: {', '.join(names)}"
            )
        value = _coerce(hints[key], value)
        if not _matches(hints[key], value):
            raise ValueError(f"{source}: {key!r} must be {_describe(hints[key])}, got {value!r}")
        result[key] = value
    return result


def _union_args(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _coerce(hint: Any, value: Any) -> Any:
    """YAML has no tuples: a list given for a tuple-typed field becomes a tuple."""
    if isinstance(value, list) and any(typing.get_origin(h) is tuple for h in _union_args(hint)):
        return tuple(value)
    if isinstance(value, int) and not isinstance(value, bool) and float in _union_args(hint):
        return float(value)
    return value


def _matches(hint: Any, value: Any) -> bool:
    """A shallow type check covering what YAML can express; unknown hints pass."""
    for option in _union_args(hint):
        if option is type(None):
            if value is None:
                return True
        elif option is Any:
            return True
        elif typing.get_origin(option) is tuple:
            if isinstance(value, tuple):
                args = typing.get_args(option)
                if len(args) == 2 and args[1] is Ellipsis:
                    if all(_matches(args[0], v) for v in value):
                        return True
                elif not args or (len(args) == len(value) and all(map(_matches, args, value))):
                    return True
        elif option is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True
        elif isinstance(option, type):
            if isinstance(value, option):
                return True
        else:
            return True
    return False


def _describe(hint: Any) -> str:
    names = []
    for option in _union_args(hint):
        if option is type(None):
            names.append("null")
        elif isinstance(option, type) and typing.get_origin(option) is None:
            names.append(option.__name__)
        else:
            names.append(str(option))
    return " or ".join(names)


@dataclasses.dataclass(frozen=True)
class NegativesConfig:
    """Which hard negatives the pipeline makes per caption (see fgclip.pipeline.negatives)."""

    kinds: tuple[str, ...] = KINDS
    per_kind: int = 2
    seed: int = 0
    swaps: str = "plausible"  # one of SWAP_MODES

    def __post_init__(self):
        check_kinds(self.kinds)
        if self.per_kind < 0:
            raise ValueError(f"per_kind must be >= 0, got {self.per_kind}")
        _check_swaps(self.swaps)


def _check_swaps(swaps: str) -> None:
    if swaps not in SWAP_MODES:
        raise ValueError(f"swaps must be one of {', '.join(SWAP_MODES)}, got {swaps!r}")


# The shapes of --extra-negatives files (fgclip.pipeline.extra_negatives has one reader each).
EXTRA_NEGATIVE_FORMATS = ("jsonl", "negclip", "sugarcrepe")

# The corpus shapes build-negatives reads (fgclip.pipeline.sources has one reader each).
SOURCE_FORMATS = ("coco", "jsonl", "csv", "tsv", "parquet", "webdataset")


@dataclasses.dataclass(frozen=True)
class BuildConfig:
    """``fgclip pipeline build-negatives``: a caption corpus in, WebDataset shards out.

    The fields in :data:`BUILD_OUTPUT_FIELDS` decide the bytes written; a rerun into the same
    folder must agree on them (or pass ``overwrite``). The others (how many workers, which
    cluster) change only how fast it goes.
    """

    input: str
    output: str
    format: str | None = None  # None: guessed from the file names
    image_root: str | None = None  # None: relative image paths are relative to the input file
    image_column: str = "image"
    caption_column: str = "caption"
    shard_size: int = 1000
    negatives_per_kind: int = 2
    kinds: tuple[str, ...] = KINDS
    seed: int = 0
    swaps: str = "plausible"  # the generator's order swaps: one of SWAP_MODES
    no_negatives: bool = False
    max_caption_chars: int = 2000
    workers: int | None = None  # None: every CPU of the machine (local Ray) or the cluster
    address: str | None = None  # None: $RAY_ADDRESS, else an embedded local Ray
    executor: str = "ray"  # "ray", or "local" (a process pool, no Ray needed)
    overwrite: bool = False
    # The corpus statistics table the generator reads: None counts it from the input (the
    # default); a path or URL uses that table file instead; no_stats uses none.
    stats: str | None = None
    no_stats: bool = False
    # The build fails (exit 2) when it skipped more than this share of its input rows: more than
    # half lost almost always means a wrong column, --image-root or format, not bad records.
    # 1.0 turns the check off. It decides whether a build is accepted, not the bytes it writes, so
    # it is not in BUILD_OUTPUT_FIELDS: raising it resumes a refused build from its shards.
    max_skip_fraction: float = 0.5
    # Files of negatives made elsewhere, merged into the shards beside the generated ones
    # (fgclip.pipeline.extra_negatives); with no_negatives, the shards hold them alone. Not in
    # BUILD_OUTPUT_FIELDS: the build's identity records each file by path and content hash, and
    # only when some are given, so that builds without them keep the identity they had.
    extra_negatives: tuple[str, ...] = ()
    extra_negatives_format: str | None = None  # one of EXTRA_NEGATIVE_FORMATS; None: told per file

    def __post_init__(self):
        _check_reading(self)
        object.__setattr__(self, "extra_negatives", tuple(self.extra_negatives or ()))
        if any(not isinstance(path, str) or not path.strip() for path in self.extra_negatives):
            raise ValueError(f"extra_negatives: give paths of files, got {list(self.extra_negatives)!r}")
        if self.extra_negatives_format is not None:
            if self.extra_negatives_format not in EXTRA_NEGATIVE_FORMATS:
                raise ValueError(f"extra_negatives_format must be one of {', '.join(EXTRA_NEGATIVE_FORMATS)}, "
                                 f"got {self.extra_negatives_format!r}")
            if not self.extra_negatives:
                raise ValueError("extra_negatives_format is for extra_negatives files; none is given")
        if not 0.0 <= self.max_skip_fraction <= 1.0:  # NaN fails this too
            raise ValueError(f"max_skip_fraction must be in [0, 1] (1 turns the check off), got {self.max_skip_fraction}")
        check_kinds(self.kinds, "use no_negatives for a plain reshard")
        if self.shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, got {self.shard_size}")
        if self.negatives_per_kind < 0:
            raise ValueError(f"negatives_per_kind must be >= 0, got {self.negatives_per_kind}")
        _check_swaps(self.swaps)
        if self.stats is not None and self.no_stats:
            raise ValueError("stats and no_stats exclude each other: give a table, or none")
        if self.stats is not None and self.no_negatives:
            raise ValueError("stats is for the negatives; no_negatives makes none")
        if self.stats is not None and not self.stats.strip():
            raise ValueError("stats is empty; give the path or URL of a table file")


# The table's own fingerprint, not the path given as ``stats``, is part of a build's identity
# (fgclip.pipeline.build): the same table moved elsewhere builds the same shards.
BUILD_OUTPUT_FIELDS = (
    "input", "format", "image_root", "image_column", "caption_column", "shard_size",
    "negatives_per_kind", "kinds", "seed", "swaps", "no_negatives", "max_caption_chars", "no_stats",
)

TABLE_SUFFIX = ".tsv.gz"  # a corpus statistics table file's name ends so (fgclip.pipeline.negatives.corpus)


@dataclasses.dataclass(frozen=True)
class CountConfig:
    """``fgclip pipeline count``: a caption corpus in, its statistics table (one file) out.

    The input fields read rows exactly as :class:`BuildConfig` does (images are never read), so
    that the table equals the one a build of the same input counts.
    """

    input: str
    output: str  # the table file, a path or URL ending in .tsv.gz
    format: str | None = None
    image_root: str | None = None
    image_column: str = "image"
    caption_column: str = "caption"
    max_caption_chars: int = 2000
    workers: int | None = None
    address: str | None = None
    executor: str = "ray"

    def __post_init__(self):
        _check_reading(self)
        if not self.output.endswith(TABLE_SUFFIX) or self.output.rstrip("/").rsplit("/", 1)[-1] == TABLE_SUFFIX:
            raise ValueError(f"output {self.output!r}: name the table file, ending in {TABLE_SUFFIX} "
                             "(e.g. stats/corpus_counts.tsv.gz)")


def _check_reading(cfg: BuildConfig | CountConfig) -> None:
    """The checks BuildConfig and CountConfig share: how rows are read and where the work runs."""
    if cfg.format is not None and cfg.format not in SOURCE_FORMATS:
        raise ValueError(f"unknown format {cfg.format!r}; valid formats: {', '.join(SOURCE_FORMATS)}")
    if cfg.max_caption_chars < 1:
        raise ValueError(f"max_caption_chars must be >= 1, got {cfg.max_caption_chars}")
    if cfg.workers is not None and cfg.workers < 1:
        raise ValueError(f"workers must be >= 1, got {cfg.workers}")
    if cfg.executor not in ("ray", "local"):
        raise ValueError(f"executor must be 'ray' or 'local', got {cfg.executor!r}")


PRECISIONS = ("amp_bf16", "amp", "fp32")
IMC_SCOPES = ("own", "batch")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """``fgclip train``: fine-tune an open_clip model on fgclip shards with ITC(hn) + IMC + CMR.

    ``batch_size`` is per process and per micro-step, as in open_clip: one optimizer step sees
    ``batch_size * accum_steps * world_size`` samples. The defaults are the CE-CLIP recipe
    (ViT-B/32 from OpenAI weights, 5 epochs, batch 256, AdamW 0.9/0.98/1e-6, lr 5e-6, wd 0.1,
    50 warm-up steps, cosine decay, lambda_imc 0.3, lambda_cmr 0.2).
    """

    shards: str
    output: str  # the run folder: a local path or a URL (s3://, gs://, file://...)
    model: str = "ViT-B-32-quickgelu"  # an open_clip model name, or the path or URL of a model-config JSON
    pretrained: str | None = None  # a weights file (path or URL); None: random initialisation
    epochs: int = 5
    steps: int | None = None  # optimizer steps; overrides epochs when given
    batch_size: int = 256
    lr: float = 5e-6
    wd: float = 0.1
    warmup: int = 50
    beta1: float = 0.9
    beta2: float = 0.98
    eps: float = 1e-6
    imc_weight: float = 0.3
    cmr_weight: float = 0.2
    cmr_upper: float = 10.0
    cmr_fixed_margin: float | None = None  # one CMR margin for all kinds instead of the adaptive ones
    imc_scope: str = "own"
    no_hard_negatives: bool = False
    kinds: tuple[str, ...] = KINDS
    # Negatives made by these rules (names of fgclip.schema.RULE_NAMES) fill no slot: say swap-np,
    # to train with plausible order swaps only on shards built with --swaps paper.
    skip_rules: tuple[str, ...] = ()
    # Negatives of these sources fill slots ("generated" for fgclip's rules, or the source an
    # imported negative was labelled with: "negclip", "sugarcrepe", "scene-graph"...); None: all.
    negative_sources: tuple[str, ...] | None = None
    precision: str = "amp_bf16"  # bf16 autocast on CUDA; CPU always runs fp32
    compile: bool = False  # torch.compile the model's forward (falls back to eager if compiling fails)
    accum_steps: int = 1
    workers: int = 4  # data loader processes per training process
    seed: int = 0
    resume: str | None = None  # "latest" or a checkpoint path or URL
    save_every: int = 1000  # steps between periodic checkpoints (latest.pt is written at each)
    log_every: int = 10
    max_bad_steps: int = 20  # consecutive non-finite steps before the run stops
    device: str | None = None  # None: cuda when available, else cpu
    ray_workers: int = 0  # > 0: run under Ray Train's TorchTrainer with that many workers
    gpus_per_worker: float = 0.0
    address: str | None = None  # Ray cluster address for --ray-workers

    def __post_init__(self):
        for name in ("output", "model", "pretrained", "resume"):
            _url_field(name, getattr(self, name))
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.imc_scope not in IMC_SCOPES:
            raise ValueError(f"imc_scope must be one of {', '.join(IMC_SCOPES)}, got {self.imc_scope!r}")
        check_kinds(self.kinds, "use no_hard_negatives for plain CLIP fine-tuning")
        unknown = [rule for rule in self.skip_rules if rule not in RULE_NAMES]
        if unknown:
            raise ValueError(
                f"unknown rule(s) {', '.join(map(repr, unknown))} in skip_rules; valid rules: {', '.join(RULE_NAMES)}"
            )
        object.__setattr__(self, "negative_sources", check_source_names("negative_sources", self.negative_sources))
        for name in ("epochs", "batch_size", "accum_steps", "save_every", "log_every", "max_bad_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        for name in ("lr", "wd", "warmup", "imc_weight", "cmr_weight", "cmr_upper", "workers", "ray_workers",
                     "gpus_per_worker", "eps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.cmr_fixed_margin is not None and not self.cmr_fixed_margin >= 0:
            raise ValueError(f"cmr_fixed_margin must be >= 0, got {self.cmr_fixed_margin}")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError(f"beta1 and beta2 must be in [0, 1), got {self.beta1}, {self.beta2}")
        if self.device is not None and self.device.split(":")[0] not in ("cpu", "cuda"):
            raise ValueError(f"device must be cpu or cuda[:N], got {self.device!r}")


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """``fgclip eval``: checkpoints scored on benchmarks, rows appended to ``results``.

    With several benchmarks, each one's files are looked for in ``data_root/<benchmark>`` when
    that folder exists, else in ``data_root`` itself (and likewise for ``images``).
    """

    checkpoints: tuple[str, ...]
    benchmarks: tuple[str, ...]
    data_root: str
    names: tuple[str, ...] | None = None  # one label per checkpoint; default: the file stems
    model: str | None = None  # needed for plain open_clip weights; fgclip checkpoints record theirs
    images: str | None = None
    results: str = "results.jsonl"  # a path or a URL
    batch_size: int = 256
    device: str | None = None  # None: cuda when available
    # None: fgclip-eval-cache beside the results file; for results at a URL, in the local cache
    # folder (fgclip.files.local_cache_folder), since the feature cache is local only.
    cache_dir: str | None = None
    # A Ray cluster (auto, ray://host:10001): the eval runs there as one task, with a GPU when
    # device is cuda. None: $RAY_ADDRESS, else in this process.
    address: str | None = None

    def __post_init__(self):
        for name in ("data_root", "images", "cache_dir"):
            _local_path_field(name, getattr(self, name))
        for checkpoint in self.checkpoints:
            check_url_scheme("--checkpoint", checkpoint)
        for name in ("model", "results"):
            _url_field(name, getattr(self, name))
        if not self.checkpoints:
            raise ValueError("at least one checkpoint is needed")
        if not self.benchmarks:
            raise ValueError("at least one benchmark is needed")
        if self.names is not None and len(self.names) != len(self.checkpoints):
            raise ValueError(f"{len(self.names)} names for {len(self.checkpoints)} checkpoints; give one --name per --checkpoint")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
