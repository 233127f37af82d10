"""Tokenising and part-of-speech tagging of captions, with no ``nltk.download``.

``nltk.pos_tag`` needs a model that has to be downloaded. The default tagger here is a Brill
tagger (Penn Treebank tags) built from the lexicon and rule files that textblob ships inside its
wheel (the tagger of the *pattern* library: a 94k-word lexicon plus Brill's morphological and
contextual rules). textblob's own ``PatternTagger`` applies the lexicon and a few suffix rules
only; this implementation also applies the contextual rules, indexed by tag so that they cost a
few microseconds per caption, and then a handful of fixes for what captions say and the general
lexicon gets wrong ("to the *left* of", "a fire *hydrant*", "people *LAUGHING*").

Any object with ``tag(words) -> tags`` can replace it (see :class:`SpacyTagger`).
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Protocol, Sequence

import regex

from . import wordnet

# Words (with inner hyphens: "8-year-old"), clitics split off as the Penn Treebank does
# ("man 's", "do n't"), numbers with separators, and single punctuation marks.
_TOKEN_PATTERN = r"\w+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b|\d+(?:[.,:]\d+)+|\w+(?:-\w+)*|[^\w\s]"
# The engine and flags of NLTK's RegexpTokenizer, called directly: NLTK 3.10 wraps every match
# in a ReDoS timeout guard, which cost as much as the matching. This pattern is ours and cannot
# backtrack badly (each alternative consumes what the others cannot).
_token_regex = regex.compile(_TOKEN_PATTERN, regex.UNICODE | regex.MULTILINE | regex.DOTALL)
# The standard library's engine runs the same pattern a third faster. On printable ASCII (space
# to "~", nearly every caption) \w, \s, \d and \b mean the same to both engines; elsewhere
# they differ (combining marks, control characters), so other text keeps to ``regex``.
_ascii_token_regex = re.compile(_TOKEN_PATTERN)


def tokenize(text: str) -> list[tuple[int, int]]:
    """Character spans of the tokens of ``text`` (what NLTK's RegexpTokenizer gives)."""
    engine = _ascii_token_regex if text.isascii() and text.isprintable() else _token_regex
    return [match.span() for match in engine.finditer(text)]


class Tagger(Protocol):
    """Anything that maps a list of words to a list of Penn Treebank tags of the same length."""

    def tag(self, words: Sequence[str]) -> list[str]: ...


# --- the default Brill tagger -----------------------------------------------------------------

# Brill's contextual predicates as Python conditions. W0 is the current word; W1p, W2p the words
# 1 and 2 before it, W1n, W2n after it; T1p..T3p and T1n..T3n the current tags around it; {x}
# and {y} the rule's two arguments.
_PREDICATES: dict[str, str] = {
    "prevtag": "T1p == {x}",
    "nexttag": "T1n == {x}",
    "prev2tag": "T2p == {x}",
    "next2tag": "T2n == {x}",
    "prev1or2tag": "(T1p == {x} or T2p == {x})",
    "next1or2tag": "(T1n == {x} or T2n == {x})",
    "prev1or2or3tag": "(T1p == {x} or T2p == {x} or T3p == {x})",
    "next1or2or3tag": "(T1n == {x} or T2n == {x} or T3n == {x})",
    "surroundtag": "T1p == {x} and T1n == {y}",
    "curwd": "W0 == {x}",
    "prevwd": "W1p == {x}",
    "nextwd": "W1n == {x}",
    "prev1or2wd": "(W1p == {x} or W2p == {x})",
    "next1or2wd": "(W1n == {x} or W2n == {x})",
    "prevwdtag": "W1p == {x} and T1p == {y}",
    "nextwdtag": "W1n == {x} and T1n == {y}",
    "wdprevtag": "T1p == {x} and W0 == {y}",
    "wdnexttag": "W0 == {x} and T1n == {y}",
    "wdand2aft": "W0 == {x} and W2n == {y}",
    "wdand2tagbfr": "T2p == {x} and W0 == {y}",
    "wdand2tagaft": "W0 == {x} and T2n == {y}",
    "lbigram": "W1p == {x} and W0 == {y}",
    "rbigram": "W0 == {x} and W1n == {y}",
    "prevbigram": "T2p == {x} and T1p == {y}",
    "nextbigram": "T1n == {x} and T2n == {y}",
}
_CONTEXT = {
    "W0": "t[i][0]", "W1p": "t[i - 1][0]", "W2p": "t[i - 2][0]", "W1n": "t[i + 1][0]", "W2n": "t[i + 2][0]",
    "T1p": "t[i - 1][1]", "T2p": "t[i - 2][1]", "T3p": "t[i - 3][1]", "T1n": "t[i + 1][1]", "T2n": "t[i + 2][1]",
    "T3n": "t[i + 3][1]",
}


def _compile_rules(rules: list[tuple[str, str, str, str]]) -> Callable[[list, int], str | None]:
    """One function for an ordered list of (to_tag, predicate, x, y): the to_tag of the first rule
    that holds at position i of the padded [word, tag] list t, or None. As Python source, not a
    loop over predicate functions: the tagger then costs a third of what it did."""
    tests = [f"if {_PREDICATES[predicate].format(x=repr(x), y=repr(y))}: return {to_tag!r}"
             for to_tag, predicate, x, y in rules]
    # Only the context the rules read: it is looked up for every token.
    used = set(re.findall(r"\b[WT][0-9]\w*", " ".join(_PREDICATES[predicate] for _, predicate, _, _ in rules)))
    body = [f"{name} = {source}" for name, source in _CONTEXT.items() if name in used] + tests + ["return None"]
    namespace: dict = {}
    exec("def first_match(t, i):\n" + "".join(f"    {line}\n" for line in body), namespace)  # noqa: S102 - the source is built from the rule table alone
    return namespace["first_match"]


_PAD = ["", "STAART"]


def _textblob_data_dir() -> Path:
    import textblob  # the wheel carries the data files; nothing is downloaded

    return Path(textblob.__file__).parent / "en"


def _read_rules(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split() for line in lines if line.strip() and not line.startswith(";;;")]


def _suffix_tag(word: str) -> str:
    """Tag of an unknown word from its ending (textblob's default rules, in the same order)."""
    tag = "NN"
    if word.endswith("ing"):
        tag = "VBG"
    if word.endswith("ly"):
        tag = "RB"
    if word.endswith("s") and not word.endswith(("is", "ous", "ss")):
        tag = "NNS"
    if word.endswith(("able", "al", "ful", "ible", "ient", "ish", "ive", "less", "tic", "ous")) or "-" in word:
        tag = "JJ"
    if word.endswith("ed"):
        tag = "VBN"
    if word.endswith(("ate", "ify", "ise", "ize")):
        tag = "VBP"
    return tag


# Caption vocabulary the general lexicon lacks or tags as something else.
_CAPTION_NOUNS = {
    "hydrant", "skateboard", "skateboarder", "snowboarder", "surfboard", "frisbee", "skier", "surfer",
    "giraffe", "giraffes", "zebra", "zebras", "laptop", "broccoli", "donut", "donuts", "doughnut",
    "suitcase", "toothbrush", "teddy", "kite", "kites", "bench", "umbrella", "skis", "motorcycle",
    "scooter", "sandwich", "pizza", "cellphone", "smartphone", "closeup", "bathroom", "kitchen",
    "skate", "snowboard", "racket", "racquet", "toilet", "sink", "vase", "oven", "microwave",
    "ram", "sheep", "cow", "cows", "bear", "bears",
}
_BE_FORMS = {"is", "are", "was", "were", "be", "been", "being", "'s", "'re"}
_DIRECTION_NOUNS = {"left", "right", "front", "top", "bottom", "side", "middle", "back", "center", "centre"}


_AFTER_VERB_TAGS = frozenset({"DT", "PRP$", "IN", "RB", "RP", "TO", "PRP"})
# The words caption_fixes may retag whatever their tag ("while" is one), besides -ing words.
_FIXED_WORDS = frozenset(_CAPTION_NOUNS | _DIRECTION_NOUNS | {"while"})


def caption_fixes(words: Sequence[str], tags: list[str], is_verb: Callable[[str], bool] | None = None) -> list[str]:
    """Correct tags the general-purpose lexicon gets wrong in image captions."""
    lower = [w.lower() for w in words]
    n = len(words)
    for i, word in enumerate(lower):
        if tags[i] not in ("NNS", "VB") and word not in _FIXED_WORDS and not word.endswith("ing"):
            continue  # most words: none of the conditions below can hold
        prev = lower[i - 1] if i > 0 else ""
        nxt = lower[i + 1] if i + 1 < n else ""
        if (is_verb is not None and tags[i] == "NNS" and 0 < i and tags[i - 1] in ("NN", "NNP")
                and i + 1 < n and tags[i + 1] in _AFTER_VERB_TAGS and is_verb(word)):
            tags[i] = "VBZ"  # "a child brushes their teeth", "a person on a board rides on a wave"
            continue
        if word in _CAPTION_NOUNS and tags[i] not in ("NN", "NNS"):
            tags[i] = "NNS" if word.endswith("s") and not word.endswith("ss") and word != "bus" else "NN"
        elif word in _DIRECTION_NOUNS and prev in ("the", "its", "his", "her", "their") and nxt == "of":
            tags[i] = "NN"  # "to the left of", "on the side of"
        elif word in ("front", "top") and prev in ("in", "on") and nxt == "of":
            tags[i] = "NN"
        elif word.endswith("ing") and prev in _BE_FORMS and tags[i] != "VBG":
            tags[i] = "VBG"  # "people are LAUGHING", "a man is skiing"
        elif word in ("while",):
            tags[i] = "IN"
        elif tags[i] == "VB" and prev == "to" and i >= 2 and lower[i - 2] in ("next", "close") \
                and i + 1 < n and tags[i + 1][:2] in ("JJ", "NN"):
            tags[i] = "JJ"  # "next to tall trees": a preposition's "to", not an infinitive's
    return tags


class BrillTagger:
    """Brill tagger over textblob's shipped lexicon and rules, plus caption fixes (thread-safe)."""

    def __init__(self, data_dir: Path | None = None, extra_nouns: Callable[[str], bool] | None = None,
                 is_verb: Callable[[str], bool] | None = None):
        data_dir = Path(data_dir) if data_dir else _textblob_data_dir()
        self.lexicon: dict[str, str] = {}
        for fields in _read_rules(data_dir / "en-lexicon.txt"):
            if len(fields) >= 2:
                self.lexicon.setdefault(fields[0], fields[1])
        # Rules indexed by the tag they rewrite, kept in file order; textblob applies them per
        # token against the token's tag before the contextual pass and keeps the last match, so
        # scanning each bucket from the end and stopping at the first match is equivalent.
        by_tag: dict[str, list[tuple[int, tuple[str, str, str, str]]]] = defaultdict(list)
        wildcard: list[tuple[int, tuple[str, str, str, str]]] = []
        for order, fields in enumerate(_read_rules(data_dir / "en-context.txt")):
            if len(fields) < 4 or fields[2].lower() not in _PREDICATES:
                continue
            rule = (fields[1], fields[2].lower(), fields[3], fields[4] if len(fields) > 4 else "")
            (wildcard if fields[0] == "*" else by_tag[fields[0]]).append((order, rule))
        self.rules: dict[str, list[tuple[str, str, str, str]]] = {}  # by tag, in the order tried
        for tag in by_tag:
            merged = sorted(by_tag[tag] + wildcard, key=lambda pair: pair[0])
            self.rules[tag] = [rule for _, rule in reversed(merged)]
        self.wildcard_rules = [rule for _, rule in reversed(wildcard)]
        self._first_match = {tag: _compile_rules(rules) for tag, rules in self.rules.items()}
        self._wildcard_match = _compile_rules(self.wildcard_rules)
        self._is_noun = extra_nouns
        self._is_verb = is_verb

    def _lexical_tag(self, word: str, index: int) -> str:
        tag = self.lexicon.get(word)
        if tag is None and (index == 0 or word.isupper() or word[:1].isupper()):
            tag = self.lexicon.get(word.lower())
        if tag is not None:
            return tag
        if re.fullmatch(r"[\d.,:/-]+", word):
            return "CD"
        lower = word.lower()
        if self._is_noun is not None and self._is_noun(lower):
            return "NNS" if lower.endswith("s") and not lower.endswith("ss") else "NN"
        if word.istitle() and index > 0:
            return "NNP"
        return _suffix_tag(lower)

    def tag(self, words: Sequence[str]) -> list[str]:
        known = self.lexicon  # nearly every word is in it: the method call only for the others
        lexical = [[w, known.get(w) or self._lexical_tag(w, i)] for i, w in enumerate(words)]
        padded = [_PAD] * 3 + lexical + [_PAD] * 3
        for i in range(3, 3 + len(lexical)):
            to_tag = self._first_match.get(padded[i][1], self._wildcard_match)(padded, i)
            if to_tag is not None:
                padded[i] = [padded[i][0], to_tag]
        return caption_fixes(words, [tag for _, tag in padded[3:-3]], self._is_verb)


class SpacyTagger:
    """Penn tags from an installed spaCy pipeline (``en_core_web_sm`` etc.); slower, more accurate."""

    def __init__(self, model: str = "en_core_web_sm"):
        import spacy
        from spacy.tokens import Doc

        self._nlp = spacy.load(model, exclude=["parser", "ner", "lemmatizer"])
        self._doc = Doc

    def tag(self, words: Sequence[str]) -> list[str]:
        doc = self._doc(self._nlp.vocab, words=list(words))
        for _, component in self._nlp.pipeline:
            doc = component(doc)
        return caption_fixes(words, [token.tag_ for token in doc])


_default_tagger: Tagger | None = None
_lock = threading.Lock()
load_seconds: dict[str, float] = {}


def default_tagger() -> Tagger:
    """The process-wide Brill tagger, built on first use (its load time lands in ``load_seconds``)."""
    global _default_tagger
    if _default_tagger is None:
        with _lock:
            if _default_tagger is None:
                start = time.perf_counter()
                _default_tagger = BrillTagger(extra_nouns=wordnet.is_concrete_noun_only, is_verb=wordnet.is_verb_form)
                load_seconds["tagger"] = time.perf_counter() - start
    return _default_tagger
