"""``fgclip report results.jsonl --output DIR``: checkpoints side by side, as markdown and PNGs.

- ``report.md``: one table of checkpoints x benchmarks (each benchmark's headline numbers: its
  "all" rows when it has them, else R@1 / top-1 / accuracy per subset), then one detail table
  per benchmark (every subset and every average, with the convention it was taken by, n and
  missing images).
- ``summary.png``: the headline numbers as grouped bars, compositional benchmarks next to
  retrieval and zero-shot (hard-negative fine-tuning is known to cost the latter).
- ``<benchmark>.png``: its subsets as grouped bars; the benchmark's name passes through
  :func:`safe_file_name` first, since a results file is data and may name anything.

The results file and the output folder may be URLs (fgclip.files.Folder); every file is written
all or nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from pathlib import Path

from ..files import Folder
from ..plots import pyplot, save_figure
from .run import current_rows, describe_skipped, read_results_counted

HEADLINE_METRICS = ("accuracy", "group", "text", "image", "top1", "i2t_r1", "t2i_r1")
# Lower case only: on a case-blind file system (macOS, Windows) "Fake" and "fake" would share a file.
_KEPT_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_LOOKS_HASHED = re.compile(r"-[0-9a-f]{10}$")
_RESERVED_NAMES = frozenset({"summary"})  # summary.png is the report's own chart
_NAME_LIMIT = 100


def write_report(results: str | Path, output: str | Path, published: str | Path | None = None) -> list[Path | str]:
    """Write the report into ``output``; returns the files written (URLs for a URL folder).
    ``published``: a file of published scores (default: fgclip/eval/published.yaml); its rows
    for the benchmarks of ``results`` are shown beside the run's own."""
    rows, skipped = read_results_counted(results)
    rows = current_rows(rows)  # the latest subset scores, and averages recomputed from them
    if not rows:
        raise ValueError(f"{results} holds no results rows" + (f" ({describe_skipped(skipped)})" if skipped else ""))
    folder = Folder(output)
    folder.make()

    def at(name: str) -> Path | str:
        return folder.path(name) if folder.is_url else Path(output) / name

    checkpoints = list(OrderedDict.fromkeys(r["name"] for r in rows))
    benchmarks = list(OrderedDict.fromkeys(r["benchmark"] for r in rows))
    table = _values(rows)
    columns = [(b, s, m) for b in benchmarks for s, m in _headline_columns(rows, b)]

    lines = [f"# Results: {len(checkpoints)} checkpoint(s), {len(benchmarks)} benchmark(s)", "",
             f"From `{results}`. Values in percent; ties count as wrong; a case whose image is missing "
             "counts as wrong and is listed under missing.", ""]
    if skipped:
        lines += [f"{describe_skipped(skipped)} (see the warnings of this run).", ""]
    lines += _markdown_table(["checkpoint"] + [_label(b, s, m) for b, s, m in columns],
                             [[name] + [_fmt(table.get((name, b, s, m))) for b, s, m in columns] for name in checkpoints])
    written = []
    for benchmark in benchmarks:
        lines += ["", f"## {benchmark}", ""]
        keys = list(OrderedDict.fromkeys((r["subset"], r["metric"], r["convention"]) for r in rows if r["benchmark"] == benchmark))
        details = []
        for subset, metric, convention in keys:
            found = [r for r in rows if r["benchmark"] == benchmark and r["subset"] == subset and r["metric"] == metric]
            n = max(r["n"] for r in found)
            missing = max(r.get("missing", 0) for r in found)
            details.append([subset, metric] + [_fmt(table.get((name, benchmark, subset, metric))) for name in checkpoints]
                           + [str(n), str(missing), convention or "subset"])
        lines += _markdown_table(["subset", "metric"] + checkpoints + ["n", "missing", "how"], details)
        written.append(at(f"{safe_file_name(benchmark)}.png"))
        _bars(pyplot(), [(s, m) for s, m, c in keys if not c], checkpoints,
              lambda name, key: table.get((name, benchmark) + key), f"{benchmark}: every subset", written[-1])
    lines += published_section(rows, read_published(published))
    written.insert(0, at("summary.png"))
    _bars(pyplot(), [(b, s, m) for b, s, m in columns], checkpoints, lambda name, key: table.get((name,) + key),
          "headline numbers (compositional, retrieval, zero-shot)", written[0])
    folder.write_bytes("report.md", ("\n".join(lines) + "\n").encode("utf-8"))
    return [at("report.md")] + written


PUBLISHED_KEYS = {"model": str, "benchmark": str, "subset": str, "metric": str, "value": (int, float),
                  "source": str}


def default_published_path() -> Path:
    from importlib import resources

    return Path(str(resources.files("fgclip.eval") / "published.yaml"))


def read_published(path: str | Path | None = None) -> list[dict]:
    """The rows of a published-scores file; ValueError naming the file, row and key when one is bad."""
    from ..config import read_yaml

    path = Path(path) if path is not None else default_published_path()
    data = read_yaml(path) or {}
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a mapping with a list 'rows'")
    for number, row in enumerate(rows):
        for key, kind in PUBLISHED_KEYS.items():
            if not isinstance(row, dict) or not isinstance(row.get(key), kind) or isinstance(row.get(key), bool):
                raise ValueError(f"{path}: rows[{number}]: {key!r} missing or not {getattr(kind, '__name__', 'a number')}")
    return rows


def published_section(rows: list[dict], published: list[dict]) -> list[str]:
    """Markdown: for each benchmark this run scored that has published rows, the run's checkpoints
    and the published models side by side on the (subset, metric) pairs the source reports."""
    lines: list[str] = []
    checkpoints = list(OrderedDict.fromkeys(r["name"] for r in rows))
    mine = _values(rows)
    for benchmark in OrderedDict.fromkeys(r["benchmark"] for r in rows):
        theirs = [p for p in published if p["benchmark"] == benchmark]
        if not theirs:
            continue
        if not lines:
            lines += ["", "## Published numbers beside this run", "",
                      "Percent, as the cited tables print them; a published value is the source's own run "
                      "(its model, data and averaging convention), not a rerun here.", ""]
        models = list(OrderedDict.fromkeys(p["model"] for p in theirs))
        keys = list(OrderedDict.fromkeys((p["subset"], p["metric"]) for p in theirs))
        value = {(p["model"], p["subset"], p["metric"]): p["value"] for p in theirs}
        lines += [f"### {benchmark}", ""]
        lines += _markdown_table(
            ["subset", "metric"] + checkpoints + [f"{m} (published)" for m in models],
            [[s, m] + [_fmt(mine.get((name, benchmark, s, m))) for name in checkpoints]
             + [_fmt(value.get((model, s, m))) for model in models] for s, m in keys])
        sources = OrderedDict.fromkeys(f"{p['model']}: {p['source']}" + (f" ({p['convention']})" if p.get("convention") else "")
                                       for p in theirs)
        lines += [""] + [f"- {line}" for line in sources]
    return lines


def safe_file_name(name: str) -> str:
    """``name`` as a single file-name component, the same one every time.

    A name that is already plain (lower-case letters, digits, '.', '_', '-'; no leading dot, no
    '..'; at most 100 characters) is kept. Any other has every character but ASCII letters,
    digits, '_' and '-' replaced by '_' (so no dot is left), is cut to length, and gets a hash of
    the whole original name, so two names that differ only in the replaced characters still get
    two files. A plain name that looks hashed is hashed too, so a kept name never equals a
    changed one.
    """
    if (_KEPT_NAME.fullmatch(name) and ".." not in name and not _LOOKS_HASHED.search(name)
            and name not in _RESERVED_NAMES):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:_NAME_LIMIT - len(digest) - 1]
    return f"{stem or '_'}-{digest}"


def _values(rows: list[dict]) -> dict:
    """(name, benchmark, subset, metric) -> value; a later row (a rerun) wins."""
    return {(r["name"], r["benchmark"], r["subset"], r["metric"]): r["value"] for r in rows}


def _headline_columns(rows: list[dict], benchmark: str) -> list[tuple[str, str]]:
    mine = [r for r in rows if r["benchmark"] == benchmark]
    overall = [r for r in mine if r["subset"] == "all"]
    if overall:
        chosen = [r for r in overall if r["metric"] in HEADLINE_METRICS] or overall
    else:
        chosen = [r for r in mine if r["metric"] in HEADLINE_METRICS and not r["convention"]]
    ordered = sorted(OrderedDict.fromkeys((r["subset"], r["metric"]) for r in chosen),
                     key=lambda sm: HEADLINE_METRICS.index(sm[1]) if sm[1] in HEADLINE_METRICS else len(HEADLINE_METRICS))
    return ordered


def _label(benchmark: str, subset: str, metric: str) -> str:
    metric = metric.replace("i2t_r", "i2t R@").replace("t2i_r", "t2i R@")
    return f"{benchmark} {metric}" if subset == "all" else f"{benchmark} {subset} {metric}"


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def _markdown_table(header: list[str], body: list[list[str]]) -> list[str]:
    def line(cells):
        return "| " + " | ".join(_one_line(str(c)).replace("|", "\\|") for c in cells) + " |"

    def numeric(column: int) -> bool:
        return all(_is_number(row[column]) for row in body)

    rule = ["---:" if body and numeric(i) else "---" for i in range(len(header))]
    return [line(header), line(rule)] + [line(row) for row in body]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return cell == "-"
    return True


def _one_line(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", " ", text)


def _chart_text(text: str, legend: bool = False) -> str:
    """``text`` shown as it is: matplotlib would read "$...$" as TeX (and fail on bad TeX), and a
    legend leaves out a label that starts with "_"."""
    text = _one_line(text).replace("$", "\\$")
    return " " + text if legend and text.startswith("_") else text


def _bars(plt, keys: list[tuple], checkpoints: list[str], value, title: str, path: Path | str) -> None:
    width = 0.8 / max(len(checkpoints), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(keys) * max(1, len(checkpoints)) + 2), 4.5))
    for i, name in enumerate(checkpoints):
        heights = [value(name, key) for key in keys]
        ax.bar([k + i * width for k in range(len(keys))], [h if h is not None else 0 for h in heights], width,
               label=_chart_text(name, legend=True))
    ax.set_xticks([k + width * (len(checkpoints) - 1) / 2 for k in range(len(keys))])
    ax.set_xticklabels([_chart_text(_label(*key) if len(key) == 3 else f"{key[0]} {key[1]}") for key in keys],
                       rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("percent")
    ax.set_ylim(0, 100)
    ax.set_title(_chart_text(title))
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
