"""The ablation of issue 6 on the shapes world (the paper's Table 4): which term of the objective
moves which subset, over several seeds.

    .venv/bin/python bench/ablation.py [--seeds 0,1,2] [--work /tmp/fgclip-ablation] [--config FILE]
                                       [--fixed-margin 5] [--out bench/results/ablation.json]

For each seed it runs the workflow (`fgclip workflow run` with `seed: N`: corpus, shards, the
pretrained model, the `ce` and `control` fine-tunes and their eval; stages already done under
--work are skipped, as the workflow always does), then four more fine-tunes from the same
pretrained weights, on the same shards, with the same steps, learning rate and seed:

  itc            ITC only, no negatives (the workflow's `control`)
  itc_hn         ITC with the hard negatives in the denominator
  itc_hn_imc     + IMC                                   (cmr_weight 0)
  itc_hn_cmr     + CMR with the paper's adaptive margins  (imc_weight 0)
  itc_hn_cmr_fixed  + CMR with one fixed margin (--fixed-margin, logits)  (imc_weight 0)
  all            ITC(hn) + IMC + CMR, the paper's adaptive margins
  all_fixed      ITC(hn) + IMC + CMR, one fixed margin for every kind (--fixed-margin, logits)

A variant whose settings come out equal to the workflow's `ce` (since issue 23 the default's
`ce` is `all_fixed` with a margin of 5) is the workflow's run, not trained twice.

All of them are scored on the seed's held-out scenes (benchmarks `shapes` and `shapes-retrieval`).
The table gives, per variant, the mean over seeds and the range (min-max) of each subset and of
retrieval R@1, and the difference to `itc` on the subsets the issue's target names. It also lists
each variant's last-step relation margin tau, text-text cosine and image-side gap (the trainer's
per-kind diagnostics). With the default config one seed takes about 16 minutes on 2 CPU cores.

Writes the per-seed rows, the summary and the settings to --out (JSON), the table beside it
(.md) and a bar chart with the ranges as error bars (.png).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fgclip import workflow  # noqa: E402
from fgclip.config import dump_config  # noqa: E402
from fgclip.files import write_atomically, write_json  # noqa: E402
from fgclip.plots import pyplot, save_figure  # noqa: E402

FIXED = "--fixed-margin"  # in an override: the margin given on the command line
# (name, what it is, overrides of the workflow's `ce` fine-tune); None: the workflow's own run
VARIANTS = (
    ("itc", "ITC only (control)", None),
    ("itc_hn", "ITC(hn)", {"imc_weight": 0.0, "cmr_weight": 0.0}),
    ("itc_hn_imc", "ITC(hn) + IMC", {"cmr_weight": 0.0}),
    ("itc_hn_cmr", "ITC(hn) + CMR", {"imc_weight": 0.0, "cmr_fixed_margin": None}),
    ("itc_hn_cmr_fixed", "ITC(hn) + CMR, fixed margin", {"imc_weight": 0.0, "cmr_fixed_margin": FIXED}),
    ("all", "ITC(hn) + IMC + CMR (CE)", {"cmr_fixed_margin": None}),
    ("all_fixed", "all, fixed margin", {"cmr_fixed_margin": FIXED}),
)
WORKFLOW_RUN = {"itc": "control"}
SUBSETS = ("replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")
RETRIEVAL = ("i2t_r1", "t2i_r1")
COLUMNS = SUBSETS + RETRIEVAL


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--work", type=Path, default=Path("/tmp/fgclip-ablation"))
    parser.add_argument("--config", type=Path, default=None, help="a workflow YAML (default: the shipped one)")
    parser.add_argument("--fixed-margin", type=float, default=5.0,
                        help="the margin of all_fixed, logits (default: half the adaptive clamp of 10)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/ablation.json"))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if not seeds or args.fixed_margin < 0:
        parser.error("--seeds needs at least one integer and --fixed-margin a number >= 0")

    rows, diagnostics, seconds = run_seeds(seeds, run_seed, args)

    summary = summarize(rows, seeds)
    table = markdown_table(summary, diagnostics, seeds, args.fixed_margin)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"settings": {"seeds": seeds, "config": str(args.config or workflow.default_config_path()),
                                       "fixed_margin": args.fixed_margin, "work": str(args.work)},
                          "seconds_per_seed": seconds, "summary": summary, "rows": rows,
                          "diagnostics": diagnostics}, indent=2)
    write_atomically(args.out.with_suffix(".md"), table.encode("utf-8"))
    plot(summary, args.out.with_suffix(".png"), seeds)
    print(f"wrote {args.out}, {args.out.with_suffix('.md')} and {args.out.with_suffix('.png')}")
    return 0


def run_seed(seed: int, args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """The workflow for ``seed``, the extra fine-tunes, and the eval of all variants."""
    from fgclip.trainer.launch import run as train

    cfg, stages, echo = seed_workflow(seed, args)
    folder = Path(cfg.output) / "ablation"
    checkpoints = {}
    for name, _, overrides in VARIANTS:
        if name in WORKFLOW_RUN:
            train_cfg = stages[WORKFLOW_RUN[name]]
        else:
            changes = {key: args.fixed_margin if value == FIXED else value for key, value in overrides.items()}
            train_cfg = dataclasses.replace(stages["ce"], output=str(folder / name), **changes)
            if dataclasses.replace(train_cfg, output=stages["ce"].output) == stages["ce"]:
                train_cfg = stages["ce"]
            else:
                train_once(train_cfg, train, echo)
        checkpoints[name] = Path(train_cfg.output) / "checkpoints" / "latest.pt"

    rows = score(checkpoints, stages["eval"], folder / "results.jsonl", seed, echo)
    return rows, [last_diagnostics(seed, name, path.parent.parent) for name, path in checkpoints.items()]


def score(checkpoints: dict[str, Path], eval_stage, results: Path, seed: int, echo) -> list[dict]:
    """Every checkpoint ({variant: path}) on the seed's held-out scenes, as rows
    ``{"seed", "variant", "column", "value"}`` for the COLUMNS."""
    from fgclip.eval.run import evaluate

    results.unlink(missing_ok=True)  # eval appends; a rerun scores afresh
    evaluation = dataclasses.replace(eval_stage, checkpoints=tuple(str(p) for p in checkpoints.values()),
                                     names=tuple(checkpoints), results=str(results))
    evaluate(evaluation, echo=echo)
    rows = []
    for line in results.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        column = row["subset"] if row["benchmark"] == "shapes" else row["metric"]
        if column in COLUMNS:
            rows.append({"seed": seed, "variant": row["name"], "column": column, "value": row["value"]})
    return rows


def run_seeds(seeds: list[int], run_seed, args: argparse.Namespace) -> tuple[list[dict], list[dict], dict]:
    """(rows, diagnostics, seconds per seed) of ``run_seed(seed, args)`` over the seeds, in order."""
    rows: list[dict] = []
    diagnostics: list[dict] = []
    seconds: dict[int, float] = {}
    for seed in seeds:
        started = time.perf_counter()
        rows_of_seed, diagnostics_of_seed = run_seed(seed, args)
        rows += rows_of_seed
        diagnostics += diagnostics_of_seed
        seconds[seed] = round(time.perf_counter() - started, 1)
        print(f"seed {seed}: done in {seconds[seed] / 60:.1f} min", flush=True)
    return rows, diagnostics, seconds


def seed_workflow(seed: int, args: argparse.Namespace):
    """(workflow config, stage configs, echo) for ``seed`` under ``args.work``, after running the
    default workflow there (stages already done are skipped)."""
    cfg = workflow.load_workflow_config(args.config, output=str(args.work / f"seed{seed}"), seed=seed)
    echo = lambda line: print(f"  [seed {seed}] {line}", flush=True)  # noqa: E731
    workflow.run(cfg, echo=echo)
    return cfg, workflow.stage_configs(cfg), echo


def train_once(train_cfg, train, echo) -> None:
    """Train unless a finished run with the same settings is there (``done.json``)."""
    out = Path(train_cfg.output)
    settings = dump_config(train_cfg)
    marker = out / "done.json"
    if marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == settings:
        echo(f"{out.name}: done before, settings unchanged: skipped")
        return
    echo(f"{out.name}: training")
    if out.exists():
        shutil.rmtree(out)
    train(train_cfg, echo=echo)
    write_json(marker, settings)


def last_diagnostics(seed: int, variant: str, run_dir: Path) -> dict:
    from fgclip.trainer.metrics import read_metrics

    last = read_metrics(run_dir / "metrics.jsonl")[-1]
    return {"seed": seed, "variant": variant, "step": last["step"],
            **{f"{key}_relation": (last.get(key) or {}).get("relation") for key in ("tau", "text_cosine", "gap")}}


def summarize(rows: list[dict], seeds: list[int], names: tuple[str, ...] | None = None) -> dict:
    """{variant: {column: {"mean", "min", "max", "std", "by_seed"}}} for ``names`` (default: this
    bench's VARIANTS); std is None for one seed."""
    summary: dict = {}
    for name in names or [name for name, _, _ in VARIANTS]:
        summary[name] = {}
        for column in COLUMNS:
            by_seed = {r["seed"]: r["value"] for r in rows if r["variant"] == name and r["column"] == column}
            values = [by_seed[s] for s in seeds if s in by_seed]
            if not values:
                continue
            summary[name][column] = {"mean": statistics.fmean(values), "min": min(values), "max": max(values),
                                     "std": statistics.stdev(values) if len(values) > 1 else None,
                                     "by_seed": by_seed}
    return summary


def markdown_table(summary: dict, diagnostics: list[dict], seeds: list[int], fixed_margin: float) -> str:
    seeds_text = ", ".join(map(str, seeds))
    labels = {name: label for name, label, _ in VARIANTS}
    labels["all_fixed"] = f"all, fixed margin {fixed_margin:g}"
    labels["itc_hn_cmr_fixed"] = f"ITC(hn) + CMR, fixed margin {fixed_margin:g}"
    lines = means_table(summary, labels, seeds_text)
    lines += ["", "Difference to ITC only (mean over seeds; per seed in brackets):", "",
              "| variant | replace_rel | swap_obj | i2t_r1 |", "| --- | ---: | ---: | ---: |"]
    for name, _, _ in VARIANTS[1:]:
        cells = []
        for column in ("replace_rel", "swap_obj", "i2t_r1"):
            mine, base = summary[name].get(column), summary["itc"].get(column)
            if mine is None or base is None:
                cells.append("")
                continue
            per_seed = [mine["by_seed"][s] - base["by_seed"][s] for s in seeds
                        if s in mine["by_seed"] and s in base["by_seed"]]
            cells.append(f"{statistics.fmean(per_seed):+.1f} ({', '.join(f'{d:+.1f}' for d in per_seed)})")
        lines.append(f"| {labels[name]} | " + " | ".join(cells) + " |")
    lines += diagnostics_table(diagnostics, labels)
    return "\n".join(lines) + "\n"


def means_table(summary: dict, labels: dict[str, str], seeds_text: str) -> list[str]:
    """Markdown lines: each variant of ``labels`` (in its order), mean (min-max) per column."""
    lines = [f"Mean over seeds {seeds_text} (min-max in brackets); accuracy in percent, chance 50; R@1 over "
             "the held-out scenes.", "",
             "| variant | " + " | ".join(COLUMNS) + " |", "| --- |" + " ---: |" * len(COLUMNS)]
    for name, label in labels.items():
        cells = []
        for column in COLUMNS:
            cell = summary[name].get(column)
            cells.append("" if cell is None else f"{cell['mean']:.1f} ({cell['min']:.1f}-{cell['max']:.1f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def diagnostics_table(diagnostics: list[dict], labels: dict[str, str]) -> list[str]:
    """Markdown lines: the relation kind's last-step tau, text cosine and image-side gap per run."""
    lines = ["", "Relation kind at the last fine-tuning step (batch statistics): margin tau, "
             "text-text cosine cos(T, T^k), image-side gap s<I,T> - s<I,T^k>:", "",
             "| variant | seed | tau | cos(T, T^k) | gap |", "| --- | ---: | ---: | ---: | ---: |"]
    for d in diagnostics:
        cells = ["" if d[key] is None else f"{d[key]:.2f}" for key in ("tau_relation", "text_cosine_relation",
                                                                     "gap_relation")]
        lines.append(f"| {labels[d['variant']]} | {d['seed']} | " + " | ".join(cells) + " |")
    return lines


def plot(summary: dict, path: Path, seeds: list[int]) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.8 / len(VARIANTS)
    for k, (name, label, _) in enumerate(VARIANTS):
        means = [summary[name].get(c, {}).get("mean", 0.0) for c in COLUMNS]
        low = [m - summary[name].get(c, {}).get("min", m) for m, c in zip(means, COLUMNS)]
        high = [summary[name].get(c, {}).get("max", m) - m for m, c in zip(means, COLUMNS)]
        ax.bar([i + k * width for i in range(len(COLUMNS))], means, width, yerr=[low, high], capsize=2,
               label=label)
    ax.axhline(50, color="grey", linestyle=":", linewidth=1)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(COLUMNS))], COLUMNS)
    ax.set_ylabel("accuracy / R@1 (%)")
    ax.set_ylim(0, 105)
    ax.set_title(f"shapes world: the objective's terms, mean of seeds {', '.join(map(str, seeds))} "
                 "(bars: min-max)")
    ax.legend(fontsize=7, ncol=len(VARIANTS), loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
