"""Does an image tower know which object is on which side? A linear probe on frozen features of the
shapes world (issue 23).

    .venv/bin/python bench/position_probe.py RUN [RUN ...] [--out bench/results/position_probe.json]

RUN is a shapes workflow folder (`fgclip workflow run --output RUN`). For each of its checkpoints
(pretrained, control, ce) the bench encodes the training images and the held-out benchmark images,
fits a multinomial logistic regression on the training features that predicts the colour of the
*left* object, and scores it on the held-out scenes whose two objects differ in colour: of the two
colours present, does the probe rank the left one first? A tower that keeps only which colours
are in the picture scores 50; one that keeps where each colour is, up to 100.

Two features per checkpoint: `embedding`, the normalised image embedding the losses see, and
`pooled`, the vision tower's pooled token before the projection (after ln_post).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fgclip.files import write_atomically, write_json  # noqa: E402

CHECKPOINTS = ("pretrained", "control", "ce")
FEATURES = ("embedding", "pooled")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench/results/position_probe.json"))
    args = parser.parse_args()
    rows = []
    for run in args.runs:
        train, held_out = scenes(run)
        for name in CHECKPOINTS:
            checkpoint = run / name / "checkpoints" / "latest.pt"
            if checkpoint.exists():
                rows.append({"run": str(run), "checkpoint": name, **probe_checkpoint(checkpoint, train, held_out)})
                print(table_row(rows[-1]), flush=True)
    table = "\n".join(["| run | checkpoint | " + " | ".join(f"{f} (train / held out)" for f in FEATURES) + " |",
                       "| --- | --- |" + " ---: |" * len(FEATURES), *map(table_row, rows)]) + "\n"
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"rows": rows}, indent=2)
    write_atomically(args.out.with_suffix(".md"), table.encode("utf-8"))
    return 0


def table_row(row: dict) -> str:
    cells = [f"{row[f]['train']:.1f} / {row[f]['held_out']:.1f}" for f in FEATURES]
    return f"| {'/'.join(Path(row['run']).parts[-2:])} | {row['checkpoint']} | " + " | ".join(cells) + " |"


def scenes(run: Path) -> tuple[list, list]:
    """[(image path, (left colour, right colour))] of the training corpus and of the benchmark."""
    corpus = run / "corpus"
    train = [json.loads(line) for line in (corpus / "train" / "corpus.jsonl").read_text().splitlines()]
    held_out = json.loads((corpus / "benchmark" / "shapes.json").read_text())["scenes"]
    return ([(corpus / "train" / r["image"], left_right_colours(r["scene"])) for r in train],
            [(corpus / "benchmark" / r["image"], left_right_colours(r["scene"])) for r in held_out])


def left_right_colours(scene: dict) -> tuple[str, str]:
    a, b = scene["objects"]
    left, right = (a, b) if a["x"] < b["x"] else (b, a)
    return str(left["colour"]), str(right["colour"])


def probe_checkpoint(checkpoint: Path, train: list, held_out: list) -> dict:
    import torch

    from fgclip.model import load_for_inference

    _, net, transform = load_for_inference(checkpoint)
    colours = sorted({c for _, pair in train + held_out for c in pair})
    labels = lambda items: torch.tensor([[colours.index(c) for c in pair] for _, pair in items])  # noqa: E731
    features_train, features_held_out = encode(net, transform, train), encode(net, transform, held_out)
    result = {}
    for name in FEATURES:
        result[name] = fit_and_score(features_train[name], labels(train), features_held_out[name],
                                     labels(held_out), len(colours))
    return result


def encode(net, transform, items: list, batch: int = 250) -> dict:
    import torch
    from PIL import Image

    grabbed = {}
    hook = net.visual.ln_post.register_forward_hook(lambda module, inputs, output: grabbed.update(x=output))
    out: dict[str, list] = {name: [] for name in FEATURES}
    try:
        with torch.no_grad():
            for start in range(0, len(items), batch):
                images = torch.stack([transform(Image.open(p).convert("RGB")) for p, _ in items[start:start + batch]])
                out["embedding"].append(net.encode_image(images, normalize=True))
                # ln_post sees the pooled token, or all tokens when the model pools after it.
                x = grabbed["x"]
                out["pooled"].append(x if x.dim() == 2 else x[:, 0])
    finally:
        hook.remove()
    return {name: torch.cat(parts) for name, parts in out.items()}


def fit_and_score(x_train, y_train, x_test, y_test, classes: int) -> dict:
    """Multinomial logistic regression (L-BFGS, a small L2 penalty) on standardised features,
    predicting the left colour; accuracy = how often, of the two colours present, the left one
    gets the higher score, on scenes whose objects differ in colour."""
    import torch

    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    weight = torch.zeros(x_train.shape[1], classes, requires_grad=True)
    bias = torch.zeros(classes, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=500)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x_train @ weight + bias, y_train[:, 0]) + 1e-3 * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)

    def accuracy(x, y) -> float:
        differ = y[:, 0] != y[:, 1]
        scores, y = (x @ weight + bias)[differ], y[differ]
        return 100 * (scores.gather(1, y[:, :1]) > scores.gather(1, y[:, 1:])).float().mean().item()

    with torch.no_grad():
        return {"train": round(accuracy(x_train, y_train), 1), "held_out": round(accuracy(x_test, y_test), 1)}


if __name__ == "__main__":
    sys.exit(main())
