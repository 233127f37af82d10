"""Who does what to what, read off a parsed caption: the slots the corpus counts and the rules edit.

A caption's slots are shallow, read from the tags and the noun phrases alone (no parser):

- a **thing**: a noun phrase whose head is a common noun, with its base form ("dogs" -> "dog")
  and its modifiers ("a *big red* car");
- an **act**: a verb with the thing before it that does it (its subject, when only auxiliaries
  and adverbs stand between: "a dog *is* chasing") and the thing right after it (its object);
- a **relation**: a preposition, or a phrase of the :data:`RELATION_PHRASES` ("next to", "in
  front of"), with what comes before it (a verb or a thing) and the thing after it.

The same reading serves both sides: :mod:`.corpus` counts these slots over a corpus, and the
rules ask the counts whether an edited slot is one the corpus's own captions fill that way.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import wordnet
from .parse import NOUN_TAGS, PLURAL_TAGS, Caption, NounPhrase

# Relations of more than one word, longest first where one begins another. Single prepositions
# are found by their tag.
RELATION_PHRASES: tuple[tuple[str, ...], ...] = (
    ("to", "the", "left", "of"), ("to", "the", "right", "of"), ("on", "the", "left", "of"),
    ("on", "the", "right", "of"), ("in", "front", "of"), ("on", "top", "of"), ("in", "the", "middle", "of"),
    ("at", "the", "top", "of"), ("at", "the", "bottom", "of"), ("on", "the", "side", "of"),
    ("next", "to"), ("close", "to"), ("far", "from"), ("away", "from"), ("out", "of"), ("inside", "of"),
    ("outside", "of"), ("off", "of"), ("across", "from"), ("on", "to"), ("in", "between"),
)
_PHRASE_FIRST_WORDS = frozenset(p[0] for p in RELATION_PHRASES)
_LONGEST_PHRASE = max(map(len, RELATION_PHRASES))
_RELATION_PHRASE_SET = frozenset(RELATION_PHRASES)

AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "being", "am", "'s", "'re", "has", "have",
                         "had", "do", "does", "did", "will", "can", "could", "would", "should", "may", "might"})
_RELATIVE_PRONOUNS = frozenset({"that", "who", "which"})
_MODIFIER_TAGS = frozenset({"JJ", "JJR", "JJS", "VBN", "VBG", "NN", "NNS"})
_VERB_TAGS = frozenset({"VB", "VBD", "VBG", "VBN", "VBP", "VBZ"})


@dataclass(frozen=True)
class Thing:
    phrase: NounPhrase
    base: str  # the head noun's singular base form, lower case
    modifiers: tuple[int, ...]  # token indices of its adjectives, participles and noun modifiers


@dataclass(frozen=True)
class Act:
    index: int  # the verb's token
    lemma: str
    subject: int | None  # index into Slots.things
    object: int | None


@dataclass(frozen=True)
class Relation:
    start: int  # first token of the relation phrase
    end: int  # one past its last token
    words: str  # "next to"
    governor: str | None  # "v:sit" (a verb before it) or "n:dog" (a thing before it)
    before: int | None  # the thing before it (index into Slots.things), verb or not
    object: int  # the thing after it (index into Slots.things)


@dataclass(frozen=True)
class Slots:
    things: tuple[Thing, ...]
    acts: tuple[Act, ...]
    relations: tuple[Relation, ...]

    def thing_at(self, phrase_start: int) -> int | None:
        for number, thing in enumerate(self.things):
            if thing.phrase.start == phrase_start:
                return number
        return None


def noun_base(word: str, tag: str) -> str | None:
    """The singular base form of a common noun, lower case; None for names and non-nouns."""
    if tag not in NOUN_TAGS or tag in ("NNP", "NNPS"):
        return None
    lower = " ".join(word.lower().split())
    return wordnet.noun_lemma(lower, tag in PLURAL_TAGS) or lower


def verb_base(word: str) -> str | None:
    return wordnet.verb_lemma(word.lower())


def slots_of(caption: Caption) -> Slots:
    """:func:`read_slots`, read once per parsed caption (several rules ask)."""
    slots = caption.__dict__.get("_slots")
    if slots is None:
        slots = caption.__dict__["_slots"] = read_slots(caption)
    return slots


def read_slots(caption: Caption) -> Slots:
    tokens = caption.tokens
    things: list[Thing] = []
    thing_ending_at: dict[int, int] = {}  # one past a phrase's last token -> its thing number
    thing_starting_at: dict[int, int] = {}
    for phrase in caption.phrases:
        head = tokens[phrase.head]
        base = noun_base(head.text, head.tag) if head.text.replace(" ", "").replace("-", "").isalpha() else None
        if base is None:
            continue
        modifiers = tuple(k for k in range(phrase.first_modifier, phrase.head)
                          if tokens[k].tag in _MODIFIER_TAGS and tokens[k].text.replace("-", "").isalpha())
        thing_ending_at[phrase.end] = thing_starting_at[phrase.start] = len(things)
        things.append(Thing(phrase, base, modifiers))

    acts: list[Act] = []
    relations: list[Relation] = []
    in_phrase = [False] * len(tokens)
    for phrase in caption.phrases:
        for k in range(phrase.start, phrase.end):
            in_phrase[k] = True
    index = 0
    while index < len(tokens):
        token = tokens[index]
        relation_end = _relation_end(caption, index) if token.tag in ("IN", "TO") or token.lower in _PHRASE_FIRST_WORDS else 0
        if relation_end and relation_end in thing_starting_at:
            before, governor = _before(caption, index, thing_ending_at, things)
            words = " ".join(t.lower for t in tokens[index:relation_end])
            relations.append(Relation(index, relation_end, words, governor, before, thing_starting_at[relation_end]))
            index = relation_end
            continue
        if token.tag in _VERB_TAGS and not in_phrase[index] and token.lower not in AUXILIARIES:
            lemma = verb_base(token.lower)
            if lemma is not None:
                acts.append(Act(index, lemma, _subject(caption, index, thing_ending_at, things),
                                thing_starting_at.get(index + 1)))
        index += 1
    return Slots(tuple(things), tuple(acts), tuple(relations))


def _relation_end(caption: Caption, index: int) -> int:
    """One past the relation phrase starting at ``index``, or 0 if none starts there."""
    tokens = caption.tokens
    if tokens[index].lower in _PHRASE_FIRST_WORDS:
        for size in range(min(_LONGEST_PHRASE, len(tokens) - index), 1, -1):
            if tuple(t.lower for t in tokens[index:index + size]) in _RELATION_PHRASE_SET:
                return index + size
    if tokens[index].tag in ("IN", "TO") and tokens[index].lower.isalpha():
        return index + 1
    return 0


def _before(caption: Caption, index: int, thing_ending_at: dict[int, int],
            things: list[Thing]) -> tuple[int | None, str | None]:
    """(the thing right before a relation, its governor): "sitting on" is governed by the verb,
    "a cat on" by the cat; adverbs and particles between are passed over."""
    k = index - 1
    while k >= 0 and caption.tokens[k].tag in ("RB", "RP"):
        k -= 1
    if k < 0:
        return None, None
    if k + 1 in thing_ending_at:
        number = thing_ending_at[k + 1]
        return number, "n:" + things[number].base
    token = caption.tokens[k]
    if token.tag in _VERB_TAGS and token.lower not in AUXILIARIES:
        lemma = verb_base(token.lower)
        return None, f"v:{lemma}" if lemma else None
    return None, None


def _subject(caption: Caption, index: int, thing_ending_at: dict[int, int], things: list[Thing]) -> int | None:
    """The thing that does the verb at ``index``: the thing right before it, with only
    auxiliaries, adverbs or a relative pronoun between. A participle right after a thing that is
    itself the object of something ("a woman sitting on a horse *holding* a cake") more often
    belongs to the caption's first thing; that case is left without a subject."""
    k = index - 1
    linked = False
    while k >= 0 and (caption.tokens[k].lower in AUXILIARIES or caption.tokens[k].tag == "RB"
                      or caption.tokens[k].lower in _RELATIVE_PRONOUNS):
        linked |= caption.tokens[k].tag != "RB"
        k -= 1
    number = thing_ending_at.get(k + 1)
    if number is None or linked:
        return number
    start = things[number].phrase.start
    before = caption.tokens[start - 1] if start > 0 else None
    if before is not None and (before.tag in ("IN", "TO") or before.tag in _VERB_TAGS and before.lower not in AUXILIARIES):
        return None
    return number
