"""The end of a build: totals over the shards' stats (refusals included), a table on the terminal, a PNG chart."""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable

TOP_REFUSALS = 8  # refusal reasons shown in the printed summary (all are in the totals)


def summarize(all_stats: Iterable[dict]) -> dict:
    """Sum the per-shard stats (counts add up; seconds is the sum of the shards' work time)."""
    totals = {"shards": 0, "rows": 0, "written": 0, "captions": 0, "rule_errors": 0, "shard_seconds": 0.0,
              "max_peak_rss_mb": 0.0}
    counters = {name: Counter() for name in ("skipped", "captions_skipped", "negatives", "rules", "sources", "refused")}
    nodes = set()
    # Imported negatives (builds with --extra-negatives only): the file entries some sample
    # matched, as a set, since one caption text may be in many samples and shards.
    extra_matched: set[int] | None = None
    extra_skipped: Counter = Counter()
    for stats in all_stats:
        totals["shards"] += 1
        for name in ("rows", "written", "captions", "rule_errors"):
            totals[name] += stats.get(name, 0)
        totals["shard_seconds"] += stats.get("seconds", 0.0)
        totals["max_peak_rss_mb"] = max(totals["max_peak_rss_mb"], stats.get("peak_rss_mb", 0.0))
        for name, counter in counters.items():
            counter.update(stats.get(name, {}))
        nodes.add(stats.get("node"))
        if "extra_negatives" in stats:
            extra_matched = (extra_matched or set()) | set(stats["extra_negatives"]["matched"])
            extra_skipped.update(stats["extra_negatives"]["skipped"])
    totals["shard_seconds"] = round(totals["shard_seconds"], 3)
    for name, counter in counters.items():
        totals[name] = dict(sorted(counter.items()))
    totals["nodes"] = len(nodes)
    if extra_matched is not None:
        totals["extra_negatives"] = {"matched": len(extra_matched), "skipped": dict(sorted(extra_skipped.items()))}
    return totals


def print_summary(totals: dict, echo: Callable[[str], None] = print) -> None:
    rows = [
        ("input rows", totals["rows"]),
        ("samples written", totals["written"]),
        ("captions written", totals["captions"]),
    ]
    rows += [(f"skipped: {reason}", n) for reason, n in totals["skipped"].items()]
    rows += [(f"caption dropped: {reason}", n) for reason, n in totals["captions_skipped"].items()]
    rows += [(f"negatives: {kind}", n) for kind, n in totals["negatives"].items()]
    rows += [(f"  rule {rule}", n) for rule, n in totals["rules"].items()]
    if set(totals.get("sources", {})) - {"generated"}:  # a build with imported negatives
        rows += [(f"  negatives from {source}", n) for source, n in totals["sources"].items()]
    extra = totals.get("extra_negatives")
    if extra:
        rows.append(("imported entries", extra.get("entries", "?")))
        rows.append(("  matched", extra["matched"]))
        rows.append(("  unmatched (no such key or caption)", extra.get("unmatched", "?")))
        rows.append(("  malformed lines", extra.get("malformed_lines", 0)))
        rows.append(("  malformed negatives", extra.get("malformed_negatives", 0)))
        rows += [(f"  not written: {reason}", n) for reason, n in extra["skipped"].items()]
    refused = Counter(totals.get("refused", {}))
    if refused:
        rows.append(("edits refused", sum(refused.values())))
        rows += [(f"  refused {reason}", n) for reason, n in refused.most_common(TOP_REFUSALS)]
    if totals.get("rule_errors"):
        rows.append(("rule errors (skipped, see log)", totals["rule_errors"]))
    rows.append(("shards", totals["shards"]))
    if "samples_per_second" in totals:
        rows.append(("samples/s (wall clock)", totals["samples_per_second"]))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        echo(f"{label:<{width}}  {value:>10}")


def print_table_summary(table: dict, echo: Callable[[str], None] = print) -> None:
    """The corpus table's summary (from CorpusTable.summary, with bytes and seconds) in a line or two."""
    how = {"counted": "counted in", "copied": "copied from --stats in", "reused": "reused (already written) in"}
    echo(f"corpus table: {table['samples']} samples, {table['captions']} captions, {table['keys']} keys, "
         f"{table['bytes']:,} bytes, {how.get(table.get('how'), 'in')} {table['seconds']:.1f} s; "
         f"fingerprint {table['fingerprint']}")


def plot_negatives(totals: dict) -> bytes:
    """Bar charts of the negatives made, by kind and by rule, as a PNG file's bytes."""
    from ..plots import figure_bytes, pyplot

    fig, axes = pyplot().subplots(1, 2, figsize=(10, 3.6))
    for ax, (title, counts) in zip(axes, (("by kind", totals["negatives"]), ("by rule", totals["rules"]))):
        labels = list(counts) or ["(none)"]
        values = list(counts.values()) or [0]
        bars = ax.bar(labels, values, color="#4c72b0")
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=8)
        ax.set_title(f"negatives {title}")
        ax.tick_params(axis="x", labelrotation=30)
        ax.set_ylabel("count")
    fig.suptitle(f"{totals['written']:,} samples, {totals['captions']:,} captions")
    fig.tight_layout()
    return figure_bytes(fig, "png", dpi=100)
