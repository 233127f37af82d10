"""Text towers at the batch's longest caption (fgclip.text_encoding): eval's speed-up, and a cost
model of a training step by caption length and number of negatives.

    .venv/bin/python bench/text_encoding.py [--parts eval,model] [--eval-texts 2000] [--repeats 3]
                                            [--lengths 8,16,24,32,48,77] [--negatives 0,2,4]
                                            [--out bench/results/text_encoding.json]

Part "eval": ViT-B-32 with random weights, fgclip.eval.encoders.ClipEncoder (batches of 256, CPU,
fp32) on SugarCrepe's distinct texts (captions and negatives of ../shared/data/sugarcrepe/*.json,
the first --eval-texts of them in the files' order; 0 takes all 11,844). Three ways, each run
once after a warm-up batch, on the same texts:
  full context       open_clip's encode_text, every text at 77 tokens
  trimmed, in order  each batch of the texts as given cut to its longest text
  trimmed, sorted    what ClipEncoder does: batches of like length, each cut to its longest
and the largest relative difference of the features from the full context's.

Part "model": ViT-B-32 with random weights, batch 16, CPU, fp32: one training step (forward,
backward, AdamW) on texts all of L tokens, with k negatives per caption (k = 0: the control's
plain CLIP loss; k > 0: the whole objective), trimmed (the tower sees L tokens); the median of
--repeats after a warm-up, the configurations in turn within each repeat. Fits
    t = a + b * (1 + k) * L              (text tokens a step: linear)
    t = a + b * (1 + k) * L + c * (1 + k) * L**2   (attention's share)
by least squares and reports R**2 and the largest relative residual.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
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

SUGARCREPE = Path(__file__).resolve().parents[2] / "shared" / "data" / "sugarcrepe"
MODEL = "ViT-B-32"
ONE = distributed.World(rank=0, size=1, local_rank=0, device=torch.device("cpu"))


def sugarcrepe_texts() -> list[str]:
    texts: dict[str, None] = {}
    for path in sorted(SUGARCREPE.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")).values():
            for key in ("caption", "negative_caption"):
                if isinstance(case.get(key), str):
                    texts[case[key]] = None
    return list(texts)


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).norm(dim=-1) / b.norm(dim=-1)).max())


def eval_part(count: int) -> dict:
    from fgclip.eval.encoders import ClipEncoder

    every = sugarcrepe_texts()
    texts = every[:count] if count else every
    arch = model_io.resolve_architecture(MODEL)
    torch.manual_seed(0)
    net = model_io.create(arch)[0].eval()
    tokenize = model_io.tokenizer(arch)
    sorted_encoder = ClipEncoder(net, None, tokenize, batch_size=256)
    full_encoder = ClipEncoder(net, None, tokenize, batch_size=256)
    full_encoder.text_path = text_encoding.TextPath(False, "the full context, for comparison")
    path = sorted_encoder.text_path

    @torch.no_grad()
    def in_order(batch_texts: list[str]) -> torch.Tensor:
        out = []
        for start in range(0, len(batch_texts), 256):
            tokens = tokenize(batch_texts[start:start + 256])
            out.append(text_encoding.encode_text(net, tokens, normalize=True, path=path))
        return torch.cat(out)

    ways = {"full context": full_encoder.encode_texts, "trimmed, in order": in_order,
            "trimmed, sorted": sorted_encoder.encode_texts}
    seconds, features = {}, {}
    for name, encode in ways.items():
        encode(texts[:64])  # warm-up
        start = time.perf_counter()
        features[name] = encode(texts)
        seconds[name] = time.perf_counter() - start
    tokens = tokenize(texts)
    lengths = path.row_lengths(tokens).float()
    result = {"model": MODEL, "texts": len(texts), "distinct_texts_in_sugarcrepe": len(every), "batch_size": 256,
              "mean_tokens": float(lengths.mean()), "max_tokens": int(lengths.max()), "seconds": seconds,
              "texts_per_s": {name: len(texts) / s for name, s in seconds.items()},
              "speed_up": {name: seconds["full context"] / s for name, s in seconds.items()},
              "max_relative_difference": {name: relative_difference(f, features["full context"])
                                          for name, f in features.items()}}
    print(f"eval text encoding, {MODEL} random weights, CPU fp32, {len(texts)} of SugarCrepe's {len(every)} distinct "
          f"texts ({result['mean_tokens']:.1f} tokens on average, at most {result['max_tokens']}), batches of 256:")
    print(f"  {'way':<18} {'s':>8} {'texts/s':>9} {'speed-up':>9} {'max rel. diff':>14}")
    for name in ways:
        print(f"  {name:<18} {seconds[name]:8.1f} {result['texts_per_s'][name]:9.1f} {result['speed_up'][name]:9.2f} "
              f"{result['max_relative_difference'][name]:14.1e}")
    return result


class _NoScaler:
    def scale(self, loss):
        return loss


def model_part(lengths: list[int], negatives: list[int], repeats: int, batch: int = 16) -> dict:
    arch = model_io.resolve_architecture(MODEL)
    torch.manual_seed(0)
    net = model_io.create(arch)[0]
    forward = text_encoding.TrimmedTextCLIP(net)
    path = text_encoding.text_path(net)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-6)
    generator = torch.Generator().manual_seed(0)
    context = arch.config["text_cfg"].get("context_length", 77)

    def texts(rows: int, length: int) -> torch.Tensor:
        tokens = torch.zeros(rows, context, dtype=torch.long)
        tokens[:, 0] = 49406
        tokens[:, 1:length - 1] = torch.randint(1, 49000, (rows, length - 2), generator=generator)
        tokens[:, length - 1] = 49407
        return tokens

    def make(length: int, k: int) -> dict:
        mask = torch.zeros(batch, len(KINDS), dtype=torch.bool)
        mask[:, :k] = True
        return {"image": torch.randn(batch, 3, 224, 224, generator=generator), "text": texts(batch, length),
                "neg_text": texts(batch * len(KINDS), length).reshape(batch, len(KINDS), context), "neg_mask": mask}

    configs = [(length, k) for k in negatives for length in lengths]
    batches = {config: make(*config) for config in configs}

    def step(length: int, k: int) -> float:
        loss_fn = CompositionLoss(LossSettings(hard_negatives=k > 0), num_kinds=len(KINDS))
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        accumulate_gradients(forward, loss_fn, [batches[(length, k)]], ONE, k > 0, None, _NoScaler(), path)
        optimizer.step()
        return time.perf_counter() - start

    for config in configs:
        step(*config)
    times = {config: [] for config in configs}
    for _ in range(repeats):
        for config in configs:
            times[config].append(step(*config))
    medians = {config: statistics.median(values) for config, values in times.items()}
    fits = {"linear": fit(medians, quadratic=False), "with attention": fit(medians, quadratic=True)}
    print(f"step of {MODEL}, batch {batch}, CPU fp32, trimmed, median of {repeats} (ms), by text length L and "
          "negatives per caption k:")
    print("  " + f"{'L':>4} " + " ".join(f"{f'k={k}':>8}" for k in negatives))
    for length in lengths:
        print("  " + f"{length:>4} " + " ".join(f"{medians[(length, k)] * 1000:8.0f}" for k in negatives))
    for name, result in fits.items():
        terms = ", ".join(f"{term} {value:.4g}" for term, value in result["coefficients"].items())
        print(f"  fit ({name}): {terms}; R^2 {result['r2']:.4f}, largest residual {result['max_relative_residual']:.1%}")
    return {"model": MODEL, "batch_size": batch, "repeats": repeats, "lengths": lengths, "negatives": negatives,
            "median_s": {f"L={length},k={k}": value for (length, k), value in medians.items()},
            "all_s": {f"L={length},k={k}": value for (length, k), value in times.items()}, "fits": fits}


def fit(medians: dict, quadratic: bool) -> dict:
    """Least squares of t = a + b (1+k) L [+ c (1+k) L^2] in seconds."""
    rows, targets = [], []
    for (length, k), seconds in medians.items():
        texts = 1 + k
        rows.append([1.0, texts * length] + ([texts * length ** 2] if quadratic else []))
        targets.append(seconds)
    design, target = torch.tensor(rows, dtype=torch.float64), torch.tensor(targets, dtype=torch.float64)
    solution = torch.linalg.lstsq(design, target.unsqueeze(1)).solution.squeeze(1)
    predicted = design @ solution
    residual = target - predicted
    r2 = 1 - float((residual ** 2).sum() / ((target - target.mean()) ** 2).sum())
    names = ["a_s", "b_s_per_text_token"] + (["c_s_per_text_token_squared"] if quadratic else [])
    return {"coefficients": dict(zip(names, (float(v) for v in solution))), "r2": r2,
            "max_relative_residual": float((residual.abs() / target).max())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="eval,model")
    parser.add_argument("--eval-texts", type=int, default=2000, help="SugarCrepe texts encoded (0: all 11,844)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lengths", default="8,16,24,32,48,77")
    parser.add_argument("--negatives", default="0,2,4")
    parser.add_argument("--out", type=Path, default=Path("bench/results/text_encoding.json"))
    args = parser.parse_args()
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if not parts or not parts <= {"eval", "model"}:
        parser.error("--parts takes eval, model or both")
    torch.set_num_threads(os.cpu_count() or 1)
    result: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                "torch": torch.__version__, "threads": torch.get_num_threads()}}
    if "eval" in parts:
        result["eval"] = eval_part(args.eval_texts)
    if "model" in parts:
        result["model"] = model_part([int(v) for v in args.lengths.split(",")], [int(v) for v in args.negatives.split(",")],
                                     args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
