import random

from fgclip.pipeline.negatives import parse
from fgclip.pipeline.negatives.tagging import BrillTagger, default_tagger, tokenize


def _words(text):
    return [text[s:e] for s, e in tokenize(text)]


def test_tokenize_splits_punctuation_and_clitics_and_keeps_spans():
    text = "A man's 8-year-old dog, don't  run."
    words = _words(text)
    assert words == ["A", "man", "'s", "8-year-old", "dog", ",", "do", "n't", "run", "."]
    assert all(text[s:e] == w for (s, e), w in zip(tokenize(text), words))


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
