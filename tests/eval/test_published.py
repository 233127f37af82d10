"""The shipped published scores: they load, and each names a subset fgclip itself reports."""

from __future__ import annotations

from fgclip.eval.benchmarks import eqben, sugarcrepe, valse, vl_checklist
from fgclip.eval.report import read_published

# benchmark -> the (subset, metric) pairs fgclip writes for it, from the modules themselves
OWN = {
    "sugarcrepe": {(name, "accuracy") for name in sugarcrepe.SUBSETS},
    "valse": {(name, "accuracy") for name in valse.INSTRUMENTS},
    "vl-checklist": {(f"{category}-{axis}", "accuracy") for category, axis in vl_checklist.AXES},
    "eqben": {(name, metric) for name in eqben.SOURCES for metric in ("text", "image", "group")},
    "winoground": {("all", metric) for metric in ("text", "image", "group")},
    **{name: {("all", "accuracy")} for name in ("aro-relation", "aro-attribution", "coco-order", "flickr-order")},
}


def test_every_published_row_names_a_number_fgclip_reports():
    rows = read_published()
    assert {row["model"] for row in rows} == {"CLIP ViT-B/32 (openai)", "NegCLIP", "CE-CLIP"}
    for row in rows:
        assert (row["subset"], row["metric"]) in OWN[row["benchmark"]], row
        assert 0.0 <= row["value"] <= 100.0 and "vl_compo" in row["source"]
    # one row per model and number: a pasted row twice would show as two models' columns disagreeing
    keys = [(r["model"], r["benchmark"], r["subset"], r["metric"]) for r in rows]
    assert len(keys) == len(set(keys))
    # every number of each benchmark is there for each model (the tables are complete, not sampled)
    for benchmark, pairs in OWN.items():
        for model in {r["model"] for r in rows}:
            assert {(r["subset"], r["metric"]) for r in rows if r["model"] == model and r["benchmark"] == benchmark} == pairs
