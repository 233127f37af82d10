import random

import pytest
from nltk import RegexpParser

from fgclip.pipeline.negatives.parse import NOUN_PHRASE_PATTERN, Edit, apply_edits, moved_text, noun_phrase_spans, parse
from fgclip.pipeline.negatives.tagging import default_tagger, tokenize


def _nltk_spans(tags):
    """The noun phrases NLTK's RegexpParser finds with the same rule: the reference."""
    tree = RegexpParser(f"NP: {{{NOUN_PHRASE_PATTERN}}}").parse([(str(i), tag) for i, tag in enumerate(tags)])
    spans, position = [], 0
    for node in tree:
        size = len(node) if hasattr(node, "label") else 1
        if hasattr(node, "label"):
            spans.append((position, position + size))
        position += size
    return spans


def test_noun_phrases_are_those_of_nltks_regexp_parser(reference_captions):
    tagger = default_tagger()
    sequences = {tuple(tagger.tag([t[s:e] for s, e in tokenize(t)]))
                 for group in reference_captions.values() for t in group[::4]}
    rng = random.Random(0)
    tag_set = ["DT", "PDT", "PRP$", "CD", "JJ", "JJR", "JJS", "VBN", "NN", "NNS", "NNP", "NNPS", "IN", "VBG",
               "VBZ", "CC", ",", ".", "``", "''", "$", "(", ")", ":", "RB", "TO"]
    sequences |= {tuple(rng.choice(tag_set) for _ in range(rng.randrange(1, 25))) for _ in range(3000)}
    assert len(sequences) > 5000
    found = 0
    for tags in sequences:
        spans = noun_phrase_spans(tags)
        assert spans == _nltk_spans(tags), tags
        found += len(spans)
    assert found > 10000


@pytest.mark.parametrize("text", [
    "A dog chasing a cat.", "  two   spaces  and tabs\there ", "THERE ARE WOMEN", "Café au lait, s'il vous plaît!",
    "A man's hat (red) -- on a 8-year-old.", "",
])
def test_parse_then_render_without_edits_is_identity(text):
    assert apply_edits(parse(text), []) == text


def test_compounds_are_one_token_and_noun_phrases_have_heads():
    caption = parse("A red fire hydrant next to two hot dogs.")
    texts = [t.text for t in caption.tokens]
    assert "fire hydrant" in texts and "hot dogs" in texts
    heads = [caption.tokens[p.head].text for p in caption.phrases]
    assert heads == ["fire hydrant", "hot dogs"]
    first = caption.phrases[0]
    assert caption.tokens[first.first_modifier].text == "red"


@pytest.mark.parametrize("text, merged, apart", [
    ("A washing machine.", "washing machine", None),
    ("A man washing machine parts.", None, "washing"),  # a verb and its object
    ("A frying pan on a stove.", "frying pan", None),
])
def test_ing_compounds_merge_only_after_a_determiner(text, merged, apart):
    texts = [t.text for t in parse(text).tokens]
    if merged:
        assert merged in texts
    if apart:
        assert apart in texts


def test_articles_agree_after_an_edit():
    caption = parse("A cat and an owl.")
    assert apply_edits(caption, [Edit(1, 2, "elephant")]) == "An elephant and an owl."
    assert apply_edits(caption, [Edit(4, 5, "dog")]) == "A cat and a dog."


def test_edit_beginning_with_an_article_agrees_itself():
    caption = parse("On the table.")
    assert apply_edits(caption, [Edit(1, 3, "a apple")]) == "On an apple."


def test_all_caps_caption_gets_capital_edits():
    caption = parse("A CAT ON A TABLE")
    assert apply_edits(caption, [Edit(2, 3, "under")]) == "A CAT UNDER A TABLE"
    assert apply_edits(caption, [Edit(1, 2, "owl")]) == "AN OWL ON A TABLE"
    assert apply_edits(caption, [Edit(1, 2, "MOTORCYCLE")]) == "A MOTORCYCLE ON A TABLE"  # no "AN M.C."


def test_overlapping_edits_are_refused():
    caption = parse("A cat on a table")
    with pytest.raises(ValueError):
        apply_edits(caption, [Edit(0, 2, "x"), Edit(1, 3, "y")])


def test_moved_text_recases_for_sentence_position():
    caption = parse("A dog chasing a cat")
    assert moved_text(caption, 0, 2, to_start=False) == "a dog"
    assert moved_text(caption, 3, 5, to_start=True) == "A cat"
    assert moved_text(parse("African elephants near a tree"), 0, 2, to_start=False) == "African elephants"
