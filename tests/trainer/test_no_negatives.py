"""A hard-negative run on shards without negatives trains plain CLIP: it says so, on the log
and in summary.json."""

from __future__ import annotations

import json

import pytest

from fgclip.config import BuildConfig, TrainConfig
from fgclip.pipeline.build import build_negatives
from fgclip.trainer import loop

from pipeline.corpus import write_jsonl_corpus


@pytest.fixture(scope="module")
def plain_shards(tmp_path_factory):
    """Shards as ``build-negatives --no-negatives`` writes them: captions, no negatives."""
    folder = tmp_path_factory.mktemp("plain")
    corpus = write_jsonl_corpus(folder / "corpus", 16)
    output = folder / "shards"
    build_negatives(BuildConfig(input=str(corpus), output=str(output), executor="local", workers=1, shard_size=8,
                                no_negatives=True), echo=lambda _: None)
    return output


def train(tiny_config, shards, output, **overrides) -> tuple[dict, list[str]]:
    values = dict(shards=str(shards), output=str(output), model=str(tiny_config), batch_size=4, steps=2, lr=1e-3,
                  warmup=1, workers=0, log_every=1, save_every=2, device="cpu", precision="fp32")
    values.update(overrides)
    lines: list[str] = []
    return loop.train(TrainConfig(**values), echo=lines.append), lines


def test_a_hard_negative_run_without_negatives_warns_and_records_it(tiny_config, plain_shards, tmp_path):
    steps = loop.NEGATIVES_CHECK_BATCHES + 1
    summary, lines = train(tiny_config, plain_shards, tmp_path / "run", steps=steps)
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 1 and "no hard negative" in warnings[0] and "plain CLIP" in warnings[0]
    # said as soon as the checked batches are through, not at the end of the run
    step_lines = [i for i, line in enumerate(lines) if line.startswith("step ")]
    assert len(step_lines) == steps and lines.index(warnings[0]) < step_lines[-1]
    recorded = json.loads((tmp_path / "run" / loop.SUMMARY_FILE).read_text())
    assert recorded["warnings"] == summary["warnings"] and len(recorded["warnings"]) == 1
    assert "no hard negative" in recorded["warnings"][0]


def test_only_negatives_of_the_enabled_kinds_count(tiny_config, tiny_shards, tmp_path):
    """The tiny shards' relation negatives all come from replace-rel: skipped, the relation-only
    run has none, though the shards hold negatives of other kinds; 'action' (two samples in
    three) is enough."""
    summary, lines = train(tiny_config, tiny_shards, tmp_path / "relation", kinds=("relation",),
                           skip_rules=("replace-rel",))
    assert len(summary["warnings"]) == 1 and sum(line.startswith("warning:") for line in lines) == 1
    summary, lines = train(tiny_config, tiny_shards, tmp_path / "action", kinds=("action",))
    assert summary["warnings"] == [] and not any(line.startswith("warning:") for line in lines)


def test_no_warning_for_a_plain_clip_run_or_shards_with_negatives(tiny_config, plain_shards, tiny_shards, tmp_path):
    for shards, options in ((plain_shards, {"no_hard_negatives": True}), (tiny_shards, {})):
        summary, lines = train(tiny_config, shards, tmp_path / str(len(options)), **options)
        assert summary["warnings"] == [] and not any(line.startswith("warning:") for line in lines)
