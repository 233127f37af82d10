"""replace-obj (kind object): a head noun replaced by another thing of its kind.

    A dog on a couch.          -> A cat on a couch.
    A man riding a horse.      -> A woman riding a horse.   (his -> her follows)
    A boy eating food on a plate. -> A boy eating food on a tray.

Replacements come from the curated groups in :data:`.lexicon.OBJECT_GROUPS` first, and for the
long tail of artifacts, foods and plants from WordNet siblings in the same lexicographer file.
Invariants: the replacement is never a synonym, hypernym or hyponym of a noun the caption names,
nor a noun it already names; it takes the preposition before it ("in a field" -> "in a parking
lot", never "in a beach"), agrees with the article, the number and the modifiers ("an old man"
never becomes "an old child"), and fits the scene the rest of the caption describes ("a bathroom
with a toilet" never becomes a kitchen); pronouns follow a change of gender. Every veto below
refuses with the reason in ``REFUSALS``.
"""

from __future__ import annotations

from functools import lru_cache

from . import lexicon, wordnet
from .core import RuleContext, ground, head_word, idiomatic_bare_noun, lexname, negated, pick, plural
from .corpus import CorpusTable
from .grounded import (CURATED_SHARE, PERSON, RARE_THING, SCENE_FLOOR, SIMILARITY_FLOOR, alternate, draw,
                       nouns_related, placed_fits, scene_fit, similarity, supports, thing_kind)
from .slots import Slots, slots_of
from .grammar import match_case
from .parse import NOUN_TAGS, PLURAL_TAGS, Caption, Edit, NounPhrase, apply_edits

REFUSALS: tuple[str, ...] = (
    # the position
    "compound-head", "simile", "part-of-name", "container-of", "seating-stands", "negated", "idiomatic-bare-noun",
    "modified-ground", "invariant-number", "worn-creature", "possessed-person",
    # a replacement proposed by the corpus table
    "unseen-in-slot", "unseen-beside-relation", "alternates", "wordnet-related", "unlike", "off-scene",
    # a replacement
    "wrong-preposition", "already-named", "unsliceable", "colour-in-name", "mass-noun", "grown-young",
    "small-adult", "gendered-clothes", "scene-clue", "same-room", "related-noun", "unclear-pronoun",
)

# --- where a replacement comes from -----------------------------------------------------------

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


def _drawn_alternatives(caption: Caption, phrase: NounPhrase, base: str, ctx: RuleContext) -> tuple[str, ...]:
    """The replacements to try, best first. Without a corpus table: the curated alternatives.
    With one: the curated alternatives the corpus does not contradict (and, with
    ``corpus_proposals``, the corpus's own things for every slot the phrase fills), in an order
    drawn by how often the corpus names each, so that the negatives' words are as common as the
    captions' own. (Round 15: curated replacements were read valid 64 times in 77, the
    corpus's own 21 in 36.)"""
    curated = _object_alternatives(base)
    table = ctx.table
    if table is None:
        return curated
    slots = slots_of(caption)
    number = slots.thing_at(phrase.start)
    if number is None:
        return curated
    weights = _grounded_alternatives(table, caption, slots, number, ctx) if ctx.corpus_proposals else {}
    filled = _slots_filled(caption, slots, number)
    if thing_kind(base) == PERSON:
        filled = [slot for slot in filled if slot[0] != "an"]  # "blonde", "barefoot": said of any person
    for candidate in curated:  # their scene was checked by the curated clues (SCENE_CLUES) below
        if candidate in weights:
            continue
        if alternate(table, "n", base, candidate):
            ctx.refuse("alternates")
        elif not all(supports(table, name, *_pair(other, candidate, side), side) for name, other, side in filled):
            ctx.refuse("unseen-in-slot")  # "orange juice" -> "orange wine": no wine is orange here
        else:
            weights[candidate] = max(1, table.count("n", candidate) // CURATED_SHARE)
    return tuple(draw(ctx.rng, weights, len(weights)))


def _slots_filled(caption: Caption, slots: Slots, number: int) -> list[tuple[str, str, int]]:
    """Every slot thing ``number`` fills, as (count name, the other word, the thing's side in
    the pair): ("vo", "ride", 1) for "riding a *horse*", ("sv", "ride", 0) for "a *man* riding"."""
    filled = [("an", caption.tokens[k].lower, 1) for k in slots.things[number].modifiers]
    filled += [("vo", a.lemma, 1) for a in slots.acts if a.object == number]
    filled += [("sv", a.lemma, 0) for a in slots.acts if a.subject == number]
    filled += [("ro", r.words, 1) for r in slots.relations if r.object == number]
    return filled


def _pair(other: str, thing: str, thing_side: int) -> tuple[str, str]:
    return (other, thing) if thing_side == 1 else (thing, other)


def _grounded_alternatives(table: CorpusTable, caption: Caption, slots: Slots, number: int, ctx: RuleContext) -> dict[str, int]:
    """Things this corpus names in every slot thing ``number`` fills, with the count of the
    tightest slot as weight: the things that are ridden, for "a man riding a *horse*". Only
    things named at least :data:`RARE_THING` times are proposed (their counts are their own)."""
    thing = slots.things[number]
    base = thing.base
    kind = thing_kind(base)
    if kind is None:
        return {}
    # Every slot the thing fills, as the things the corpus puts in it (all must agree).
    slot_fillers = [table.by_first(name, other) if side == 1 else table.by_last(name, other)
                    for name, other, side in _slots_filled(caption, slots, number)]
    # "a slice of *pizza*": what stands before the relation must go with the new thing too
    placed_before = [(slots.things[r.before].base, r.words) for r in slots.relations
                     if r.object == number and r.before is not None]
    placed = [r.words for r in slots.relations if r.before == number]
    if not slot_fillers:
        return {}  # no verb, relation or modifier to ground a replacement in: the curated ones alone
    pool = slot_fillers[-1]  # the relation or the verb: the tightest
    others = {t.base for t in slots.things} - {base}
    weights: dict[str, int] = {}
    for candidate, count in pool.items():
        if candidate == base or candidate in others or thing_kind(candidate) != kind \
                or table.count("n", candidate) < RARE_THING:
            continue  # not a thing of the same kind, or too rare to judge: no candidate at all
        # The look-ups first, then the judges of the pair, then the scene (the dearest).
        if not all(candidate in fillers for fillers in slot_fillers):
            ctx.refuse("unseen-in-slot")
        elif not all(placed_fits(table, owner, r, candidate) for owner, r in placed_before) \
                or not all(table.count("rg", "n:" + candidate, r) for r in placed):
            ctx.refuse("unseen-beside-relation")
        elif (pair := _pair_judgement(table, base, candidate)) != _FIT:
            if pair == _ALTERNATES:
                ctx.refuse("alternates")  # the captions of one image say either: "couch" / "sofa"
            elif pair == _RELATED:
                ctx.refuse("wordnet-related")  # a synonym, hypernym or hyponym
            else:
                ctx.refuse("unlike")  # not things the corpus treats alike: "cake" / "book"
        elif others and scene_fit(table, candidate, others) < SCENE_FLOOR:
            ctx.refuse("off-scene")
        else:
            weights[candidate] = count
    return weights


_FIT, _ALTERNATES, _RELATED, _UNLIKE = range(4)


def _pair_judgement(table: CorpusTable, base: str, candidate: str) -> int:
    """Whether ``candidate`` may stand for ``base`` whatever the caption; kept per table, since
    the same pairs come up caption after caption."""
    cache = table.__dict__.setdefault("_object_pairs", {})
    key = (base, candidate)
    if key not in cache:
        if alternate(table, "n", base, candidate):
            cache[key] = _ALTERNATES
        elif nouns_related(base, candidate):
            cache[key] = _RELATED
        elif similarity(table, base, candidate) < SIMILARITY_FLOOR:
            cache[key] = _UNLIKE
        else:
            cache[key] = _FIT
    return cache[key]


# --- which positions may change ---------------------------------------------------------------

# Nouns with the same singular and plural: their number cannot be read off the word.
INVARIANT_NOUNS = frozenset({"sheep", "deer", "fish", "moose", "bison", "aircraft"})


def _compound_head(caption: Caption, head: int) -> bool:
    """Is the noun at ``head`` the second half of a compound ("city bus", "a washing machine")?
    A participle after a noun is a verb with its object instead ("men riding horses")."""
    if head == 0:
        return False
    before = caption.tokens[head - 1]
    if before.tag in ("NN", "NNS"):
        return True
    return before.tag == "VBG" and (head < 2 or caption.tokens[head - 2].tag in ("DT", "PRP$", "JJ", "CD"))


def _may_replace(caption: Caption, phrase: NounPhrase, base: str, ctx: RuleContext) -> bool:
    """May the head noun of ``phrase`` change at all? Refuses where it may not."""
    head = caption.tokens[phrase.head]
    if _compound_head(caption, phrase.head):
        ctx.refuse("compound-head")  # head of a compound: "washing machine" -> "washing fan" is no thing
        return False
    if phrase.start > 0 and caption.lower(phrase.start - 1) in ("like", "as"):
        ctx.refuse("simile")  # a simile names nothing in the picture
        return False
    if 0 < phrase.head - 1 and phrase.first_modifier < phrase.head \
            and caption.tokens[phrase.head - 1].text[:1].isupper() and not caption.all_caps:
        ctx.refuse("part-of-name")  # part of a name: "the Eiffel tower"
        return False
    if phrase.end < len(caption.tokens) and (caption.lower(phrase.end) == "of"
                                             or caption.lower(phrase.end) in lexicon.CONTENT_PARTICIPLES):
        ctx.refuse("container-of")  # a container of something: "a bowl of food" -> "a jar of food", "a plate topped with"
        return False
    if head.lower == "stands" and caption.lower(phrase.start) == "the":
        ctx.refuse("seating-stands")  # "fans in the stands": the seating, not a piece of furniture
        return False
    if negated(caption, phrase.head):
        ctx.refuse("negated")  # "not wearing a shirt" -> "not wearing a dress" is still true
        return False
    if idiomatic_bare_noun(caption, phrase):
        ctx.refuse("idiomatic-bare-noun")  # "laying in bed" -> "laying in bench"
        return False
    if ground(caption, phrase) and phrase.first_modifier < phrase.head:
        ctx.refuse("modified-ground")  # "dry grass" -> "dry snow": the modifier was chosen for the old ground
        return False
    if base in INVARIANT_NOUNS and caption.lower(phrase.start) not in ("a", "an", "one"):
        ctx.refuse("invariant-number")  # "a herd of sheep": singular or plural? the replacement could not agree
        return False
    if phrase.start > 0 and wordnet.verb_lemma(caption.lower(phrase.start - 1)) == "wear" \
            and lexname(caption, phrase) in ("noun.animal", "noun.person"):
        ctx.refuse("worn-creature")  # "wearing a cat" is a typo for "hat", not a cat
        return False
    if caption.tokens[phrase.start].tag == "PRP$" and lexname(caption, phrase) == "noun.person":
        ctx.refuse("possessed-person")  # "parents with their children" -> "their men" is no relation anyone has
        return False
    return True


# --- which replacements fit -------------------------------------------------------------------

# The prepositions each place takes: a place is replaced only by one that takes the same one
# ("in a field" -> "in a parking lot", but not "in a beach"). Places not listed take any.
_ROOMS = ("kitchen", "bathroom", "bedroom", "living room", "office", "store", "restaurant")
SCENE_PREPOSITIONS: dict[str, frozenset] = {
    **{room: frozenset({"in", "inside", "into", "outside", "near", "at", "by"}) for room in _ROOMS},
    **{path: frozenset({"on", "in", "down", "up", "along", "across", "near", "by", "beside", "onto", "off"})
       for path in ("street", "road", "highway", "sidewalk")},
    "field": frozenset({"in", "on", "across", "through", "near", "by", "into", "onto"}),
    "beach": frozenset({"on", "at", "along", "across", "near", "by", "onto"}),
    "parking lot": frozenset({"in", "across", "through", "near", "by", "into", "at"}),
    "park": frozenset({"in", "at", "through", "near", "by", "into", "across"}),
    "grass": frozenset({"in", "on", "across", "through", "near", "onto", "into"}),
    "snow": frozenset({"in", "on", "across", "through", "onto", "into"}),
    "sand": frozenset({"in", "on", "across", "through", "onto", "into"}),
    "zoo": frozenset({"in", "at", "near", "by"}), "farm": frozenset({"on", "at", "near", "by"}),
    "mountain": frozenset({"on", "down", "up", "near", "by", "across"}),
    "forest": frozenset({"in", "through", "near", "by", "into"}),
    "desert": frozenset({"in", "through", "across", "near", "into"}),
    # seats: one sits in a chair or a bed, but on a bench or a couch ("posed in a bench", round 10)
    **{seat: frozenset({"on", "near", "by", "beside", "behind", "to", "at", "onto", "off", "from", "under"})
       for seat in ("bench", "couch", "sofa")},
    **{seat: frozenset({"in", "on", "near", "by", "beside", "behind", "to", "at", "onto", "off", "from", "under"})
       for seat in ("chair", "armchair")},
    "bed": frozenset({"in", "on", "near", "by", "beside", "to", "onto", "off", "from", "under"}),
    "table": frozenset({"on", "at", "near", "by", "beside", "behind", "to", "onto", "off", "from", "under", "around"}),
    # dishes: food is on a plate but in a bowl ("eating some food on a bowl", round 10)
    "plate": frozenset({"on", "onto", "off", "from", "near", "beside", "to", "by", "with"}),
    "bowl": frozenset({"in", "into", "from", "out", "near", "beside", "to", "by", "with", "inside"}),
    "tray": frozenset({"on", "onto", "off", "in", "from", "near", "beside", "to", "by", "with"}),
}


def _fitting_preposition(caption: Caption, phrase: NounPhrase, alternatives, ctx: RuleContext) -> list[str]:
    """Keep the replacements that take the preposition before the phrase: "in a field" may become
    "in a parking lot" but not "in a beach"; "sitting at a table" not "sitting at a bed"."""
    if phrase.start == 0 or caption.tokens[phrase.start - 1].tag not in ("IN", "TO", "RP", "RB"):
        return list(alternatives)
    preposition = caption.lower(phrase.start - 1)
    kept = []
    for word in alternatives:
        takes = SCENE_PREPOSITIONS.get(word)
        if takes is not None and preposition not in takes or takes is None and preposition == "at" \
                and word not in lexicon.AT_OBJECTS:
            ctx.refuse("wrong-preposition")
        else:
            kept.append(word)
    return kept


PARTITIVE_NOUNS = frozenset({"slice", "slices", "piece", "pieces", "bite", "bites", "chunk", "chunks", "wedge"})
# Foods one cannot have a slice or a piece of: not "a slice of soup".
UNSLICEABLE_FOODS = frozenset({"soup", "salad", "pasta", "rice", "juice", "coffee", "tea", "beer", "wine",
                               "water", "spinach", "lettuce", "broccoli", "cauliflower", "omelet", "shrimp",
                               "burger", "hamburger", "hot dog", "taco", "sandwich"})

# Nouns that take no "a": a replacement from these is not put after "a"/"an" ("a pasta").
MASS_NOUNS = frozenset({"pasta", "rice", "bread", "meat", "cheese", "tofu", "coffee", "tea", "beef", "chicken",
                        "shrimp", "juice", "wine", "beer", "soup", "snow", "grass", "sand", "dirt", "water",
                        "furniture", "luggage", "broccoli", "spinach", "lettuce", "cauliflower"})

GROWN_MODIFIERS = frozenset({"old", "older", "elderly", "aged", "adult", "grown", "senior", "bearded",
                             "middle-aged", "mature", "bald"})
# Modifiers that say a person is grown: "an old man" does not become "an old child".
# A small or little person is a child: "a small child" never becomes "a small man".
SMALL_MODIFIERS = frozenset({"small", "little", "tiny", "baby"})
ADULT_NOUNS = frozenset({"man", "woman", "adult", "lady", "gentleman", "guy"})

# Words that tie a noun to its scene. An object is not replaced by one the rest of the caption
# contradicts: "a bathroom with a sink and a toilet" never becomes a kitchen, "a bed with a
# wooden headboard" never a table, "a surfer riding the wave" never a skier. A replacement is
# refused when the caption holds a clue of the original that is not also one of the replacement.
_WATER_CLUES = ("wave", "waves", "surf", "ocean", "water", "paddle", "sea")
_SNOW_CLUES = ("snow", "slope", "lift", "snowy")
_SKI_CLUES = _SNOW_CLUES + ("ski", "skis", "skiing", "skier", "skiers", "poles")
SCENE_CLUES: dict[str, frozenset] = {name: frozenset(clues) for name, clues in {
    "bathroom": ("toilet", "toilets", "shower", "bathtub", "tub", "urinal", "sink", "towel", "towels", "rails"),
    "kitchen": ("stove", "oven", "refrigerator", "fridge", "microwave", "dishwasher", "sink", "cabinets", "counter",
                "food", "cooking", "cook", "preparing", "meal", "dinner", "chef"),
    "bedroom": ("bed", "beds", "pillow", "pillows", "dresser", "nightstand"),
    "living room": ("couch", "sofa", "fireplace", "television", "tv"),
    "office": ("desk", "computer", "computers", "laptop", "monitor", "keyboard"),
    "bed": ("headboard", "pillow", "pillows", "sheets", "comforter", "blanket", "mattress", "nightstand"),
    "surfboard": _WATER_CLUES, "surfer": _WATER_CLUES, "boat": _WATER_CLUES,
    "skier": _SKI_CLUES, "ski": _SKI_CLUES, "snowboarder": _SNOW_CLUES + ("snowboard", "snowboarding"),
    "snowboard": _SNOW_CLUES, "mountain": _SKI_CLUES, "hill": _SKI_CLUES,
    "skateboarder": ("ramp", "skatepark"),
    "beach": ("sand", "sandy", "shore", "surfboard", "surfer") + _WATER_CLUES,
    "zoo": ("exhibit", "enclosure", "habitat"), "farm": ("barn", "tractor"),
    "refrigerator": ("freezer", "ice", "magnets", "dispenser", "doors"),
    "tennis player": ("racket", "racquet", "tennis", "court", "net", "serve"),
    "baseball player": ("bat", "glove", "mitt", "base", "plate", "pitch", "baseball", "dugout", "mound"),
    "batter": ("bat", "plate", "pitch", "swing"), "catcher": ("mitt", "glove", "plate"),
    "train": ("tracks", "track", "station", "platform", "railroad", "rail", "rails"),
    "airplane": ("runway", "tarmac", "airport", "wing", "wings", "pilot"),
    "plane": ("runway", "tarmac", "airport", "wing", "wings", "pilot"),
    "helicopter": ("runway", "tarmac", "airport", "pilot"), "jet": ("runway", "tarmac", "airport", "pilot"),
    "umpire": ("plate", "pitch", "mitt", "glove"), "ship": _WATER_CLUES,
    "horse": ("saddle", "rider", "jockey", "reins", "riding", "ride", "rides", "rode", "racing", "drawn",
              "carriage", "buggy", "trolley", "trolly", "cart"),
    "camel": ("saddle", "rider", "riding", "ride", "rides", "rode"),
    "mirror": ("reflection", "looking"),
    "building": ("inside", "windows", "floors"),
    "toilet": ("seat", "lid", "flush", "tank"),
    "forest": ("tree", "trees", "wooded", "woods"),
    "elephant": ("back", "riding", "ride", "rides", "trunk", "tusks"),
    "bike": ("parked", "pedal", "pedaling", "chain", "riding"), "bicycle": ("parked", "pedal", "pedaling", "chain"),
    "road": ("vehicles", "car", "cars", "bus", "traffic", "truck", "trucks", "driving"),
    "sign": ("names", "name", "says", "reads", "read", "saying", "words", "arrow", "directions", "warning", "park"),
    "tower": ("domed", "dome", "clock", "spire"),
    "toothbrush": ("teeth", "brushing", "brushes", "brush"),
    "oven": ("stove", "baking", "baked", "bake"),
    "teddy bear": ("stuffed", "plush"),
    "cat": ("calico", "tabby", "siamese", "persian", "whiskers"),
    "street": ("walking", "walks", "walk", "bus", "car", "cars", "traffic", "truck", "trucks", "taxi", "sign",
               "signs", "hydrant", "meter", "pole", "driving", "crossing", "carriage"),
    "tree": ("shade", "branch", "branches", "trunk", "perched", "climbing"),
    "skateboard": ("ramp", "skatepark", "trick", "tricks", "flip", "flipping", "grind", "grinds", "grinding"),
    "donut": ("glazed", "frosted", "sprinkles"), "doughnut": ("glazed", "frosted", "sprinkles"),
    "hot dog": ("bun", "buns", "mustard", "ketchup", "relish"), "hamburger": ("bun", "buns", "mustard", "ketchup"),
    "clock": ("numerals", "hands", "face", "faced", "time", "hour", "reads", "read", "says"),
    "bus": ("road", "street", "highway", "traffic", "stop"),
    "door": ("refrigerator", "fridge", "oven", "microwave", "freezer", "dishwasher"),
    "cake": ("frosting", "icing", "candles", "candle"),
    "pizza": ("crust", "toppings", "pepperoni", "box", "cardboard", "delivery"),
    "computer": ("mouse", "keyboard", "screen", "uses", "using", "typing", "working"), "laptop": ("keyboard", "screen"),
    "phone": ("picture", "pictures", "photo", "selfie", "talking", "texting", "call"),
}.items()}

_COLOUR_WORDS = frozenset(lexicon.COLOURS)
# What any room's clues name: a head outside it is in no room's things, whatever the caption says.
_ANY_ROOM_THINGS = frozenset().union(*(SCENE_CLUES[w] for w in lexicon.ROOM_NOUNS if w in SCENE_CLUES))


def _fitting_replacements(caption: Caption, phrase: NounPhrase, base: str, alternatives, heads: set,
                          words: set, ctx: RuleContext) -> list[str]:
    """The replacements for ``base`` that fit where its phrase stands in this caption."""
    others = heads - {base}
    modifiers = {caption.lower(k) for k in range(phrase.start, phrase.head)}
    # What the modifiers and the article rule out, once for all the alternatives.
    coloured = not modifiers.isdisjoint(_COLOUR_WORDS)
    grown = not modifiers.isdisjoint(GROWN_MODIFIERS)
    small = not modifiers.isdisjoint(SMALL_MODIFIERS)
    counted = caption.lower(phrase.start) in ("a", "an", "one", "another")
    partitive = phrase.start > 1 and caption.lower(phrase.start - 1) == "of" \
        and caption.lower(phrase.start - 2) in PARTITIVE_NOUNS
    scene_clues = SCENE_CLUES.get(base)  # most nouns have none: then no need to split the words
    clues = scene_clues & (words | {part for w in words for part in w.split(" ")}) if scene_clues else frozenset()
    # A kitchen with a stove may have a dishwasher too: two things of a room the caption names
    # are no negative of each other.
    room_things = set().union(*(SCENE_CLUES[w] for w in (words | heads) & lexicon.ROOM_NOUNS
                                if w in SCENE_CLUES)) if base in _ANY_ROOM_THINGS else ()
    kept = []
    for a in _fitting_preposition(caption, phrase, alternatives, ctx):
        if a in heads or a in words or plural(a) in words:
            ctx.refuse("already-named")  # not a noun the caption names
        elif partitive and a in UNSLICEABLE_FOODS:
            ctx.refuse("unsliceable")  # not "a slice of soup"
        elif coloured and not _COLOUR_WORDS.isdisjoint(a.split(" ")):
            ctx.refuse("colour-in-name")  # "white brown bear"
        elif counted and a in MASS_NOUNS:
            ctx.refuse("mass-noun")  # "a pasta"
        elif grown and a in lexicon.YOUNG_NOUNS:
            ctx.refuse("grown-young")  # not "an old child"
        elif small and a in ADULT_NOUNS:
            ctx.refuse("small-adult")  # not "a small man"
        elif a in MALE_NOUNS and not words.isdisjoint(FEMALE_CLUES) \
                or a in FEMALE_NOUNS and not words.isdisjoint(MALE_CLUES):
            ctx.refuse("gendered-clothes")  # "two men in colorful dresses" (round 16's tune reading)
        elif not clues <= SCENE_CLUES.get(a, frozenset()):
            ctx.refuse("scene-clue")  # not "a kitchen with a toilet"
        elif a in room_things and base in room_things:
            ctx.refuse("same-room")  # a stove and a dishwasher stand in one kitchen
        # Last: for a word not met before, this one loads WordNet senses and their hypernyms.
        elif wordnet.related_to_any(a, others):
            ctx.refuse("related-noun")  # nor a synonym, hypernym or hyponym of one: "women and adults"
        else:
            kept.append(a)
    return kept


MALE_NOUNS = frozenset({"man", "boy", "gentleman", "guy", "father", "son", "king", "groom", "grandfather",
                        "husband", "brother", "uncle", "nephew", "grandson", "businessman", "policeman"})
FEMALE_NOUNS = frozenset({"woman", "girl", "lady", "mother", "daughter", "queen", "bride", "grandmother",
                          "wife", "sister", "aunt", "niece", "granddaughter", "businesswoman", "policewoman"})
# What a caption may say that mostly women, or mostly men, wear or have: a change of gender
# against them reads as a joke, not a caption.
FEMALE_CLUES = frozenset({"dress", "dresses", "skirt", "skirts", "gown", "gowns", "bikini", "bikinis", "bra",
                          "heels", "purse", "purses", "handbag", "blouse", "tiara", "pregnant", "lipstick"})
MALE_CLUES = frozenset({"beard", "beards", "bearded", "mustache", "moustache", "tuxedo", "goatee"})
MALE_TO_FEMALE_PRONOUNS = {"he": "she", "him": "her", "his": "her", "himself": "herself"}
FEMALE_TO_MALE_PRONOUNS = {"she": "he", "hers": "his", "herself": "himself"}
GENDERED_PRONOUNS = frozenset(MALE_TO_FEMALE_PRONOUNS) | frozenset(FEMALE_TO_MALE_PRONOUNS) | {"her"}
_GENDERED_NOUNS = MALE_NOUNS | FEMALE_NOUNS


def _pronoun_edits(caption: Caption, old: str, new: str, gendered_heads: int) -> list[Edit] | None:
    """Pronoun edits that follow a change of gender (man -> woman: his -> her), or None when the
    pronouns cannot be told apart (two gendered nouns in the caption)."""
    male = old in MALE_NOUNS and new not in MALE_NOUNS
    female = old in FEMALE_NOUNS and new not in FEMALE_NOUNS
    if not (male or female):
        return []
    if new not in _GENDERED_NOUNS:
        return [] if caption.words.isdisjoint(GENDERED_PRONOUNS) else None
    pronouns = [k for k, t in enumerate(caption.tokens) if t.lower in GENDERED_PRONOUNS]
    if not pronouns:
        return []
    people = sum(1 for p in caption.phrases if lexname(caption, p) == "noun.person")
    if gendered_heads > 1 or people > 1:
        return None  # "a woman holds a child ... her temperature": whose pronoun is it?
    edits = []
    for k in pronouns:
        word = caption.lower(k)
        if male:
            replacement = MALE_TO_FEMALE_PRONOUNS.get(word)
        elif word == "her":  # object ("hugging her") or possessive ("her dog")
            following = caption.tokens[k + 1].tag if k + 1 < len(caption.tokens) else ""
            replacement = "his" if following in NOUN_TAGS or following.startswith("JJ") else "him"
        else:
            replacement = FEMALE_TO_MALE_PRONOUNS.get(word)
        if replacement:
            edits.append(Edit(k, k + 1, match_case(caption.tokens[k].text, replacement)))
    return edits


# --- the rule ---------------------------------------------------------------------------------

def replace_obj(caption: Caption, ctx: RuleContext) -> list[str]:
    """dog -> wolf, table -> desk: a WordNet sibling of a head noun, same lexicographer file."""
    candidates = []
    heads = {head_word(caption, p) for p in caption.phrases}
    words = caption.words
    gendered_heads = len(heads & _GENDERED_NOUNS)
    for phrase in caption.phrases:
        base = head_word(caption, phrase)
        if base is None:
            continue  # no thing ("a group", "the picture")
        if not _may_replace(caption, phrase, base, ctx):
            continue  # it may not change
        alternatives = _drawn_alternatives(caption, phrase, base, ctx)
        if not alternatives:
            continue  # nothing to replace it with
        alternatives = _fitting_replacements(caption, phrase, base, alternatives, heads, words, ctx)
        # Only replacements the pronouns can follow: "a man ... himself" may become a woman, not a child.
        viable = []
        for a in alternatives:
            edits = _pronoun_edits(caption, base, a, gendered_heads)
            if edits is None:
                ctx.refuse("unclear-pronoun")
            else:
                viable.append((a, edits))
        head = caption.tokens[phrase.head]
        chosen = viable[:1] if ctx.table is not None else pick(ctx.rng, viable, 1)  # drawn by counts already
        for sibling, edits in chosen:
            if head.tag in PLURAL_TAGS:
                sibling = plural(sibling)
            cased = head.text if phrase.head == 0 or caption.all_caps else head.text.lower()  # "a Frisbee" -> "a ball"
            edits.append(Edit(phrase.head, phrase.head + 1, match_case(cased, sibling)))
            candidates.append(apply_edits(caption, edits))
    return pick(ctx.rng, candidates, 3)
