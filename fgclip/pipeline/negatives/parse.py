"""A caption as tokens, tags and noun phrases, and the one way to edit it back into text.

Tokens keep the whitespace that preceded them, so rendering a caption with no edit gives back
the exact input string, and an edit touches only the tokens it names: punctuation, spacing and
letter case elsewhere are kept byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple, Sequence

from nltk.chunk.regexp import tag_pattern2re_pattern

from . import lexicon, wordnet
from .grammar import indefinite_article, match_case
from .tagging import Tagger, default_tagger, tokenize

NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
PLURAL_TAGS = frozenset({"NNS", "NNPS"})
_COMMON_NOUN_TAGS = NOUN_TAGS - {"NNP", "NNPS"}
DETERMINER_TAGS = frozenset({"DT", "PDT", "PRP$", "CD"})

# A noun phrase: optional determiners or a number, modifiers, and a noun as its head.
NOUN_PHRASE_PATTERN = r"<PDT>?<DT|PRP\$|CD>*<JJ.*|VBN|NN.*|CD>*<NN.*>"
# What NLTK's RegexpParser("NP: {...}") does with this one rule, done directly: the tags written
# as "<DT><JJ><NN>...", the pattern turned into a regular expression over that string by NLTK's
# own function, and the leftmost non-overlapping matches taken as the chunks. Building NLTK's
# chunk strings and trees cost 85 us a tag sequence; a corpus of distinct captions meets a new
# sequence in about 40% of its captions. The pattern has only groups, alternatives, classes
# and repeats, which the standard library's engine reads the same as ``regex`` and runs faster.
_NOUN_PHRASE_REGEX = re.compile(tag_pattern2re_pattern(NOUN_PHRASE_PATTERN))


class Token(NamedTuple):
    text: str
    tag: str
    lower: str
    start: int  # character offsets in the caption
    end: int


@dataclass(frozen=True)
class NounPhrase:
    start: int  # first token
    end: int  # one past the last token
    head: int  # the head noun (last token)
    first_modifier: int  # first token after the determiners


@dataclass(frozen=True)
class Caption:
    text: str
    tokens: tuple[Token, ...]
    phrases: tuple[NounPhrase, ...]
    all_caps: bool  # "THERE ARE WOMEN ...": every edit is written in capitals too

    def lower(self, index: int) -> str:
        return self.tokens[index].lower

    @cached_property
    def words(self) -> frozenset[str]:
        """The lower-case tokens, as a set: many rules ask whether the caption says a word."""
        return frozenset(token.lower for token in self.tokens)

    def span_text(self, start: int, end: int) -> str:
        """The caption's own text for tokens [start, end), with its inner spacing."""
        return self.text[self.tokens[start].start:self.tokens[end - 1].end]

    def phrase_at(self, index: int) -> NounPhrase | None:
        for phrase in self.phrases:
            if phrase.start <= index < phrase.end:
                return phrase
        return None

    def is_plural(self, phrase: NounPhrase) -> bool:
        return self.tokens[phrase.head].tag in PLURAL_TAGS


class Edit(NamedTuple):
    start: int  # first token replaced
    end: int  # one past the last token replaced
    text: str  # what stands there instead


_COMPOUND_FIRST_WORDS = frozenset(key[0] for key in lexicon.FIXED_COMPOUNDS)
_COMPOUND_FIRST_TAGS = frozenset({"NN", "NNS", "VBG", "JJ"})  # the tags _compound_first can accept


def _compound_first(words: list[str], tags: list[str], i: int) -> bool:
    """Can word ``i`` start a compound noun: a noun, or an -ing word after a determiner or an
    adjective ("a washing machine"; but "a man washing machine parts" washes them)?"""
    if tags[i] in ("NN", "NNS"):
        return True
    return tags[i] in ("VBG", "JJ") and words[i].lower().endswith("ing") \
        and (i == 0 or tags[i - 1] in ("DT", "PRP$", "JJ", "CD", "IN"))


def _merge_compounds(words: list[str], tags: list[str], spans: list[tuple[int, int]], text: str):
    """Join multi-word nouns ("fire hydrant", "hot dogs") and fixed phrases into one token."""
    merged_words, merged_tags, merged_spans = [], [], []
    lowers = [w.lower() for w in words]
    i, n = 0, len(words)
    while i < n:
        width = 0
        could_merge = lowers[i] in _COMPOUND_FIRST_WORDS or (tags[i] in _COMPOUND_FIRST_TAGS and i + 1 < n and tags[i + 1] in NOUN_TAGS
                                                             and _compound_first(words, tags, i))
        for size in (3, 2) if could_merge else ():
            if i + size > n:
                continue
            key = tuple(lowers[i:i + size])
            if key in lexicon.FIXED_COMPOUNDS:
                width = size
                break
            if size == 2 and _compound_first(words, tags, i) and tags[i + 1] in _COMMON_NOUN_TAGS \
                    and all(w.isalpha() for w in key) and wordnet.is_compound_noun(key):
                width = 2
                break
        if width:
            start, end = spans[i][0], spans[i + width - 1][1]
            last_tag = tags[i + width - 1]
            merged_words.append(text[start:end])
            if key in lexicon.FIXED_MODIFIERS:
                merged_tags.append("JJ")
            elif last_tag in NOUN_TAGS:
                merged_tags.append(last_tag)
            else:
                merged_tags.append("NNS" if key[-1].endswith("s") else "NN")
            merged_spans.append((start, end))
            i += width
        else:
            merged_words.append(words[i])
            merged_tags.append(tags[i])
            merged_spans.append(spans[i])
            i += 1
    return merged_words, merged_tags, merged_spans


def parse(text: str, tagger: Tagger | None = None) -> Caption:
    """Tokenise, tag, merge compounds and chunk noun phrases."""
    spans = tokenize(text)
    words = [text[s:e] for s, e in spans]
    if text.isascii() and not text.isupper():
        all_caps = False  # a lower-case letter (or none at all): most captions, without counting letters
    else:
        letters = "".join(filter(str.isalpha, text))
        all_caps = len(letters) > 3 and all(map(str.isupper, letters))
    # A caption in capitals is tagged as if written in lower case: capitals read as names.
    tagged = [w.lower() for w in words] if all_caps else words
    tags = (tagger or default_tagger()).tag(tagged) if words else []
    words, tags, spans = _merge_compounds(words, tags, spans, text)
    tokens = tuple([Token._make((w, t, w.lower(), s, e)) for w, t, (s, e) in zip(words, tags, spans)])  # _make: skips the keyword-taking __new__
    return Caption(text, tokens, _noun_phrases(tuple(tags)) if tags else (), all_caps)


@lru_cache(maxsize=65536)
def _noun_phrases(tags: tuple[str, ...]) -> tuple[NounPhrase, ...]:
    phrases = []
    for start, end in noun_phrase_spans(tags):
        first_modifier = start
        while first_modifier < end - 1 and tags[first_modifier] in DETERMINER_TAGS:
            first_modifier += 1
        phrases.append(NounPhrase(start, end, end - 1, first_modifier))
    return tuple(phrases)


def noun_phrase_spans(tags: Sequence[str]) -> list[tuple[int, int]]:
    """(first token, one past the last) of each noun phrase in a tag sequence."""
    tag_string = "".join(f"<{tag}>" for tag in tags)
    # A match starts and ends between tags: the "<"s before an offset count the tokens before it.
    return [(tag_string.count("<", 0, m.start()), tag_string.count("<", 0, m.end()))
            for m in _NOUN_PHRASE_REGEX.finditer(tag_string)]


def apply_edits(caption: Caption, edits: Sequence[Edit]) -> str:
    """Render the caption with token ranges replaced, then re-agree the articles next to them.

    Text outside the edited tokens is copied from the caption unchanged.
    """
    tokens, text = caption.tokens, caption.text
    out: list[str] = []
    cursor = 0  # character position in the caption copied up to
    last_token = -1  # last token index consumed
    for edit in sorted(edits):
        if edit.start <= last_token:
            raise ValueError(f"overlapping edits: {edits}")
        new = edit.text.upper() if caption.all_caps else edit.text
        # In an all-capitals caption every word looks like an abbreviation ("AN MOTORCYCLE"):
        # articles are chosen on the edit's own lower-case text.
        words = edit.text.lower().split(" ", 2) if caption.all_caps else edit.text.split(" ", 2)
        if len(words) > 1 and words[0].lower() in ("a", "an"):  # an edit that begins with its own article
            new = match_case(new.split(" ", 1)[0], indefinite_article(words[1])) + new[len(words[0]):]
        before = tokens[edit.start - 1] if edit.start > 0 else None
        if before is not None and before.lower in ("a", "an") and edit.start - 1 > last_token:
            out.append(text[cursor:before.start])
            article = match_case(before.text, indefinite_article(words[0]))
            out.append(article.upper() if caption.all_caps else article)
            cursor = before.end
        out.append(text[cursor:tokens[edit.start].start])
        out.append(new)
        cursor = tokens[edit.end - 1].end
        last_token = edit.end - 1
    out.append(text[cursor:])
    return "".join(out)


def moved_text(caption: Caption, start: int, end: int, to_start: bool) -> str:
    """The text of tokens [start, end) re-cased for a new position (sentence start or not)."""
    text = caption.span_text(start, end)
    if caption.all_caps:
        return text
    first = caption.tokens[start]
    if to_start and caption.tokens[0].text[:1].isupper():
        return text[:1].upper() + text[1:]
    if start == 0 and not to_start and first.tag not in ("NNP", "NNPS") and first.text != "I":
        known = getattr(default_tagger(), "lexicon", {})
        if first.text in known and first.lower not in known:
            return text  # a capitalised word in its own right ("African", "Christmas")
        return text[:1].lower() + text[1:]
    return text
