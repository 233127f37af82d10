"""The ``fgclip`` command line: thin typer commands that build a config and call one function.

Each stage is a command group (a typer sub-app) registered on :data:`app`. Heavy modules are
imported inside the commands, so ``fgclip --help`` stays fast and never imports torch or Ray.

Errors: a command turns what it expects into ``Error: ...`` and exit 2 (bad input, any
:class:`fgclip.errors.UsageError`) or 1 (a failed run, :class:`fgclip.errors.RunError`). What
escapes a command is sorted in one place, :class:`OneLineErrors`: a full disk,
a refused permission, a Ray task's failure become one line naming the file; anything else is a
bug and keeps its traceback. ``fgclip --debug`` (or FGCLIP_DEBUG=1) shows every traceback.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import logging
import os
import re
import sys
import traceback
import typing
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from .errors import RunError, UsageError
from .log import setup_logging
from .schema import KINDS

DEBUG_ENV = "FGCLIP_DEBUG"
_debug = False  # --debug, set by the app's callback at each invocation


class OneLineErrors(TyperGroup):
    """The root command: an error a user can act on that escapes a command is printed as one
    ``Error:`` line with its exit status, unless --debug asks for the traceback."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own: usage errors, exits
            raise
        except Exception as err:
            failure = known_failure(err)
            if failure is None or _debug_on():
                raise
            message, code = failure
            typer.echo(f"Error: {message}", err=True)
            raise typer.Exit(code) from None


# A missing file or a folder where a file belongs is the input's fault; any other OSError (a
# full disk, a read-only file system, a refused permission) fails the run.
_INPUT_ERRNOS = (errno.ENOENT, errno.ENOTDIR, errno.EISDIR)


def known_failure(err: BaseException) -> tuple[str, int] | None:
    """(one-line message, exit status) for an error of the input or of the run; None for a bug."""
    err = _unwrap_ray(err)
    if isinstance(err, RemoteFailure):
        return str(err), 1
    if isinstance(err, OSError):
        return os_error_line(err), 2 if err.errno in _INPUT_ERRNOS else 1
    if isinstance(err, (UsageError, RunError)):  # fgclip's own (fgclip.errors)
        return _single_line(str(err)), err.exit_code
    return None


def os_error_line(err: OSError) -> str:
    """'FILE: No space left on device', or the reason alone when the error names no file."""
    reason = err.strerror or str(err)
    names = [str(name) for name in (err.filename, err.filename2) if name is not None]
    if not names:
        return f"{reason} (the error names no file; `fgclip --debug ...` shows where)"
    return f"{' -> '.join(names)}: {reason}"


class RemoteFailure(Exception):
    """A Ray task's failure whose exception did not travel back, only its text."""


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXCEPTION_LINE = re.compile(r"([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning))(?:: (.*))?")


def _unwrap_ray(err: BaseException) -> BaseException:
    """The error a Ray task raised, from the RayTaskError that Ray raises here instead (its text
    is the remote traceback, 25 to 160 lines). Its ``cause`` is that error when it could travel;
    Ray Data sends only a UserCodeException, the first error being in the traceback's text."""
    ray_exceptions = sys.modules.get("ray.exceptions")
    if ray_exceptions is None:
        return err
    while isinstance(err, ray_exceptions.RayTaskError):
        cause = err.cause
        if cause is None or isinstance(cause, ray_exceptions.UserCodeException):
            return RemoteFailure(f"a Ray task failed: {_first_exception_line(str(err))}")
        err = cause
    return err


def _reason(err: BaseException) -> str:
    """What went wrong, in one line, for an error a command reports itself: Ray's copy of a
    task's error (an instance of it too) is the task's whole traceback as text."""
    err = _unwrap_ray(err)
    return os_error_line(err) if isinstance(err, OSError) else _single_line(str(err))


def _first_exception_line(text: str) -> str:
    """The first 'SomeError: message' line of a printed traceback: a chain prints its first
    error first."""
    for line in _ANSI.sub("", text).splitlines():
        match = _EXCEPTION_LINE.fullmatch(line.rstrip())
        if match and not match.group(1).startswith("ray."):
            return line.strip()
    return _single_line(text)


def _single_line(text: str, limit: int = 2000) -> str:
    text = " ".join(_ANSI.sub("", text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _debug_on() -> bool:
    return _debug or os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


app = typer.Typer(
    cls=OneLineErrors,
    name="fgclip",
    help=(
        "fgclip teaches a CLIP model to tell 'a dog chasing a cat' from 'a cat chasing a dog': "
        "LLM-free hard-negative captions, CE-CLIP fine-tuning with open_clip, and compositional "
        "evaluation, as stages joined by files on disk."
    ),
    no_args_is_help=True,
    add_completion=False,
)

pipeline_app = typer.Typer(
    help="Stage 1: hard-negative captions, previewed or written into WebDataset shards.",
    no_args_is_help=True,
)
setup_app = typer.Typer(help="Install the offline data fgclip needs.", no_args_is_help=True)

workflow_app = typer.Typer(help="The stages chained: on the synthetic shapes world, or on a real corpus.", no_args_is_help=True)

app.add_typer(pipeline_app, name="pipeline")
app.add_typer(workflow_app, name="workflow")
app.add_typer(setup_app, name="setup")


@app.callback()
def global_options(
    debug: Annotated[bool, typer.Option(
        "--debug", envvar=DEBUG_ENV, help="Show the traceback of an error, not only its one-line message "
                                          "(or set FGCLIP_DEBUG=1). Give it before the command: fgclip --debug train ...")] = False,
) -> None:
    global _debug
    _debug = debug


def _fail(message: str, code: int) -> typer.Exit:
    """Print ``Error: message`` and return the Exit to raise. Called while handling an error,
    under --debug it prints that error's traceback first."""
    if _debug_on() and sys.exc_info()[1] is not None:
        traceback.print_exc()
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


def _local(option: str, value: str | None) -> Path | None:
    """``value`` of a local-path-only ``option`` as a Path; exit 2 for a URL, which Path would
    otherwise turn into a local folder named after the scheme ("file:", "s3:")."""
    from .config import refuse_url

    try:
        refuse_url(option, value)
    except ValueError as err:
        raise _fail(str(err), 2) from err
    return None if value is None else Path(value)


def _names(value: str | None) -> tuple[str, ...] | None:
    """A comma-separated option as a tuple of names (blanks dropped); None stays None (unset)."""
    if value is None:
        return None
    return tuple(name.strip() for name in value.split(",") if name.strip())


SWAPS_HELP = ("Order swaps: plausible (swap-obj only, scenes that can happen) or paper (also swap-np, the "
              "CE-CLIP paper's swaps of any two neighbouring noun phrases, mostly absurd scenes)")


def _read_captions(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise _fail(f"cannot read --file {path}: {reason}", 2) from err
    return [line.strip() for line in text.splitlines() if line.strip()]


@pipeline_app.command()
def preview(
    captions: Annotated[
        list[str] | None,
        typer.Argument(metavar="CAPTION", help="Captions to make negatives of.", show_default=False),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option("--file", "-f", help="Text file of captions, one per line (blank lines skipped).",
                     show_default=False),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random choices (same seed, same output).")] = 0,
    per_kind: Annotated[int, typer.Option(min=0, help="At most this many negatives of each kind.")] = 2,
    kinds: Annotated[str, typer.Option(help="Comma-separated kinds to make.")] = ",".join(KINDS),
    swaps: Annotated[str, typer.Option(help=SWAPS_HELP + ".")] = "plausible",
    json_lines: Annotated[
        bool, typer.Option("--json", help="One JSON object per caption per line, nothing else on stdout.")
    ] = False,
    stats: Annotated[
        str | None,
        typer.Option("--stats", help="A corpus table (from `fgclip pipeline count` or beside a build's shards) "
                                     "for the generator to read; default: none", show_default=False),
    ] = None,
) -> None:
    """Print the hard negatives of some captions, as a table or as JSON lines."""
    from .config import NegativesConfig

    texts = list(captions or [])
    if file is not None:
        texts += _read_captions(_local("--file", file))
    if not texts:
        raise _fail("no captions: give some as arguments or with --file", 2)
    try:
        cfg = NegativesConfig(kinds=_names(kinds), per_kind=per_kind, seed=seed, swaps=swaps)
    except ValueError as err:
        raise _fail(f"invalid option: {err}", 2) from err

    from .pipeline.negatives import negatives, rule_errors, tagging, wordnet

    table = None
    if stats is not None:
        from .pipeline.build import read_stats_table

        try:
            table = read_stats_table(stats)
        except UsageError as err:
            raise _fail(str(err), 2) from err
    _wordnet_or_exit()
    errors_before = sum(rule_errors.values())
    results = [
        (caption, negatives(caption, cfg.seed, table=table, swaps=cfg.swaps, kinds=cfg.kinds, per_kind=cfg.per_kind))
        for caption in texts
    ]

    if json_lines:
        for caption, negs in results:
            record = {"caption": caption, "negatives": [n.to_dict() for n in negs]}
            typer.echo(json.dumps(record, ensure_ascii=False))
    else:
        _print_table(results)
        loads = {"wordnet": wordnet.load_seconds.get("wordnet"), "tagger": tagging.load_seconds.get("tagger")}
        typer.echo(
            "first load: "
            + ", ".join(f"{name} {'-' if s is None else f'{s:.2f} s'}" for name, s in loads.items()),
            err=True,
        )
    failed = sum(rule_errors.values()) - errors_before
    if failed:
        typer.echo(f"warning: {failed} rule call(s) raised and were skipped (see the log above)", err=True)


def _print_table(results: list) -> None:
    groups = [
        [(caption if i == 0 else "", neg.kind, neg.rule, neg.text) for i, neg in enumerate(negs)]
        or [(caption, "-", "-", "(no negative)")]
        for caption, negs in results
    ]
    header = ("caption", "kind", "rule", "negative")
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        rows = [header] + [row for group in groups for row in group]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3])
        return
    table = Table(*header)
    for n, group in enumerate(groups):
        if n:
            table.add_section()
        for row in group:
            table.add_row(*row)
    # markup off: captions are data, a "[" in one must not be read as a style tag.
    Console(markup=False, highlight=False).print(table)


# The options build-negatives and count share: how the corpus is read, and where the work runs.
InputOption = Annotated[str | None, typer.Option(
    "--input", "-i", help="Corpus: a file, folder, glob or {00000..00099}.tar range; a path or a URL (s3://, gs://, "
    "file://) (required, here or in --config).", show_default=False)]
FormatOption = Annotated[str | None, typer.Option(help="coco|jsonl|csv|tsv|parquet|webdataset (default: from the file names)",
                                                  show_default=False)]
ImageRootOption = Annotated[str | None, typer.Option(help="Folder that relative image paths start from "
                                                     "(default: the input file's folder)", show_default=False)]
ImageColumnOption = Annotated[str | None, typer.Option(help="Column of image paths (default: image)", show_default=False)]
CaptionColumnOption = Annotated[str | None, typer.Option(help="Column of captions, one or a list (default: caption)",
                                                         show_default=False)]
MaxCaptionCharsOption = Annotated[int | None, typer.Option(help="Longer captions are dropped and counted (default: 2000)",
                                                           show_default=False)]
WorkersOption = Annotated[int | None, typer.Option(help="Shards written (or counted) at once (default: all CPUs)",
                                                   show_default=False)]
AddressOption = Annotated[str | None, typer.Option(help="Ray cluster (auto, ray://host:10001); default $RAY_ADDRESS, "
                                                   "else an embedded local Ray", show_default=False)]
ExecutorOption = Annotated[str | None, typer.Option(help="ray, or local (a process pool, no Ray) (default: ray)",
                                                    show_default=False)]
ConfigOption = Annotated[str | None, typer.Option("--config", help="YAML file of these options (flags win).",
                                                  show_default=False)]


def _stage_config(cls, config: str | None, options: dict, required: str):
    """The command's ``cls`` from the --config file, then the options given on top (see
    :func:`_given`); exits 2 naming what is wrong. ``required``: the options without a default."""
    from .config import load_config

    try:
        return load_config(cls, config, **_given(cls, options))
    except TypeError as err:  # a required field given neither as flag nor in the file
        raise _fail(f"{required} are required ({err})", 2) from err
    except (ValueError, OSError) as err:
        raise _fail(str(err), 2) from err


def _given(cls, options: dict) -> dict:
    """The options a command was given, by the ``cls`` field each is named after (a command's
    parameters take their fields' names). An option left unset (None, a switch not given, an
    empty list) is left out, so that the --config file's value stands; a list becomes a tuple,
    and a text for a tuple field a comma-separated list of names."""
    hints = typing.get_type_hints(cls)
    given = {}
    for field in dataclasses.fields(cls):
        value = options.get(field.name)
        if value is None or value is False or (isinstance(value, (list, tuple)) and not value):
            continue
        if isinstance(value, list):
            value = tuple(value)
        elif isinstance(value, str) and _holds_tuple(hints[field.name]):
            value = _names(value)
        given[field.name] = value
    return given


def _holds_tuple(hint) -> bool:
    """Whether a field's type is a tuple, or a tuple or None."""
    return tuple in (typing.get_origin(hint), *map(typing.get_origin, typing.get_args(hint)))


def _wordnet_or_exit() -> None:
    """Load WordNet up front: a missing install then stops here with its fix (exit 1), rather
    than surfacing as rule errors on every caption."""
    from .pipeline.negatives import wordnet

    try:
        wordnet.wn()
    except wordnet.WordNetMissing as err:
        raise _fail(str(err), 1) from err


def _run_pipeline_job(job, cfg, what: str) -> None:
    """``job(cfg, echo=...)`` with the build's logging; a usage error exits 2, a failed write 1."""
    setup_logging(others=logging.INFO)
    try:
        job(cfg, echo=typer.echo)
    except UsageError as err:
        raise _fail(str(err), 2) from err
    except OSError as err:  # a full disk, a folder without write permission: not a usage error
        raise _fail(f"{what} failed: {_reason(err)}", 1) from err


@pipeline_app.command("count")
def count_command(
    input: InputOption = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="The table file to write, ending in .tsv.gz: a "
                                               "path or a URL (required, here or in --config).", show_default=False)] = None,
    format: FormatOption = None,
    image_root: ImageRootOption = None,
    image_column: ImageColumnOption = None,
    caption_column: CaptionColumnOption = None,
    max_caption_chars: MaxCaptionCharsOption = None,
    workers: WorkersOption = None,
    address: AddressOption = None,
    executor: ExecutorOption = None,
    config: ConfigOption = None,
) -> None:
    """Count a caption corpus into the statistics table the negatives read (images are not read)."""
    from .config import CountConfig
    from .pipeline.build import count_table

    cfg = _stage_config(CountConfig, config, locals(), required="--input and --output")
    _wordnet_or_exit()
    _run_pipeline_job(count_table, cfg, "count")


@pipeline_app.command("build-negatives")
def build_negatives_command(
    input: InputOption = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Folder for the shards: a path or a URL (s3://, gs://, file://) (required, here or in --config).", show_default=False)] = None,
    format: FormatOption = None,
    image_root: ImageRootOption = None,
    image_column: ImageColumnOption = None,
    caption_column: CaptionColumnOption = None,
    shard_size: Annotated[int | None, typer.Option(help="Input rows per shard (default: 1000)", show_default=False)] = None,
    workers: WorkersOption = None,
    address: AddressOption = None,
    executor: ExecutorOption = None,
    negatives_per_kind: Annotated[int | None, typer.Option(help="Negatives per kind per caption (default: 2)",
                                                           show_default=False)] = None,
    kinds: Annotated[str | None, typer.Option(help=f"Comma-separated kinds (default: {','.join(KINDS)})",
                                              show_default=False)] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the negatives (default: 0)", show_default=False)] = None,
    swaps: Annotated[str | None, typer.Option(help=SWAPS_HELP + " (default: plausible)", show_default=False)] = None,
    max_caption_chars: MaxCaptionCharsOption = None,
    stats: Annotated[str | None, typer.Option("--stats", help="Use this corpus table (from `fgclip pipeline count` or "
                                              "an earlier build) instead of counting the input's", show_default=False)] = None,
    no_stats: Annotated[bool, typer.Option("--no-stats", help="No corpus table: the generator without counts.")] = False,
    no_negatives: Annotated[bool, typer.Option("--no-negatives", help="A plain reshard: no generator (with "
                                               "--extra-negatives: the imported negatives alone).")] = False,
    extra_negatives: Annotated[list[str] | None, typer.Option(
        "--extra-negatives", help="Merge negatives made elsewhere into the shards, beside the generated ones: a jsonl "
        "of {key or caption, negatives: [{text, kind, source}]}, NegCLIP's tsv or a SugarCrepe json (repeatable)",
        show_default=False)] = None,
    extra_negatives_format: Annotated[str | None, typer.Option(
        help="jsonl, negclip or sugarcrepe (default: from each file's name and content)", show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a build with another config in --output.")] = False,
    max_skip_fraction: Annotated[float | None, typer.Option(
        help="Fail (exit 2) when more than this share of the input rows is skipped; the shards written are kept "
             "and a rerun with a higher value finishes from them. More than half lost almost always means a "
             "wrong column, --image-root or --format, not bad records. 1 turns the check off; a build that "
             "writes no sample always fails (default: 0.5)", show_default=False)] = None,
    config: ConfigOption = None,
) -> None:
    """Write WebDataset shards with hard-negative captions from a caption corpus (resumable)."""
    from .config import BuildConfig
    from .pipeline.build import build_negatives

    cfg = _stage_config(BuildConfig, config, locals(), required="--input and --output")
    if not cfg.no_negatives:
        _wordnet_or_exit()
    _run_pipeline_job(build_negatives, cfg, "build")


@setup_app.command("wordnet")
def setup_wordnet(
    target: Annotated[
        str | None,
        typer.Option(help="nltk_data folder to install into (default: <python prefix>/nltk_data, "
                          "which NLTK searches)", show_default=False),
    ] = None,
    deb: Annotated[
        list[str] | None,
        typer.Option(help="Use these wordnet-base / wordnet-sense-index .deb files instead of "
                          "`apt-get download`.", show_default=False),
    ] = None,
) -> None:
    """Install WordNet 3.0 for NLTK from Debian's packages (no nltk.download, no root)."""
    from .setup_data import install_wordnet

    debs = [_local("--deb", path) for path in deb] if deb else None
    target_path = _local("--target", target)
    try:
        installed = install_wordnet(target_path, debs)
    except (RuntimeError, ValueError, OSError) as err:
        raise _fail(f"WordNet setup failed: {err}", 1) from err
    typer.echo(f"WordNet is installed in {installed}")


@app.command("train")
def train_command(
    shards: Annotated[str | None, typer.Option(help="Shards: 'DIR/{000000..000031}.tar', a folder, a glob, or a::b lists "
                                               "(required, here or in --config).", show_default=False)] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Run folder: checkpoints, metrics.jsonl, plots; "
                                               "a path or a URL (s3://, gs://, file://) (required, here or in "
                                               "--config).", show_default=False)] = None,
    model: Annotated[str | None, typer.Option(help="open_clip model name, or a model-config JSON path or URL "
                                              "(default: ViT-B-32-quickgelu)", show_default=False)] = None,
    pretrained: Annotated[str | None, typer.Option(help="Weights file, path or URL (open_clip or fgclip checkpoint); "
                                                   "default: random initialisation", show_default=False)] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: 5)", show_default=False)] = None,
    steps: Annotated[int | None, typer.Option(help="Optimizer steps; overrides --epochs", show_default=False)] = None,
    batch_size: Annotated[int | None, typer.Option(help="Samples per process per micro-step (default: 256)",
                                                   show_default=False)] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (default: 5e-6)", show_default=False)] = None,
    wd: Annotated[float | None, typer.Option(help="AdamW weight decay on matrices (default: 0.1)", show_default=False)] = None,
    warmup: Annotated[int | None, typer.Option(help="Warm-up steps before cosine decay (default: 50)", show_default=False)] = None,
    imc_weight: Annotated[float | None, typer.Option(help="lambda_imc (default: 0.3)", show_default=False)] = None,
    cmr_weight: Annotated[float | None, typer.Option(help="lambda_cmr (default: 0.2)", show_default=False)] = None,
    cmr_upper: Annotated[float | None, typer.Option(help="Upper clamp of the adaptive margins, logit units (default: 10)",
                                                    show_default=False)] = None,
    cmr_fixed_margin: Annotated[float | None, typer.Option(help="One CMR margin for every kind, logit units, instead "
                                                           "of the adaptive ones (the ablation's fixed arm)",
                                                           show_default=False)] = None,
    imc_scope: Annotated[str | None, typer.Option(help="IMC denominator: own (its caption's negatives) or batch "
                                                  "(default: own)", show_default=False)] = None,
    no_hard_negatives: Annotated[bool, typer.Option("--no-hard-negatives", help="Plain CLIP fine-tuning: the control.")] = False,
    kinds: Annotated[str | None, typer.Option(help=f"Negative kinds used, one slot each (default: {','.join(KINDS)})",
                                              show_default=False)] = None,
    skip_rules: Annotated[str | None, typer.Option(help="Comma-separated rules whose negatives fill no slot, e.g. "
                                                   "swap-np to train on plausible swaps only (default: none)",
                                                   show_default=False)] = None,
    negative_sources: Annotated[str | None, typer.Option(help="Comma-separated sources whose negatives fill slots, "
                                                         "e.g. generated,negclip (a negative without a source is "
                                                         "generated; default: all)", show_default=False)] = None,
    precision: Annotated[str | None, typer.Option(help="amp_bf16|amp|fp32; CPU always runs fp32 (default: amp_bf16)",
                                                  show_default=False)] = None,
    accum_steps: Annotated[int | None, typer.Option(help="Micro-batches per step, exact large-batch gradient (default: 1)",
                                                    show_default=False)] = None,
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model's forward (the first steps pay "
                                          "the compilation; eager if it fails)")] = False,
    workers: Annotated[int | None, typer.Option(help="Data loader processes per training process (default: 4)",
                                                show_default=False)] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of weights init, shuffles and caption choice (default: 0)",
                                             show_default=False)] = None,
    resume: Annotated[str | None, typer.Option(help="latest (RUN_DIR/checkpoints/latest.pt, if any) or a checkpoint "
                                               "path or URL",
                                               show_default=False)] = None,
    save_every: Annotated[int | None, typer.Option(help="Steps between checkpoints (default: 1000)", show_default=False)] = None,
    log_every: Annotated[int | None, typer.Option(help="Steps between metrics rows (default: 10)", show_default=False)] = None,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda when available)", show_default=False)] = None,
    ray_workers: Annotated[int | None, typer.Option(help="Run under Ray Train with N workers (default: 0, no Ray)",
                                                    show_default=False)] = None,
    gpus_per_worker: Annotated[float | None, typer.Option(help="GPUs per Ray Train worker (default: 0)",
                                                          show_default=False)] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster for --ray-workers; default $RAY_ADDRESS, else a local Ray",
                                                show_default=False)] = None,
    config: Annotated[str | None, typer.Option("--config", help="YAML file of these options (flags win).",
                                               show_default=False)] = None,
) -> None:
    """Fine-tune an open_clip model on fgclip shards with ITC(hard negatives) + IMC + CMR."""
    from .config import TrainConfig

    cfg = _stage_config(TrainConfig, config, locals(), required="--shards and --output")

    from .trainer.launch import run

    setup_logging()
    try:
        summary = run(cfg, echo=typer.echo)
    except (UsageError, RunError) as err:
        raise _fail(_reason(err), err.exit_code) from err
    typer.echo(f"done: {summary['steps']} steps, {summary['samples_seen']} samples; checkpoint {summary['checkpoint']}")


@app.command("plot")
def plot_command(
    run_dir: Annotated[str, typer.Argument(help="A training run folder (holding metrics.jsonl): a path or a URL.")],
) -> None:
    """Draw a training run's loss terms and adaptive margins as PNGs in its folder."""
    from .trainer.metrics import plot_run

    try:
        written = plot_run(run_dir)
    except (FileNotFoundError, ValueError) as err:
        raise _fail(str(err), 2) from err
    for path in written:
        typer.echo(str(path))


@app.command("eval")
def eval_command(
    checkpoints: Annotated[list[str] | None, typer.Option("--checkpoint", "-c", help="A checkpoint (fgclip, or open_clip "
                                                          "weights with --model); repeat for several (required, here "
                                                          "or in --config).", show_default=False)] = None,
    benchmarks: Annotated[list[str] | None, typer.Option("--benchmark", "-b", help="sugarcrepe|valse|vl-checklist|"
                                                         "aro-relation|aro-attribution|coco-order|flickr-order|eqben|"
                                                         "winoground|retrieval|zeroshot; repeat for several (required, "
                                                         "here or in --config).", show_default=False)] = None,
    data_root: Annotated[str | None, typer.Option(help="The benchmark's files as its authors distribute them (with "
                                                  "several benchmarks: DATA_ROOT/<benchmark> where that folder "
                                                  "exists) (required, here or in --config).", show_default=False)] = None,
    images: Annotated[str | None, typer.Option(help="Folder of the benchmark's images", show_default=False)] = None,
    names: Annotated[list[str] | None, typer.Option("--name", help="Label per checkpoint (default: file stem)",
                                                    show_default=False)] = None,
    model: Annotated[str | None, typer.Option(help="open_clip model name or config JSON, for plain open_clip weights",
                                              show_default=False)] = None,
    results: Annotated[str | None, typer.Option(help="Results file, a path or a URL; rows are appended, finished "
                                                "ones skipped (default: results.jsonl)", show_default=False)] = None,
    batch_size: Annotated[int | None, typer.Option(help="Encoding batch size (default: 256)", show_default=False)] = None,
    device: Annotated[str | None, typer.Option(help="cuda or cpu (default: cuda when available)", show_default=False)] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster (auto, ray://host:10001): run the eval there as one "
                                                "task, with a GPU when --device cuda; default $RAY_ADDRESS, else here",
                                                show_default=False)] = None,
    config: ConfigOption = None,
) -> None:
    """Score checkpoints on compositional benchmarks, retrieval and zero-shot (resumable)."""
    from .config import EvalConfig

    cfg = _stage_config(EvalConfig, config, locals(), required="--checkpoint, --benchmark and --data-root")
    from .files import is_file_at, is_url

    missing = [path for path in cfg.checkpoints if not is_file_at(path)]
    if missing:
        raise _fail(f"checkpoint(s) not found: {', '.join(missing)}", 2)
    results_path = Path(cfg.results)
    # Rows are appended as each benchmark finishes: a results file that cannot take them would
    # fail the run after its first, possibly long, benchmark. (A store tells only by a write.)
    if not is_url(cfg.results) and results_path.exists() and not os.access(results_path, os.W_OK):
        raise _fail(f"--results {results_path}: not writable (rows are appended to it)", 2)

    from .eval.run import evaluate_where_configured

    setup_logging()
    try:
        rows = evaluate_where_configured(cfg, echo=typer.echo)
    except UsageError as err:
        raise _fail(_reason(err), 2) from err
    typer.echo(f"{len(rows)} row(s) added to {cfg.results}")


@app.command("report")
def report_command(
    results_file: Annotated[str, typer.Argument(metavar="RESULTS", help="A results.jsonl written by fgclip eval "
                                                "(a path or a URL).")],
    output_folder: Annotated[str, typer.Option("--output", "-o", help="Folder for report.md and the PNG charts "
                                               "(a path or a URL).")],
) -> None:
    """Markdown tables and PNG charts comparing checkpoints from an eval results file."""
    from .eval.report import write_report
    from .files import is_file_at

    if not is_file_at(results_file):
        raise _fail(f"{results_file} does not exist", 2)
    try:
        written = write_report(results_file, output_folder)
    except ValueError as err:
        raise _fail(str(err), 2) from err
    for path in written:
        typer.echo(str(path))


@app.command("interpolate")
def interpolate_command(
    base: Annotated[str, typer.Argument(help="The base weights (fgclip checkpoint or open_clip weights).")],
    finetuned: Annotated[str, typer.Argument(help="The fine-tuned fgclip checkpoint.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Where to write the interpolated checkpoint.")],
    alpha: Annotated[float, typer.Option(help="0 gives the base, 1 the fine-tuned weights")] = 0.5,
) -> None:
    """Weight-space ensembling (WiSE-FT) of a base and a fine-tuned checkpoint."""
    for option, value in (("BASE", base), ("FINETUNED", finetuned), ("--output", output)):
        _local(option, value)
    from .eval.interpolate import interpolate

    for path in (base, finetuned):
        if not Path(path).is_file():
            raise _fail(f"{path} does not exist", 2)
    try:
        arch = interpolate(base, finetuned, alpha, output)
    except ValueError as err:  # UsageError is one
        raise _fail(str(err), 2) from err
    typer.echo(f"{output}: {arch.name}, alpha {alpha}")


@app.command("export")
def export_command(
    checkpoint: Annotated[str, typer.Argument(metavar="CKPT", help="A fgclip checkpoint (it records its architecture).")],
    output: Annotated[str, typer.Option("--output", "-o", help="Folder to write (open_clip_config.json + "
                                                              "open_clip_model.safetensors).")],
    overwrite: Annotated[bool, typer.Option(help="Replace a folder that is not empty.")] = False,
) -> None:
    """A checkpoint as open_clip's Hugging Face folder: open_clip.create_model_and_transforms("local-dir:DIR")."""
    checkpoint_path, output_path = _local("CKPT", checkpoint), _local("--output", output)
    from .export import export

    if not checkpoint_path.is_file():
        raise _fail(f"{checkpoint} does not exist", 2)
    try:
        arch = export(checkpoint_path, output_path, overwrite=overwrite)
    except UsageError as err:
        raise _fail(str(err), 2) from err
    typer.echo(f"{output}: {arch.name} (quick_gelu={arch.quick_gelu}); load with "
               f"open_clip.create_model_and_transforms('local-dir:{output}')")


@workflow_app.command("run")
def workflow_run_command(
    config: Annotated[str | None, typer.Argument(help="Workflow YAML; default: the one shipped in the package "
                                                  "(fgclip/workflow_default.yaml), which it overrides section by section.",
                                                  show_default=False)] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Output folder, a path or a URL (default: "
                                               "runs/demo)", show_default=False)] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster (auto, ray://host:10001) for the build and for "
                                                "training with ray_workers; default $RAY_ADDRESS, else a local Ray",
                                                show_default=False)] = None,
) -> None:
    """Make the shapes corpus, build negatives, pretrain, fine-tune (CE and control), evaluate, report.

    A config with a corpus runs on real data instead (recipes/ce-clip-coco.yaml, docs/workflow.md).
    Stages whose outputs exist with unchanged settings are skipped."""
    config_path = _local("CONFIG", config)
    from .workflow import load_workflow_config, run

    if config_path is not None and not config_path.is_file():
        raise _fail(f"{config} does not exist", 2)
    try:
        cfg = load_workflow_config(config, output=output, address=address)
    except (ValueError, TypeError) as err:
        raise _fail(str(err), 2) from err
    setup_logging()
    try:
        summary = run(cfg, echo=typer.echo)
    except (UsageError, RunError) as err:
        raise _fail(_reason(err), err.exit_code) from err
    typer.echo(f"report: {summary['report']}; results: {summary['results']}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
