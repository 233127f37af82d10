"""Captions far longer than a build's default limit (``--max-caption-chars`` raised): the rules
read only the first MAX_CHARS_READ characters, cut at a sentence end, and carry the rest as it
is, so the work per caption stops growing with its length (it grew about quadratically: rules
look phrases up and pair them across the whole caption).

No timing here: the tests count the words the generator tags and check where its edits fall.
"""

from __future__ import annotations

from pathlib import Path
from random import Random

from fgclip.config import BuildConfig
from fgclip.pipeline.negatives import MAX_CHARS_READ, Negative, negatives, part_read
from fgclip.pipeline.negatives.tagging import default_tagger

SAMPLE_CAPTIONS = (Path(__file__).parents[3] / "fgclip" / "pipeline" / "negatives" / "sample_captions.txt") \
    .read_text(encoding="utf-8").splitlines()


def long_caption(chars: int, seed: int = 0) -> str:
    """Real captions in a seeded order, joined into one text of at least ``chars`` characters."""
    rng = Random(seed)
    sentences: list[str] = []
    while sum(len(s) + 1 for s in sentences) < chars:
        sentences.extend(rng.sample(SAMPLE_CAPTIONS, len(SAMPLE_CAPTIONS)))
    return " ".join(sentences)


class CountingTagger:
    """The default tagger, counting the words it is given."""

    def __init__(self):
        self.words = 0

    def tag(self, words):
        self.words += len(words)
        return default_tagger().tag(words)


def words_tagged(caption: str) -> int:
    tagger = CountingTagger()
    negatives(caption, 0, tagger=tagger)
    return tagger.words


def test_work_per_caption_stops_growing_past_the_cap():
    at_cap = words_tagged(long_caption(MAX_CHARS_READ))
    assert words_tagged(long_caption(4 * MAX_CHARS_READ)) <= at_cap
    assert words_tagged(long_caption(16 * MAX_CHARS_READ)) <= at_cap


def test_no_negative_edits_a_word_past_the_cap():
    for seed in range(3):
        caption = long_caption(8 * MAX_CHARS_READ, seed)
        rest = caption[MAX_CHARS_READ:]
        found = negatives(caption, seed, swaps="paper")
        assert found, "the rules must still find negatives in the part they read"
        for negative in found:
            assert negative.text.endswith(rest), (negative.rule, negative.text[:200])


def test_long_caption_gives_the_negatives_of_its_read_part_with_the_rest_appended():
    caption = long_caption(6 * MAX_CHARS_READ, seed=5)
    read, rest = part_read(caption)
    assert read + rest == caption
    expected = [Negative(n.text + rest, n.kind, n.rule) for n in negatives(read, 7)]
    assert negatives(caption, 7) == expected


def test_the_cut_falls_at_a_sentence_end_within_the_cap():
    caption = long_caption(3 * MAX_CHARS_READ)
    read, rest = part_read(caption)
    assert len(read) <= MAX_CHARS_READ
    assert read.endswith(".") and rest.startswith(" ")
    assert len(read) > MAX_CHARS_READ - max(map(len, SAMPLE_CAPTIONS)) - 2  # the last sentence that fits


def test_without_a_sentence_end_the_cut_falls_between_words():
    caption = " ".join(["a red car next to a blue truck"] * 1000)
    read, rest = part_read(caption)
    assert read + rest == caption and len(read) <= MAX_CHARS_READ
    assert not read[-1].isspace() and rest[0].isspace()
    assert len(read) > MAX_CHARS_READ - len("truck") - 2


def test_one_unbroken_run_is_cut_at_the_cap():
    caption = "x" * (3 * MAX_CHARS_READ)
    assert part_read(caption) == (caption[:MAX_CHARS_READ], caption[MAX_CHARS_READ:])


def test_a_caption_the_default_build_accepts_is_read_whole():
    # The cap must never touch what a build with the default --max-caption-chars lets through.
    assert MAX_CHARS_READ >= BuildConfig.max_caption_chars
    caption = long_caption(MAX_CHARS_READ)[:MAX_CHARS_READ]
    assert part_read(caption) == (caption, "")
