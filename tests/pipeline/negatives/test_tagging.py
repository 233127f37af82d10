import random

from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.tokenize import RegexpTokenizer

from fgclip.pipeline.negatives import parse
from fgclip.pipeline.negatives.tagging import (
    _PAD, _TOKEN_PATTERN, BrillTagger, _token_regex, caption_fixes, default_tagger, tokenize,
)


def _words(text):
    return [text[s:e] for s, e in tokenize(text)]


def test_tokenize_splits_punctuation_and_clitics_and_keeps_spans():
    text = "A man's 8-year-old dog, don't  run."
    words = _words(text)
    assert words == ["A", "man", "'s", "8-year-old", "dog", ",", "do", "n't", "run", "."]
    assert all(text[s:e] == w for (s, e), w in zip(tokenize(text), words))


def test_tokenize_gives_the_spans_of_nltks_regexp_tokenizer(reference_captions):
    nltk_tokenizer = RegexpTokenizer(_TOKEN_PATTERN)
    texts = [text for group in reference_captions.values() for text in group]
    texts += ["cafe\u0301 au lait", "na\u00efve 3,000.5 m\u00b2", "\u4e24\u53ea\u732b, don't!", "x\ny\r\nz", ""]
    assert [tokenize(t) for t in texts] == [list(nltk_tokenizer.span_tokenize(t)) for t in texts]


_ASCII_PIECES = [chr(c) for c in range(32, 127)] + ["n't", "'s", "'re", "'ll", "1,000.5", "8-year-old", "dog", " "]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_ASCII_PIECES), max_size=20).map("".join))
def test_tokenize_on_printable_ascii_gives_the_spans_of_the_unicode_engine(text):
    # Printable ASCII goes through the standard library's re; the spans must be regex's own.
    assert text.isascii() and text.isprintable()
    assert tokenize(text) == [match.span() for match in _token_regex.finditer(text)]


# Brill's predicates, written out one by one: the reference the tagger's compiled rules must match.
_REFERENCE_PREDICATES = {
    "prevtag": lambda t, i, x, y: t[i - 1][1] == x,
    "nexttag": lambda t, i, x, y: t[i + 1][1] == x,
    "prev2tag": lambda t, i, x, y: t[i - 2][1] == x,
    "next2tag": lambda t, i, x, y: t[i + 2][1] == x,
    "prev1or2tag": lambda t, i, x, y: x in (t[i - 1][1], t[i - 2][1]),
    "next1or2tag": lambda t, i, x, y: x in (t[i + 1][1], t[i + 2][1]),
    "prev1or2or3tag": lambda t, i, x, y: x in (t[i - 1][1], t[i - 2][1], t[i - 3][1]),
    "next1or2or3tag": lambda t, i, x, y: x in (t[i + 1][1], t[i + 2][1], t[i + 3][1]),
    "surroundtag": lambda t, i, x, y: t[i - 1][1] == x and t[i + 1][1] == y,
    "curwd": lambda t, i, x, y: t[i][0] == x,
    "prevwd": lambda t, i, x, y: t[i - 1][0] == x,
    "nextwd": lambda t, i, x, y: t[i + 1][0] == x,
    "prev1or2wd": lambda t, i, x, y: x in (t[i - 1][0], t[i - 2][0]),
    "next1or2wd": lambda t, i, x, y: x in (t[i + 1][0], t[i + 2][0]),
    "prevwdtag": lambda t, i, x, y: t[i - 1][0] == x and t[i - 1][1] == y,
    "nextwdtag": lambda t, i, x, y: t[i + 1][0] == x and t[i + 1][1] == y,
    "wdprevtag": lambda t, i, x, y: t[i - 1][1] == x and t[i][0] == y,
    "wdnexttag": lambda t, i, x, y: t[i][0] == x and t[i + 1][1] == y,
    "wdand2aft": lambda t, i, x, y: t[i][0] == x and t[i + 2][0] == y,
    "wdand2tagbfr": lambda t, i, x, y: t[i - 2][1] == x and t[i][0] == y,
    "wdand2tagaft": lambda t, i, x, y: t[i][0] == x and t[i + 2][1] == y,
    "lbigram": lambda t, i, x, y: t[i - 1][0] == x and t[i][0] == y,
    "rbigram": lambda t, i, x, y: t[i][0] == x and t[i + 1][0] == y,
    "prevbigram": lambda t, i, x, y: t[i - 2][1] == x and t[i - 1][1] == y,
    "nextbigram": lambda t, i, x, y: t[i + 1][1] == x and t[i + 2][1] == y,
}


def _tag_rule_by_rule(tagger, words):
    padded = [_PAD] * 3 + [[w, tagger._lexical_tag(w, i)] for i, w in enumerate(words)] + [_PAD] * 3
    for i in range(3, 3 + len(words)):
        for to_tag, predicate, x, y in tagger.rules.get(padded[i][1], tagger.wildcard_rules):
            if _REFERENCE_PREDICATES[predicate](padded, i, x, y):
                padded[i] = [padded[i][0], to_tag]
                break
    return caption_fixes(words, [tag for _, tag in padded[3:-3]], tagger._is_verb)


def test_the_compiled_rules_tag_as_the_rules_applied_one_by_one(reference_captions):
    tagger = default_tagger()
    assert set(_REFERENCE_PREDICATES) >= {rule[1] for rules in tagger.rules.values() for rule in rules}
    texts = [text for group in reference_captions.values() for text in group][::3]
    texts += ["YOU AND Y2K", "a 'quoted' word", "X marks the spot, Y does not"]  # rule arguments with quotes, X, Y
    changed = 0
    for text in texts:
        words = _words(text)
        ours = tagger.tag(words)
        assert ours == _tag_rule_by_rule(tagger, words), text
        changed += ours != [tagger._lexical_tag(w, i) for i, w in enumerate(words)]
    assert len(texts) > 7000 and changed > 1000  # the contextual rules do fire


def test_caption_fixes():
    tags = dict(zip(_words("A cat to the left of a dog"), default_tagger().tag(_words("A cat to the left of a dog"))))
    assert tags["left"] == "NN"
    words = _words("THERE ARE WOMEN THAT ARE LAUGHING UNDER THE UMBRELLA")
    assert default_tagger().tag(words)[5] == "VBG"
    words = _words("a person on a board rides on a wave")
    assert default_tagger().tag(words)[5] == "VBZ"


def test_tagger_is_a_plain_callable_interface():
    class Everything:
        def tag(self, words):
            return ["NN"] * len(words)

    caption = parse("small box", tagger=Everything())
    assert [t.tag for t in caption.tokens] == ["NN", "NN"]
    assert [(p.start, p.end, p.head) for p in caption.phrases] == [(0, 2, 1)]


def test_contextual_rules_agree_with_textblob_on_real_captions(reference_captions):
    """The indexed Brill pass must tag as textblob's own implementation of the same rules does."""
    from textblob._text import find_tags
    from textblob.en import lexicon

    plain = BrillTagger()  # no WordNet fallback, so both see the same unknown-word rules
    captions = random.Random(0).sample(reference_captions["coco"], 400)
    same = total = 0
    for caption in captions:
        words = _words(caption)[1:]  # textblob treats the first word specially; compare the rest
        ours = plain.tag(["x"] + words)[1:]
        theirs = [t for _, t in find_tags(["x"] + words, lexicon=lexicon, context=lexicon.context,
                                            default=("NN", "NNP", "CD"), language="en")][1:]
        fixed = {i for i, w in enumerate(words) if w.lower() in ("left", "right", "front", "top") or w.endswith("ing")}
        for i, (a, b) in enumerate(zip(ours, theirs)):
            if i in fixed or not w_is_plain(words[i]):
                continue
            total += 1
            same += a == b
    assert total > 2000
    assert same / total > 0.97


def w_is_plain(word):
    return word.isalpha() and word.islower()


def test_spacy_tagger_adapter_runs_the_pipeline_on_given_words(monkeypatch):
    """SpacyTagger must tag exactly the words it is given (no re-tokenising), with caption fixes."""
    import sys
    import types

    from fgclip.pipeline.negatives.tagging import SpacyTagger

    class Doc(list):
        def __init__(self, vocab, words):
            super().__init__(types.SimpleNamespace(text=w, tag_="NN") for w in words)

    def tagger(doc):
        for token in doc:
            token.tag_ = "DT" if token.text.lower() == "the" else "VBZ" if token.text == "runs" else "NN"
        return doc

    nlp = types.SimpleNamespace(vocab=object(), pipeline=[("tagger", tagger)])
    spacy = types.ModuleType("spacy")
    spacy.load = lambda name, exclude=(): nlp
    spacy_tokens = types.ModuleType("spacy.tokens")
    spacy_tokens.Doc = Doc
    monkeypatch.setitem(sys.modules, "spacy", spacy)
    monkeypatch.setitem(sys.modules, "spacy.tokens", spacy_tokens)
    assert SpacyTagger("any_model").tag(["the", "dog", "runs", "to", "the", "left", "of", "it"]) == \
        ["DT", "NN", "VBZ", "NN", "DT", "NN", "NN", "NN"]
