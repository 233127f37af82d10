"""The text-only probe of hard negatives (fgclip/pipeline/negatives/probe.py) on made-up pairs
whose answer is known: a marker word is found, no signal gives chance, captions stay together."""

import math
import random
import zlib

import numpy as np
import pytest

from fgclip.pipeline.negatives.probe import (
    HASH_BUCKETS, LogisticRegression, Pair, SparseRows, accuracy_by_group, difference, featurise,
    ngram_counts, present_in_random_order, probe, split_by_caption, tokens, wilson_interval)

WORDS = ("dog cat man woman red blue car bus table chair sits stands near under on big small green "
         "bird horse street room plate pizza holding riding white black two three young old").split()


def sentence(rng: random.Random, length: int = 8) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(length)) + "."


def pairs_with_marker(n: int = 1500, seed: int = 0) -> list[Pair]:
    """The negative is the caption with one word replaced by "zebra", a word no caption has."""
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        caption = sentence(rng)
        words = caption.split()
        words[rng.randrange(len(words) - 1)] = "zebra"
        pairs.append(Pair(caption, " ".join(words), "marker" if i % 2 else "other"))
    return pairs


def pairs_without_signal(n: int = 2000, seed: int = 0) -> list[Pair]:
    """Caption and "negative" drawn from the same distribution: nothing tells them apart."""
    rng = random.Random(seed)
    return [Pair(sentence(rng), sentence(rng), "random") for _ in range(n)]


def test_tokens_are_lower_cased_words_and_punctuation():
    assert tokens("A dog, running!") == ["a", "dog", ",", "running", "!"]


def test_ngram_counts_hash_unigrams_and_bigrams_with_crc32():
    counts = ngram_counts("a dog a dog")
    bucket = lambda gram: zlib.crc32(gram.encode("utf-8")) % HASH_BUCKETS  # noqa: E731
    assert counts[bucket("a")] == 2 and counts[bucket("dog")] == 2
    assert counts[bucket("a dog")] == 2 and counts[bucket("dog a")] == 1
    assert sum(counts.values()) == 4 + 3


def test_a_swap_leaves_only_bigrams_in_the_difference():
    indices, values = difference(ngram_counts("a dog chasing a cat"), ngram_counts("a cat chasing a dog"))
    # Same words, and "a dog", "a cat", "chasing a" in both: only the bigrams at the verb differ.
    bucket = lambda gram: zlib.crc32(gram.encode("utf-8")) % HASH_BUCKETS  # noqa: E731
    assert dict(zip(indices.tolist(), values.tolist())) == {bucket("dog chasing"): 1.0, bucket("cat chasing"): -1.0}
    assert list(indices) == sorted(indices)
    # Text order: the difference of (second, first) is the negation.
    back_indices, back_values = difference(ngram_counts("a cat chasing a dog"), ngram_counts("a dog chasing a cat"))
    assert np.array_equal(indices, back_indices) and np.array_equal(values, -back_values)


def test_sparse_rows_take_and_scale():
    x = SparseRows.from_rows([(np.array([1, 5]), np.array([1.0, -2.0])), (np.array([3]), np.array([4.0])),
                              (np.array([0, 2, 4]), np.array([1.0, 1.0, 1.0]))])
    sub = x.take(np.array([2, 0]))
    assert sub.indptr.tolist() == [0, 3, 5]
    assert sub.indices.tolist() == [0, 2, 4, 1, 5] and sub.values.tolist() == [1, 1, 1, 1, -2]
    assert x.scale_rows(np.array([1.0, -1.0, 2.0])).values.tolist() == [1, -2, -4, 2, 2, 2]


def test_random_order_negates_the_rows_it_reverses():
    pairs = pairs_with_marker(400)
    x = featurise(pairs)
    shown, labels = present_in_random_order(x, seed=3)
    signs = np.where(labels == 1, 1.0, -1.0)
    assert np.array_equal(shown.values, x.values * np.repeat(signs, np.diff(x.indptr)))
    assert 0.4 < labels.mean() < 0.6


def test_split_keeps_all_pairs_of_a_caption_on_one_side():
    rng = random.Random(1)
    captions = [f"caption {rng.randrange(500)}" for _ in range(3000)]  # ~6 pairs a caption
    test = split_by_caption(captions, 0.3, seed=0)
    side = {}
    for caption, is_test in zip(captions, test):
        assert side.setdefault(caption, is_test) == is_test, caption
    distinct = len(side)
    assert sum(side.values()) == round(0.3 * distinct)


def test_split_is_deterministic_for_a_seed_and_changes_with_it():
    captions = [f"c{i}" for i in range(1000)]
    assert np.array_equal(split_by_caption(captions, 0.3, 5), split_by_caption(captions, 0.3, 5))
    assert not np.array_equal(split_by_caption(captions, 0.3, 5), split_by_caption(captions, 0.3, 6))


def test_fit_reaches_the_minimum_of_the_regularised_loss():
    """Checked densely: the gradient of sum log(1+exp(-y w.x)) + lambda/2 |w|^2 vanishes."""
    pairs = pairs_with_marker(300) + pairs_without_signal(300)
    x, labels = present_in_random_order(featurise(pairs), seed=0)
    for lam in (0.1, 3.0):
        model = LogisticRegression(lam).fit(x, labels, tol=1e-8)
        dense = np.zeros((len(x), len(model.columns)))
        local = np.searchsorted(model.columns, x.indices)
        np.add.at(dense, (x.row_of, local), x.values)
        y = np.where(labels == 1, 1.0, -1.0)
        margin = y * (dense @ model.weights)
        gradient = dense.T @ (-y / (1.0 + np.exp(margin))) + lam * model.weights
        assert np.abs(gradient).max() < 1e-5, (lam, np.abs(gradient).max())
        assert np.allclose(model.scores(x), dense @ model.weights)


def test_a_marker_word_in_every_negative_is_found():
    pairs = pairs_with_marker()
    result = probe(pairs, seed=0)
    summary = result.summary(pairs)
    assert summary["overall"]["accuracy"] > 0.98
    assert summary["test_pairs"] == int(result.test.sum()) == len(result.correct)
    assert set(summary["groups"]) == {"marker", "other"}


def test_pairs_without_signal_score_chance():
    pairs = pairs_without_signal()
    summary = probe(pairs, seed=0).summary(pairs)
    n = summary["overall"]["n"]
    assert abs(summary["overall"]["accuracy"] - 0.5) < 4 * math.sqrt(0.25 / n), summary["overall"]


def test_identical_texts_score_chance():
    """A negative with the caption's very n-grams scores 0; the random order makes that 50%."""
    rng = random.Random(2)
    pairs = [Pair(text, text.upper(), "same") for text in (sentence(rng) for _ in range(2000))]
    summary = probe(pairs, seed=0).summary(pairs)
    n = summary["overall"]["n"]
    assert abs(summary["overall"]["accuracy"] - 0.5) < 4 * math.sqrt(0.25 / n)


def test_probe_is_deterministic_for_a_seed():
    pairs = pairs_with_marker(300) + pairs_without_signal(600)
    first, second = probe(pairs, seed=4), probe(pairs, seed=4)
    assert first.lam == second.lam
    assert np.array_equal(first.test, second.test) and np.array_equal(first.correct, second.correct)
    assert not np.array_equal(first.test, probe(pairs, seed=5).test)


def test_accuracy_by_group_and_kind():
    pairs = [Pair(f"c{i}", f"n{i}", "g1" if i < 3 else "g2", "object") for i in range(5)]
    by_group = accuracy_by_group(np.array([True, True, False, True, False]), [p.group for p in pairs])
    assert list(by_group) == ["g1", "g2"]
    assert by_group["g1"]["n"] == 3 and by_group["g1"]["accuracy"] == pytest.approx(2 / 3)
    assert by_group["g2"]["accuracy"] == pytest.approx(0.5)


def test_wilson_interval():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
