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
