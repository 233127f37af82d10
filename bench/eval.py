"""`fgclip eval` on SugarCrepe: encodings against cases, and end-to-end seconds.

    .venv/bin/python bench/eval.py [--data ../shared/data] [--out bench/results/eval.json]

SugarCrepe's 7,511 cases use 1,560 COCO val2017 images: the target is exactly 1,560 image
encodings (and one per distinct caption). The images are stand-ins drawn for the file names the
benchmark lists (64 px JPEGs); the model is a tiny randomly initialised open_clip config (the
accuracies are meaningless; the counts and the seconds are the point). Three runs: cold (empty
feature cache), warm (a second checkpoint label on the same weights file: every feature from the
disk cache), and a rerun of the first (every subset already in the results file).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from fgclip import model as model_io  # noqa: E402
from fgclip.config import EvalConfig  # noqa: E402
from fgclip.eval import run  # noqa: E402
from fgclip.files import write_json  # noqa: E402
from fgclip.pipeline.negatives.measure import default_data_dir  # noqa: E402

TINY = {"embed_dim": 64, "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}}


class Counting:
    """Counts what reaches the model (after the feature cache)."""

    def __init__(self, encoder):
        self.encoder, self.images, self.texts, self.image_calls = encoder, 0, 0, 0

    def encode_images(self, refs):
        self.images += len(refs)
        self.image_calls += 1
        return self.encoder.encode_images(refs)

    def encode_texts(self, texts):
        self.texts += len(texts)
        return self.encoder.encode_texts(texts)


def draw_images(folder: Path, names: list[str]) -> None:
    from PIL import Image, ImageDraw

    for i, name in enumerate(names):
        image = Image.new("RGB", (64, 64), (i * 37 % 256, i * 91 % 256, i * 53 % 256))
        ImageDraw.Draw(image).ellipse([i % 20, i % 13, 40 + i % 20, 50], fill=(200, 40, 90))
        image.save(folder / name, quality=90)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=Path("bench/results/eval.json"))
    args = parser.parse_args()
    sugarcrepe = args.data / "sugarcrepe"
    if not sugarcrepe.is_dir():
        print(f"no SugarCrepe files under {args.data}: pass --data (the shared/data folder)", file=sys.stderr)
        return 2
    names = sorted({case["filename"] for path in sugarcrepe.glob("*.json")
                    for case in json.loads(path.read_text(encoding="utf-8")).values()})
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "images").mkdir()
        started = time.perf_counter()
        draw_images(work / "images", names)
        draw_seconds = time.perf_counter() - started
        config_path = work / "fgclip-bench-eval.json"
        config_path.write_text(json.dumps(TINY), encoding="utf-8")
        arch = model_io.resolve_architecture(str(config_path))
        torch.manual_seed(0)
        net, _, _ = model_io.create(arch)
        checkpoint = work / "tiny.pt"
        model_io.save_checkpoint(checkpoint, model=net, arch=arch)

        measured = {}
        for label, results in (("cold", "a.jsonl"), ("warm cache", "b.jsonl"), ("rerun", "a.jsonl")):
            cfg = EvalConfig(checkpoints=(str(checkpoint),), benchmarks=("sugarcrepe",), data_root=str(sugarcrepe),
                             images=str(work / "images"), results=str(work / results), device="cpu",
                             cache_dir=str(work / "cache"))
            counters = []

            def encoder_for(path, cfg=cfg):
                cached = run.default_encoder(path, cfg)
                cached.encoder = Counting(cached.encoder)  # behind the cache: counts real encodings
                counters.append(cached.encoder)
                return cached

            started = time.perf_counter()
            rows = run.evaluate(cfg, echo=lambda line: None, encoder_for=encoder_for)
            seconds = time.perf_counter() - started
            counter = counters[0] if counters else Counting(None)
            cases = sum(r["n"] for r in rows if not r["convention"])
            measured[label] = {"seconds": seconds, "cases_scored": cases, "image_encodings": counter.images,
                               "text_encodings": counter.texts, "rows_added": len(rows)}
    captions = set()
    for path in sugarcrepe.glob("*.json"):
        for case in json.loads(path.read_text(encoding="utf-8")).values():
            captions.update((case["caption"], case["negative_caption"]))
    print(f"SugarCrepe: {len(names)} distinct images, {len(captions)} distinct captions; tiny model on CPU "
          f"({os.cpu_count()} CPUs); stand-in images drawn in {draw_seconds:.1f} s")
    print(f"  {'run':<11} {'seconds':>8} {'cases':>6} {'image enc':>10} {'text enc':>9}")
    for label, m in measured.items():
        print(f"  {label:<11} {m['seconds']:8.1f} {m['cases_scored']:6d} {m['image_encodings']:10d} {m['text_encodings']:9d}")
    target = measured["cold"]["image_encodings"] == len(names)
    print(f"  image encodings on a cold cache = distinct images ({len(names)}): {'yes' if target else 'NO'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                      "torch": torch.__version__},
                          "distinct_images": len(names), "distinct_captions": len(captions), "runs": measured})
    return 0 if target else 1


if __name__ == "__main__":
    sys.exit(main())
