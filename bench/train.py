"""What the CE-CLIP objective costs a training step, and how fast the data stream feeds one.

    .venv/bin/python bench/train.py [--repeats 7] [--batch 128] [--stream-samples 600] [--stream-workers 1,2] [--stream-repeats 3] [--out bench/results/train.json]

Part 1, the step (CPU, a small open_clip config, synthetic batches): four variants run in turn
within each repeat, so the machine's noise hits them alike; the table gives medians.
  control      captions only, plain CLIP loss (what `--no-hard-negatives` runs)
  encode       captions + 4 negatives per caption through the text tower, plain CLIP loss
               (the negatives' features enter the loss with weight 0, so their backward runs too)
  full         the same forward, the whole objective: ITC with hard negatives + IMC + CMR
  loss only    the objective's forward and backward on fixed features (no model)
"loss arithmetic" = full - encode, and, measured directly, loss only; the target of issue 4 is
that it adds under 3% to a step.

Part 2, the data stream alone: shards of 224-px JPEGs, 5 captions and 8 negatives (2 per kind)
per sample, read, decoded, augmented (open_clip's train transform) and tokenized by
fgclip.trainer.data with 1 and 2 loader workers; samples/s after the first batch, the images made
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
from fgclip.files import write_json  # noqa: E402
from fgclip.schema import KINDS  # noqa: E402
from fgclip.trainer import data, distributed  # noqa: E402
from fgclip.trainer.loop import accumulate_gradients  # noqa: E402
from fgclip.trainer.losses import CompositionLoss, LossSettings  # noqa: E402

# The pilot configuration of issue 6: 64-px images, patch 16, 2 layers of width 64 per tower.
STEP_CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
ONE = distributed.World(rank=0, size=1, local_rank=0, device=torch.device("cpu"))


class _NoScaler:
    def scale(self, loss):
        return loss


def step_benchmark(batch_size: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fgclip-bench-step.json"
        path.write_text(json.dumps(STEP_CONFIG), encoding="utf-8")
        arch = model_io.resolve_architecture(str(path))
        torch.manual_seed(0)
        net, _, _ = model_io.create(arch)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-5)
    generator = torch.Generator().manual_seed(0)
    length = STEP_CONFIG["text_cfg"]["context_length"]
    batch = {
        "image": torch.randn(batch_size, 3, 64, 64, generator=generator),
        "text": torch.randint(1, 49000, (batch_size, length), generator=generator),
        "neg_text": torch.randint(1, 49000, (batch_size, len(KINDS), length), generator=generator),
        "neg_mask": torch.ones(batch_size, len(KINDS), dtype=torch.bool),
    }
    full_loss = CompositionLoss(LossSettings(), num_kinds=len(KINDS))
    plain_loss = CompositionLoss(LossSettings(hard_negatives=False), num_kinds=len(KINDS))

    class EncodeOnly:
        """Plain CLIP loss that still back-propagates (with weight 0) through the negatives."""

        def __call__(self, image, text, scale, neg_text=None, neg_mask=None, update_margins=True):
            loss, terms = plain_loss(image, text, scale)
            return loss + 0.0 * neg_text.sum(), terms

    def step(loss_fn, hard_negatives: bool) -> float:
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        _, features = accumulate_gradients(net, loss_fn, [batch], ONE, hard_negatives, None, _NoScaler())
        optimizer.step()
        if hard_negatives and isinstance(loss_fn, CompositionLoss):
            loss_fn.advance_margins(features.image, features.text, features.neg_text, features.neg_mask, features.scale)
        return time.perf_counter() - start

    dim = STEP_CONFIG["embed_dim"]
    fixed = [torch.nn.functional.normalize(torch.randn(*shape, generator=generator), dim=-1)
             for shape in ((batch_size, dim), (batch_size, dim), (batch_size, len(KINDS), dim))]

    def loss_only() -> float:
        image, text, negatives = (t.clone().requires_grad_(True) for t in fixed)
        scale = torch.tensor(1 / 0.07, requires_grad=True)
        start = time.perf_counter()
        loss, _ = full_loss(image, text, scale, negatives, batch["neg_mask"])
        loss.backward()
        return time.perf_counter() - start

    variants = {
        "control": lambda: step(plain_loss, False),
        "encode": lambda: step(EncodeOnly(), True),
        "full": lambda: step(full_loss, True),
        "loss only": loss_only,
    }
    for run in variants.values():  # warm-up: allocator, autograd graphs
        run()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            times[name].append(run())
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "batch_size": batch_size, "negatives_per_caption": len(KINDS), "config": STEP_CONFIG,
        "parameters": sum(p.numel() for p in net.parameters()), "repeats": repeats,
        "median_s": medians, "all_s": times,
        "negative_encoding_share_of_full": (medians["encode"] - medians["control"]) / medians["full"],
        "loss_arithmetic_share_of_full_by_difference": (medians["full"] - medians["encode"]) / medians["full"],
        "loss_arithmetic_share_of_full_direct": medians["loss only"] / medians["full"],
        "full_over_control": medians["full"] / medians["control"],
    }


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
                record = json.dumps({"captions": captions, "source": {"index": index}}).encode()
                for suffix, payload in (("jpg", jpeg), ("txt", captions[0]["text"].encode()), ("json", record)):
                    info = tarfile.TarInfo(f"{index:09d}.{suffix}")
                    info.size = len(payload)
                    tar.addfile(info, io.BytesIO(payload))
                sizes[name] = sizes.get(name, 0) + 1
    (folder / "sizes.json").write_text(json.dumps(sizes), encoding="utf-8")
    return sorted(str(folder / name) for name in sizes)


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
                    settings = data.StreamSettings(batch_size=batch_size, workers=workers, shuffle_buffer=200,
                                                   defer_normalize=variant["defer_normalize"])
                    stream = data.TrainStream(shards, settings, preprocess=transform,
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
        data.images_on(batch, "cpu")
        if started is None:
            started = time.perf_counter()
            continue
        seen += batch["image"].shape[0]
    return seen / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=128, help="batch size of the step benchmark")
    parser.add_argument("--stream-samples", type=int, default=600)
    parser.add_argument("--stream-workers", default="1,2")
    parser.add_argument("--stream-repeats", type=int, default=3)
    parser.add_argument("--parts", default="step,stream", help="which parts to run, comma-separated")
    parser.add_argument("--out", type=Path, default=Path("bench/results/train.json"))
    args = parser.parse_args()
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if not parts or not parts <= {"step", "stream"}:
        parser.error("--parts takes step, stream or both")
    torch.set_num_threads(os.cpu_count() or 1)
    result: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                "torch": torch.__version__, "threads": torch.get_num_threads()}}
    if "step" in parts:
        result["step"] = run_step_part(args.batch, args.repeats)
    if "stream" in parts:
        result["stream"] = run_stream_part(args.stream_samples, args.stream_workers, args.stream_repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


def run_step_part(batch: int, repeats: int) -> dict:
    step = step_benchmark(batch, repeats)
    print(f"step, CPU, {step['parameters'] / 1e6:.1f} M parameters, batch {batch}, 4 negatives per caption, "
          f"median of {repeats}:")
    print(f"  {'variant':<10} {'ms':>8} {'x control':>10}")
    for name, seconds in step["median_s"].items():
        print(f"  {name:<10} {seconds * 1000:8.1f} {seconds / step['median_s']['control']:10.2f}")
    print(f"  encoding the negatives: {step['negative_encoding_share_of_full']:.1%} of a full step")
    print(f"  loss arithmetic: {step['loss_arithmetic_share_of_full_by_difference']:.1%} of a full step by difference, "
          f"{step['loss_arithmetic_share_of_full_direct']:.1%} measured alone (target < 3%)")
    return step


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
