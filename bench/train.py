"""What the CE-CLIP objective costs a training step, and how fast the data stream feeds one.

    .venv/bin/python bench/train.py [--repeats 7] [--step-models pilot:128,ViT-B-32:16] [--trim both]
                                    [--stream-samples 600] [--stream-workers 1,2] [--stream-repeats 3]
                                    [--parts step,stream] [--out bench/results/train.json]
    .venv/bin/python bench/train.py --parts cli [--cli-steps 24] [--out bench/results/train_cli.json]

Part 1, the step (CPU, random weights, COCO captions): for each model of --step-models (name:batch;
"pilot" is the 3.4 M-parameter config below, other names are open_clip's), the variants run in
turn within each repeat, so the machine's noise hits them alike; the table gives medians.
  control      captions only, plain CLIP loss (what `--no-hard-negatives` runs)
  encode       captions + their negatives through the text tower, plain CLIP loss
               (the negatives' features enter the loss with weight 0, so their backward runs too)
  full         the same forward, the whole objective: ITC with hard negatives + IMC + CMR
  loss only    the objective's forward and backward on fixed features (no model; pilot only)
each of the first three with the text tower at the full context and trimmed to the batch's
longest text (fgclip.text_encoding; --trim on|off|both). A repeat's batch is the next 'batch'
captions of ../shared/data/coco with the negatives fgclip's generator makes for them (the first
of each kind; a kind it cannot make is masked, as in training), so the lengths, and the trimmed
length, are a real batch's. "loss arithmetic" = full - encode, and, measured directly, loss only;
the target of issue 4 is that it adds under 3% to a step.

Part 3 (--parts cli), `fgclip train` itself: ViT-B-32-quickgelu, --batch-size 16, on shards of
COCO captions (2 a sample, with their negatives, 2 per kind) and drawn 224-px JPEGs, run with
and without --no-hard-negatives, each with the text tower trimmed (as fgclip trains) and at the
full context (fgclip.text_encoding.text_path replaced, in this process, by one that trims
nothing): samples/s, the median of metrics.jsonl's rows after the first quarter.

Part 2, the data stream alone: shards of 224-px JPEGs, 5 captions and 8 negatives (2 per kind)
per sample, read, decoded, augmented (open_clip's train transform) and tokenized by
fgclip.trainer.stream with 1 and 2 loader workers; samples/s after the first batch, the images made
float in this process as the trainer does. Two variants in turn within each repeat: "trainer"
(workers send uint8 images, fgclip's tokenizer) and "float in workers" (the whole transform in
the workers, open_clip's tokenizer as it comes: the stream before 2026-11-27). Target: >= 400
samples/s per worker.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from fgclip import model as model_io  # noqa: E402
from fgclip import text_encoding  # noqa: E402
from fgclip.files import write_json  # noqa: E402
from fgclip.schema import KINDS  # noqa: E402
from fgclip.trainer import distributed  # noqa: E402
from fgclip.trainer.loop import accumulate_gradients  # noqa: E402
from fgclip.trainer.losses import CompositionLoss, LossSettings  # noqa: E402
from fgclip.trainer.normalization import images_on  # noqa: E402
from fgclip.trainer.stream import StreamSettings, TrainStream  # noqa: E402

# The pilot configuration of issue 6: 64-px images, patch 16, 2 layers of width 64 per tower.
PILOT = "pilot"
STEP_CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
ONE = distributed.World(rank=0, size=1, local_rank=0, device=torch.device("cpu"))
COCO = Path(__file__).resolve().parents[2] / "shared" / "data" / "coco" / "captions_val2017_80pct.json"
TRIM_MODES = {"off": "full context", "on": "trimmed"}


class _NoScaler:
    def scale(self, loss):
        return loss


def coco_captions(count: int, skip: int = 0) -> list[str]:
    annotations = json.loads(COCO.read_text(encoding="utf-8"))["annotations"]
    return [a["caption"].strip() for a in annotations[skip:skip + count]]


def negatives_by_kind(caption: str, per_kind: int = 1) -> dict[str, list[str]]:
    from fgclip.pipeline.negatives import negatives

    made: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for negative in negatives(caption, 0, per_kind=per_kind):
        made[negative.kind].append(negative.text)
    return made


def caption_batch(captions: list[str], tokenize, image_side: int, generator) -> dict:
    """A training batch as the loader makes one: each caption's first negative of each kind,
    masked where the generator has none."""
    size, rows, mask = len(captions), [], torch.zeros(len(captions), len(KINDS), dtype=torch.bool)
    for i, caption in enumerate(captions):
        made = negatives_by_kind(caption)
        for k, kind in enumerate(KINDS):
            mask[i, k] = bool(made[kind])
            rows.append(made[kind][0] if made[kind] else "")
    return {"image": torch.randn(size, 3, image_side, image_side, generator=generator),
            "text": tokenize(captions), "neg_text": tokenize(rows).reshape(size, len(KINDS), -1), "neg_mask": mask}


def step_model(name: str):
    """``(net, arch)`` with random weights: the pilot config or an open_clip model by name."""
    if name != PILOT:
        arch = model_io.resolve_architecture(name)
        torch.manual_seed(0)
        return model_io.create(arch)[0], arch
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fgclip-bench-step.json"
        path.write_text(json.dumps(STEP_CONFIG), encoding="utf-8")
        arch = model_io.resolve_architecture(str(path))
        torch.manual_seed(0)
        return model_io.create(arch)[0], arch


def step_benchmark(model_name: str, batch_size: int, repeats: int, trims: list[str]) -> dict:
    net, arch = step_model(model_name)
    tokenize = model_io.tokenizer(arch)
    path = text_encoding.text_path(net)
    forwards = {"off": (net, None), "on": (text_encoding.TrimmedTextCLIP(net), path)}
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-5)
    generator = torch.Generator().manual_seed(0)
    side = arch.config["vision_cfg"]["image_size"]
    side = side if isinstance(side, int) else side[0]
    # One batch a repeat (and one for the warm-up), the same for every variant within it.
    batches = [caption_batch(coco_captions(batch_size, skip=i * batch_size), tokenize, side, generator)
               for i in range(repeats + 1)]
    full_loss = CompositionLoss(LossSettings(), num_kinds=len(KINDS))
    plain_loss = CompositionLoss(LossSettings(hard_negatives=False), num_kinds=len(KINDS))

    class EncodeOnly:
        """Plain CLIP loss that still back-propagates (with weight 0) through the negatives."""

        def __call__(self, image, text, scale, neg_text=None, neg_mask=None, update_margins=True):
            loss, terms = plain_loss(image, text, scale)
            return loss + 0.0 * neg_text.sum(), terms

    def step(batch, loss_fn, hard_negatives: bool, trim: str) -> float:
        model, text_path = forwards[trim]
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        _, features = accumulate_gradients(model, loss_fn, [batch], ONE, hard_negatives, None, _NoScaler(), text_path)
        optimizer.step()
        if hard_negatives and isinstance(loss_fn, CompositionLoss):
            loss_fn.advance_margins(features.image, features.text, features.neg_text, features.neg_mask, features.scale)
        return time.perf_counter() - start

    dim = arch.config["embed_dim"]
    fixed = [torch.nn.functional.normalize(torch.randn(*shape, generator=generator), dim=-1)
             for shape in ((batch_size, dim), (batch_size, dim), (batch_size, len(KINDS), dim))]

    def loss_only(batch) -> float:
        image, text, negatives = (t.clone().requires_grad_(True) for t in fixed)
        scale = torch.tensor(1 / 0.07, requires_grad=True)
        start = time.perf_counter()
        loss, _ = full_loss(image, text, scale, negatives, batch["neg_mask"])
        loss.backward()
        return time.perf_counter() - start

    variants = {}
    for trim in trims:
        variants[f"control, {TRIM_MODES[trim]}"] = lambda b, t=trim: step(b, plain_loss, False, t)
        variants[f"encode, {TRIM_MODES[trim]}"] = lambda b, t=trim: step(b, EncodeOnly(), True, t)
        variants[f"full, {TRIM_MODES[trim]}"] = lambda b, t=trim: step(b, full_loss, True, t)
    if model_name == PILOT:
        variants["loss only"] = loss_only
    for run in variants.values():  # warm-up: allocator, autograd graphs
        run(batches[0])
    times: dict[str, list[float]] = {name: [] for name in variants}
    for batch in batches[1:]:
        for name, run in variants.items():
            times[name].append(run(batch))
    medians = {name: statistics.median(values) for name, values in times.items()}
    texts = [torch.cat([b["text"], b["neg_text"][b["neg_mask"]]]) for b in batches[1:]]
    by_trim = {}
    for trim in trims:
        label = TRIM_MODES[trim]
        control, encode, full = (medians[f"{v}, {label}"] for v in ("control", "encode", "full"))
        by_trim[label] = {"full_over_control": full / control, "negative_encoding_share_of_full": (encode - control) / full,
                          "loss_arithmetic_share_of_full_by_difference": (full - encode) / full}
    result = {
        "model": model_name, "batch_size": batch_size, "negatives_per_caption": len(KINDS),
        "config": arch.config, "parameters": sum(p.numel() for p in net.parameters()), "repeats": repeats,
        "text_path": path.describe(), "context_length": int(batches[0]["text"].shape[1]),
        "valid_negatives_per_caption": statistics.mean(float(b["neg_mask"].sum()) / batch_size for b in batches[1:]),
        "mean_text_tokens": statistics.mean(float(path.row_lengths(t).float().mean()) for t in texts),
        "batch_longest_text_tokens": [path.length(t) for t in texts],
        "median_s": medians, "all_s": times, "by_trim": by_trim,
    }
    if set(trims) == {"on", "off"}:
        result["trimmed_over_full_context"] = {v: medians[f"{v}, trimmed"] / medians[f"{v}, full context"]
                                               for v in ("control", "encode", "full")}
    if "loss only" in medians:
        result["loss_arithmetic_share_of_full_direct"] = {
            label: medians["loss only"] / medians[f"full, {label}"] for label in by_trim}
    return result


def draw_stream_jpeg(index: int) -> bytes:
    """A 224-px JPEG of coloured boxes under blurred noise (compresses like a photo)."""
    from PIL import Image, ImageDraw, ImageFilter

    image = Image.effect_noise((224, 224), 40).convert("RGB")
    draw = ImageDraw.Draw(image)
    for box in range(4):
        x, y = (index * 37 + box * 53) % 160, (index * 91 + box * 29) % 160
        draw.rectangle([x, y, x + 50, y + 40], fill=((index * 13 + box * 70) % 256, 120, 200))
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(1)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def write_stream_shards(folder: Path, samples: int, per_shard: int = 100, distinct_images: int = 512) -> list[str]:
    # Drawing is the slow part of writing; a loader decodes a cycled JPEG at the same cost.
    images = [draw_stream_jpeg(index) for index in range(min(samples, distinct_images))]
    sizes = {}
    for shard in range(0, samples, per_shard):
        name = f"{shard // per_shard:06d}.tar"
        with tarfile.open(folder / name, "w") as tar:
            for index in range(shard, min(shard + per_shard, samples)):
                jpeg = images[index % len(images)]
                captions = []
                for c in range(5):
                    text = f"a photo number {index} of a red car parked next to a blue truck, variant {c}"
                    negatives = [{"text": f"{text} negative {kind} {n}", "kind": kind, "rule": "bench"}
                                 for kind in KINDS for n in range(2)]
                    captions.append({"text": text, "negatives": negatives})
                add_sample(tar, index, jpeg, captions)
                sizes[name] = sizes.get(name, 0) + 1
    (folder / "sizes.json").write_text(json.dumps(sizes), encoding="utf-8")
    return sorted(str(folder / name) for name in sizes)


def add_sample(tar: tarfile.TarFile, index: int, jpeg: bytes, captions: list[dict]) -> None:
    """One sample as fgclip's shards hold it: {key}.jpg, {key}.txt (the first caption), {key}.json."""
    record = json.dumps({"captions": captions, "source": {"index": index}}).encode()
    for suffix, payload in (("jpg", jpeg), ("txt", captions[0]["text"].encode()), ("json", record)):
        info = tarfile.TarInfo(f"{index:09d}.{suffix}")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))


# The stream as the trainer runs it, and as it ran before 2026-11-27 (the whole transform in the
# workers, float images through shared memory, open_clip's tokenizer as it comes).
STREAM_VARIANTS = {
    "trainer": {"defer_normalize": True, "tokenizer": "fgclip"},
    "float in workers": {"defer_normalize": False, "tokenizer": "open_clip"},
}


def stream_benchmark(samples: int, batch_size: int, worker_counts: list[int], repeats: int) -> dict:
    import open_clip

    transform = open_clip.image_transform(224, is_train=True)
    tokenizers = {"fgclip": model_io.tokenizer(model_io.resolve_architecture("ViT-B-32")),
                  "open_clip": open_clip.get_tokenizer("ViT-B-32")}
    runs: dict[str, dict[str, list[float]]] = {v: {str(w): [] for w in worker_counts} for v in STREAM_VARIANTS}
    with tempfile.TemporaryDirectory() as folder:
        shards = write_stream_shards(Path(folder), samples)
        jpeg_bytes = statistics.median(os.path.getsize(s) for s in shards) / 100
        for repeat in range(repeats):
            for workers in worker_counts:
                for name, variant in STREAM_VARIANTS.items():  # in turn: the machine's noise hits both alike
                    settings = StreamSettings(batch_size=batch_size, workers=workers, shuffle_buffer=200,
                                              defer_normalize=variant["defer_normalize"])
                    stream = TrainStream(shards, settings, preprocess=transform,
                                         tokenize=tokenizers[variant["tokenizer"]], epoch=repeat,
                                         samples_per_epoch=samples)
                    runs[name][str(workers)].append(timed_stream(stream))
    by_variant = {
        name: {count: {"samples_per_s": statistics.median(rates), "per_worker": statistics.median(rates) / max(int(count), 1),
                       "all_samples_per_s": rates} for count, rates in by_count.items()}
        for name, by_count in runs.items()}
    return {"samples": samples, "batch_size": batch_size, "image_side": 224, "captions_per_sample": 5,
            "negatives_per_caption": 2 * len(KINDS), "tar_bytes_per_sample": jpeg_bytes, "repeats": repeats,
            "variants": STREAM_VARIANTS, "by_variant": by_variant, "by_workers": by_variant["trainer"]}


def timed_stream(stream) -> float:
    """samples/s after the first batch (worker start-up is not throughput); the images are made
    float as the trainer makes them (on CPU here, in this process)."""
    seen, started = 0, None
    for batch in stream:
        images_on(batch, "cpu")
        if started is None:
            started = time.perf_counter()
            continue
        seen += batch["image"].shape[0]
    return seen / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--step-models", default="pilot:128,ViT-B-32:16",
                        help="models of the step part, name:batch, comma-separated (pilot: the 3.4 M config)")
    parser.add_argument("--trim", choices=("both", "on", "off"), default="both",
                        help="the text tower trimmed to the batch's longest text, at the full context, or both")
    parser.add_argument("--stream-samples", type=int, default=600)
    parser.add_argument("--stream-workers", default="1,2")
    parser.add_argument("--stream-repeats", type=int, default=3)
    parser.add_argument("--cli-steps", type=int, default=24, help="steps of each `fgclip train` run (--parts cli)")
    parser.add_argument("--cli-workers", type=int, default=1)
    parser.add_argument("--parts", default="step,stream", help="which parts to run, comma-separated: step, stream, cli")
    parser.add_argument("--out", type=Path, default=Path("bench/results/train.json"))
    args = parser.parse_args()
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if not parts or not parts <= {"step", "stream", "cli"}:
        parser.error("--parts takes step, stream, cli or several")
    try:
        models = [(name, int(batch)) for name, _, batch in (item.strip().rpartition(":")
                                                            for item in args.step_models.split(","))]
    except ValueError:
        parser.error("--step-models takes name:batch items, e.g. pilot:128,ViT-B-32:16")
    trims = ["off", "on"] if args.trim == "both" else [args.trim]
    torch.set_num_threads(os.cpu_count() or 1)
    result: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                "torch": torch.__version__, "threads": torch.get_num_threads()}}
    if "step" in parts:
        result["step"] = {name: run_step_part(name, batch, args.repeats, trims) for name, batch in models}
    if "stream" in parts:
        result["stream"] = run_stream_part(args.stream_samples, args.stream_workers, args.stream_repeats)
    if "cli" in parts:
        result["cli"] = run_cli_part(args.cli_steps, args.cli_workers, trims)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


def run_step_part(model: str, batch: int, repeats: int, trims: list[str]) -> dict:
    step = step_benchmark(model, batch, repeats, trims)
    medians = step["median_s"]
    print(f"step of {model}, CPU, {step['parameters'] / 1e6:.1f} M parameters, batch {batch}, COCO captions with "
          f"{step['valid_negatives_per_caption']:.2f} negatives each, median of {repeats}; texts of "
          f"{step['mean_text_tokens']:.1f} tokens on average, a batch's longest "
          f"{min(step['batch_longest_text_tokens'])}-{max(step['batch_longest_text_tokens'])} "
          f"(context {step['context_length']}):")
    print(f"  {'variant':<24} {'ms':>9} {'x control':>10}")
    for name, seconds in medians.items():
        label = name.partition(", ")[2]
        control = medians.get(f"control, {label}")
        print(f"  {name:<24} {seconds * 1000:9.1f} {(f'{seconds / control:10.2f}' if control else ''):>10}")
    for label, shares in step["by_trim"].items():
        print(f"  {label}: full / control {shares['full_over_control']:.2f}; encoding the negatives "
              f"{shares['negative_encoding_share_of_full']:.1%} of a full step; loss arithmetic "
              f"{shares['loss_arithmetic_share_of_full_by_difference']:.1%} by difference"
              + (f", {step['loss_arithmetic_share_of_full_direct'][label]:.1%} measured alone (target < 3%)"
                 if "loss_arithmetic_share_of_full_direct" in step else ""))
    if "trimmed_over_full_context" in step:
        print("  trimmed / full context: " + ", ".join(f"{v} {r:.2f}" for v, r in step["trimmed_over_full_context"].items()))
    return step


CLI_MODEL, CLI_BATCH = "ViT-B-32-quickgelu", 16


def write_coco_shards(folder: Path, samples: int, per_shard: int = 100, captions_per_sample: int = 2) -> list[str]:
    """Shards as build-negatives writes them: COCO's captions grouped by image, with the negatives
    fgclip's generator makes (2 per kind), and drawn 224-px JPEGs (no COCO images here)."""
    data = json.loads(COCO.read_text(encoding="utf-8"))
    by_image: dict[int, list[str]] = {}
    for annotation in data["annotations"]:
        by_image.setdefault(annotation["image_id"], []).append(annotation["caption"].strip())
    groups = list(by_image.values())
    images = [draw_stream_jpeg(index) for index in range(min(samples, 256))]
    sizes = {}
    for shard in range(0, samples, per_shard):
        name = f"{shard // per_shard:06d}.tar"
        with tarfile.open(folder / name, "w") as tar:
            for index in range(shard, min(shard + per_shard, samples)):
                captions = []
                for text in groups[index % len(groups)][:captions_per_sample]:
                    made = negatives_by_kind(text, per_kind=2)
                    captions.append({"text": text, "negatives": [{"text": t, "kind": kind, "rule": "bench"}
                                                                 for kind in KINDS for t in made[kind]]})
                add_sample(tar, index, images[index % len(images)], captions)
                sizes[name] = sizes.get(name, 0) + 1
    (folder / "sizes.json").write_text(json.dumps(sizes), encoding="utf-8")
    return sorted(str(folder / name) for name in sizes)


def cli_run(shards: list[str], output: Path, hard_negatives: bool, trim: str, steps: int, workers: int) -> dict:
    from fgclip.cli import app
    from fgclip.trainer.metrics import read_metrics

    args = ["train", "--shards", "::".join(shards), "--output", str(output), "--model", CLI_MODEL,
            "--batch-size", str(CLI_BATCH), "--steps", str(steps), "--workers", str(workers), "--device", "cpu",
            "--log-every", "1", "--save-every", str(10 ** 9), "--lr", "1e-6"]
    if not hard_negatives:
        args.append("--no-hard-negatives")
    trimming = text_encoding.text_path
    if trim == "off":
        text_encoding.text_path = lambda model: text_encoding.TextPath(False, "turned off by bench/train.py")
    started = time.perf_counter()
    try:
        app(args=args, standalone_mode=False)
    finally:
        text_encoding.text_path = trimming
    wall = time.perf_counter() - started
    rows = read_metrics(output / "metrics.jsonl")
    steady = [row["samples_per_s"] for row in rows[len(rows) // 4:]]  # the first quarter warms up
    return {"hard_negatives": hard_negatives, "trim": trim, "steps": steps, "wall_s": wall,
            "samples_per_s_median": statistics.median(steady), "samples_per_s_rows": [r["samples_per_s"] for r in rows]}


def run_cli_part(steps: int, workers: int, trims: list[str]) -> dict:
    runs = {}
    with tempfile.TemporaryDirectory() as folder:
        shards = write_coco_shards(Path(folder), samples=CLI_BATCH * steps + 100)
        for trim in trims:
            for hard_negatives in (False, True):
                name = f"{'full' if hard_negatives else 'control'}, {TRIM_MODES[trim]}"
                print(f"  fgclip train, {name} ...", flush=True)
                runs[name] = cli_run(shards, Path(folder) / name.replace(", ", "-").replace(" ", "_"), hard_negatives,
                                     trim, steps, workers)
    print(f"fgclip train --model {CLI_MODEL} --batch-size {CLI_BATCH} --steps {steps} --workers {workers}, CPU, "
          "samples/s (median of the rows after the first quarter):")
    print(f"  {'run':<24} {'samples/s':>10} {'control / this':>15}")
    ratios = {}
    for name, run in runs.items():
        label = name.partition(", ")[2]
        control = runs[f"control, {label}"]["samples_per_s_median"]
        print(f"  {name:<24} {run['samples_per_s_median']:10.2f} {control / run['samples_per_s_median']:15.2f}")
        if name.startswith("full"):
            ratios[label] = control / run["samples_per_s_median"]
    print("  full / control step time: " + ", ".join(f"{label} {r:.2f}x" for label, r in ratios.items())
          + " (target <= 1.6x trimmed)")
    return {"model": CLI_MODEL, "batch_size": CLI_BATCH, "workers": workers, "runs": runs,
            "full_over_control_time": ratios}


def run_stream_part(samples: int, worker_list: str, repeats: int) -> dict:
    workers = [int(w) for w in worker_list.split(",")]
    stream = stream_benchmark(samples, 32, workers, repeats)
    print(f"data stream, 224 px JPEGs ({stream['tar_bytes_per_sample'] / 1000:.0f} KB a sample in the tar), "
          f"5 captions x 8 negatives, median of {repeats}:")
    print(f"  {'variant':<18} {'workers':>7} {'samples/s':>10} {'per worker':>11} {'x before':>9}")
    for name, by_count in stream["by_variant"].items():
        for count, result in by_count.items():
            before = stream["by_variant"]["float in workers"][count]["samples_per_s"]
            print(f"  {name:<18} {count:>7} {result['samples_per_s']:10.0f} {result['per_worker']:11.0f} "
                  f"{result['samples_per_s'] / before:9.2f}")
    print("  target: >= 400 samples/s per worker (the trainer's variant)")
    return stream


if __name__ == "__main__":
    sys.exit(main())
