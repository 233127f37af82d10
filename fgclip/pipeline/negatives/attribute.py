"""replace-att and swap-att (kind attribute): what a thing is like, changed or exchanged.

    A red car.                        -> A blue car.             (colour)
    A wooden table.                   -> A metal table.          (material, size, state, pattern)
    Two dogs on a couch.              -> Three dogs on a couch.  (count)
    A dog on a couch.                 -> Two dogs on a couch.    (a counted subject, verbs agreeing)
    A red car and a blue truck.       -> A blue car and a red truck.   (swap-att)

Invariants: a word is replaced only by a contrasting one of its own category (a colour by
another colour that is not a shade of it, a material by a material, "small" by "large"), only
where it describes a thing one can picture changing, and never by a word the caption already
says; counts change only for plural counts and for the caption's subject, with the verb made to
agree; swap-att exchanges only two contrasting words of one category on two different nouns.
Every veto below refuses with the reason in ``REFUSALS``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import lexicon, wordnet
from .core import (BE_SINGULAR_TO_PLURAL, RuleContext, agree_verbs, ground, head_word, is_animate, is_clothing,
                   lexname, negated, next_phrase, pick, plural)
from .grammar import match_case
from .grounded import alternate, draw, supports
from .slots import slots_of
from .parse import NOUN_TAGS, PLURAL_TAGS, Caption, Edit, NounPhrase, apply_edits

REFUSALS: tuple[str, ...] = (
    # a replacement, by the corpus table
    "alternates", "unseen-with-thing",
    # a word's alternatives
    "singular-count", "part-of-name", "comparison", "abstract-head", "colour-fixed", "shade-of-colour",
    "natural-colour", "colour-present", "animal-colour", "metallic-food", "double-size", "size-of-person",
    "beyond-view", "compound-adjective", "negated", "ground-count", "old-idiom", "young-by-nature",
    # a dog -> two dogs, a pair of -> three
    "not-subject", "singular-pronoun", "list-member", "said-alone", "noun-modifier", "shares-one-thing",
    "wears-one-thing", "unclear-verb", "no-agreement", "pair-of-things",
    # swap-att
    "same-noun", "no-contrast",
)

# --- what an attribute word may become --------------------------------------------------------

COLOUR_EQUIVALENTS = ({"gray", "grey", "silver"}, {"gold", "yellow"}, {"beige", "tan", "brown"},
                      {"teal", "turquoise", "blue", "green"}, {"maroon", "red", "brown"})

# Colours an animal's coat can have; a blue dog is no hard negative.
ANIMAL_COLOURS = ("black", "white", "brown", "gray", "tan")

# Metallic colours are for made things: "gold rice", "silver broccoli" are no food (round 10).
METALLIC_COLOURS = frozenset({"gold", "golden", "silver", "bronze", "copper"})

# Things whose colour is fixed by nature in a photo: "green sky" is no hard negative either.
NATURAL_COLOUR_NOUNS = frozenset({"sky", "grass", "water", "ocean", "sea", "tree", "trees", "leaves", "sun",
                                  "clouds", "cloud", "snow", "field", "lawn", "banana", "bananas", "broccoli"})

# Modifiers that already fix a colour or a material: "lush green hillside" -> "lush brown" and
# "clear glass jar" -> "clear wooden jar" contradict themselves.
COLOUR_FIXING_WORDS = frozenset({"lush", "leafy", "grassy", "snowy", "rusty", "rusted", "clear", "transparent",
                                 "golden", "tanned", "sunny", "frosted", "see-through"})

# Nouns that name a shade before a colour word: "mustard yellow" is one colour (round 13).
SHADE_NOUNS = frozenset({"mustard", "lime", "sky", "navy", "olive", "forest", "royal", "baby", "lemon", "mint",
                         "blood", "cherry", "kelly", "hunter", "powder", "neon", "pastel", "burnt", "brick"})

ATTRIBUTE_OPPOSITES: dict[str, tuple[str, ...]] = {
    # material
    "wooden": ("metal", "plastic", "glass"), "wood": ("metal", "plastic", "glass"),
    "metal": ("wooden", "plastic"), "metallic": ("wooden", "plastic"), "steel": ("wooden", "plastic"),
    "plastic": ("metal", "wooden", "glass"), "glass": ("plastic", "metal", "wooden"),
    "stone": ("wooden", "metal"), "brick": ("wooden", "metal"), "concrete": ("wooden", "grass"),
    "leather": ("cloth", "plastic"), "paper": ("plastic", "metal"), "ceramic": ("plastic", "metal"),
    "wicker": ("metal", "plastic"), "cardboard": ("metal", "wooden"), "marble": ("wooden", "plastic"),
    "stainless": ("wooden", "plastic"), "iron": ("wooden", "plastic"), "cloth": ("leather", "plastic"),
    "wool": ("leather", "plastic"), "denim": ("leather", "wool"),
    # size
    "small": ("large", "huge"), "little": ("large", "big"), "tiny": ("huge", "large"),
    "large": ("small",), "big": ("small", "little"), "huge": ("small",),
    "giant": ("small",), "tall": ("short",), "short": ("tall", "long"), "long": ("short",),
    "wide": ("narrow",), "narrow": ("wide",), "thick": ("thin",), "thin": ("thick",),
    "fat": ("skinny", "thin"), "skinny": ("fat",), "high": ("low",), "low": ("high",),
    # shape
    "round": ("square", "rectangular"), "circular": ("square", "rectangular"),
    "square": ("round", "triangular"), "rectangular": ("round", "oval"), "oval": ("square", "rectangular"),
    "triangular": ("round", "square"), "curved": ("straight",), "straight": ("curved",),
    # age and state
    "old": ("new", "young"), "new": ("old",), "young": ("old",), "older": ("younger", "newer"),
    "younger": ("older",), "elderly": ("young",), "modern": ("old", "antique"), "antique": ("modern",),
    "vintage": ("modern",), "empty": ("full", "crowded"), "full": ("empty",), "open": ("closed",),
    "closed": ("open",), "wet": ("dry",), "dry": ("wet",), "clean": ("dirty",), "dirty": ("clean",),
    "hot": ("cold",), "cold": ("hot",), "warm": ("cold",), "sliced": ("whole",), "whole": ("sliced",),
    "cooked": ("raw",), "raw": ("cooked",), "fresh": ("rotten",), "ripe": ("unripe", "rotten"),
    "dark": ("bright",), "bright": ("dark",), "sunny": ("cloudy", "rainy"), "cloudy": ("sunny", "clear"),
    "rainy": ("sunny",), "snowy": ("grassy", "sandy"), "busy": ("empty", "quiet"), "crowded": ("empty",),
    "broken": ("new", "intact"), "messy": ("tidy", "clean"), "cluttered": ("tidy", "empty"),
    "tidy": ("messy",), "neat": ("messy",), "calm": ("rough",), "rough": ("calm", "smooth"),
    "smooth": ("rough",), "happy": ("sad", "angry"), "sad": ("happy",), "angry": ("happy",),
    "asleep": ("awake",), "awake": ("asleep",), "lit": ("unlit", "dark"), "shiny": ("dull",),
    "fluffy": ("bald", "smooth"), "furry": ("bald",), "wild": ("tame",), "grassy": ("sandy", "snowy"), "sandy": ("grassy", "rocky"),
    "rocky": ("sandy", "grassy"), "frosted": ("plain",), "cheesy": ("plain",), "healthy": ("unhealthy",),
    "male": ("female",), "female": ("male",), "outdoor": ("indoor",), "indoor": ("outdoor",),
    "light": ("dark",), "deep": ("shallow",), "shallow": ("deep",),
    "fast": ("slow",), "slow": ("fast",), "large-scale": ("small",), "upright": ("upside-down",),
    "loaded": ("empty",),
    "blurry": ("sharp",), "foggy": ("clear",), "clear": ("cloudy", "foggy"), "overcast": ("sunny",),
    # pattern
    "striped": ("plain", "polka-dot"), "stripe": ("plain",), "checkered": ("striped", "plain"),
    "plaid": ("striped", "plain"), "spotted": ("striped", "plain"), "floral": ("striped", "plain"),
    "patterned": ("plain",), "plain": ("striped", "patterned"), "polka-dot": ("striped", "plain"),
    "dotted": ("striped", "plain"), "colorful": ("plain", "gray"), "colourful": ("plain", "grey"),
}

SIZE_WORDS = frozenset({"small", "little", "tiny", "large", "big", "huge", "giant", "tall", "short", "long",
                        "wide", "narrow", "thick", "thin", "fat", "skinny", "high", "low"})

# Places larger than any one photo: their size is not in the picture.
BEYOND_VIEW_PLACES = frozenset({"city", "town", "village", "area", "country", "countryside", "neighborhood",
                                "region", "cities", "towns", "areas"})

# "old" in fixed phrases: "an old fashion stove" is no age (round 12).
OLD_IDIOM_NEXT = frozenset({"fashion", "fashioned", "time", "timey", "school", "style", "styled", "world"})

NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve")


@lru_cache(maxsize=None)  # a pure function of the colour word
def _colour_alternatives(colour: str) -> tuple[str, ...]:
    near = set().union(*(group for group in COLOUR_EQUIVALENTS if colour in group)) | {colour}
    return tuple(c for c in lexicon.COLOURS if c not in near and c not in ("grey", "beige", "tan", "maroon", "teal", "turquoise"))


def _is_attribute_position(caption: Caption, index: int) -> bool:
    """A modifier inside a noun phrase, or a predicate after a form of "be" ("the sky is blue")."""
    phrase = caption.phrase_at(index)
    if phrase is not None and phrase.first_modifier <= index < phrase.head:
        return True
    previous = caption.lower(index - 1) if index > 0 else ""
    return previous in ("is", "are", "was", "were", "very", "and", "looks", "look") and caption.tokens[index].tag.startswith("JJ")


def _subject_of_predicate(caption: Caption, index: int) -> NounPhrase | None:
    """"the car is red": the phrase before the verb "be" that precedes ``index``."""
    k = index - 1
    while k >= 0 and caption.lower(k) in ("very", "quite", "so", "all", "mostly", "and", ","):
        k -= 1
    if k < 0 or caption.lower(k) not in ("is", "are", "was", "were", "looks", "look"):
        return None
    before = [p for p in caption.phrases if p.end == k]
    return before[0] if before else None


_COUNT_WORDS = frozenset({"several", "many", "numerous", "multiple"})
# Every word the function below can give alternatives for, but counts: the others need none
# of its checks (it runs for every token of every caption).
_ATTRIBUTE_WORDS = frozenset(lexicon.COLOURS) | frozenset(ATTRIBUTE_OPPOSITES) | _COUNT_WORDS | {
    "black and white", "black-and-white", "old", "older"}


def attribute_alternatives(caption: Caption, index: int, ctx: RuleContext) -> tuple[str, list[str]]:
    """(category, replacement words) for the attribute word at ``index``; empty when it is none."""
    token = caption.tokens[index]
    word = token.lower
    if token.tag == "CD":
        return "count", _number_alternatives(caption, index, ctx)
    if word not in _ATTRIBUTE_WORDS:
        return "", []
    two_tone = word in ("black and white", "black-and-white")  # one colour word to the tagger
    if " " in word and not two_tone or not _is_attribute_position(caption, index):
        return "", []
    # The thing described: the phrase the word modifies, or the subject of "is <word>".
    phrase = caption.phrase_at(index) or _subject_of_predicate(caption, index)
    if phrase is None:
        return "", []
    if index > 0 and token.text[:1].isupper() and not caption.all_caps:
        ctx.refuse("part-of-name")  # "the Blue Angels"
        return "", []
    following = caption.lower(index + 1) if index + 1 < len(caption.tokens) else ""
    if following in ("enough", "to", "than"):
        ctx.refuse("comparison")  # "long enough to cover his eyes"
        return "", []
    if not ground(caption, phrase) and wordnet.concrete_sense(caption.tokens[phrase.head].lower) is None:
        ctx.refuse("abstract-head")  # "a leafy green": the head is no thing one can picture changing
        return "", []
    fixed = {caption.lower(k) for k in range(phrase.start, phrase.end)} & COLOUR_FIXING_WORDS
    if fixed and (word in lexicon.COLOURS or word in ATTRIBUTE_OPPOSITES) and word not in fixed:
        ctx.refuse("colour-fixed")  # "lush green hillside" -> "lush brown", "clear glass jar" -> "clear wooden"
        return "", []
    if word in lexicon.COLOURS and index > 0 and caption.lower(index - 1) in SHADE_NOUNS:
        ctx.refuse("shade-of-colour")  # "mustard yellow" is one shade
        return "", []
    if word in lexicon.COLOURS or two_tone:
        if caption.tokens[phrase.head].lower in NATURAL_COLOUR_NOUNS or ground(caption, phrase):
            ctx.refuse("natural-colour")  # "a green sky" is false, but of no photo anyone takes
            return "", []
        return "colour", _colour_options(caption, phrase, word, two_tone, ctx)
    neighbours = {caption.lower(k) for k in (index - 1, index + 1) if 0 <= k < len(caption.tokens)}
    if word in SIZE_WORDS and neighbours & SIZE_WORDS:
        ctx.refuse("double-size")  # "small little bathroom" -> "huge little bathroom"
        return "", []
    if word in ("little", "small", "large", "big", "huge", "tiny") and lexname(caption, phrase) == "noun.person":
        ctx.refuse("size-of-person")  # a "little girl" is a young one; "a large girl" is no caption (round 10)
        return "", []
    if word in SIZE_WORDS and caption.lower(phrase.head) in BEYOND_VIEW_PLACES:
        ctx.refuse("beyond-view")  # a "small urban city" cannot be told from a large one in a photo of its signs
        return "", []
    if index > 0 and caption.tokens[index - 1].tag in NOUN_TAGS and caption.phrase_at(index - 1) is phrase:
        ctx.refuse("compound-adjective")  # part of a compound adjective: "tiger striped"
        return "", []
    if negated(caption, index):
        ctx.refuse("negated")  # "not wet": any change of it stays true of the picture
        return "", []
    if word in _COUNT_WORDS:
        if not caption.is_plural(phrase):
            return "", []
        if ground(caption, phrase):
            ctx.refuse("ground-count")  # one counts things in a scene, not the scene: "two fields"
            return "", []
        return "count", ["two"]  # "several zebras" -> "two zebras": a count the picture contradicts
    if word == "old" and following in OLD_IDIOM_NEXT:
        ctx.refuse("old-idiom")  # "an old fashion stove"
        return "", []
    if word in ("old", "older"):
        animate = is_animate(caption, phrase)
        return "state", [("young" if animate else "new") + ("er" if word == "older" else "")]
    if word == "young" and caption.tokens[phrase.head].lower in lexicon.YOUNG_NOUNS:
        ctx.refuse("young-by-nature")  # "old children"
        return "", []
    if word in ATTRIBUTE_OPPOSITES:
        return "state", list(ATTRIBUTE_OPPOSITES[word])
    return "", []


def _colour_options(caption: Caption, phrase: NounPhrase, word: str, two_tone: bool, ctx: RuleContext) -> list[str]:
    """The colours that may replace ``word`` on the thing ``phrase`` names."""
    present = set(caption.words)
    present |= set().union(*(g for g in COLOUR_EQUIVALENTS if g & present))
    kind = lexname(caption, phrase)
    options = []
    for colour in _colour_alternatives("black" if two_tone else word):
        if colour in present or two_tone and colour == "white":
            ctx.refuse("colour-present")  # not "a red and red bus", not "grey and gray"
        elif kind == "noun.animal" and colour not in ANIMAL_COLOURS:
            ctx.refuse("animal-colour")  # a blue dog is no hard negative
        elif kind in ("noun.food", "noun.plant") and colour in METALLIC_COLOURS:
            ctx.refuse("metallic-food")  # "gold rice", "silver broccoli"
        else:
            options.append(colour)
    return options


def _number_alternatives(caption: Caption, index: int, ctx: RuleContext) -> list[str]:
    """Counts near the one at ``index`` ("two" -> "three", "12" -> "13"), two at the least."""
    word = caption.lower(index)
    if word in NUMBER_WORDS:
        position = NUMBER_WORDS.index(word)
        alternatives = [w for k, w in enumerate(NUMBER_WORDS) if 0 < abs(k - position) <= 2]
    elif re.fullmatch(r"\d{1,3}", word) and int(word) >= 2:
        value = int(word)
        alternatives = [str(v) for v in (value - 1, value + 1, value + 2) if v >= 2 and v != value]
    else:
        return []
    phrase = caption.phrase_at(index)
    if phrase is None:
        return []
    if caption.tokens[phrase.head].tag not in PLURAL_TAGS:
        ctx.refuse("singular-count")  # "the 15 bus": only plural counts, so the noun and verb keep their number
        return []
    return alternatives


# --- a dog -> two dogs ------------------------------------------------------------------------

_SINGULAR_PRONOUNS = frozenset({"it", "its", "itself", "he", "she", "his", "her", "him", "himself", "herself"})
_FINITE = frozenset({"is", "are", "was", "were", "has", "have", "'s", "'re"})


def _finite_verb_after(caption: Caption, phrase: NounPhrase):
    """Index of the finite verb agreeing with a caption-initial subject, None if the caption has
    none ("a dog on a bed"), False if one stands where it may belong to another noun."""
    k = phrase.end
    tokens = caption.tokens
    while k + 1 < len(tokens) and tokens[k].lower == "of":  # "a jar of pickles sits"
        inner = next_phrase(caption, k + 1)
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
        word = caption.lower(k)
        if caption.tokens[k].tag.startswith("VB") and word not in _FINITE or word in ("inside", "in"):
            # Every verb after the subject counts, not the first only: "a man flying through the
            # air while riding a snowboard"; so does a container one sits in (round 16).
            obj = next_phrase(caption, k + 1) or (next_phrase(caption, k + 2) if caption.lower(k + 1) == "of" else None)
            if obj is not None and caption.lower(obj.start) in ("a", "an", "the", "his", "her", "their", "its") \
                    and caption.tokens[obj.head].tag == "NN" and lexname(caption, obj) == "noun.artifact" \
                    and (word not in ("inside", "in") or wordnet.is_container(head_word(caption, obj) or "")):
                return True
    return False


def _wears_one_thing(caption: Caption, subject: NounPhrase) -> bool:
    """Is the subject described by one singular thing it wears or has ("in a blue uniform",
    "with a hat")? More subjects would then share it."""
    for phrase in caption.phrases:
        if phrase.start <= subject.end or phrase.start - 1 < 0:
            continue
        if caption.lower(phrase.start) in ("a", "an", "his", "her") and caption.tokens[phrase.head].tag == "NN":
            before = caption.lower(phrase.start - 1)
            if before == "in" and is_clothing(caption.lower(phrase.head)) or before in ("with", "wearing"):
                return True
    return False


def _count_changes(caption: Caption, ctx: RuleContext) -> list[str]:
    """a dog -> two dogs; a verb after the changed subject agrees ("A dog is" -> "Two dogs are")."""
    candidates = []
    for phrase in caption.phrases:
        article = caption.tokens[phrase.start]
        head = caption.tokens[phrase.head]
        if phrase.start == phrase.head or article.lower not in ("a", "an", "one") or head.tag != "NN":
            continue  # no counted singular: nothing to make two of
        if " " not in head.text and head_word(caption, phrase) is None:
            continue  # no thing ("a view", "a group")
        if wordnet.concrete_sense(head.lower) is None:
            ctx.refuse("abstract-head")  # "a day": nothing one can see two of
            continue
        # Only the subject: "two men riding a horse" is a scene, "a man sitting in two chairs" is not.
        there_is = phrase.start == 2 and caption.lower(0) == "there" and caption.lower(1) in ("is", "was")
        if phrase.start != 0 and not there_is:
            ctx.refuse("not-subject")
            continue
        if not caption.words.isdisjoint(_SINGULAR_PRONOUNS):
            ctx.refuse("singular-pronoun")  # "two giraffes ... its photo"
            continue
        if phrase.end < len(caption.tokens) and caption.lower(phrase.end) in (",", "and", "or", "&"):
            ctx.refuse("list-member")  # "two keyboards and computer monitor": the list's articles would not agree
            continue
        if ground(caption, phrase):
            ctx.refuse("ground-count")  # one counts things in a scene, not the scene: "two living rooms"
            continue
        if not caption.words.isdisjoint(("alone", "single", "lone", "only")):
            ctx.refuse("said-alone")  # "a lone zebra" is one
            continue
        if any(caption.tokens[k].tag in NOUN_TAGS for k in range(phrase.first_modifier, phrase.head)):
            ctx.refuse("noun-modifier")  # "a woman tennis player" -> "two women tennis players": modifiers inflect too
            continue
        if lexname(caption, phrase) == "noun.person" and _handles_one_thing(caption, phrase):
            ctx.refuse("shares-one-thing")  # "two men riding a skateboard": one board, one rider
            continue
        if _wears_one_thing(caption, phrase):
            ctx.refuse("wears-one-thing")  # "two boys in a blue uniform"
            continue
        verb = _finite_verb_after(caption, phrase)
        if verb is False:
            ctx.refuse("unclear-verb")  # a finite verb somewhere we cannot tell belongs to this subject
            continue
        agreement = agree_verbs(caption, verb, verb + 1, plural_subject=True) if verb is not None else []
        if agreement is None:
            ctx.refuse("no-agreement")  # a verb WordNet does not know cannot be made to agree
            continue
        if there_is:
            be = caption.tokens[1]
            agreement = [Edit(1, 2, match_case(be.text, BE_SINGULAR_TO_PLURAL[be.lower]))]
        edits = [Edit(phrase.start, phrase.start + 1, match_case(article.text, "two")),
                 Edit(phrase.head, phrase.head + 1, match_case(head.text, plural(head.lower)))]
        candidates.append(apply_edits(caption, edits + agreement))
    return candidates


_PAIR_COUNTS = {("a", "pair", "of"): "three", ("a", "couple", "of"): "four"}  # "a couple" may loosely be three
_PAIR_FIRST_WORDS = frozenset(key[0] for key in _PAIR_COUNTS)
_PAIR_NOUNS = frozenset(key[1] for key in _PAIR_COUNTS)


def _pair_counts(caption: Caption, ctx: RuleContext) -> list[str]:
    """"a pair of giraffes" -> "three giraffes", "a couple of horses" -> "four horses": people,
    animals and vehicles only ("a pair of skis" is one thing)."""
    candidates = []
    if caption.words.isdisjoint(_PAIR_NOUNS):
        return candidates  # most captions: no "pair" or "couple", so no key can match
    for index in range(len(caption.tokens) - 3):
        if caption.tokens[index].lower not in _PAIR_FIRST_WORDS:  # most words: no key to build
            continue
        key = tuple(t.lower for t in caption.tokens[index:index + 3])
        members = next_phrase(caption, index + 3) if key in _PAIR_COUNTS else None
        if members is None or not caption.is_plural(members):
            continue
        base = head_word(caption, members) or ""
        if is_animate(caption, members) and _handles_one_thing(caption, members):
            ctx.refuse("shares-one-thing")  # "a couple of people riding their motorcycle": four on one
        elif is_animate(caption, members) or wordnet.is_motor_vehicle(base):
            text = match_case(caption.tokens[index].text, _PAIR_COUNTS[key])
            candidates.append(apply_edits(caption, [Edit(index, index + 3, text)]))
        else:
            ctx.refuse("pair-of-things")  # "a pair of skis" is one thing
    return candidates


def replace_att(caption: Caption, ctx: RuleContext) -> list[str]:
    """red -> blue, wooden -> metal, small -> large, two dogs -> three dogs, a dog -> two dogs."""
    candidates = pick(ctx.rng, _count_changes(caption, ctx) + _pair_counts(caption, ctx), 1)
    for index, token in enumerate(caption.tokens):
        if token.tag != "CD" and token.lower not in _ATTRIBUTE_WORDS:
            continue  # most tokens: attribute_alternatives would return none
        category, alternatives = attribute_alternatives(caption, index, ctx)
        if ctx.table is not None and category != "count":
            alternatives = _drawn_by_counts(caption, index, alternatives, ctx)
        if not alternatives:
            continue  # pick would draw nothing from an empty list either
        for replacement in pick(ctx.rng, alternatives, 1) if ctx.table is None else alternatives[:1]:
            candidates.append(apply_edits(caption, [Edit(index, index + 1, match_case(token.text, replacement))]))
    return pick(ctx.rng, candidates, 3)


def _drawn_by_counts(caption: Caption, index: int, alternatives: list[str], ctx: RuleContext) -> list[str]:
    """The alternatives in an order drawn by how often the corpus says each of the thing
    described (else at all), leaving out those its captions use for the same thing as the
    word replaced ("large" / "big", "grey" / "silver")."""
    table = ctx.table
    word = caption.tokens[index].lower
    phrase = caption.phrase_at(index) or _subject_of_predicate(caption, index)
    slots = slots_of(caption)
    thing = slots.thing_at(phrase.start) if phrase is not None else None
    base = slots.things[thing].base if thing is not None else None
    weights = {}
    for candidate in alternatives:
        if alternate(table, "a", word, candidate):
            ctx.refuse("alternates")
            continue
        if base is not None and not any(supports(table, "an", member, base, 1) for member in _class_of(candidate)):
            ctx.refuse("unseen-with-thing")  # "open ocean" -> "closed ocean", "outside tables" -> "inside"
            continue
        said_of_it = table.count("an", candidate, base) if base else 0
        weights[candidate] = said_of_it * SAID_OF_IT_WEIGHT + table.count("a", candidate) + 1
    return draw(ctx.rng, weights, len(weights))


# Open classes of modifiers: a thing the corpus gives one colour (size, material) can be given
# another; a state ("open", "rotten") must have been said of such things itself.
_MATERIALS = frozenset({"wooden", "wood", "metal", "metallic", "steel", "plastic", "glass", "stone", "brick",
                        "concrete", "leather", "paper", "ceramic", "wicker", "cardboard", "marble", "stainless",
                        "iron", "cloth", "wool", "denim"})
_OPEN_CLASSES = (frozenset(lexicon.COLOURS), SIZE_WORDS, _MATERIALS)


def _class_of(word: str) -> frozenset:
    return next((cls for cls in _OPEN_CLASSES if word in cls), frozenset({word}))


# How much more a modifier said of this very thing weighs than one said of anything.
SAID_OF_IT_WEIGHT = 20


# --- swap-att ---------------------------------------------------------------------------------

def _attribute_words(caption: Caption, phrase: NounPhrase, ctx: RuleContext) -> dict[str, int]:
    """The first attribute word of each category among a phrase's modifiers, by category."""
    found = {}
    tokens = caption.tokens
    for index in range(phrase.first_modifier, phrase.head):
        if tokens[index].tag == "CD" or tokens[index].lower not in _ATTRIBUTE_WORDS:
            continue  # a count, or no attribute word: neither is kept below
        category, alternatives = attribute_alternatives(caption, index, ctx)
        if alternatives and category != "count":
            found.setdefault(category, index)
    return found


def _contrasting(first: str, second: str) -> bool:
    """Do two attribute words say different things ("red"/"blue", "large"/"small", not "large"/"giant")?"""
    if first in lexicon.COLOURS and second in lexicon.COLOURS:
        return second in _colour_alternatives(first)
    return second in ATTRIBUTE_OPPOSITES.get(first, ()) or first in ATTRIBUTE_OPPOSITES.get(second, ())


def swap_att(caption: Caption, ctx: RuleContext) -> list[str]:
    """Exchange the modifiers of two nouns: a red car and a blue truck -> a blue car and a red truck."""
    candidates = []
    named = [(p, head) for p in caption.phrases if (head := head_word(caption, p))]
    if len(named) < 2:
        return []  # no pair to exchange modifiers between
    # Head and attribute words once per phrase, not once per pair of phrases.
    phrases = [(head, _attribute_words(caption, p, ctx)) for p, head in named]
    for a, (first_head, first_attrs) in enumerate(phrases):
        for second_head, second_attrs in phrases[a + 1:]:
            pairs = [(first_attrs[c], second_attrs[c]) for c in first_attrs if c in second_attrs]
            if pairs and first_head == second_head:
                ctx.refuse("same-noun")  # "a red dog and a brown dog": which dog is which cannot be told
                continue
            for i, j in pairs:
                left, right = caption.tokens[i], caption.tokens[j]
                if not _contrasting(left.lower, right.lower):
                    ctx.refuse("no-contrast")  # "large" and "giant" trade places to no effect
                    continue
                edits = [Edit(i, i + 1, match_case(left.text, right.lower)), Edit(j, j + 1, match_case(right.text, left.lower))]
                candidates.append(apply_edits(caption, edits))
    return pick(ctx.rng, candidates)
