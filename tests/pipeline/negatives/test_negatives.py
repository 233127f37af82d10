"""Invariants of ``negatives()``: over hand-made edge cases, random text and random real captions."""

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fgclip.pipeline.negatives import RULE_NAMES, fold, negatives, rule_errors
from fgclip.schema import KINDS, Negative

PLACEHOLDERS = ("<mask>", "[mask]", "<unk>", "MASK", "_")


def _doubled_articles(text):
    words = text.lower().split()
    return sum(1 for a, b in zip(words, words[1:]) if a in ("a", "an") and b in ("a", "an"))


def check_invariants(caption, found, per_kind=2):
    assert isinstance(found, list)
    folded = [fold(n.text) for n in found]
    assert len(set(folded)) == len(folded), "duplicate negatives"
    for negative in found:
        assert isinstance(negative, Negative)
        assert negative.kind in KINDS and negative.rule in RULE_NAMES
        assert negative.text.strip(), "empty negative"
        assert fold(negative.text) != fold(caption), "negative equals its caption"
        assert not any(p in negative.text for p in PLACEHOLDERS if p not in caption)
        assert _doubled_articles(negative.text) <= _doubled_articles(caption), "an edit doubled an article"
    for kind in KINDS:
        assert sum(n.kind == kind for n in found) <= per_kind


@pytest.mark.parametrize("caption", ["", "   ", "\n", ".", "a", "A", "!!!", "12345", "a a a a", "the of and",
                                     "ÜBER café 日本語 🐶", "A" * 5000, "a\x00b", "<mask> on a <mask>"])
def test_edge_cases_give_a_list_and_never_raise(caption):
    before = sum(rule_errors.values())
    found = negatives(caption, 0)
    check_invariants(caption, found)
    assert sum(rule_errors.values()) == before


def test_non_string_caption_gives_empty_list():
    assert negatives(None, 0) == []  # type: ignore[arg-type]


def test_unknown_kind_or_rule_is_an_error():
    with pytest.raises(ValueError, match="unknown kind"):
        negatives("A dog on a bed.", 0, kinds=["colour"])
    with pytest.raises(ValueError, match="unknown rule"):
        negatives("A dog on a bed.", 0, rules_enabled=["replace-everything"])


def test_kinds_rules_and_per_kind_are_respected():
    caption = "A red car parked on the street next to a blue truck while a man walks a dog."
    everything = negatives(caption, 0, per_kind=5)
    assert {n.kind for n in everything} >= {"relation", "attribute", "object"}
    only_objects = negatives(caption, 0, kinds=["object"], per_kind=5)
    assert only_objects and {n.kind for n in only_objects} == {"object"}
    only_swaps = negatives(caption, 0, rules_enabled=["swap-att"], per_kind=5)
    assert [n.rule for n in only_swaps] == ["swap-att"]
    assert len(negatives(caption, 0, per_kind=1)) <= len(KINDS)
    assert negatives(caption, 0, per_kind=0) == []


def test_output_is_a_function_of_caption_and_seed_only():
    caption = "Two dogs chasing a black cat across a wooden bridge."
    first = negatives(caption, 7)
    assert negatives(caption, 7) == first
    negatives("Something else entirely on a table.", 7)  # other calls in between change nothing
    assert negatives(caption, 7) == first
    assert negatives(caption, "sample-000123") == negatives(caption, "sample-000123")


def test_same_bytes_in_a_fresh_process():
    """Seeds are hashed, not Python's per-process hash(): another interpreter gives the same list."""
    captions = ["A man riding a horse on a beach.", "A small white plate with a red apple on a wooden table."]
    here = [[n.to_dict() for n in negatives(c, 3)] for c in captions]
    code = ("import json,sys; from fgclip.pipeline.negatives import negatives; "
            "print(json.dumps([[n.to_dict() for n in negatives(c, 3)] for c in json.loads(sys.argv[1])]))")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(captions)], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "12345", **__import__("os").environ})
    assert json.loads(out.stdout) == here


words = st.sampled_from("a an the two red blue wooden small dog cat man woman table bench on under in next to "
                        "holding riding sitting standing left right of with and is are . , car street".split())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(words, min_size=0, max_size=14).map(" ".join), st.integers(0, 10))
def test_random_word_salad_never_raises(caption, seed):
    before = sum(rule_errors.values())
    check_invariants(caption, negatives(caption, seed))
    assert sum(rule_errors.values()) == before


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80), st.integers(0, 3))
def test_random_unicode_never_raises(caption, seed):
    before = sum(rule_errors.values())
    check_invariants(caption, negatives(caption, seed))
    assert sum(rule_errors.values()) == before


def test_invariants_on_random_real_captions(reference_captions):
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.sampled_from(reference_captions["coco"] + reference_captions["valse"]), st.integers(0, 1000))
    def check(caption, seed):
        found = negatives(caption, seed)
        check_invariants(caption, found)
        assert negatives(caption, seed) == found

    before = sum(rule_errors.values())
    check()
    assert sum(rule_errors.values()) == before


def test_rule_randomness_is_the_seeded_stream_it_always_was():
    # The generator seeds each rule's Random only when the rule first draws; the draws must be
    # exactly those of Random(crc32(key)), or every shard ever written would change.
    import zlib
    from random import Random

    from fgclip.pipeline.negatives import _SeededOnUse

    key = "0|replace-obj|A dog chasing a cat."
    lazy, eager = _SeededOnUse(0, "replace-obj", "A dog chasing a cat."), Random(zlib.crc32(key.encode("utf-8")))
    options = list(range(20))
    assert [lazy.sample(options, 3) for _ in range(5)] == [eager.sample(options, 3) for _ in range(5)]
    assert _SeededOnUse(0, "replace-obj", "A dog chasing a cat.")._random is None  # nothing seeded before the first draw


def test_every_rule_gets_the_table_its_kind_and_a_lazy_random(monkeypatch):
    import fgclip.pipeline.negatives as generator

    seen = []

    def spy(caption, ctx):
        seen.append((ctx.kind, ctx.table, ctx.rng._random))
        return []

    spies = {kind: tuple(generator.Rule(rule.name, kind, spy) for rule in generator.RULES if rule.kind == kind)
             for kind in KINDS}
    monkeypatch.setattr(generator, "_RULES_BY_KIND", spies)
    table = object()
    negatives("A dog on a bed.", 0, table=table, swaps="paper")
    assert sorted(kind for kind, _, _ in seen) == sorted(rule.kind for rule in generator.RULES)
    assert all(given is table for _, given, _ in seen)
    assert all(random is None for _, _, random in seen)  # nothing seeded for rules that drew nothing
