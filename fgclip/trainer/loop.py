"""The training loop: ``train(cfg)`` fine-tunes an open_clip model on fgclip shards.

One optimizer step takes ``accum_steps`` micro-batches from each rank. Their features form the
global batch the losses see (fgclip.trainer.losses), so accumulation and data parallelism give
the gradient of the one large batch, not an average of small-batch gradients (contrastive
losses do not decompose over samples). The same function runs alone, under torchrun or SLURM,
and inside Ray Train's workers (fgclip.ray_backend).

The run folder (``--output``) is a local path or a URL, written through fgclip.files.Folder by
rank 0 alone: ``checkpoints/latest.pt`` (a file of its own, rewritten whole at every save, never
a link, so that it is found the same way on an object store), ``checkpoints/step_*.pt``
snapshots, ``metrics.jsonl``, ``train_config.json`` and ``summary.json``. Every file is written
all or nothing, and the metrics file holds every row up to a checkpoint's step before that
checkpoint is written (fgclip.trainer.metrics), so that a resumed run misses none.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Callable

import torch

from .. import model as model_io
from .. import text_encoding
from ..config import TrainConfig, dump_config
from ..errors import RunError, UsageError
from ..files import Folder, is_temporary, join
from . import distributed
from .losses import CompositionLoss, LossSettings, kind_diagnostics
from .metrics import MetricsLog
from .normalization import images_on
from .shard_lists import count_samples, expand_shards
from .stream import StreamSettings, TrainStream

log = logging.getLogger(__name__)
MAX_LOGIT_SCALE = math.log(100.0)
SUMMARY_FILE = "summary.json"
# Options that decide which batches a step sees: a resumed run must agree on them.
RESUME_FIELDS = ("shards", "model", "batch_size", "accum_steps", "seed", "kinds", "skip_rules", "no_hard_negatives",
                 "workers")
# What a checkpoint written before a resume field existed holds for it: that field's default.
RESUME_DEFAULTS = {"skip_rules": []}
# Micro-batches of this rank looked at, from the start, for a hard negative of an enabled kind:
# enough that sparse negatives show up, few enough that a run without any says so at once.
NEGATIVES_CHECK_BATCHES = 4


class TrainingError(RunError):
    """A run that cannot go on; the message says why and what was saved."""


class TrainUsageError(UsageError):
    """Options that cannot work together (a resume that disagrees with its checkpoint, ...)."""


@dataclass
class Progress:
    """Where the run is: what a checkpoint needs to continue the schedule and the data."""

    step: int = 0
    epoch: int = 0
    batches_in_epoch: int = 0  # micro-batches of this rank already used in ``epoch``
    samples_seen: int = 0
    bad_steps: int = 0  # steps skipped for a non-finite loss or gradient, in all


@dataclass
class Features:
    """One micro-batch (or the global batch) in embedding space."""

    image: torch.Tensor  # [B, D]
    text: torch.Tensor  # [B, D]
    neg_text: torch.Tensor | None  # [B, K, D], zeros where masked
    neg_mask: torch.Tensor | None  # [B, K] bool
    scale: torch.Tensor  # exp(logit_scale)


def train(cfg: TrainConfig, echo: Callable[[str], None] = print) -> dict:
    """Run ``cfg`` to its last step; returns a summary. Rank 0 writes the run folder."""
    owned = not (torch.distributed.is_available() and torch.distributed.is_initialized())
    world = distributed.setup(cfg.device)
    try:
        return _train(cfg, world, echo if world.is_main else (lambda _: None))
    finally:
        distributed.teardown(world, owned)


def _train(cfg: TrainConfig, world: distributed.World, echo: Callable[[str], None]) -> dict:
    run_dir = Folder(cfg.output)
    checkpoints = run_dir.sub("checkpoints")
    latest = join(cfg.output, "checkpoints", "latest.pt")  # as messages and the summary name it
    shards = expand_shards(cfg.shards)
    samples_per_epoch = count_samples(shards)
    arch = model_io.resolve_architecture(cfg.model)
    resumed = _resume_record(cfg, checkpoints, latest, world)
    if resumed is not None and resumed["arch"].config != arch.config:
        raise TrainUsageError(f"{cfg.resume}: checkpoint architecture {resumed['arch'].name!r} differs from --model {cfg.model}")

    torch.manual_seed(cfg.seed)  # the same initial weights on every rank
    net, train_transform, _ = model_io.create(arch, None if resumed else cfg.pretrained)
    net.to(world.device)
    tokenize = model_io.tokenizer(arch)
    hard_negatives = not cfg.no_hard_negatives
    settings = StreamSettings(batch_size=cfg.batch_size, kinds=cfg.kinds, skip_rules=cfg.skip_rules,
                              negative_sources=cfg.negative_sources, seed=cfg.seed, workers=cfg.workers, hard_negatives=hard_negatives)

    def stream(epoch: int, skip: int) -> TrainStream:
        return TrainStream(shards, settings, preprocess=train_transform, tokenize=tokenize, epoch=epoch,
                           rank=world.rank, world_size=world.size, samples_per_epoch=samples_per_epoch,
                           skip_batches=skip)

    steps_per_epoch = len(stream(0, 0)) // cfg.accum_steps
    if steps_per_epoch < 1:
        raise TrainUsageError(f"{samples_per_epoch} samples make no full step of {cfg.accum_steps} micro-batches")
    total_steps = cfg.steps or cfg.epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(_parameter_groups(net, cfg.wd), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps)
    use_cuda = world.device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_cuda and cfg.precision == "amp")
    autocast_dtype = {"amp_bf16": torch.bfloat16, "amp": torch.float16}.get(cfg.precision) if use_cuda else None
    loss_fn = CompositionLoss(LossSettings(hard_negatives=hard_negatives, imc_weight=cfg.imc_weight,
                                           cmr_weight=cfg.cmr_weight, cmr_upper=cfg.cmr_upper,
                                           imc_scope=cfg.imc_scope, cmr_fixed_margin=cfg.cmr_fixed_margin), num_kinds=len(cfg.kinds))
    progress = Progress()
    if resumed is not None:
        net.load_state_dict(resumed["state_dict"])
        optimizer.load_state_dict(resumed["optimizer"])
        scaler.load_state_dict(resumed["scaler"])
        loss_fn.load_state_dict(resumed["loss"])
        progress = Progress(**resumed["progress"])
        echo(f"resumed from {resumed['path']} at step {progress.step} (epoch {progress.epoch})")

    text_path = text_encoding.text_path(net)
    model = text_encoding.TrimmedTextCLIP(net) if text_path.trimmed else net
    if world.size > 1:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[world.device] if use_cuda else None)
    metrics = MetricsLog(run_dir, enabled=world.is_main, truncate_after=progress.step)
    if world.is_main:
        checkpoints.make()
        for folder in (checkpoints, run_dir):
            _remove_stale_temporaries(folder, echo)
        run_dir.write_json("train_config.json", {"config": dump_config(cfg), "arch": arch.to_dict(),
                                                    "world_size": world.size, "total_steps": total_steps,
                                                    "steps_per_epoch": steps_per_epoch,
                                                    "samples_per_epoch": samples_per_epoch})
    echo(f"training {arch.name} on {len(shards)} shards ({samples_per_epoch} samples): {total_steps} steps of "
         f"{cfg.batch_size * cfg.accum_steps * world.size} samples, {world.size} process(es) on {world.device}")
    echo(text_path.describe())

    def save(reason: str) -> str | None:
        if not world.is_main:
            return None
        metrics.persist()  # first: a checkpoint must never be ahead of the metrics rows it resumes
        model_io.save_checkpoint(latest, model=net, arch=arch, config=dump_config(cfg), progress=asdict(progress),
                                 optimizer=optimizer.state_dict(), scaler=scaler.state_dict(),
                                 loss=loss_fn.state_dict(), world_size=world.size, reason=reason)
        if reason == "periodic":
            checkpoints.copy("latest.pt", f"step_{progress.step:08d}.pt")
        return latest

    bad_in_row, skipped, terms, warnings = 0, {}, None, []
    negatives_check = _NegativesCheck(cfg) if hard_negatives else None

    def warn(message: str | None) -> None:
        if message:
            warnings.append(message)
            echo(f"warning: {message}")

    if cfg.compile:
        model = compile_forward(model, warn)

    interval_started, interval_samples = time.perf_counter(), 0
    run_started, first_step = time.perf_counter(), progress.step
    batches = _micro_batches(stream, progress, cfg.accum_steps)
    try:
        while progress.step < total_steps:
            micro = next(batches)
            for batch in micro:
                for reason, count in batch.get("skipped", {}).items():
                    skipped[reason] = skipped.get(reason, 0) + count
                if negatives_check is not None:
                    warn(negatives_check.see(batch))
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(progress.step, total_steps, cfg.lr, cfg.warmup)
            optimizer.zero_grad(set_to_none=True)
            terms, features = accumulate_gradients(model, loss_fn, micro, world, hard_negatives, autocast_dtype, scaler,
                                                   text_path)
            grad_norm, finite = _apply_gradients(net, optimizer, scaler, terms)
            if finite:
                loss_fn.advance_margins(features.image, features.text, features.neg_text, features.neg_mask, features.scale)
                bad_in_row = 0
            else:
                progress.bad_steps += 1
                bad_in_row += 1
                echo(f"step {progress.step + 1}: non-finite loss or gradient, step skipped ({bad_in_row} in a row)")
            progress.step += 1
            progress.samples_seen += cfg.batch_size * len(micro) * world.size
            interval_samples += cfg.batch_size * len(micro) * world.size
            if bad_in_row >= cfg.max_bad_steps:
                saved = save("diverged")
                raise TrainingError(
                    f"{bad_in_row} steps in a row had a non-finite loss or gradient (step {progress.step}); "
                    f"stopped. The last good weights are in {saved or latest}; "
                    "lower --lr or use --precision fp32")
            last = progress.step >= total_steps
            if progress.step % cfg.log_every == 0 or last:
                now = time.perf_counter()
                row = _metrics_row(progress, terms, features, hard_negatives, cfg, optimizer, net, grad_norm,
                                   interval_samples / max(now - interval_started, 1e-9), skipped, world)
                metrics.write(row)
                eta = (now - run_started) / max(progress.step - first_step, 1) * (total_steps - progress.step)
                echo(_progress_line(row, total_steps, eta))
                interval_started, interval_samples = now, 0
            if progress.step % cfg.save_every == 0 or last:
                save("periodic" if progress.step % cfg.save_every == 0 else "final")
    finally:
        batches.close()  # stops the data loader's worker processes
        metrics.close()
    if negatives_check is not None:
        warn(negatives_check.finish())  # a run of fewer batches than the check takes
    distributed.barrier(world)
    summary = {"steps": progress.step, "epochs_started": progress.epoch + 1, "samples_seen": progress.samples_seen,
               "bad_steps": progress.bad_steps, "skipped": skipped, "checkpoint": latest,
               "final_loss": float(terms["total"]) if terms is not None else None,
               "seconds": round(time.perf_counter() - run_started, 2), "warnings": warnings}
    if world.is_main:
        run_dir.write_json(SUMMARY_FILE, summary)
    return summary


class _NegativesCheck:
    """Whether the first :data:`NEGATIVES_CHECK_BATCHES` micro-batches hold any hard negative of
    an enabled kind. Without one, the hard-negative terms are all masked out and the run is
    plain CLIP: shards built with ``--no-negatives``, or kinds and skip_rules that leave none.
    This rank's batches only: one rank in a multi-process run may warn alone, which is rare on
    batches of real size and harmless."""

    def __init__(self, cfg: TrainConfig):
        self.kinds, self.skip_rules = cfg.kinds, cfg.skip_rules
        self.left, self.seen = NEGATIVES_CHECK_BATCHES, 0

    def see(self, batch: dict) -> str | None:
        """The warning, once the last batch to check has no negative either."""
        if not self.left:
            return None
        self.left -= 1
        self.seen += 1
        if bool(batch["neg_mask"].any()):
            self.left = 0
            return None
        return None if self.left else self._message()

    def finish(self) -> str | None:
        """The warning for a run that ended before the check had seen all its batches."""
        if not self.left or not self.seen:
            return None
        self.left = 0
        return self._message()

    def _message(self) -> str:
        skipping = f" once skip_rules {', '.join(self.skip_rules)} are left out" if self.skip_rules else ""
        return (f"no hard negative of the kinds {', '.join(self.kinds)} in the first {self.seen} batches{skipping}: "
                "this run trains plain CLIP (shards built with --no-negatives?); --no-hard-negatives says so "
                "on purpose")


def _micro_batches(stream: Callable[[int, int], TrainStream], progress: Progress, accum: int):
    """Groups of ``accum`` micro-batches, epoch after epoch, from where ``progress`` stands.
    An epoch's last micro-batches that make no whole group are left out."""
    while True:
        micro: list[dict] = []
        for batch in stream(progress.epoch, progress.batches_in_epoch):
            micro.append(batch)
            if len(micro) == accum:
                progress.batches_in_epoch += accum
                yield micro
                micro = []
        progress.epoch += 1
        progress.batches_in_epoch = 0


def _apply_gradients(net, optimizer, scaler, terms: dict) -> tuple[torch.Tensor, bool]:
    """Take the optimizer step unless the loss or the gradient is not finite (then drop it)."""
    scaler.unscale_(optimizer)
    grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), float("inf"))
    finite = bool(torch.isfinite(terms["total"])) and bool(torch.isfinite(grad_norm))
    if finite:
        scaler.step(optimizer)
        with torch.no_grad():
            net.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
    else:
        optimizer.zero_grad(set_to_none=True)
    scaler.update()
    return grad_norm, finite


def accumulate_gradients(model, loss_fn: CompositionLoss, micro: list[dict], world: distributed.World,
                         hard_negatives: bool, autocast_dtype, scaler,
                         text_path: text_encoding.TextPath | None = None) -> tuple[dict, Features]:
    """Back-propagate the global-batch loss of ``micro`` (this rank's micro-batches).

    With several micro-batches, every one is first encoded without gradient; then each in turn
    is encoded again with gradient and put among the others' cached features, and the loss of
    the whole set is back-propagated. Summed over the micro-batches, the gradients are those
    of the single large batch (GradCache; open_clip's ``--accum-freq`` does the same).
    The loss is scaled by ``world.size * len(micro)`` where needed: each rank and each pass
    computes the full loss, but reaches the features only through its own slice, while the
    shared ``logit_scale`` would otherwise collect its gradient once per pass and per rank.
    ``text_path``, where it trims, cuts each micro-batch's tokens (``model`` then being a
    :class:`~fgclip.text_encoding.TrimmedTextCLIP`, however wrapped).
    """
    device = world.device
    passes = len(micro)
    autocast = (lambda: torch.autocast(device.type, dtype=autocast_dtype)) if autocast_dtype else contextlib.nullcontext
    cached: list[Features] | None = None
    if passes > 1:
        with torch.no_grad(), autocast():
            cached = [encode(model, batch, device, hard_negatives, text_path) for batch in micro]
    for j, batch in enumerate(micro):
        sync = j == passes - 1 or not hasattr(model, "no_sync")
        with (contextlib.nullcontext() if sync else model.no_sync()):
            with autocast():
                own = encode(model, batch, device, hard_negatives, text_path)
            parts = [own if i == j else cached[i] for i in range(passes)] if cached else [own]
            local = _concat(parts, own.scale)
            if world.size * passes > 1:
                # The value is exactly the scale; its gradient is 1/(world * passes) of it.
                local.scale = own.scale.detach() + (own.scale - own.scale.detach()) / (world.size * passes)
            global_features = _gather(local, world)
            loss, terms = loss_fn(global_features.image, global_features.text, global_features.scale,
                                  global_features.neg_text, global_features.neg_mask, update_margins=False)
            scaler.scale(loss * world.size).backward()
    return terms, _detached(global_features)


def encode(model, batch: dict, device: torch.device, hard_negatives: bool,
           text_path: text_encoding.TextPath | None = None) -> Features:
    """Features of a batch's images, captions and valid negatives, in one forward call (so DDP
    sees every parameter use); masked negatives are not encoded at all. The tokens are put
    together and cut where the batch is (the loader's host memory), so that only the columns
    the text tower reads travel to the device, with no wait on it to find their number."""
    image = images_on(batch, device)
    text = batch["text"]
    tokens, mask = text, None
    if hard_negatives:
        host_mask = batch["neg_mask"].bool()
        tokens = torch.cat([text, batch["neg_text"][host_mask.to(batch["neg_text"].device)]])
        mask = host_mask.to(device, non_blocking=True)
    if text_path is not None:
        tokens = text_path.cut(tokens)
    output = model(image, tokens.to(device, non_blocking=True))
    if isinstance(output, dict):
        image_features, text_features, scale = output["image_features"], output["text_features"], output["logit_scale"]
    else:
        image_features, text_features, scale = output[:3]
    size = text.shape[0]
    captions = text_features[:size]
    negatives = None
    if hard_negatives:
        slots = captions.new_zeros(size, mask.shape[1], captions.shape[1])
        negatives = slots.masked_scatter(mask.unsqueeze(-1), text_features[size:])
    return Features(image_features, captions, negatives, mask, scale)


def compile_forward(model, warn: Callable[[str], None]):
    """``model`` called through ``torch.compile``, or as it is once compiling fails."""
    try:
        import torch._dynamo  # noqa: F401 - CompiledForward catches its exceptions

        compiled = torch.compile(model)
    except Exception as err:  # noqa: BLE001 - a build without a compiler backend fails in many ways
        warn(f"torch.compile is not available here ({_first_line(err)}); training runs uncompiled")
        return model
    return CompiledForward(model, compiled, warn)


class CompiledForward:
    """Calls the compiled module, falling back to the eager one for good when compiling fails.
    torch.compile compiles at the first call (and again for new shapes), so that is where a
    missing compiler or an unsupported operation shows; errors of the model itself are raised
    again by the eager call."""

    def __init__(self, eager, compiled, warn: Callable[[str], None]):
        self.eager, self.compiled, self.warn = eager, compiled, warn
        if hasattr(eager, "no_sync"):
            self.no_sync = eager.no_sync

    def __call__(self, *args):
        if self.compiled is not None:
            try:
                return self.compiled(*args)
            except torch._dynamo.exc.TorchDynamoException as err:
                self.warn(f"torch.compile failed ({_first_line(err)}); training runs uncompiled")
                self.compiled = None
        return self.eager(*args)


def _first_line(err: BaseException) -> str:
    # torch's compile errors run over pages (the traceback of the traced code, the generated C++).
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0][:300]}" if lines else type(err).__name__


def _concat(parts: list[Features], scale: torch.Tensor) -> Features:
    if len(parts) == 1:
        return Features(parts[0].image, parts[0].text, parts[0].neg_text, parts[0].neg_mask, scale)
    has_negatives = parts[0].neg_text is not None
    return Features(
        torch.cat([p.image for p in parts]), torch.cat([p.text for p in parts]),
        torch.cat([p.neg_text for p in parts]) if has_negatives else None,
        torch.cat([p.neg_mask for p in parts]) if has_negatives else None, scale)


def _gather(local: Features, world: distributed.World) -> Features:
    if world.size == 1:
        return local
    mask = None
    if local.neg_mask is not None:
        # gloo cannot all-gather booleans
        mask = distributed.gather(local.neg_mask.to(torch.uint8), world).bool()
    return Features(distributed.gather(local.image, world), distributed.gather(local.text, world),
                    distributed.gather(local.neg_text, world) if local.neg_text is not None else None,
                    mask, local.scale)


def _detached(f: Features) -> Features:
    return Features(f.image.detach(), f.text.detach(), None if f.neg_text is None else f.neg_text.detach(),
                    f.neg_mask, f.scale.detach())


def learning_rate(step: int, total_steps: int, base: float, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to zero at ``total_steps``."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))) * base


def _parameter_groups(net: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on matrices only: gains, biases and logit_scale (all of fewer than two
    dimensions, as in the reference recipe) are left alone."""
    decay, plain = [], []
    for name, parameter in net.named_parameters():
        if not parameter.requires_grad:
            continue
        (plain if parameter.ndim < 2 or "logit_scale" in name or name.endswith(".bias") else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def _resume_record(cfg: TrainConfig, checkpoints: Folder, latest: str, world: distributed.World) -> dict | None:
    if cfg.resume is None:
        return None
    path = latest if cfg.resume == "latest" else cfg.resume
    if cfg.resume == "latest" and not checkpoints.exists("latest.pt"):
        return None  # nothing to resume: a fresh run, so one command serves both
    record = model_io.read_checkpoint(path)
    saved = {**RESUME_DEFAULTS, **record.get("config", {})}
    current = dump_config(cfg)
    changed = [key for key in RESUME_FIELDS if saved.get(key) != current.get(key)]
    if changed:
        details = "; ".join(f"{key}: {saved.get(key)!r} -> {current.get(key)!r}" for key in changed)
        raise TrainUsageError(f"{path}: cannot resume with different {', '.join(changed)} ({details})")
    if record.get("world_size") != world.size and record["progress"]["batches_in_epoch"]:
        raise TrainUsageError(f"{path}: saved mid-epoch by {record.get('world_size')} process(es); resume it with as many "
                            f"(this run has {world.size})")
    record["path"] = str(path)
    return record


def _remove_stale_temporaries(folder: Folder, echo: Callable[[str], None]) -> None:
    """Remove what killed or failed writes left in ``folder``: fgclip temporaries (a checkpoint's
    is as large as the checkpoint) whose writer is gone.

    The writer is the process whose id ends the name. One that is still running, other than
    this one, is left alone: it may be another run writing into the same folder (a mistake,
    but its files are not ours to delete), or an unrelated process that got the id again, in
    which case the file goes at a later start. The id is checked on this host only; only rank
    0 writes here, so a writer elsewhere would be another run too.

    On an object store there is nothing to remove: a write is one upload, and an upload cut
    short leaves no object (a multipart upload's parts are the store's to expire).
    """
    if not folder.keeps_temporaries:
        return
    for name in folder.names():
        if not is_temporary(name) or not folder.is_file(name):
            continue
        pid = name.rpartition(".tmp-")[2]
        if not pid.isdigit():
            continue
        if int(pid) != os.getpid() and _is_running(int(pid)):
            echo(f"{folder.path(name)} left in place: process {pid} that writes it is still running")
            continue
        with contextlib.suppress(FileNotFoundError):
            folder.remove(name)
        log.info("removed %s, left by an interrupted write", folder.path(name))


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: running all the same
        pass
    return True


def _metrics_row(progress: Progress, terms: dict, features: Features, hard_negatives: bool,
                 cfg: TrainConfig, optimizer, net, grad_norm, samples_per_s: float, skipped: dict,
                 world: distributed.World) -> dict:
    row = {"step": progress.step, "epoch": progress.epoch, "samples_seen": progress.samples_seen,
           "lr": optimizer.param_groups[0]["lr"], "logit_scale": float(net.logit_scale.detach().exp()),
           "grad_norm": float(grad_norm), "samples_per_s": round(samples_per_s * 1.0, 1),
           "bad_steps": progress.bad_steps, "skipped": _sum_over_ranks(skipped, world)}
    row.update({name: float(terms[name]) for name in ("total", "itc", "imc", "cmr") if name in terms})
    if hard_negatives:
        row["tau"] = dict(zip(cfg.kinds, (float(v) for v in terms["tau"])))
        diagnostics = kind_diagnostics(features.image, features.text, features.neg_text, features.neg_mask, features.scale)
        for name, values in diagnostics.items():
            row[name] = {kind: (None if math.isnan(float(v)) else float(v)) for kind, v in zip(cfg.kinds, values)}
    return row


def _sum_over_ranks(counts: dict, world: distributed.World) -> dict:
    if world.size == 1:
        return dict(counts)
    everyone: list[dict] = [{} for _ in range(world.size)]
    torch.distributed.all_gather_object(everyone, dict(counts))
    totals: dict[str, int] = {}
    for one in everyone:
        for reason, count in one.items():
            totals[reason] = totals.get(reason, 0) + count
    return dict(sorted(totals.items()))


def _progress_line(row: dict, total_steps: int, eta_s: float) -> str:
    terms = " ".join(f"{k} {row[k]:.4f}" for k in ("itc", "imc", "cmr") if k in row)
    tau = ""
    if "tau" in row:
        tau = " tau " + " ".join(f"{k[:3]} {v:.2f}" for k, v in row["tau"].items())
    return (f"step {row['step']}/{total_steps} epoch {row['epoch']} loss {row['total']:.4f} ({terms}){tau} "
            f"lr {row['lr']:.2e} {row['samples_per_s']:.0f} samples/s eta {_duration(eta_s)}")


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
