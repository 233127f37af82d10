"""What the quality of the negatives is worth (issue 23): CE fine-tunes of the shapes world that
differ only in their training negatives, from the same pretrained model per seed.

    .venv/bin/python bench/quality_curve.py [--seeds 0,1,2] [--work /tmp/fgclip-ablation]
                                            [--config FILE] [--out bench/results/quality_curve.json]

For each seed the bench runs the default workflow (stages already done under --work/seedN are
skipped, so it shares its seeds' folders with bench/ablation.py), then builds more shards from the
same corpus and fine-tunes the `ce` objective on each, with the same steps, learning rate and seed:

  control             plain CLIP, no negatives (the workflow's `control`)
  generated           fgclip's rules (the workflow's `ce`)
  scene-graph         negatives edited from each scene graph, exact by construction: what a person
                      checking every negative would give (fgclip.synthetic.shapes)
  both                the two side by side (build-negatives --extra-negatives without --no-negatives)
  false-10/25/50      scene-graph negatives of which 10, 25, 50% are replaced by other *true*
                      captions of the scene, kind and rule kept: false negatives the trainer cannot spot
  swaps-only          generated, relation negatives from swap-obj alone (skip_rules replace-rel)
  replacements-only   generated, relation negatives from replace-rel alone (skip_rules swap-obj)

All are scored on the seed's held-out scenes. Writes the per-seed rows, the means and ranges and
the CE - control differences to --out (JSON), a table beside it (.md) and a chart (.png): the
gain on replace_rel and swap_obj against the share of false negatives, with the other variants
beside it. One seed takes about 20 minutes on 2 CPU cores with the default config.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ablation import (diagnostics_table, last_diagnostics, means_table, run_seeds, score,  # noqa: E402
                      seed_workflow, summarize, train_once)

from fgclip import workflow  # noqa: E402
from fgclip.files import write_atomically, write_json  # noqa: E402
from fgclip.plots import pyplot, save_figure  # noqa: E402

FALSE_FRACTIONS = (0.10, 0.25, 0.50)
# (name, what it is, shards: None for the workflow's, else (scene-graph false fraction, keep the
# generated negatives too), skip_rules)
VARIANTS = (
    ("control", "control (no negatives)", None, ()),
    ("generated", "generated (fgclip's rules; the workflow's ce)", None, ()),
    ("scene-graph", "scene-graph (exact)", (0.0, False), ()),
    ("both", "generated + scene-graph", (0.0, True), ()),
    *((f"false-{round(p * 100)}", f"scene-graph, {round(p * 100)}% false negatives", (p, False), ())
      for p in FALSE_FRACTIONS),
    ("swaps-only", "generated, relation = swap-obj only", None, ("replace-rel",)),
    ("replacements-only", "generated, relation = replace-rel only", None, ("swap-obj",)),
)
NAMES = tuple(name for name, *_ in VARIANTS)
LABELS = {name: label for name, label, *_ in VARIANTS}
WORKFLOW_RUN = {"control": "control", "generated": "ce"}
TARGETS = ("replace_rel", "swap_obj")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--work", type=Path, default=Path("/tmp/fgclip-ablation"))
    parser.add_argument("--config", type=Path, default=None, help="a workflow YAML (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/quality_curve.json"))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if not seeds:
        parser.error("--seeds needs at least one integer")

    rows, diagnostics, seconds = run_seeds(seeds, run_seed, args)

    summary = summarize(rows, seeds, NAMES)
    table = markdown_table(summary, diagnostics, seeds)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"settings": {"seeds": seeds, "config": str(args.config or workflow.default_config_path()),
                                       "false_fractions": list(FALSE_FRACTIONS), "work": str(args.work)},
                          "seconds_per_seed": seconds, "summary": summary, "gains": gains(summary, seeds),
                          "rows": rows, "diagnostics": diagnostics}, indent=2)
    write_atomically(args.out.with_suffix(".md"), table.encode("utf-8"))
    plot(summary, seeds, args.out.with_suffix(".png"))
    print(f"wrote {args.out}, {args.out.with_suffix('.md')} and {args.out.with_suffix('.png')}")
    return 0


def run_seed(seed: int, args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """The workflow for ``seed``, the variant shards and fine-tunes, and the eval of all variants."""
    from fgclip.stages import run_build
    from fgclip.synthetic.shapes import WorldConfig, write_scene_graph_negatives
    from fgclip.trainer.launch import run as train

    cfg, stages, echo = seed_workflow(seed, args)
    folder = Path(cfg.output) / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    corpus = Path(stages["shards"].input)
    world = WorldConfig(**cfg.world)
    checkpoints = {}
    for name, _, shards, skip_rules in VARIANTS:
        if name in WORKFLOW_RUN:
            checkpoints[name] = Path(stages[WORKFLOW_RUN[name]].output) / "checkpoints" / "latest.pt"
            continue
        changes: dict = {"output": str(folder / name)}
        if skip_rules:
            changes["skip_rules"] = skip_rules
        if shards is not None:
            false_fraction, keep_generated = shards
            negatives = folder / f"scene_graph_false{round(false_fraction * 100):02d}.jsonl"
            if not negatives.exists():
                write_scene_graph_negatives(negatives, corpus, world, false_fraction=false_fraction)
            built = folder / "shards" / name
            if not (built / "manifest.json").exists():
                echo(f"{name}: building shards")
                run_build(dataclasses.replace(stages["shards"], output=str(built), extra_negatives=(str(negatives),),
                                              no_negatives=not keep_generated, overwrite=True), echo)
            changes["shards"] = str(built)
        train_cfg = dataclasses.replace(stages["ce"], **changes)
        train_once(train_cfg, train, echo)
        checkpoints[name] = Path(train_cfg.output) / "checkpoints" / "latest.pt"
    rows = score(checkpoints, stages["eval"], folder / "results.jsonl", seed, echo)
    diagnostics = [last_diagnostics(seed, name, path.parent.parent) for name, path in checkpoints.items()
                   if name != "control"]
    return rows, diagnostics


def gains(summary: dict, seeds: list[int]) -> dict:
    """{variant: {column: [variant - control per seed]}} for the target subsets and i2t R@1."""
    result: dict = {}
    for name in NAMES[1:]:
        result[name] = {}
        for column in (*TARGETS, "i2t_r1"):
            mine, base = summary[name].get(column), summary["control"].get(column)
            if mine and base:
                result[name][column] = [round(mine["by_seed"][s] - base["by_seed"][s], 2) for s in seeds
                                        if s in mine["by_seed"] and s in base["by_seed"]]
    return result


def markdown_table(summary: dict, diagnostics: list[dict], seeds: list[int]) -> str:
    seeds_text = ", ".join(map(str, seeds))
    lines = means_table(summary, LABELS, seeds_text)
    lines += ["", "Difference to the control (mean over seeds; per seed in brackets):", "",
              "| variant | replace_rel | swap_obj | i2t_r1 |", "| --- | ---: | ---: | ---: |"]
    for name, columns in gains(summary, seeds).items():
        cells = [f"{statistics.fmean(d):+.1f} ({', '.join(f'{x:+.1f}' for x in d)})" if d else ""
                 for d in (columns.get(c) for c in (*TARGETS, "i2t_r1"))]
        lines.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
    lines += diagnostics_table(diagnostics, LABELS)
    return "\n".join(lines) + "\n"


def plot(summary: dict, seeds: list[int], path: Path) -> None:
    """Left: CE - control against the share of false negatives (0 = exact scene-graph negatives),
    per seed and mean; right: every variant's mean gain, with min-max bars."""
    plt = pyplot()
    fig, (curve, bars) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1, 1.4]})
    by_variant = gains(summary, seeds)
    fractions = (0.0, *FALSE_FRACTIONS)
    curve_names = ("scene-graph", *(f"false-{round(p * 100)}" for p in FALSE_FRACTIONS))
    for column, colour in zip(TARGETS, ("tab:blue", "tab:orange")):
        per_seed = [by_variant[name].get(column, []) for name in curve_names]
        for k in range(len(seeds)):
            xs = [100 * p for p, d in zip(fractions, per_seed) if len(d) > k]
            ys = [d[k] for d in per_seed if len(d) > k]
            curve.plot(xs, ys, color=colour, alpha=0.3, linewidth=1)
        xs = [100 * p for p, d in zip(fractions, per_seed) if d]
        curve.plot(xs, [statistics.fmean(d) for d in per_seed if d], color=colour, marker="o", linewidth=2,
                   label=f"{column} (mean; thin: per seed)")
    curve.axhline(0, color="grey", linestyle=":", linewidth=1)
    curve.set_xlabel("false negatives among the training negatives (%)")
    curve.set_ylabel("CE - control (points)")
    curve.set_title("scene-graph negatives made invalid on purpose")
    curve.legend(fontsize=8)
    names = NAMES[1:]
    width = 0.38
    for j, (column, colour) in enumerate(zip(TARGETS, ("tab:blue", "tab:orange"))):
        values = [by_variant[name].get(column) or [0.0] for name in names]
        means = [statistics.fmean(v) for v in values]
        bars.bar([i + j * width for i in range(len(names))], means, width, color=colour, label=column,
                 yerr=[[m - min(v) for m, v in zip(means, values)], [max(v) - m for m, v in zip(means, values)]],
                 capsize=2)
    bars.axhline(0, color="grey", linestyle=":", linewidth=1)
    bars.set_xticks([i + width / 2 for i in range(len(names))], names, rotation=30, ha="right", fontsize=8)
    bars.set_ylabel("CE - control (points)")
    bars.set_title(f"every variant, mean of seeds {', '.join(map(str, seeds))} (bars: min-max)")
    bars.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
