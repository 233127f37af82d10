"""The generator on the real benchmark captions in ../shared/data (skipped when absent)."""

import pytest

from fgclip.pipeline.negatives import rule_errors
from fgclip.pipeline.negatives.measure import coverage, validity_sample

pytestmark = pytest.mark.slow

# Floors measured on the 9,060 distinct COCO captions without a table (bench/negatives.py gives
# the figures of docs/negatives.md). They guard against regressions and are below issue 18's
# targets (relation 80, attribute 60, object 90, action 45); docs/negatives.md says why. Verbs
# of handling ("holding" -> "throwing") count as actions since round 16, not as relations.
COVERAGE_FLOORS = {"object": 0.76, "relation": 0.34, "attribute": 0.54, "action": 0.33}


def test_coco_caption_count(reference_captions):
    assert len(reference_captions["coco"]) == 9060


def test_coverage_floors_on_coco_captions(reference_captions):
    before = sum(rule_errors.values())
    result = coverage(reference_captions["coco"])
    for kind, floor in COVERAGE_FLOORS.items():
        assert result["kind_coverage"][kind] >= floor, (kind, result["kind_coverage"])
    assert sum(rule_errors.values()) == before, dict(rule_errors)


def test_other_sources_never_raise(reference_captions):
    before = sum(rule_errors.values())
    for name in ("valse", "vl-checklist"):
        result = coverage(reference_captions[name][:3000])
        assert result["negatives"] > 0
    assert sum(rule_errors.values()) == before, dict(rule_errors)


def test_validity_sample_picks_each_captions_negative_from_that_caption_alone(reference_captions):
    """A judged sample must survive a rule change elsewhere: the negative drawn for a caption
    may depend only on (seed, caption), not on the captions drawn before it."""
    captions = reference_captions["coco"][:400]
    sample = validity_sample(captions, size=30, seed=10)
    assert len(sample) == 30
    for caption, negative in sample[::5]:
        [(alone_caption, alone_negative)] = validity_sample([caption], size=1, seed=10)
        assert (alone_caption, alone_negative) == (caption, negative)


# With a table counted from the captions themselves (as build-negatives does), on the first 600
# images of the report half (3,001 captions): floors a little below what was measured (relation
# 26.7, attribute 48.3, object 63.3, action 21.4; swap-np 31.8 in paper mode).
TABLE_COVERAGE_FLOORS = {"object": 0.60, "relation": 0.24, "attribute": 0.45, "action": 0.19}


def test_coverage_floors_with_a_corpus_table(shared_data):
    from fgclip.pipeline.negatives import CorpusTable
    from fgclip.pipeline.negatives.corpus import count_corpus
    from fgclip.pipeline.negatives.measure import load_coco_samples

    samples = load_coco_samples(shared_data, "report")[:600]
    table = CorpusTable(count_corpus(samples))
    captions = [caption for sample in samples for caption in sample]
    before = sum(rule_errors.values())
    plausible = coverage(captions, table=table)
    for kind, floor in TABLE_COVERAGE_FLOORS.items():
        assert plausible["kind_coverage"][kind] >= floor, (kind, plausible["kind_coverage"])
    assert plausible["rule_coverage"]["swap-np"] == 0  # the paper's swaps only when asked for
    paper = coverage(captions, table=table, swaps="paper")
    assert paper["rule_coverage"]["swap-np"] >= 0.28
    assert paper["kind_coverage"]["relation"] > plausible["kind_coverage"]["relation"] + 0.15
    assert sum(rule_errors.values()) == before, dict(rule_errors)
