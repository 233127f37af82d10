"""The trainer on a GPU: samples/s, peak memory and model FLOPs utilisation, CE-CLIP objective
against the `--no-hard-negatives` control, measured in one process side by side.

    python3 bench/gpu_train.py [--model ViT-B-32-quickgelu] [--batch 256] [--steps 300] [--out DIR]

(bench/gpu_train.sh installs what the device machine lacks and runs this.) Two measurements:
  step    the training step alone (`accumulate_gradients` + AdamW) on one synthetic batch held
          on the GPU: what the model and the objective cost, data loading left out;
  stream  `fgclip.trainer.loop.train` end to end on generated shards (224-px JPEGs, 5
          captions and 8 negatives a sample) with --workers loader processes: what a user gets.
FLOPs are counted by torch.utils.flop_counter on one step (forward and backward, matrix
products and attention); MFU = FLOPs per step / step time / the GPU's dense bf16 peak.
Random initial weights: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from fgclip import model as model_io  # noqa: E402
from fgclip import text_encoding  # noqa: E402
from fgclip.config import TrainConfig  # noqa: E402
from fgclip.files import write_json  # noqa: E402
from fgclip.schema import KINDS  # noqa: E402
from fgclip.trainer import distributed, loop  # noqa: E402
from fgclip.trainer.losses import CompositionLoss, LossSettings  # noqa: E402
from fgclip.trainer.metrics import read_metrics  # noqa: E402

DENSE_BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # tensor-core FLOP/s, no sparsity


class _Scaler:
    def scale(self, loss):
        return loss


def peak_flops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((value for key, value in DENSE_BF16_PEAK.items() if key in name), None)


# COCO captions tokenize to about 12-20 tokens (start and end of text included): the synthetic
# texts end at 18, so that a trimmed tower runs 18 positions of the 77, as on real captions.
CAPTION_TOKENS = 18
START_OF_TEXT, END_OF_TEXT = 49406, 49407


def caption_like_tokens(shape: tuple[int, ...], context: int, generator: torch.Generator) -> torch.Tensor:
    length = min(CAPTION_TOKENS, context)
    tokens = torch.zeros(*shape, context, dtype=torch.long)
    tokens[..., 1:length - 1] = torch.randint(1, 49000, (*shape, length - 2), generator=generator)
    tokens[..., 0], tokens[..., length - 1] = START_OF_TEXT, END_OF_TEXT
    return tokens


def step_benchmark(model_name: str, batch: int, steps: int, device: torch.device, hard_negatives: bool,
                   trim: bool = True) -> dict:
    arch = model_io.resolve_architecture(model_name)
    torch.manual_seed(0)
    net, _, _ = model_io.create(arch)
    net.to(device)
    side = arch.config["vision_cfg"]["image_size"]
    side = side if isinstance(side, int) else side[0]
    length = arch.config["text_cfg"].get("context_length", 77)
    generator = torch.Generator().manual_seed(0)
    data = {
        "image": torch.randn(batch, 3, side, side, generator=generator).to(device),
        "text": caption_like_tokens((batch,), length, generator),  # on the host, as the loader gives them
        "neg_text": caption_like_tokens((batch, len(KINDS)), length, generator),
        "neg_mask": torch.ones(batch, len(KINDS), dtype=torch.bool, device=device),
    }
    text_path = text_encoding.text_path(net) if trim else None
    model = text_encoding.TrimmedTextCLIP(net) if text_path is not None and text_path.trimmed else net
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-6, fused=device.type == "cuda")
    loss_fn = CompositionLoss(LossSettings(hard_negatives=hard_negatives), num_kinds=len(KINDS))
    world = distributed.World(0, 1, 0, device)
    dtype = torch.bfloat16 if device.type == "cuda" else None

    def one_step():
        optimizer.zero_grad(set_to_none=True)
        loop.accumulate_gradients(model, loss_fn, [data], world, hard_negatives, dtype, _Scaler(), text_path)
        optimizer.step()

    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        one_step()
    flops = counter.get_total_flops()
    for _ in range(10):  # warm-up: kernels chosen, allocator settled
        one_step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        one_step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    peak = peak_flops(device)
    return {
        "hard_negatives": hard_negatives, "trimmed": bool(text_path and text_path.trimmed), "batch": batch,
        "steps_timed": steps,
        "median_step_s": median, "samples_per_s": batch / median,
        "flops_per_step": flops, "achieved_tflops": flops / median / 1e12,
        "mfu": flops / median / peak if peak else None,
        "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None,
    }


def stream_benchmark(model_name: str, batch: int, steps: int, workers: int, device: str, hard_negatives: bool,
                     shards: list[str], folder: Path) -> dict:
    cfg = TrainConfig(shards="::".join(shards), output=str(folder / f"run-{int(hard_negatives)}"), model=model_name,
                      batch_size=batch, steps=steps, workers=workers, log_every=10, save_every=10**9,
                      no_hard_negatives=not hard_negatives, device=device, lr=1e-6)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    loop.train(cfg, echo=lambda line: print("   ", line, flush=True))
    wall = time.perf_counter() - started
    rows = read_metrics(Path(cfg.output) / "metrics.jsonl")
    steady = [row["samples_per_s"] for row in rows[len(rows) // 3:]]  # the first third warms up
    return {"hard_negatives": hard_negatives, "workers": workers, "steps": steps, "wall_s": wall,
            "samples_per_s_median": statistics.median(steady) if steady else None,
            "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ViT-B-32-quickgelu")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=300, help="timed steps of the step benchmark")
    parser.add_argument("--stream-steps", type=int, default=60)
    parser.add_argument("--stream-samples", type=int, default=4096)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 2))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"device {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}; torch {torch.__version__}; "
          f"{os.cpu_count()} CPUs", flush=True)
    result: dict = {"model": args.model, "device": str(device), "torch": torch.__version__,
                    "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None}
    result["step"] = [step_benchmark(args.model, args.batch, args.steps, device, hard, trim)
                      for trim in (False, True) for hard in (False, True)]
    for row in result["step"]:
        mfu = "n/a" if row["mfu"] is None else f"{row['mfu']:.1%}"
        print(f"step  trimmed={row['trimmed']!s:5} hard_negatives={row['hard_negatives']!s:5}: "
              f"{row['samples_per_s']:8.0f} samples/s, {row['median_step_s'] * 1000:7.1f} ms/step, "
              f"{row['achieved_tflops']:6.1f} TFLOP/s, MFU {mfu}, peak {row['peak_memory_gib']} GiB", flush=True)
    untrimmed_control, untrimmed_full, control, full = result["step"]
    result["step_full_over_control_time_untrimmed"] = untrimmed_full["median_step_s"] / untrimmed_control["median_step_s"]
    result["step_full_over_control_time"] = full["median_step_s"] / control["median_step_s"]
    print(f"step  full objective / control: {result['step_full_over_control_time_untrimmed']:.2f}x the time "
          f"untrimmed, {result['step_full_over_control_time']:.2f}x trimmed (target <= 1.3x)", flush=True)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from train import write_stream_shards  # bench/train.py: the same 224-px, 5x8 shards

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "shards").mkdir()
        shards = write_stream_shards(folder / "shards", args.stream_samples)
        result["stream"] = [stream_benchmark(args.model, args.batch, args.stream_steps, args.workers, args.device, hard,
                                             shards, folder) for hard in (False, True)]
    for row in result["stream"]:
        print(f"train hard_negatives={row['hard_negatives']!s:5}: {row['samples_per_s_median']:8.0f} samples/s with "
              f"{row['workers']} loader workers, peak {row['peak_memory_gib']} GiB", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "gpu_train.json", result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
