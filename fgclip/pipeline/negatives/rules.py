"""The rules: each takes a parsed caption and a seeded random generator and returns candidate
negative captions (possibly none). A rule edits tokens, never substrings, and leaves agreement
to :func:`.parse.apply_edits` and :mod:`.grammar`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from random import Random

from . import lexicon, wordnet
from .grammar import inflect_verb, match_case, pluralize
from .parse import NOUN_TAGS, PLURAL_TAGS, Caption, Edit, NounPhrase, apply_edits, moved_text
from .tagging import default_tagger

BE_SINGULAR_TO_PLURAL = {"is": "are", "was": "were", "has": "have", "'s": "'re"}
BE_PLURAL_TO_SINGULAR = {v: k for k, v in BE_SINGULAR_TO_PLURAL.items()}
_PHRASE_START_TAGS = NOUN_TAGS | {"DT", "PDT", "PRP$", "CD", "JJ", "JJR", "JJS"}
_MAX_RELATION_WORDS = max(len(key) for key in lexicon.SPATIAL_RELATIONS)


def _pick(rng: Random, options, count: int = 2) -> list:
    options = list(options)
    return options if len(options) <= count else rng.sample(options, count)


def _starts_phrase(caption: Caption, index: int) -> bool:
    return index < len(caption.tokens) and caption.tokens[index].tag in _PHRASE_START_TAGS


def _next_phrase(caption: Caption, index: int) -> NounPhrase | None:
    """The noun phrase that starts right at ``index``, if any."""
    for phrase in caption.phrases:
        if phrase.start >= index:
            return phrase if phrase.start == index else None
    return None


_PART_NOUNS = frozenset({"back", "top", "front", "bottom"})
# "on the side of X" and "next to the side of X" say the same: no relation edit through these.
_VAGUE_PART_NOUNS = frozenset({"side", "edge", "end", "corner", "middle", "center", "centre"})


def _object_of(caption: Caption, index: int) -> NounPhrase | None:
    """The thing a relation starting at ``index`` points to: "on *a table*", and through a part
    noun, "on the back of *a sofa*"."""
    phrase = _next_phrase(caption, index)
    if phrase is None or phrase.end >= len(caption.tokens) or caption.lower(phrase.end) != "of":
        return phrase
    head = caption.lower(phrase.head)
    if head in _VAGUE_PART_NOUNS:
        return None
    if head in _PART_NOUNS and caption.lower(phrase.start) in ("the", "a", "its") \
            or head not in _PART_NOUNS and head in lexicon.NOT_REPLACEABLE_NOUNS:  # "near a piece of pizza"
        return _next_phrase(caption, phrase.end + 1)
    return phrase


def _idiomatic_bare_noun(caption: Caption, phrase: NounPhrase) -> bool:
    """A singular noun with no article after a preposition, in a caption that uses articles
    elsewhere: an idiom or a mass ("in bed", "in broth", "on display"). Captions written without
    articles ("dog on beach", as alt text often is) are not held to this."""
    if phrase.start != phrase.head or caption.tokens[phrase.head].tag != "NN" or phrase.start == 0:
        return False
    if caption.tokens[phrase.start - 1].tag not in ("IN", "TO") or caption.lower(phrase.start - 1) == "of":
        return False  # "a glass of wine" is a measure, not an idiom
    return not caption.words.isdisjoint(("a", "an", "the"))


def _ground(caption: Caption, phrase: NounPhrase) -> bool:
    head = caption.tokens[phrase.head]
    return _is_ground_noun(head.lower, head.tag)


@lru_cache(maxsize=None)  # a pure function of the word and its tag: bounded by the vocabulary
def _is_ground_noun(word: str, tag: str) -> bool:
    base = wordnet.noun_lemma(word, tag in PLURAL_TAGS) or word
    return base in lexicon.GROUND_NOUNS or base.split(" ")[-1] in lexicon.GROUND_NOUNS


@lru_cache(maxsize=None)  # a pure function of the noun: bounded by the vocabulary
def _plural(noun: str) -> str:
    """Regular plural when the tagger's lexicon knows it, else WordNet's irregular one."""
    regular = pluralize(noun)
    lexicon_tags = getattr(default_tagger(), "lexicon", {})
    if lexicon_tags.get(regular.split(" ")[-1]) == "NNS":
        return regular
    return wordnet.irregular_plurals().get(noun, regular)


@lru_cache(maxsize=None)
def _is_clothing(noun: str) -> bool:
    """Is the thing worn ("a man in a suit")? Then "in" is dress, not place."""
    sense = wordnet.concrete_sense(noun)
    if sense is None:
        return False
    worn = {wordnet.wn().synset(name) for name in ("clothing.n.01", "covering.n.02", "body_part.n.01")}
    return any(h in worn for h in sense.closure(lambda s: s.hypernyms()))


# --- relation ---------------------------------------------------------------------------------

_RELATION_FIRST_WORDS = frozenset(key[0] for key in lexicon.SPATIAL_RELATIONS)


def _spatial_match(caption: Caption, index: int) -> tuple[str, ...] | None:
    """The longest relation phrase of the table starting at ``index`` (lower-case words)."""
    if caption.lower(index) not in _RELATION_FIRST_WORDS:
        return None
    longest = tuple(t.lower for t in caption.tokens[index:index + _MAX_RELATION_WORDS])
    for size in range(len(longest), 0, -1):
        if longest[:size] in lexicon.SPATIAL_RELATIONS:
            return longest[:size]
    return None


def _lexname(caption: Caption, phrase: NounPhrase) -> str | None:
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


def _is_animate(caption: Caption, phrase: NounPhrase) -> bool:
    if caption.tokens[phrase.head].lower in lexicon.ANIMATE_WORDS:
        if phrase.end < len(caption.tokens) and caption.lower(phrase.end) == "of":
            members = _next_phrase(caption, phrase.end + 1)  # "a group of appliances" is no agent
            return members is not None and _is_animate(caption, members)
        return True
    return _lexname(caption, phrase) in ("noun.person", "noun.animal")


def _is_person(caption: Caption, phrase: NounPhrase) -> bool:
    """A person or people; "a couple of horses" is horses (round 12)."""
    if caption.tokens[phrase.head].lower in lexicon.ANIMATE_WORDS:
        if phrase.end < len(caption.tokens) and caption.lower(phrase.end) == "of":
            members = _next_phrase(caption, phrase.end + 1)
            return members is not None and _is_person(caption, members)
        return True
    return _lexname(caption, phrase) == "noun.person"


def _subject_phrase(caption: Caption, index: int) -> NounPhrase | None:
    """The noun phrase right before ``index``, if only a verb or adverb stands between them."""
    before = [p for p in caption.phrases if p.end <= index]
    if not before:
        return None
    between = caption.tokens[before[-1].end:index]
    return before[-1] if all(t.tag.startswith(("VB", "RB")) for t in between) else None


def _has_agent(caption: Caption, index: int, people_only: bool = False) -> bool:
    """Is there a person or an animal before ``index`` that can be doing the verb there?

    Captions chain participles ("a man wearing a shirt and tie standing in a room"), so the
    doer is not always the nearest noun; any animate noun before the verb will do."""
    if people_only:  # a cat looks at its reflection, but does not point at it
        return any(_is_person(caption, p) for p in caption.phrases if p.end <= index)
    return any(_is_animate(caption, p) for p in caption.phrases if p.end <= index)


def _relates_objects(caption: Caption, index: int, size: int) -> bool:
    """Does the spatial word at ``index`` relate two visible things (not "in order", "on display")?"""
    token = caption.tokens[index]
    if size == 1 and token.lower in ("left", "right"):
        return not token.tag.startswith("VB") and index > 0
    if size == 1 and token.tag.startswith("VB"):
        return False
    if index == 0:
        return False  # a caption that starts with "On the table, ..." keeps its frame
    phrase = _object_of(caption, index + size)
    if phrase is None:
        return False
    head = caption.tokens[phrase.head]
    base = wordnet.noun_lemma(head.lower, head.tag in PLURAL_TAGS) or head.lower
    if base in lexicon.UNRELATABLE_NOUNS or head.lower in lexicon.UNRELATABLE_NOUNS:
        return False
    if not _ground(caption, phrase) and wordnet.concrete_sense(head.lower) is None \
            and base not in lexicon.GENERIC_THING_FILES:
        return False
    if _lexname(caption, phrase) == "noun.body":
        return False  # "kisses her on the head": a body part is where, not what, it touches
    if _idiomatic_bare_noun(caption, phrase):
        return False  # "in bed", "in broth", "on display"
    vertical = size == 1 and token.lower in ("on", "in", "under", "over", "above", "upon", "atop", "underneath", "beneath")
    if vertical and (base in lexicon.VERTICAL_SURFACES or head.tag in PLURAL_TAGS):
        return False  # "on a wall" is also "next to" it; "sitting on benches" is also next to them
    if token.lower == "off" and wordnet.verb_lemma(caption.lower(index - 1)) in lexicon.OFF_VERBS:
        return False  # "eating off of a plate"
    if token.lower == "off" and wordnet.verb_lemma(caption.lower(index - 1)) in lexicon.PHRASAL_OFF_VERBS:
        return False  # "showing off his team spirit"
    if size == 1 and token.lower in ("above", "below", "over", "under", "beneath", "underneath") \
            and caption.words & lexicon.AIRBORNE_WORDS:
        return False  # "planes flying above a bridge": below it they would not be in the sky
    if token.lower in ("on", "upon") and size == 1 and base in lexicon.MEDIA_NOUNS:
        return False  # "on the phone" is use, not place
    if token.lower in ("in", "into") and base in lexicon.COOKING_VESSELS:
        return False  # "cooking in a skillet" has no plausible "next to"
    subject = _subject_phrase(caption, index)
    if subject is not None and (_lexname(caption, subject) == "noun.body" or caption.lower(subject.head) in ("fur", "hair")):
        return False  # "the fur on this dog" is part of it, not placed on it
    previous = caption.tokens[index - 1]
    if wordnet.verb_lemma(previous.lower) in lexicon.LOOKING_VERBS or previous.lower in ("up", "out"):
        return False  # "gazing into a mirror", "sitting up against a wall"
    if any(wordnet.verb_lemma(t.lower) in lexicon.SUPPORT_VERBS for t in caption.tokens[max(0, index - 5):index]
           if t.tag.startswith("VB")) and token.lower in ("on", "against", "upon"):
        return False  # "leaning its front paws on a dog bed"
    if wordnet.verb_lemma(previous.lower) == "go":
        return False  # "about to go under a bridge": a path, and "go next to" is no English
    if previous.lower in ("cut", "sliced", "broken", "split", "chopped"):
        return False  # "cut in half", "sliced into pieces": a manner, not a place
    if token.lower == "on" and caption.tokens[phrase.start].tag == "PRP$" \
            and (wordnet.is_kind_of(base, "conveyance.n.03") or base in lexicon.BOARDS):
        return False  # "grinds a rail on his skateboard": one's own board is ridden, not placed (round 11)
    faced = base in lexicon.AT_FURNITURE | lexicon.TABLEWARE or wordnet.is_container(base) \
        or _lexname(caption, phrase) == "noun.food"
    if faced and " ".join(caption.lower(k) for k in range(index, index + size)) in ("behind", "in front of"):
        return False  # one sits in front of a table or a pizza facing it: "behind" it is the same (round 11)
    if token.lower in ("on", "in") and wordnet.verb_lemma(previous.lower) == "ride":
        return False  # "passengers ride on a train": next to it, they would not be riding
    if token.lower == "by" and previous.tag.startswith("VB") \
            and (previous.tag == "VBN" or wordnet.verb_lemma(previous.lower) not in lexicon.STATIC_VERBS):
        return False  # "accompanied by" names an agent, "flying by" a path; "sitting by" a place
    if token.lower == "in" and size == 1 and _is_clothing(head.lower):
        return False  # "a man in a suit" is dress, not location
    if token.lower == "in" and caption.lower(index - 1) in lexicon.CONTENT_PARTICIPLES:
        return False
    if token.lower in ("up", "down") and _head_word(caption, phrase) not in lexicon.PATH_NOUNS:
        return False
    if token.lower == "at" and (_head_word(caption, phrase) not in lexicon.AT_OBJECTS
                                or _head_word(caption, phrase) in lexicon.AT_FURNITURE):
        return False
    return True


def _could_be_outside(caption: Caption, index: int, room: NounPhrase, before: list[NounPhrase]) -> bool:
    """Can what is "in the kitchen" be put "outside" it? Only a person or an animal named right
    before the room (or as the caption's subject, with a verb between), and not while doing
    something the room is for. Not "a dog on a couch in a room" (the couch would stay behind),
    not "a stove top oven inside of a kitchen" (built in), not "standing in a living room playing
    wii" (rounds 10, 12)."""
    if not before or not _is_animate(caption, before[-1]):
        return False
    if before[-1] is not caption.phrases[0] and not caption.tokens[index - 1].tag.startswith("VB"):
        return False
    return not any(t.tag == "VBG" for t in caption.tokens[room.end:])


def _ground_relations(caption: Caption, index: int, key: tuple[str, ...], phrase: NounPhrase) -> tuple[str, ...]:
    """What a relation to the ground may become. Only where the result is another place one
    can be: outside the kitchen, next to the road, next to the field; never "under the beach"."""
    base = _head_word(caption, phrase) or caption.lower(phrase.head)
    if phrase.first_modifier < phrase.head and not caption.tokens[phrase.head - 1].tag.startswith("JJ"):
        return ()  # "a ski slope", "a tennis court": the compound is the place
    previous = wordnet.verb_lemma(caption.lower(index - 1)) if index > 0 else None
    if previous in lexicon.IN_GROUND_VERBS:
        return ()  # one swims in the water and grazes in the field; next to them one does not
    before = [p for p in caption.phrases if p.end <= index]
    if base in lexicon.ROOM_NOUNS and not _could_be_outside(caption, index, phrase, before):
        return ()
    if base in lexicon.WATER_NOUNS and caption.words & lexicon.DRY_LAND_NOUNS:
        return ()  # "surfers in the water and waiting on the shore" are next to it as well
    if base in lexicon.PATH_GROUNDS:
        placed = before[-1] if before else None
        if placed is None or not (_is_animate(caption, placed) or wordnet.is_motor_vehicle(_head_word(caption, placed) or "")):
            return ()  # "a street sign on the street" stands next to it anyway
    by_ground = lexicon.GROUND_RELATIONS_BY_GROUND.get(key, {})
    for grounds, replacements in by_ground.items():
        if base in grounds:
            return replacements
    return lexicon.GROUND_RELATIONS.get(key, lexicon.SPATIAL_RELATIONS[key])


def _not_already_said(caption: Caption, replacements) -> list[str]:
    """Not "standing next to each other next to a field": a relation the caption already uses
    would be said twice."""
    words = f" {' '.join(t.lower for t in caption.tokens)} "
    return [r for r in replacements if f" {r} " not in words]


_OBJECT_PRONOUNS = frozenset({"it", "them", "him", "her"})
_EACH_OTHER = (("each", "other"), ("one", "another"))


def _relates_to_pronoun_or_each_other(caption: Caption, index: int, key: tuple[str, ...]) -> bool:
    """"a pole with a meter on top of it", "two giraffes standing next to each other"."""
    after = index + len(key)
    if index == 0 or after >= len(caption.tokens) or key not in lexicon.PRONOUN_RELATIONS:
        return False
    previous = caption.tokens[index - 1]
    if wordnet.verb_lemma(previous.lower) in lexicon.LOOKING_VERBS | lexicon.IN_GROUND_VERBS \
            or previous.tag.startswith("JJ"):
        return False  # "looks small next to it" compares, it does not place
    following = tuple(caption.lower(k) for k in range(after, min(after + 2, len(caption.tokens))))
    if following in _EACH_OTHER:
        return key in lexicon.NEARNESS_RELATIONS
    word = following[0]
    if word not in _OBJECT_PRONOUNS or caption.tokens[after].tag not in ("PRP", "PRP$"):
        return False
    if word == "her" and after + 1 < len(caption.tokens) and caption.tokens[after + 1].tag[:2] in ("NN", "JJ"):
        return False  # "on her head": a possessive, and a body part
    if key[0] in ("in", "into", "inside"):
        return False  # "in him"; "a box that has doughnuts inside of it" is content (round 11)
    if word == "it" and any(_ground(caption, p) for p in caption.phrases if p.end <= index):
        return False  # "a kitchen that has a stove in it", "a beach with people sitting on it"
    return not (after + 1 < len(caption.tokens) and caption.lower(after + 1) in ("hand", "hands", "head", "arm"))


_PART_RELATION_WORDS = 4  # "in the middle of"
_PART_RELATION_FIRST_WORDS = frozenset(key[0] for key in (*lexicon.PART_RELATIONS, *lexicon.PART_RELATIONS_ON_GROUND))


def _part_relation(caption: Caption, index: int) -> tuple[str, ...]:
    """Where on a thing: "parked on the side of the road" -> "in the middle of the road". Only
    for a visible thing or a place after it, not "in the middle of the night"."""
    if caption.lower(index) not in _PART_RELATION_FIRST_WORDS:  # most words: no key to build
        return ()
    key = tuple(caption.lower(k) for k in range(index, min(index + _PART_RELATION_WORDS, len(caption.tokens))))
    replacements = lexicon.PART_RELATIONS.get(key) or lexicon.PART_RELATIONS_ON_GROUND.get(key)
    if not replacements or index == 0:
        return ()
    phrase = _object_of(caption, index + _PART_RELATION_WORDS)
    base = _head_word(caption, phrase) if phrase is not None else None
    if base is None or base in lexicon.UNRELATABLE_NOUNS or _lexname(caption, phrase) == "noun.body":
        return ()
    if key in lexicon.PART_RELATIONS_ON_GROUND:
        return replacements if base in lexicon.SIDED_GROUNDS | lexicon.PATH_NOUNS else ()
    return replacements if _ground(caption, phrase) or _lexname(caption, phrase) is not None else ()


def _rests_on_it(caption: Caption, index: int, key: tuple[str, ...]) -> bool:
    """"a sandwich on a table": food, a dish or a device rests on what it is on; "next to the
    table" would leave it in the air (round 10)."""
    if key not in lexicon.RESTING_RELATIONS:
        return False
    placed = _subject_phrase(caption, index)
    if placed is None:
        return False
    base = _head_word(caption, placed) or ""
    return _lexname(caption, placed) == "noun.food" or wordnet.is_container(base) or base in lexicon.MEDIA_NOUNS


def _gaze(caption: Caption, index: int) -> int | None:
    """Where "looking (down) at" starts, when ``index`` is its preposition and a thing or a
    pronoun follows: "a dog looking at another dog" -> "a dog looking away from another dog"."""
    if caption.lower(index) not in lexicon.GAZE_PREPOSITIONS or index == 0 or index + 1 >= len(caption.tokens):
        return None
    start = index - 1 if caption.lower(index - 1) in lexicon.GAZE_ADVERBS else index
    if start == 0 or wordnet.verb_lemma(caption.lower(start - 1)) not in lexicon.GAZE_VERBS:
        return None
    if not (_starts_phrase(caption, index + 1) or caption.lower(index + 1) in _OBJECT_PRONOUNS | {"each", "one"}):
        return None
    return start if _has_agent(caption, start - 1) else None


# Where a held thing is said to be, which a thrown or dropped one would not be.
_HELD_PLACES = frozenset({"hand", "hands", "air", "up", "to", "mouth", "mouths", "teeth", "arms", "lap"})


# The words _spatial_match, _part_relation or _gaze can find something at; most words are none.
_RELATION_START_WORDS = _RELATION_FIRST_WORDS | _PART_RELATION_FIRST_WORDS | lexicon.GAZE_PREPOSITIONS


def replace_rel(caption: Caption, rng: Random) -> list[str]:
    """on -> under, left -> right, in front of -> behind; holding -> throwing."""
    candidates = []
    index = 0
    tokens = caption.tokens
    while index < len(tokens):
        if tokens[index].lower not in _RELATION_START_WORDS and not tokens[index].tag.startswith("VB"):
            index += 1
            continue  # most words: no relation starts here, and no verb to replace
        if tokens[index].lower in _RELATION_START_WORDS:
            key = _spatial_match(caption, index)
            part_replacements = _part_relation(caption, index)
            gaze_start = _gaze(caption, index)
        else:  # what the three look-ups give for any other word, without calling them
            key, part_replacements, gaze_start = None, (), None
        replacements = None
        if gaze_start is not None and "away" not in caption.words:
            text = match_case(tokens[gaze_start].text, "away from")
            candidates.append(apply_edits(caption, [Edit(gaze_start, index + 1, text)]))
            index += 1
            continue
        if part_replacements:
            key, replacements = tuple(caption.lower(k) for k in range(index, index + _PART_RELATION_WORDS)), part_replacements
        elif key and _relates_objects(caption, index, len(key)) and not _rests_on_it(caption, index, key):
            replacements = lexicon.SPATIAL_RELATIONS[key]
            phrase = _object_of(caption, index + len(key))
            if phrase is not None and _ground(caption, phrase):
                replacements = _ground_relations(caption, index, key, phrase)
        elif key and _relates_to_pronoun_or_each_other(caption, index, key) \
                and not (key in lexicon.NEARNESS_RELATIONS and {"close", "closeup", "close-up"} & caption.words):
            replacements = lexicon.SPATIAL_RELATIONS[key]
        if replacements is not None:
            for replacement in _pick(rng, _not_already_said(caption, replacements)):
                text = match_case(tokens[index].text, replacement)
                candidates.append(apply_edits(caption, [Edit(index, index + len(key), text)]))
            index += len(key)
            continue
        token = tokens[index]
        if not token.tag.startswith("VB"):
            index += 1
            continue  # what follows is for verbs
        following = caption.lower(index + 1) if index + 1 < len(tokens) else ""
        if _starts_phrase(caption, index + 1) or following == "at":
            lemma = wordnet.verb_lemma(token.lower)
            if (following == "at") != (lemma in lexicon.AT_ONLY_VERBS) or not _has_agent(caption, index) \
                    or lemma in lexicon.PEOPLE_ONLY_RELATION_VERBS and not _has_agent(caption, index, people_only=True):
                lemma = None  # "a pitcher holding flowers" holds them as a container, not in hands
            obj = _next_phrase(caption, index + 1)
            after = {t.lower for t in caption.tokens[obj.end:obj.end + 4]} if obj is not None else set()
            options = lexicon.RELATION_VERBS.get(lemma, ())
            if obj is not None and (_is_animate(caption, obj) or after & _HELD_PLACES):
                options = ()  # not "throws a sick child", not "throwing a racket in his hand"
            if obj is not None and obj.end < len(tokens) and tokens[obj.end].tag == "VBG":
                options = ()  # "a girl wearing a bonnet holding a bag": "carrying a bonnet holding" reads as the bonnet's
            present = {wordnet.verb_lemma(t.lower) for t in tokens if t.tag.startswith("VB")}
            options = [o for o in options if o not in present  # not "holding a tie holding a bag"
                       and not (o == "throw" and obj is not None and _lexname(caption, obj) == "noun.food")]
            for replacement in _pick(rng, options):
                form = inflect_verb(replacement, token.tag, wordnet.irregular_past())
                candidates.append(apply_edits(caption, [Edit(index, index + 1, match_case(token.text, form))]))
        index += 1
    return candidates


def _head_word(caption: Caption, phrase: NounPhrase) -> str | None:
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


def _agree_verbs(caption: Caption, start: int, end: int, plural_subject: bool) -> list[Edit] | None:
    """Edits that make the finite verbs in tokens [start, end) agree with a subject's number."""
    edits = []
    for k in range(start, min(end, len(caption.tokens))):
        token = caption.tokens[k]
        table = BE_SINGULAR_TO_PLURAL if plural_subject else BE_PLURAL_TO_SINGULAR
        if token.lower in table:
            edits.append(Edit(k, k + 1, match_case(token.text, table[token.lower])))
        elif token.tag in ("VBZ", "VBP") and token.lower not in BE_SINGULAR_TO_PLURAL.values() | BE_SINGULAR_TO_PLURAL.keys():
            lemma = wordnet.verb_lemma(token.lower)
            if lemma is None:
                return None
            form = inflect_verb(lemma, "VBP" if plural_subject else "VBZ")
            if form != token.lower:
                edits.append(Edit(k, k + 1, match_case(token.text, form)))
    return edits


_RELATION_NOUNS = frozenset({"front", "left", "right", "top", "back", "middle"})
_FREE_PLACEMENT = frozenset({"in front of", "behind", "to the left of", "to the right of", "on the left of",
                             "on the right of", "above", "below"})


def _placed_kind(caption: Caption, phrase: NounPhrase) -> str | None:
    """What kind of thing a phrase names, drawn shapes included; None if it names no thing."""
    if (_head_word(caption, phrase) or "") in lexicon.SHAPE_NOUNS:
        return "noun.shape"
    return _lexname(caption, phrase)


def _plausible_swap(caption: Caption, first: NounPhrase, second: NounPhrase, relation: str) -> bool:
    """Would the swapped caption still describe a possible scene?

    Two people or two animals can trade roles in any relation ("a dog chasing a cat"); two foods
    can trade places ("rice on top of broccoli"); other things of one kind only where placement
    is free ("a chair in front of a table", "a red circle above a blue square"). A person and a
    horse, or a man and a bench, cannot: "a bench sitting on a man" is false, but no one would
    write it, so it teaches nothing. (Across kinds, even "in front of" mostly hangs off a verb in
    real captions: "a hand holding a cat in front of a bottle".)
    """
    kinds = {_placed_kind(caption, first), _placed_kind(caption, second)}
    if len(kinds) != 1 or None in kinds or _ground(caption, first) or _ground(caption, second):
        return False
    kind = kinds.pop()
    if {_head_word(caption, first), _head_word(caption, second)} & lexicon.YOUNG_NOUNS:
        return False  # "a baby holding a man"
    if kind in ("noun.person", "noun.animal"):
        return True
    if kind == "noun.food":
        return not any(t.tag.startswith("VB") for t in caption.tokens[first.end:second.start])
    return relation in _FREE_PLACEMENT


def swap_obj(caption: Caption, rng: Random) -> list[str]:
    """Exchange two noun phrases across an asymmetric relation: a dog chasing a cat -> a cat chasing a dog."""
    candidates = []
    n = len(caption.tokens)
    # "front" in "in front of" is chunked as a noun phrase of its own; it belongs to the relation.
    phrases = caption.phrases if caption.words.isdisjoint(_RELATION_NOUNS) else [  # most captions: none to drop
        p for p in caption.phrases if not (caption.lower(p.head) in _RELATION_NOUNS and p.end < n and caption.lower(p.end) == "of")]
    for first, second in zip(phrases, phrases[1:]):
        between = caption.tokens[first.end:second.start]
        words = [t.lower for t in between]
        free_placement = " ".join(words) in _FREE_PLACEMENT
        if not 1 <= len(between) <= 4 or not free_placement and any(w in lexicon.NOT_RELATION_WORDS for w in words):
            continue
        if not any(t.tag.startswith(("IN", "VB", "RP")) for t in between):
            continue
        if len(between) == 1 and between[0].tag in ("VBN", "VBD") and caption.tokens[second.start].tag not in ("DT", "PRP$", "CD"):
            continue  # "a grass covered field" is one thing, not two
        relation = " ".join(w for w, t in zip(words, between) if t.tag not in ("VBZ", "VBP", "RB") and w not in ("is", "are"))
        if relation in lexicon.SYMMETRIC_RELATIONS or any(word in lexicon.SYMMETRIC_RELATIONS for word in words):
            continue
        if first.start > 0 and caption.lower(first.start - 1) == "of":
            continue  # "a vase of flowers": the object is the vase, not the flowers
        first_head, second_head = _head_word(caption, first), _head_word(caption, second)
        if first_head is None or second_head is None or first_head == second_head:
            continue
        if not _plausible_swap(caption, first, second, relation):
            continue
        edits = [
            Edit(first.start, first.end, moved_text(caption, second.start, second.end, first.start == 0)),
            Edit(second.start, second.end, moved_text(caption, first.start, first.end, False)),
        ]
        first_plural, second_plural = caption.is_plural(first), caption.is_plural(second)
        if first_plural != second_plural:
            # The second phrase is the new subject: verbs between and right after it follow its number.
            agreement = _agree_verbs(caption, first.end, second.start, second_plural)
            after = _agree_verbs(caption, second.end, second.end + 2, second_plural) if first.start == 0 else []
            if agreement is None or after is None:
                continue
            edits += agreement + after
        candidates.append(apply_edits(caption, edits))
    return _pick(rng, candidates)


# --- attribute --------------------------------------------------------------------------------

@lru_cache(maxsize=None)  # a pure function of the colour word
def _colour_alternatives(colour: str) -> tuple[str, ...]:
    near = set().union(*(group for group in lexicon.COLOUR_EQUIVALENTS if colour in group)) | {colour}
    return tuple(c for c in lexicon.COLOURS if c not in near and c not in ("grey", "beige", "tan", "maroon", "teal", "turquoise"))


def _is_attribute_position(caption: Caption, index: int) -> bool:
    """A modifier inside a noun phrase, or a predicate after a form of "be" ("the sky is blue")."""
    phrase = caption.phrase_at(index)
    if phrase is not None and phrase.first_modifier <= index < phrase.head:
        return True
    previous = caption.lower(index - 1) if index > 0 else ""
    return previous in ("is", "are", "was", "were", "very", "and", "looks", "look") and caption.tokens[index].tag.startswith("JJ")


_NEGATIONS = frozenset({"not", "no", "n't", "never", "without"})


def _negated(caption: Caption, index: int) -> bool:
    """Is the word at ``index`` under a negation ("not wearing a shirt")? Then any change of it
    stays true of the picture."""
    if caption.words.isdisjoint(_NEGATIONS):
        return False  # most captions: no window to look at
    return any(t.lower in _NEGATIONS for t in caption.tokens[max(0, index - 3):index])


def _subject_of_predicate(caption: Caption, index: int) -> NounPhrase | None:
    """"the car is red": the phrase before the verb "be" that precedes ``index``."""
    k = index - 1
    while k >= 0 and caption.lower(k) in ("very", "quite", "so", "all", "mostly", "and", ","):
        k -= 1
    if k < 0 or caption.lower(k) not in ("is", "are", "was", "were", "looks", "look"):
        return None
    before = [p for p in caption.phrases if p.end == k]
    return before[0] if before else None


# Every word the function below can give alternatives for, but counts: the others need none
# of its checks (it runs for every token of every caption).
_ATTRIBUTE_WORDS = frozenset(lexicon.COLOURS) | frozenset(lexicon.ATTRIBUTE_OPPOSITES) | {
    "black and white", "black-and-white", "several", "many", "numerous", "multiple", "old", "older"}


def attribute_alternatives(caption: Caption, index: int) -> tuple[str, list[str]]:
    """(category, replacement words) for the attribute word at ``index``; empty when it is none."""
    token = caption.tokens[index]
    word = token.lower
    if token.tag == "CD":
        return "count", _number_alternatives(caption, index)
    if word not in _ATTRIBUTE_WORDS:
        return "", []
    two_tone = word in ("black and white", "black-and-white")  # one colour word to the tagger
    if " " in word and not two_tone or not _is_attribute_position(caption, index):
        return "", []
    if index > 0 and token.text[:1].isupper() and not caption.all_caps:
        return "", []  # part of a name: "the Blue Angels"
    following = caption.lower(index + 1) if index + 1 < len(caption.tokens) else ""
    if following in ("enough", "to", "than"):
        return "", []  # "long enough to cover his eyes"
    # The thing described: the phrase the word modifies, or the subject of "is <word>".
    phrase = caption.phrase_at(index) or _subject_of_predicate(caption, index)
    if phrase is None:
        return "", []
    if not _ground(caption, phrase) and wordnet.concrete_sense(caption.tokens[phrase.head].lower) is None:
        return "", []  # "a leafy green": the head is no thing one can picture changing
    fixed = {caption.lower(k) for k in range(phrase.start, phrase.end)} & lexicon.COLOUR_FIXING_WORDS
    if fixed and (word in lexicon.COLOURS or word in lexicon.ATTRIBUTE_OPPOSITES) and word not in fixed:
        return "", []  # "lush green hillside" -> "lush brown", "clear glass jar" -> "clear wooden"
    if word in lexicon.COLOURS and index > 0 and caption.lower(index - 1) in lexicon.SHADE_NOUNS:
        return "", []  # "mustard yellow" is one shade
    if word in lexicon.COLOURS or two_tone:
        if caption.tokens[phrase.head].lower in lexicon.NATURAL_COLOUR_NOUNS or _ground(caption, phrase):
            return "", []  # "a green sky" is false, but of no photo anyone takes
        present = set(caption.words)
        present |= set().union(*(g for g in lexicon.COLOUR_EQUIVALENTS if g & present))
        options = [c for c in _colour_alternatives("black" if two_tone else word)
                   if c not in present and not (two_tone and c == "white")]  # not "grey and gray"
        if _lexname(caption, phrase) == "noun.animal":
            options = [c for c in options if c in lexicon.ANIMAL_COLOURS]
        elif _lexname(caption, phrase) in ("noun.food", "noun.plant"):
            options = [c for c in options if c not in lexicon.METALLIC_COLOURS]
        return "colour", options
    neighbours = {caption.lower(k) for k in (index - 1, index + 1) if 0 <= k < len(caption.tokens)}
    if word in lexicon.SIZE_WORDS and neighbours & lexicon.SIZE_WORDS:
        return "", []  # "small little bathroom" -> "huge little bathroom"
    if word in ("little", "small", "large", "big", "huge", "tiny") and _lexname(caption, phrase) == "noun.person":
        return "", []  # a "little girl" is a young one; "a large girl" is no caption (round 10)
    if word in lexicon.SIZE_WORDS and caption.lower(phrase.head) in lexicon.BEYOND_VIEW_PLACES:
        return "", []  # a "small urban city" cannot be told from a large one in a photo of its signs
    if index > 0 and caption.tokens[index - 1].tag in NOUN_TAGS and caption.phrase_at(index - 1) is phrase:
        return "", []  # part of a compound adjective: "tiger striped"
    if _negated(caption, index):
        return "", []
    if word in ("several", "many", "numerous", "multiple") and caption.is_plural(phrase) and not _ground(caption, phrase):
        return "count", ["two"]  # "several zebras" -> "two zebras": a count the picture contradicts
    if word == "old" and following in lexicon.OLD_IDIOM_NEXT:
        return "", []  # "an old fashion stove"
    if word in ("old", "older"):
        animate = _is_animate(caption, phrase)
        return "state", [("young" if animate else "new") + ("er" if word == "older" else "")]
    if word == "young" and caption.tokens[phrase.head].lower in lexicon.YOUNG_NOUNS:
        return "", []  # "old children"
    if word in lexicon.ATTRIBUTE_OPPOSITES:
        return "state", list(lexicon.ATTRIBUTE_OPPOSITES[word])
    return "", []


def _number_alternatives(caption: Caption, index: int) -> list[str]:
    word = caption.lower(index)
    phrase = caption.phrase_at(index)
    if phrase is None or caption.tokens[phrase.head].tag not in PLURAL_TAGS:
        return []  # only plural counts, so the noun and verb keep their number
    if word in lexicon.NUMBER_WORDS:
        position = lexicon.NUMBER_WORDS.index(word)
        return [w for k, w in enumerate(lexicon.NUMBER_WORDS) if 0 < abs(k - position) <= 2]
    if re.fullmatch(r"\d{1,3}", word) and int(word) >= 2:
        value = int(word)
        return [str(v) for v in (value - 1, value + 1, value + 2) if v >= 2 and v != value]
    return []


_SINGULAR_PRONOUNS = frozenset({"it", "its", "itself", "he", "she", "his", "her", "him", "himself", "herself"})


_FINITE = frozenset({"is", "are", "was", "were", "has", "have", "'s", "'re"})


def _finite_verb_after(caption: Caption, phrase: NounPhrase):
    """Index of the finite verb agreeing with a caption-initial subject, None if the caption has
    none ("a dog on a bed"), False if one stands where it may belong to another noun."""
    k = phrase.end
    tokens = caption.tokens
    while k + 1 < len(tokens) and tokens[k].lower == "of":  # "a jar of pickles sits"
        inner = _next_phrase(caption, k + 1)
        if inner is None:
            break
        k = inner.end
    finite = [i for i, t in enumerate(tokens) if i >= phrase.end and (t.lower in _FINITE or t.tag in ("VBZ", "VBP"))]
    if not finite:
        return None
    if finite[0] == k and len(finite) == 1:
        return k
    return False


def _handles_one_thing(caption: Caption, subject: NounPhrase) -> bool:
    """Does the subject act directly on one singular thing ("riding a skateboard", "swinging the
    bat")? Then more subjects would have to share it."""
    for k in range(subject.end, len(caption.tokens) - 1):
        if caption.tokens[k].tag.startswith("VB") and caption.lower(k) not in _FINITE:
            obj = _next_phrase(caption, k + 1)
            return obj is not None and caption.lower(obj.start) in ("a", "an", "the", "his", "her") \
                and caption.tokens[obj.head].tag == "NN" and _lexname(caption, obj) == "noun.artifact"
    return False


def _wears_one_thing(caption: Caption, subject: NounPhrase) -> bool:
    """Is the subject described by one singular thing it wears or has ("in a blue uniform",
    "with a hat")? More subjects would then share it."""
    for phrase in caption.phrases:
        if phrase.start <= subject.end or phrase.start - 1 < 0:
            continue
        if caption.lower(phrase.start) in ("a", "an", "his", "her") and caption.tokens[phrase.head].tag == "NN":
            before = caption.lower(phrase.start - 1)
            if before == "in" and _is_clothing(caption.lower(phrase.head)) or before in ("with", "wearing"):
                return True
    return False


def _count_changes(caption: Caption) -> list[str]:
    """a dog -> two dogs; a verb after the changed subject agrees ("A dog is" -> "Two dogs are")."""
    candidates = []
    for number, phrase in enumerate(caption.phrases):
        article = caption.tokens[phrase.start]
        head = caption.tokens[phrase.head]
        if phrase.start == phrase.head or article.lower not in ("a", "an", "one") or head.tag != "NN":
            continue
        if " " not in head.text and _head_word(caption, phrase) is None or wordnet.concrete_sense(head.lower) is None:
            continue
        # Only the subject: "two men riding a horse" is a scene, "a man sitting in two chairs" is not.
        there_is = phrase.start == 2 and caption.lower(0) == "there" and caption.lower(1) in ("is", "was")
        if phrase.start != 0 and not there_is:
            continue
        if not caption.words.isdisjoint(_SINGULAR_PRONOUNS):
            continue  # "two giraffes ... its photo"
        if phrase.end < len(caption.tokens) and caption.lower(phrase.end) in (",", "and", "or", "&"):
            continue  # "two keyboards and computer monitor": the list's articles would not agree
        if _ground(caption, phrase):
            continue  # one counts things in a scene, not the scene: "two living rooms"
        if not caption.words.isdisjoint(("alone", "single", "lone", "only")):
            continue
        if any(caption.tokens[k].tag in NOUN_TAGS for k in range(phrase.first_modifier, phrase.head)):
            continue  # "a woman tennis player" -> "two women tennis players": modifiers inflect too
        if _lexname(caption, phrase) == "noun.person" and _handles_one_thing(caption, phrase):
            continue  # "two men riding a skateboard": one board, one rider
        if _wears_one_thing(caption, phrase):
            continue  # "two boys in a blue uniform"
        verb = _finite_verb_after(caption, phrase)
        if verb is False:
            continue  # a finite verb somewhere we cannot tell belongs to this subject
        agreement = _agree_verbs(caption, verb, verb + 1, plural_subject=True) if verb is not None else []
        if agreement is None:
            continue
        if there_is:
            be = caption.tokens[1]
            agreement = [Edit(1, 2, match_case(be.text, BE_SINGULAR_TO_PLURAL[be.lower]))]
        edits = [Edit(phrase.start, phrase.start + 1, match_case(article.text, "two")),
                 Edit(phrase.head, phrase.head + 1, match_case(head.text, _plural(head.lower)))]
        candidates.append(apply_edits(caption, edits + agreement))
    return candidates


_PAIR_COUNTS = {("a", "pair", "of"): "three", ("a", "couple", "of"): "four"}  # "a couple" may loosely be three
_PAIR_FIRST_WORDS = frozenset(key[0] for key in _PAIR_COUNTS)
_PAIR_NOUNS = frozenset(key[1] for key in _PAIR_COUNTS)


def _pair_counts(caption: Caption) -> list[str]:
    """"a pair of giraffes" -> "three giraffes", "a couple of horses" -> "four horses": people,
    animals and vehicles only ("a pair of skis" is one thing)."""
    candidates = []
    if caption.words.isdisjoint(_PAIR_NOUNS):
        return candidates  # most captions: no "pair" or "couple", so no key can match
    for index in range(len(caption.tokens) - 3):
        if caption.tokens[index].lower not in _PAIR_FIRST_WORDS:  # most words: no key to build
            continue
        key = tuple(t.lower for t in caption.tokens[index:index + 3])
        members = _next_phrase(caption, index + 3) if key in _PAIR_COUNTS else None
        if members is None or not caption.is_plural(members):
            continue
        base = _head_word(caption, members) or ""
        if _is_animate(caption, members) or wordnet.is_motor_vehicle(base):
            text = match_case(caption.tokens[index].text, _PAIR_COUNTS[key])
            candidates.append(apply_edits(caption, [Edit(index, index + 3, text)]))
    return candidates


def replace_att(caption: Caption, rng: Random) -> list[str]:
    """red -> blue, wooden -> metal, small -> large, two dogs -> three dogs, a dog -> two dogs."""
    candidates = _pick(rng, _count_changes(caption) + _pair_counts(caption), 1)
    for index, token in enumerate(caption.tokens):
        if token.tag != "CD" and token.lower not in _ATTRIBUTE_WORDS:
            continue  # most tokens: attribute_alternatives would return none
        _, alternatives = attribute_alternatives(caption, index)
        if not alternatives:
            continue  # _pick would draw nothing from an empty list either
        for replacement in _pick(rng, alternatives, 1):
            candidates.append(apply_edits(caption, [Edit(index, index + 1, match_case(token.text, replacement))]))
    return _pick(rng, candidates, 3)


def _attribute_words(caption: Caption, phrase: NounPhrase) -> dict[str, int]:
    found = {}
    tokens = caption.tokens
    for index in range(phrase.first_modifier, phrase.head):
        if tokens[index].tag == "CD" or tokens[index].lower not in _ATTRIBUTE_WORDS:
            continue  # a count, or no attribute word: neither is kept below
        category, alternatives = attribute_alternatives(caption, index)
        if alternatives and category != "count":
            found.setdefault(category, index)
    return found


def _contrasting(first: str, second: str) -> bool:
    """Do two attribute words say different things ("red"/"blue", "large"/"small", not "large"/"giant")?"""
    if first in lexicon.COLOURS and second in lexicon.COLOURS:
        return second in _colour_alternatives(first)
    return second in lexicon.ATTRIBUTE_OPPOSITES.get(first, ()) or first in lexicon.ATTRIBUTE_OPPOSITES.get(second, ())


def swap_att(caption: Caption, rng: Random) -> list[str]:
    """Exchange the modifiers of two nouns: a red car and a blue truck -> a blue car and a red truck."""
    candidates = []
    named = [(p, head) for p in caption.phrases if (head := _head_word(caption, p))]
    if len(named) < 2:
        return []  # no pair to exchange modifiers between
    # Head and attribute words once per phrase, not once per pair of phrases.
    phrases = [(head, _attribute_words(caption, p)) for p, head in named]
    for a, (first_head, first_attrs) in enumerate(phrases):
        for second_head, second_attrs in phrases[a + 1:]:
            if first_head == second_head:
                continue
            shared = [c for c in first_attrs if c in second_attrs]
            pairs = [(first_attrs[c], second_attrs[c]) for c in shared]
            for i, j in pairs:
                left, right = caption.tokens[i], caption.tokens[j]
                if not _contrasting(left.lower, right.lower):
                    continue  # "large" and "giant" trade places to no effect
                edits = [Edit(i, i + 1, match_case(left.text, right.lower)), Edit(j, j + 1, match_case(right.text, left.lower))]
                candidates.append(apply_edits(caption, edits))
    return _pick(rng, candidates)


# --- object -----------------------------------------------------------------------------------

def _pronoun_edits(caption: Caption, old: str, new: str, gendered_heads: int) -> list[Edit] | None:
    """Pronoun edits that follow a change of gender (man -> woman: his -> her), or None when the
    pronouns cannot be told apart (two gendered nouns in the caption)."""
    male = old in lexicon.MALE_NOUNS and new not in lexicon.MALE_NOUNS
    female = old in lexicon.FEMALE_NOUNS and new not in lexicon.FEMALE_NOUNS
    if not (male or female):
        return []
    if new not in lexicon.MALE_NOUNS | lexicon.FEMALE_NOUNS:
        return [] if caption.words.isdisjoint(lexicon.GENDERED_PRONOUNS) else None
    pronouns = [k for k, t in enumerate(caption.tokens) if t.lower in lexicon.GENDERED_PRONOUNS]
    if not pronouns:
        return []
    people = sum(1 for p in caption.phrases if _lexname(caption, p) == "noun.person")
    if gendered_heads > 1 or people > 1:
        return None  # "a woman holds a child ... her temperature": whose pronoun is it?
    edits = []
    for k in pronouns:
        word = caption.lower(k)
        if male:
            replacement = lexicon.MALE_TO_FEMALE_PRONOUNS.get(word)
        elif word == "her":  # object ("hugging her") or possessive ("her dog")
            following = caption.tokens[k + 1].tag if k + 1 < len(caption.tokens) else ""
            replacement = "his" if following in NOUN_TAGS or following.startswith("JJ") else "him"
        else:
            replacement = lexicon.FEMALE_TO_MALE_PRONOUNS.get(word)
        if replacement:
            edits.append(Edit(k, k + 1, match_case(caption.tokens[k].text, replacement)))
    return edits


_COLOUR_WORDS = frozenset(lexicon.COLOURS)
# What any room's clues name: a head outside it is in no room's things, whatever the caption says.
_ANY_ROOM_THINGS = frozenset().union(*(lexicon.SCENE_CLUES[w] for w in lexicon.ROOM_NOUNS if w in lexicon.SCENE_CLUES))
_GENDERED_NOUNS = lexicon.MALE_NOUNS | lexicon.FEMALE_NOUNS


def _fitting_replacements(caption: Caption, phrase: NounPhrase, base: str, alternatives, heads: set,
                          words: set) -> list[str]:
    """The replacements for ``base`` that fit where its phrase stands in this caption."""
    if not alternatives:
        return []  # most heads: none of the work below is needed
    others = heads - {base}
    modifiers = {caption.lower(k) for k in range(phrase.start, phrase.head)}
    # What the modifiers and the article rule out, once for all the alternatives.
    coloured = not modifiers.isdisjoint(_COLOUR_WORDS)
    grown = not modifiers.isdisjoint(lexicon.GROWN_MODIFIERS)
    small = not modifiers.isdisjoint(lexicon.SMALL_MODIFIERS)
    counted = caption.lower(phrase.start) in ("a", "an", "one", "another")
    partitive = phrase.start > 1 and caption.lower(phrase.start - 1) == "of" \
        and caption.lower(phrase.start - 2) in lexicon.PARTITIVE_NOUNS
    scene_clues = lexicon.SCENE_CLUES.get(base)  # most nouns have none: then no need to split the words
    clues = scene_clues & (words | {part for w in words for part in w.split(" ")}) if scene_clues else frozenset()
    # A kitchen with a stove may have a dishwasher too: two things of a room the caption names
    # are no negative of each other.
    room_things = set().union(*(lexicon.SCENE_CLUES[w] for w in (words | heads) & lexicon.ROOM_NOUNS
                                if w in lexicon.SCENE_CLUES)) if base in _ANY_ROOM_THINGS else ()
    return [
        a for a in _fitting_preposition(caption, phrase, list(alternatives))
        if a not in heads and a not in words and _plural(a) not in words  # not a noun the caption names
        and not (partitive and a in lexicon.UNSLICEABLE_FOODS)  # not "a slice of soup"
        and not (coloured and not _COLOUR_WORDS.isdisjoint(a.split(" ")))  # "white brown bear"
        and not (counted and a in lexicon.MASS_NOUNS)  # "a pasta"
        and not (grown and a in lexicon.YOUNG_NOUNS)  # not "an old child"
        and not (small and a in lexicon.ADULT_NOUNS)  # not "a small man"
        and clues <= lexicon.SCENE_CLUES.get(a, frozenset())  # not "a kitchen with a toilet"
        and not (a in room_things and base in room_things)
        # Last: for a word not met before, this one loads WordNet senses and their hypernyms.
        and not wordnet.related_to_any(a, others)  # nor a synonym, hypernym or hyponym of one: "women and adults"
    ]


def _compound_head(caption: Caption, head: int) -> bool:
    """Is the noun at ``head`` the second half of a compound ("city bus", "a washing machine")?
    A participle after a noun is a verb with its object instead ("men riding horses")."""
    if head == 0:
        return False
    before = caption.tokens[head - 1]
    if before.tag in ("NN", "NNS"):
        return True
    return before.tag == "VBG" and (head < 2 or caption.tokens[head - 2].tag in ("DT", "PRP$", "JJ", "CD"))


def _fitting_preposition(caption: Caption, phrase: NounPhrase, alternatives: list[str]) -> list[str]:
    """Keep the replacements that take the preposition before the phrase: "in a field" may become
    "in a parking lot" but not "in a beach"; "sitting at a table" not "sitting at a bed"."""
    if phrase.start == 0 or caption.tokens[phrase.start - 1].tag not in ("IN", "TO", "RP", "RB"):
        return alternatives
    preposition = caption.lower(phrase.start - 1)
    kept = []
    for word in alternatives:
        takes = lexicon.SCENE_PREPOSITIONS.get(word)
        if takes is not None and preposition not in takes:
            continue
        if takes is None and preposition == "at" and word not in lexicon.AT_OBJECTS:
            continue
        kept.append(word)
    return kept


# People and animals are replaced from the curated groups only: WordNet's person and animal
# siblings are mostly roles and taxa no caption would name ("larva", "sportsman").
_WORDNET_FALLBACK_FILES = frozenset({"noun.artifact", "noun.food", "noun.plant"})


@lru_cache(maxsize=None)  # a pure function of the noun: bounded by the vocabulary
def _object_alternatives(base: str) -> tuple[str, ...]:
    """What a head noun may become, before the caption is looked at: the curated alternatives,
    else its WordNet siblings."""
    alternatives = lexicon.OBJECT_ALTERNATIVES.get(base)
    sense = wordnet.concrete_sense(base)
    if alternatives is None and base not in lexicon.GROUND_NOUNS and " " not in base \
            and sense is not None and sense.lexname() in _WORDNET_FALLBACK_FILES \
            and not wordnet.is_container(base):  # containers' siblings hold other things: bag -> cup
        # WordNet's siblings of a thing include many no caption would name ("facility",
        # "coffin"): only those of the caption vocabulary are kept.
        alternatives = [a for a in wordnet.noun_siblings(base, limit=40)
                        if a in lexicon.CONCRETE_CAPTION_NOUNS and a not in lexicon.GROUND_NOUNS]  # patio -> "room"
    return tuple(alternatives or ())


def replace_obj(caption: Caption, rng: Random) -> list[str]:
    """dog -> wolf, table -> desk: a WordNet sibling of a head noun, same lexicographer file."""
    candidates = []
    heads = {_head_word(caption, p) for p in caption.phrases}
    words = caption.words
    gendered_heads = len(heads & _GENDERED_NOUNS)
    for phrase in caption.phrases:
        base = _head_word(caption, phrase)
        if base is None:
            continue
        head = caption.tokens[phrase.head]
        if _compound_head(caption, phrase.head):
            continue  # head of a compound: "washing machine" -> "washing fan" is no thing
        if phrase.start > 0 and caption.lower(phrase.start - 1) in ("like", "as"):
            continue  # a simile names nothing in the picture
        if 0 < phrase.head - 1 and phrase.first_modifier < phrase.head \
                and caption.tokens[phrase.head - 1].text[:1].isupper() and not caption.all_caps:
            continue  # part of a name: "the Eiffel tower"
        if phrase.end < len(caption.tokens) and (caption.lower(phrase.end) == "of"
                                                 or caption.lower(phrase.end) in lexicon.CONTENT_PARTICIPLES):
            continue  # a container of something: "a bowl of food" -> "a jar of food", "a plate topped with"
        if head.lower == "stands" and caption.lower(phrase.start) == "the":
            continue  # "fans in the stands": the seating, not a piece of furniture
        if _negated(caption, phrase.head):
            continue  # "not wearing a shirt" -> "not wearing a dress" is still true
        if _idiomatic_bare_noun(caption, phrase):
            continue  # "laying in bed" -> "laying in bench"
        if _ground(caption, phrase) and phrase.first_modifier < phrase.head:
            continue  # "dry grass" -> "dry snow": the modifier was chosen for the old ground
        if base in lexicon.INVARIANT_NOUNS and caption.lower(phrase.start) not in ("a", "an", "one"):
            continue  # "a herd of sheep": singular or plural? the replacement could not agree
        if phrase.start > 0 and wordnet.verb_lemma(caption.lower(phrase.start - 1)) == "wear" \
                and _lexname(caption, phrase) in ("noun.animal", "noun.person"):
            continue  # "wearing a cat" is a typo for "hat", not a cat
        if caption.tokens[phrase.start].tag == "PRP$" and _lexname(caption, phrase) == "noun.person":
            continue  # "parents with their children" -> "their men" is no relation anyone has
        alternatives = _fitting_replacements(caption, phrase, base, _object_alternatives(base), heads, words)
        # Only replacements the pronouns can follow: "a man ... himself" may become a woman, not a child.
        viable = [(a, e) for a in alternatives if (e := _pronoun_edits(caption, base, a, gendered_heads)) is not None]
        for sibling, edits in _pick(rng, viable, 1):
            if head.tag in PLURAL_TAGS:
                sibling = _plural(sibling)
            cased = head.text if phrase.head == 0 or caption.all_caps else head.text.lower()  # "a Frisbee" -> "a ball"
            edits.append(Edit(phrase.head, phrase.head + 1, match_case(cased, sibling)))
            candidates.append(apply_edits(caption, edits))
    return _pick(rng, candidates, 3)


# --- action -----------------------------------------------------------------------------------

_AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "being", "am", "'s", "'re", "has", "have",
                         "had", "do", "does", "did", "will", "can", "could", "would", "should", "may", "might"})


def _plays_on_screen(caption: Caption, index: int) -> bool:
    """"playing video games" is also watching them; "playing a game of soccer" is not."""
    phrase = _next_phrase(caption, index + 1)
    if phrase is None or not {caption.lower(k) for k in range(phrase.start, phrase.end)} & lexicon.PLAYED_ON_SCREEN:
        return False  # "a video game system" too (round 11)
    return not (phrase.end < len(caption.tokens) and caption.lower(phrase.end) == "of")


def _sees_a_scene(caption: Caption, index: int) -> bool:
    """A verb of seeing followed by an object and a bare verb ("watching a kite fly")."""
    if wordnet.verb_lemma(caption.lower(index)) not in ("watch", "see", "look"):
        return False
    obj = _next_phrase(caption, index + 1)
    return obj is not None and obj.end < len(caption.tokens) and caption.tokens[obj.end].tag in ("VB", "VBP")


_VEHICLE_STATE_WORDS = lexicon.RESTING_VEHICLE_WORDS | lexicon.MOVING_VEHICLE_WORDS


def _vehicle_states(caption: Caption) -> list[str]:
    """"a bus parked on the street" -> "a bus moving on the street", "a train traveling on
    tracks" -> "a train stopped on tracks", "a parked car" -> "a moving car"."""
    words = caption.words
    if words.isdisjoint(_VEHICLE_STATE_WORDS):
        return []  # most captions: no token to look at
    candidates = []
    tokens = caption.tokens
    for index, token in enumerate(tokens):
        if token.lower in lexicon.RESTING_VEHICLE_WORDS:
            replacement = "moving"
        elif token.lower in lexicon.MOVING_VEHICLE_WORDS and token.tag == "VBG":
            replacement = "stopped"
        else:
            continue
        if replacement in words or index == 0:
            continue
        phrase = caption.phrase_at(index)
        if phrase is not None:  # "a parked car": the participle modifies the vehicle
            if token.lower not in ("parked", "stopped") or index >= phrase.head:
                continue
            vehicle = phrase
        else:
            following = caption.lower(index + 1) if index + 1 < len(tokens) else "."
            if following not in lexicon.VEHICLE_STATE_PLACES or caption.lower(min(index + 2, len(tokens) - 1)) == "top":
                continue  # "driving down the road" has no still counterpart; nor "sitting on top of"
            previous = tokens[index - 1]
            if previous.tag.startswith("VB") and previous.lower not in _AUXILIARIES:
                continue  # "cars sit parked": "sit moving" is no English
            vehicle = _subject_phrase(caption, index)
            if vehicle is None or _has_agent(caption, index):
                continue  # "a man driving a car": his action, not the car's state
        base = _head_word(caption, vehicle) or ""
        if wordnet.is_kind_of(base, "vessel.n.02") and words & lexicon.DRY_LAND_NOUNS:
            continue  # "boats sitting on the shore" cannot be moving there
        if wordnet.is_motor_vehicle(base):
            candidates.append(apply_edits(caption, [Edit(index, index + 1, match_case(token.text, replacement))]))
    return candidates


def _relative_clause_of_a_thing(caption: Caption, index: int) -> bool:
    """"a tree branch that is sitting next to bushes": the verb belongs to the branch, even when
    a bird was named before it."""
    k = index - 1
    while k > 0 and (caption.tokens[k].tag.startswith(("VB", "RB")) or caption.lower(k) in _AUXILIARIES):
        k -= 1
    if k <= 0 or caption.lower(k) not in ("that", "which"):
        return False
    owner = [p for p in caption.phrases if p.end <= k]
    return bool(owner) and owner[-1].end == k and not _is_animate(caption, owner[-1])


def replace_action(caption: Caption, rng: Random) -> list[str]:
    """riding -> feeding, sitting -> standing: curated verbs, then WordNet verb siblings."""
    candidates = []
    for index, token in enumerate(caption.tokens):
        if not token.tag.startswith("VB") or caption.phrase_at(index) is not None or index == 0:
            continue
        form_tag = "VBG" if token.lower.endswith("ing") else token.tag
        if form_tag == "VBZ" and not token.lower.endswith("s"):
            continue
        if form_tag == "VBN" and caption.lower(index - 1) not in ("is", "are", "was", "were", "been", "be", "has", "have"):
            continue  # a participle used as an adjective ("thick wheeled bike"), not an action
        if form_tag in ("VBN", "VBD") and index + 1 < len(caption.tokens) and caption.tokens[index + 1].tag in NOUN_TAGS:
            continue  # "a horse drawn carriage"
        previous = caption.tokens[index - 1]
        if previous.tag.startswith("VB") and previous.lower not in _AUXILIARIES:
            continue  # part of a fixed verb phrase: "keep watch", "go play"
        if not _has_agent(caption, index):
            continue  # actions need an agent: a bus does not sit or stand
        if caption.lower(index - 1) in ("it", "they", "to"):
            continue  # "watch a train as it passes"; "about to run" is an intention, not in the photo
        direct = _next_phrase(caption, index + 1)
        if direct is not None and _lexname(caption, direct) == "noun.body":
            continue  # "shaking hands" -> "jumping hands" (round 12)
        lemma = wordnet.verb_lemma(token.lower)
        if lemma is None or lemma in lexicon.RELATION_VERBS:
            continue
        following = caption.lower(index + 1) if index + 1 < len(caption.tokens) else ""
        has_object = _next_phrase(caption, index + 1) is not None  # not "standing next to"
        airborne = any(t.lower in ("sky", "air") for t in caption.tokens[index + 1:index + 6])
        if airborne and lemma == "fly":
            continue  # a kite in the sky is being flown, whatever else is said
        if _sees_a_scene(caption, index):
            continue  # "watching a kite fly": what is seen is a whole scene, not an object
        present_lemmas = {wordnet.verb_lemma(t.lower) for t in caption.tokens if t.tag.startswith("VB")}
        present_words = caption.words
        if index + 1 < len(caption.tokens) and caption.tokens[index + 1].tag in ("VBN", "VBD", "JJ") \
                and caption.tokens[index + 1].lower.endswith("ed"):
            continue  # "lies crouched": the posture is said twice
        animal_only = not _has_agent(caption, index, people_only=True)
        if animal_only and lemma in lexicon.ANIMAL_ACTION_VERBS:
            alternatives = lexicon.ANIMAL_ACTION_VERBS[lemma]  # a cow does not serve its hay
        elif lemma in lexicon.ACTION_VERBS_BY_OBJECT:
            obj = _object_of(caption, index + 1)  # through "a slice of", to the pizza
            kind = _lexname(caption, obj) if obj is not None and not _ground(caption, obj) else None
            by_object = lexicon.ACTION_VERBS_BY_OBJECT[lemma]
            if obj is not None and obj.end + 1 < len(caption.tokens) and caption.lower(obj.end) in ("and", "or"):
                also = _next_phrase(caption, obj.end + 1)
                if also is not None and _lexname(caption, also) != kind:
                    kind = "mixed"  # "riding motorcycles and horses": no verb fits both
            if lemma == "ride" and obj is not None and wordnet.is_motor_vehicle(_head_word(caption, obj) or ""):
                kind = "mixed"  # one rides a train or a bus but does not push or carry it
            if has_object:
                alternatives = by_object.get(kind, by_object.get("*", ())) if kind else by_object.get("*", ())
                alternatives = () if kind == "mixed" else alternatives
            else:
                alternatives = by_object.get(None, ())
        elif lemma in lexicon.ACTION_VERBS:
            alternatives = lexicon.ACTION_VERBS[lemma]
        elif lemma in lexicon.NON_ACTION_VERBS:
            continue
        else:  # WordNet's siblings, kept to the curated actions ("lowered" -> "swung" is no caption)
            alternatives = [v for v in wordnet.verb_siblings(lemma, limit=30) if v in lexicon.KNOWN_ACTIONS]
        if following == "to":
            continue  # "preparing to play", "going to eat": the action is the infinitive's
        if following in ("up", "out") and _starts_phrase(caption, index + 2):
            continue  # "cleaning up a mess": the particle makes another verb of it
        if following == "for" or _relative_clause_of_a_thing(caption, index):
            continue  # "grazing for food" -> "running for food"; "a branch that is sitting next to bushes"
        if lemma == "talk" and following in ("on", "into"):
            continue  # "talking on a cell phone" and "singing on" it look alike
        if form_tag in ("VBD", "VBN") and following in ("and", "or") and index + 2 < len(caption.tokens) \
                and caption.lower(index + 2).endswith("ing"):
            continue  # "crouched and skiing": a changed first verb leaves the pair ungrammatical
        doer = _subject_phrase(caption, index)
        if doer is not None and lemma in lexicon.ANIMAL_ACTION_VERBS \
                and wordnet.is_kind_of(_head_word(caption, doer) or "", lexicon.BIRD_SYNSET):
            continue  # a perched bird sits and stands alike
        if lemma == "play" and (following == "with" or _plays_on_screen(caption, index)):
            continue
        alternatives = [
            a for a in alternatives
            if (has_object or a not in lexicon.TRANSITIVE_ONLY_VERBS)  # not "a man repairing down the road"
            and not (has_object and a in lexicon.INTRANSITIVE_ONLY_VERBS)  # not "falling moguls"
            and not (a == "stand" and following == "in")  # not "standing in a chair"
            and not (a in ("lie", "lay") and (following in ("at", "in") or present_words & (lexicon.AT_FURNITURE - {"bench", "booth"})))  # not "lying at a table"
            and not (lemma == "pose" and following in ("for", "with"))  # not "running for a picture"
            and a not in present_lemmas  # not "sitting and sitting"
            and not (a == "sleep" and (following in ("on", "with", "for") and lemma != "lie"
                                       or caption.words & lexicon.WATER_NOUNS))
            # not "sleeping on ski bindings", "sleeping in the water with one another"
            and not (a in lexicon.STATIC_VERBS and following == "for")  # not "sleeping for food"
            and not (airborne and lemma == "ride")  # not "carrying a bike through the air"
            and not (a in lexicon.STATIC_VERBS | {"land"} and airborne)  # not "a bird sitting in the sky"
            and not (a == "land" and following in ("over", "above", "through", "across", "around", "past", "high", "low"))
            and not (following in lexicon.MOTION_PARTICLES and a in lexicon.STATIC_VERBS
                     and ((a, following) not in lexicon.POSTURE_PARTICLES or _starts_phrase(caption, index + 2)))
        ]  # "sitting down" and "lying down", but not "sitting down the hill"
        for replacement in _pick(rng, alternatives, 1):
            form = inflect_verb(replacement, form_tag, wordnet.irregular_past())
            if form == token.lower:
                continue
            candidates.append(apply_edits(caption, [Edit(index, index + 1, match_case(token.text, form))]))
    return _pick(rng, candidates + _vehicle_states(caption))
