"""What the rules share: the context a rule runs in, and questions about a parsed caption.

A rule is ``rule(caption, ctx) -> list[str]``: it takes a parsed :class:`.parse.Caption` and a
:class:`RuleContext` and returns candidate negative captions (possibly none). A rule edits
tokens, never substrings, and leaves agreement to :func:`.parse.apply_edits` and
:mod:`.grammar`; it draws from ``ctx.rng`` only, so the same caption and seed give the same list.

Refusals. Each rule tells two kinds of "no" apart. A structure check finds nothing to edit (this
word is no preposition, that one no verb) and is silent. A veto refuses an edit the rule could
otherwise make, because the result would not be a valid negative (still true of the picture,
ungrammatical, or no scene anyone photographs); it calls ``ctx.refuse("reason")`` where it
refuses, with a short kebab-case reason that names the check, and each rule module lists its
reasons in ``REFUSALS``. A reason names one check: where two paths of a rule make the same
check, they refuse with the same reason. Counting convention: one count per edit refused. A check
on a position (a word, a phrase, a pair of phrases) counts once for that position; a check
inside a filter over candidate replacements counts once for each replacement it refuses, under
the first check that refuses it (the checks are tried in the order the code lists them).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from random import Random
from typing import TYPE_CHECKING

from . import lexicon, wordnet
from .grammar import inflect_verb, match_case, pluralize
from .parse import NOUN_TAGS, PLURAL_TAGS, Caption, Edit, NounPhrase
from .tagging import default_tagger

if TYPE_CHECKING:
    from .corpus import CorpusTable


class RuleContext:
    """What a rule gets besides the caption: its random draws, its kind, the corpus table, and
    where to count what it refuses."""

    __slots__ = ("rng", "kind", "table", "refused", "corpus_proposals")

    def __init__(self, rng: Random, kind: str, table: CorpusTable | None = None,
                 refused: Counter | None = None, corpus_proposals: bool = False):
        self.rng = rng  # seeded lazily by the caller: most rules never draw
        self.kind = kind
        self.table = table  # the corpus statistics (`fgclip pipeline count`), or None
        self.refused = refused
        # With a table: may the rules propose the corpus's own words, beyond the curated ones?
        self.corpus_proposals = corpus_proposals and table is not None

    def refuse(self, reason: str) -> None:
        """Count one edit refused for ``reason`` (as "kind/reason"), when counting was asked for."""
        if self.refused is not None:
            self.refused[f"{self.kind}/{reason}"] += 1


def pick(rng: Random, options, count: int = 2) -> list:
    """``count`` of the options, drawn only when there are more than that (most captions: not)."""
    options = list(options)
    return options if len(options) <= count else rng.sample(options, count)


# --- phrases ----------------------------------------------------------------------------------

_PHRASE_START_TAGS = NOUN_TAGS | {"DT", "PDT", "PRP$", "CD", "JJ", "JJR", "JJS"}


def starts_phrase(caption: Caption, index: int) -> bool:
    return index < len(caption.tokens) and caption.tokens[index].tag in _PHRASE_START_TAGS


def next_phrase(caption: Caption, index: int) -> NounPhrase | None:
    """The noun phrase that starts right at ``index``, if any."""
    for phrase in caption.phrases:
        if phrase.start >= index:
            return phrase if phrase.start == index else None
    return None


_PART_NOUNS = frozenset({"back", "top", "front", "bottom"})
# "on the side of X" and "next to the side of X" say the same: no relation edit through these.
VAGUE_PART_NOUNS = frozenset({"side", "edge", "end", "corner", "middle", "center", "centre"})


def object_of(caption: Caption, index: int) -> NounPhrase | None:
    """The thing a relation starting at ``index`` points to: "on *a table*", and through a part
    noun, "on the back of *a sofa*"."""
    phrase = next_phrase(caption, index)
    if phrase is None or phrase.end >= len(caption.tokens) or caption.lower(phrase.end) != "of":
        return phrase
    head = caption.lower(phrase.head)
    if head in VAGUE_PART_NOUNS:
        return None
    if head in _PART_NOUNS and caption.lower(phrase.start) in ("the", "a", "its") \
            or head not in _PART_NOUNS and head in lexicon.NOT_REPLACEABLE_NOUNS:  # "near a piece of pizza"
        return next_phrase(caption, phrase.end + 1)
    return phrase


def subject_phrase(caption: Caption, index: int) -> NounPhrase | None:
    """The noun phrase right before ``index``, if only a verb or adverb stands between them."""
    before = [p for p in caption.phrases if p.end <= index]
    if not before:
        return None
    between = caption.tokens[before[-1].end:index]
    return before[-1] if all(t.tag.startswith(("VB", "RB")) for t in between) else None


def idiomatic_bare_noun(caption: Caption, phrase: NounPhrase) -> bool:
    """A singular noun with no article after a preposition, in a caption that uses articles
    elsewhere: an idiom or a mass ("in bed", "in broth", "on display"). Captions written without
    articles ("dog on beach", as alt text often is) are not held to this."""
    if phrase.start != phrase.head or caption.tokens[phrase.head].tag != "NN" or phrase.start == 0:
        return False
    if caption.tokens[phrase.start - 1].tag not in ("IN", "TO") or caption.lower(phrase.start - 1) == "of":
        return False  # "a glass of wine" is a measure, not an idiom
    return not caption.words.isdisjoint(("a", "an", "the"))


# --- nouns ------------------------------------------------------------------------------------

def head_word(caption: Caption, phrase: NounPhrase) -> str | None:
    """The singular base of a phrase's head noun, or None if it is no swappable thing."""
    head = caption.tokens[phrase.head]
    return _noun_base(head.lower, head.tag)


@lru_cache(maxsize=None)  # a pure function of the word and its tag: bounded by the vocabulary
def _noun_base(word: str, tag: str) -> str | None:
    if tag not in NOUN_TAGS or tag in ("NNP", "NNPS"):
        return None
    base = wordnet.noun_lemma(word, tag in PLURAL_TAGS) or word
    if base in lexicon.NOT_REPLACEABLE_NOUNS:
        return None
    return base


def lexname(caption: Caption, phrase: NounPhrase) -> str | None:
    """Lexicographer file of a phrase's head noun ("noun.animal"), or None if it is no thing."""
    head = caption.tokens[phrase.head]
    return _noun_lexname(head.lower, head.tag)


@lru_cache(maxsize=None)  # a pure function of the word and its tag: bounded by the vocabulary
def _noun_lexname(word: str, tag: str) -> str | None:
    generic = lexicon.GENERIC_THING_FILES.get(wordnet.noun_lemma(word, tag in PLURAL_TAGS) or word)
    if generic is not None:
        return generic
    base = _noun_base(word, tag)
    sense = wordnet.concrete_sense(base) if base else None
    return sense.lexname() if sense is not None else None


def ground(caption: Caption, phrase: NounPhrase) -> bool:
    """Does the phrase name a place one is on or in (a beach, a street, a kitchen)?"""
    head = caption.tokens[phrase.head]
    return _is_ground_noun(head.lower, head.tag)


@lru_cache(maxsize=None)  # a pure function of the word and its tag: bounded by the vocabulary
def _is_ground_noun(word: str, tag: str) -> bool:
    base = wordnet.noun_lemma(word, tag in PLURAL_TAGS) or word
    return base in lexicon.GROUND_NOUNS or base.split(" ")[-1] in lexicon.GROUND_NOUNS


@lru_cache(maxsize=None)  # a pure function of the noun: bounded by the vocabulary
def plural(noun: str) -> str:
    """Regular plural when the tagger's lexicon knows it, else WordNet's irregular one."""
    regular = pluralize(noun)
    lexicon_tags = getattr(default_tagger(), "lexicon", {})
    if lexicon_tags.get(regular.split(" ")[-1]) == "NNS":
        return regular
    return wordnet.irregular_plurals().get(noun, regular)


@lru_cache(maxsize=None)
def is_clothing(noun: str) -> bool:
    """Is the thing worn ("a man in a suit")? Then "in" is dress, not place."""
    sense = wordnet.concrete_sense(noun)
    if sense is None:
        return False
    worn = {wordnet.wn().synset(name) for name in ("clothing.n.01", "covering.n.02", "body_part.n.01")}
    return any(h in worn for h in sense.closure(lambda s: s.hypernyms()))


# --- who can act ------------------------------------------------------------------------------

_ANIMATE_FILES = ("noun.person", "noun.animal")
_PERSON_FILES = ("noun.person",)


def is_animate(caption: Caption, phrase: NounPhrase) -> bool:
    """A person or an animal, or a group of them ("a group of appliances" is no agent)."""
    return _names_one_of(caption, phrase, _ANIMATE_FILES)


def is_person(caption: Caption, phrase: NounPhrase) -> bool:
    """A person or people; "a couple of horses" is horses (round 12)."""
    return _names_one_of(caption, phrase, _PERSON_FILES)


def _names_one_of(caption: Caption, phrase: NounPhrase, files: tuple[str, ...]) -> bool:
    if caption.tokens[phrase.head].lower in lexicon.ANIMATE_WORDS:
        if phrase.end < len(caption.tokens) and caption.lower(phrase.end) == "of":
            members = next_phrase(caption, phrase.end + 1)  # a group is what it is a group of
            return members is not None and _names_one_of(caption, members, files)
        return True
    return lexname(caption, phrase) in files


def has_agent(caption: Caption, index: int, people_only: bool = False) -> bool:
    """Is there a person or an animal before ``index`` that can be doing the verb there?

    Captions chain participles ("a man wearing a shirt and tie standing in a room"), so the
    doer is not always the nearest noun; any animate noun before the verb will do."""
    if people_only:  # a cat looks at its reflection, but does not point at it
        return any(is_person(caption, p) for p in caption.phrases if p.end <= index)
    return any(is_animate(caption, p) for p in caption.phrases if p.end <= index)


# --- negation and agreement -------------------------------------------------------------------

_NEGATIONS = frozenset({"not", "no", "n't", "never", "without"})


def negated(caption: Caption, index: int) -> bool:
    """Is the word at ``index`` under a negation ("not wearing a shirt")? Then any change of it
    stays true of the picture."""
    if caption.words.isdisjoint(_NEGATIONS):
        return False  # most captions: no window to look at
    return any(t.lower in _NEGATIONS for t in caption.tokens[max(0, index - 3):index])


BE_SINGULAR_TO_PLURAL = {"is": "are", "was": "were", "has": "have", "'s": "'re"}
BE_PLURAL_TO_SINGULAR = {v: k for k, v in BE_SINGULAR_TO_PLURAL.items()}
_BE_FORMS = BE_SINGULAR_TO_PLURAL.keys() | BE_SINGULAR_TO_PLURAL.values()


def agree_verbs(caption: Caption, start: int, end: int, plural_subject: bool) -> list[Edit] | None:
    """Edits that make the finite verbs in tokens [start, end) agree with a subject's number,
    or None when one of them is no verb WordNet knows."""
    edits = []
    table = BE_SINGULAR_TO_PLURAL if plural_subject else BE_PLURAL_TO_SINGULAR
    for k in range(start, min(end, len(caption.tokens))):
        token = caption.tokens[k]
        if token.lower in table:
            edits.append(Edit(k, k + 1, match_case(token.text, table[token.lower])))
        elif token.tag in ("VBZ", "VBP") and token.lower not in _BE_FORMS:
            lemma = wordnet.verb_lemma(token.lower)
            if lemma is None:
                return None
            form = inflect_verb(lemma, "VBP" if plural_subject else "VBZ")
            if form != token.lower:
                edits.append(Edit(k, k + 1, match_case(token.text, form)))
    return edits


@lru_cache(maxsize=1)
def irregular_past() -> dict[str, tuple[str, str]]:
    """lemma -> (past, past participle) from ``verb.exc``, told apart by the tagger's lexicon."""
    tags = getattr(default_tagger(), "lexicon", {})
    forms: dict[str, dict[str, str]] = {}
    for form, lemmas in wordnet.wn().exceptions["v"].items():
        if "_" in form or not form.isalpha():
            continue
        tag = tags.get(form)
        for verb in lemmas:
            slot = forms.setdefault(verb, {})
            if tag in ("VBD", "VBN") and tag not in slot:
                slot[tag] = form
            slot.setdefault("any", form)
    table = {}
    for verb, slot in forms.items():
        past = slot.get("VBD", slot.get("VBN", slot["any"]))
        participle = slot.get("VBN", slot.get("VBD", slot["any"]))
        table[verb] = (past, participle)
    return table
