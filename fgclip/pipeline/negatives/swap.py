"""Order swaps (kind relation): two noun phrases trade places, each with its own modifiers.

    A dog chasing a cat.                 -> A cat chasing a dog.          (swap-obj)
    A man riding a horse on a beach.     -> A horse riding a man on a beach.   (swap-np)

Two rules, labelled apart in every shard so that the trainer and the stats can tell them apart:

- **swap-obj**, the plausible swap: two neighbouring phrases joined by a short relation (a
  preposition or a verb, at most four words), of things that could trade places. With a corpus
  table, "could" means the corpus fills every slot the swap changes that way (cats chase, dogs
  are chased); without one, the curated kinds of :func:`_plausible_swap` decide.
- **swap-np**, the paper's swap (CE-CLIP's generator, ARO and NegCLIP): any two things of the
  caption that a verb or a relation stands between, plausible or not. This is the word order
  ARO-Relation and SugarCrepe's swap subsets test.

Invariants of both: whole noun phrases move, with their articles and modifiers, and "of" phrases
that belong to them ("a slice of pizza"); never a pronoun, a name, or a phrase owned by another
("his dog"); never across a relation that reads the same both ways round; the two things differ;
the verbs follow the new subject's number. Every veto refuses with a reason in ``REFUSALS``.
"""

from __future__ import annotations

from typing import NamedTuple

from . import lexicon, wordnet
from .core import RuleContext, agree_verbs, ground, head_word, idiomatic_bare_noun, lexname, pick
from .grounded import fits, nouns_related, placed_fits, thing_kind
from .parse import PLURAL_TAGS, Caption, Edit, NounPhrase, apply_edits, moved_text
from .slots import Slots, read_slots

REFUSALS: tuple[str, ...] = (
    "participle-compound", "symmetric-relation", "container-of", "same-noun", "different-kinds", "ground-swap",
    "child-swap", "food-verb", "fixed-placement", "no-agreement", "unsupported-swap",
)

# Relations that read the same both ways round: swapping their two objects is no negative.
SYMMETRIC_RELATIONS = frozenset({
    "next to", "near", "beside", "besides", "by", "and", "or", "with each other", "across from",
    "opposite", "alongside", "close to", "together with", "among", "between", "along with", "nearby",
    "against", "facing", "meeting", "side by side with", "along", "around", "as", "like", "with",
    "far from", "next", "to each other", "married to", "similar to", "identical to",
})

# A relation phrase between two noun phrases must not contain these (they join, not relate).
NOT_RELATION_WORDS = frozenset({
    "and", "or", "but", ",", ";", ":", ".", "of", "that", "which", "who", "while", "as", "than",
    "there", "where", "when", "whose", "for", "each", "other", "both",
})

# Drawn shapes (diagrams, fgclip's synthetic shapes world): WordNet files most of them under
# noun.shape, which is no visible thing there, yet each can sit anywhere beside another thing.
SHAPE_NOUNS = frozenset({"circle", "square", "triangle", "star", "cross", "rectangle", "oval", "diamond",
                         "heart", "hexagon", "pentagon"})

_RELATION_NOUNS = frozenset({"front", "left", "right", "top", "back", "middle"})
_FREE_PLACEMENT = frozenset({"in front of", "behind", "to the left of", "to the right of", "on the left of",
                             "on the right of", "above", "below"})


def _placed_kind(caption: Caption, phrase: NounPhrase) -> str | None:
    """What kind of thing a phrase names, drawn shapes included; None if it names no thing."""
    if (head_word(caption, phrase) or "") in SHAPE_NOUNS:
        return "noun.shape"
    return lexname(caption, phrase)


def _plausible_swap(caption: Caption, first: NounPhrase, second: NounPhrase, relation: str, ctx: RuleContext) -> bool:
    """Would the swapped caption still describe a possible scene?

    Two people or two animals can trade roles in any relation ("a dog chasing a cat"); two foods
    can trade places ("rice on top of broccoli"); other things of one kind only where placement
    is free ("a chair in front of a table", "a red circle above a blue square"). A person and a
    horse, or a man and a bench, cannot: "a bench sitting on a man" is false, but no one would
    write it, so it teaches nothing. (Across kinds, even "in front of" mostly hangs off a verb in
    real captions: "a hand holding a cat in front of a bottle".)
    """
    kinds = {_placed_kind(caption, first), _placed_kind(caption, second)}
    if None in kinds:
        return False  # one of them names no thing
    if len(kinds) != 1:
        ctx.refuse("different-kinds")
        return False
    if ground(caption, first) or ground(caption, second):
        ctx.refuse("ground-swap")  # "a field in a dog" is no scene
        return False
    kind = kinds.pop()
    if {head_word(caption, first), head_word(caption, second)} & lexicon.YOUNG_NOUNS:
        ctx.refuse("child-swap")  # "a baby holding a man"
        return False
    if kind in ("noun.person", "noun.animal"):
        return True
    if kind == "noun.food":
        if any(t.tag.startswith("VB") for t in caption.tokens[first.end:second.start]):
            ctx.refuse("food-verb")  # "a pizza topped with cheese" cannot top the cheese with pizza
            return False
        return True
    if relation in _FREE_PLACEMENT:
        return True
    ctx.refuse("fixed-placement")  # "a lamp on a table": the table does not stand on the lamp
    return False


def _supported_swap(caption: Caption, first: NounPhrase, second: NounPhrase, ctx: RuleContext) -> bool:
    """Does the corpus fill every slot the swap changes the swapped way? The doer of each act,
    what each act is done to, and what stands on each side of each relation."""
    table = ctx.table
    slots = read_slots(caption)
    a, b = slots.thing_at(first.start), slots.thing_at(second.start)
    if a is None or b is None:
        return False
    swapped = {a: slots.things[b].base, b: slots.things[a].base}
    for act in slots.acts:
        if act.subject in swapped and not fits(table, "sv", swapped[act.subject], act.lemma, 0):
            return False
        if act.object in swapped and not fits(table, "vo", act.lemma, swapped[act.object], 1):
            return False
    for relation in slots.relations:
        if relation.before not in swapped and relation.object not in swapped:
            continue
        placed = swapped.get(relation.before, slots.things[relation.before].base if relation.before is not None else None)
        target = swapped.get(relation.object, slots.things[relation.object].base)
        if relation.object in swapped and not fits(table, "ro", relation.words, target, 1):
            return False
        if placed is not None and not placed_fits(table, placed, relation.words, target):
            return False
    return True


def swap_obj(caption: Caption, ctx: RuleContext) -> list[str]:
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
        if not 1 <= len(between) <= 4 or not free_placement and any(w in NOT_RELATION_WORDS for w in words):
            continue  # no relation between them: a list, a clause, or too far apart
        if not any(t.tag.startswith(("IN", "VB", "RP")) for t in between):
            continue
        first_head, second_head = head_word(caption, first), head_word(caption, second)
        if first_head is None or second_head is None:
            continue  # one of them names no thing
        if len(between) == 1 and between[0].tag in ("VBN", "VBD") and caption.tokens[second.start].tag not in ("DT", "PRP$", "CD"):
            ctx.refuse("participle-compound")  # "a grass covered field" is one thing, not two
            continue
        relation = " ".join(w for w, t in zip(words, between) if t.tag not in ("VBZ", "VBP", "RB") and w not in ("is", "are"))
        if relation in SYMMETRIC_RELATIONS or any(word in SYMMETRIC_RELATIONS for word in words):
            ctx.refuse("symmetric-relation")  # "a dog next to a cat" is a cat next to a dog
            continue
        if first.start > 0 and caption.lower(first.start - 1) == "of":
            ctx.refuse("container-of")  # "a vase of flowers": the object is the vase, not the flowers
            continue
        if first_head == second_head:
            ctx.refuse("same-noun")  # "a dog chasing a dog" swaps into itself
            continue
        # The curated kinds first; a corpus table must then also say each changed slot (round 15:
        # the counts of 10k captions alone let "a mirror has the bathroom" through).
        if not _plausible_swap(caption, first, second, relation, ctx):
            continue
        if ctx.table is not None and not _supported_swap(caption, first, second, ctx):
            ctx.refuse("unsupported-swap")  # the corpus never has a horse ride a man
            continue
        text = _swapped(caption, first.start, first.end, second.start, second.end, caption.is_plural(first),
                        caption.is_plural(second), ctx)
        if text is not None:
            candidates.append(text)
    return pick(ctx.rng, candidates)


def _swapped(caption: Caption, first_start: int, first_end: int, second_start: int, second_end: int,
             first_plural: bool, second_plural: bool, ctx: RuleContext) -> str | None:
    """The caption with tokens [first_start, first_end) and [second_start, second_end) exchanged;
    the second is the new subject, so the verbs between and right after it follow its number."""
    edits = [
        Edit(first_start, first_end, moved_text(caption, second_start, second_end, first_start == 0)),
        Edit(second_start, second_end, moved_text(caption, first_start, first_end, False)),
    ]
    if first_plural != second_plural:
        if first_start != 0 and any(t.tag in ("VBZ", "VBP") or t.lower in ("is", "are", "was", "were")
                                    for t in caption.tokens[first_end:second_start]):
            # "The woman with the umbrella *is* looking at the passerbys": the verb may be
            # another phrase's; which number it should take cannot be read off the caption.
            ctx.refuse("no-agreement")
            return None
        agreement = agree_verbs(caption, first_end, second_start, second_plural)
        after = agree_verbs(caption, second_end, second_end + 2, second_plural) if first_start == 0 else []
        if agreement is None or after is None:
            ctx.refuse("no-agreement")  # a verb WordNet does not know cannot be made to agree
            return None
        edits += agreement + after
    return apply_edits(caption, edits)


# --- swap-np: the paper's order swap ------------------------------------------------------------

# Nouns that name no thing a swap could move ("the side of", "in the background", "a photo of").
_NOT_MOVED = frozenset({
    "top", "side", "front", "back", "middle", "center", "centre", "bottom", "edge", "left", "right", "corner",
    "end", "half", "picture", "photo", "photograph", "image", "view", "shot", "close-up", "closeup", "scene",
    "background", "foreground", "distance", "air", "day", "night", "time", "while", "way", "part", "area",
    "place", "thing", "something", "someone", "one", "other", "use", "sort", "style", "kind", "type", "lot",
    "web", "internet", "each",
})
# Nouns that stand for what follows their "of" ("a group of people"): the phrase moves whole.
_OF_HEADS = frozenset({
    "group", "couple", "pair", "bunch", "lots", "piece", "set", "number", "variety", "assortment", "selection",
    "collection", "stack", "pile", "row", "line", "herd", "flock", "team", "crowd", "slice", "array", "plenty",
    "bit", "amount", "lot", "box", "plate", "bowl", "cup", "glass", "bottle", "jar", "basket", "bag", "tray",
    "pack", "loaf", "bowl", "mug", "can", "carton", "batch", "handful", "dozen", "bouquet", "vase", "cluster",
})
# Between two phrases: words that make the swap read the same, or join rather than relate.
_SYMMETRIC_WORDS = frozenset({"and", "or", "&", "with", "near", "beside", "besides", "by", "between", "among",
                              "alongside", "nearby", "against", "opposite", "like", "as", "than", "plus"})
_PRONOUNS_AFTER = frozenset({"it", "its", "it's", "them", "they", "their", "itself", "themselves"})
_MAX_BETWEEN = 8
# Words the chunker sometimes takes into a phrase that start a path instead ("down railroad tracks").
_PARTICLES = frozenset({"down", "up", "over", "out", "off", "back", "away", "through", "across", "along", "all"})  # tokens: farther apart, the two are seldom related to each other


# A phrase right after or before these belongs to a list, an owner or a fixed phrase: moving it
# alone breaks them ("a man and *woman*", "*the ocean*'s edge", "it's *mouth*", "on *display*").
_NOT_AFTER = frozenset({"of", "and", "or", "&", ",", "its", "it's", "his", "her", "their", "my", "your", "our",
                        '"', "'", "`", "``", "(", "-"})
_NOT_BEFORE = frozenset({"and", "or", "&", ",", "'s", "'", "of", '"', "`", "''", ")", "-", "like"})


class Unit(NamedTuple):
    """A noun phrase with the "of" phrases that belong to it ("a slice of pizza"), moved whole."""

    start: int
    end: int
    base: str  # the thing it names ("pizza" for "a slice of pizza")
    plural: bool


def _units(caption: Caption, slots: Slots) -> list[Unit | None]:
    """The caption's things in order, as units; None for a thing that may not move (a part, a
    picture, a phrase after "of", one owned by another: "his dog")."""
    tokens = caption.tokens
    units: list[Unit | None] = []
    number = 0
    things = slots.things
    while number < len(things):
        thing = things[number]
        start, end, named = thing.phrase.start, thing.phrase.end, number
        # "a slice of pizza with cheese": the slice moves with its pizza.
        while end + 1 < len(tokens) and tokens[end].lower == "of" and number + 1 < len(things) \
                and things[number + 1].phrase.start == end + 1 and things[named].base in _OF_HEADS:
            number += 1
            named = number
            end = things[number].phrase.end
        head = things[named]
        before = tokens[start - 1].lower if start > 0 else ""
        after = tokens[end].lower if end < len(tokens) else ""
        # A phrase that goes on into the next word's noun is a modifier of it, not a thing:
        # "a snow covered mountain", "a brick patterned ramp", "this trains station".
        modifies_next = end < len(tokens) and (tokens[end].tag in ("NN", "NNS") or tokens[end].tag in ("VBN", "VBD")
                                               and end + 1 < len(tokens) and tokens[end + 1].tag.startswith("NN"))
        # ... and the noun such a modifier goes on into: "a horse drawn *carriage*" (not "a man
        # riding *a horse*": a verb and its object).
        modified = start > 1 and tokens[start - 1].tag in ("VBN", "VBD") and tokens[start - 2].tag in ("NN", "NNS") \
            and tokens[start].tag not in ("DT", "PRP$", "CD")
        # The tagger sometimes reads a verb as the last noun of a phrase ("two zebra *run*",
        # "traffic *moves*", "a person *skiing*"): moved, such a phrase carries its verb along.
        head_token = tokens[head.phrase.head]
        previous_tag = tokens[head.phrase.head - 1].tag if head.phrase.head > head.phrase.first_modifier else ""
        verb_inside = previous_tag in ("NN", "NNS", "NNP") and (
            head_token.lower.endswith("ing") or head_token.lower == wordnet.verb_lemma(head_token.lower)) \
            or previous_tag in ("NN", "NNS", "NNP", "JJ") and head_token.tag == "NNS" \
            and wordnet.verb_lemma(head_token.lower) is not None \
            and (head.phrase.start == 0 or previous_tag != "JJ" and end < len(tokens) and tokens[end].tag in ("IN", "RP"))
        # ("Traffic moves on ...", "a woman wearing shorts bends over ...")
        movable = head.base not in _NOT_MOVED and thing.base not in _NOT_MOVED and tokens[start].tag != "PRP$" \
            and not verb_inside and tokens[start].lower not in _PARTICLES \
            and before not in _NOT_AFTER and after not in _NOT_BEFORE and not before.endswith("'s") \
            and not idiomatic_bare_noun(caption, thing.phrase) and not modifies_next and not modified \
            and not (start > 0 and tokens[start - 1].tag in ("RB", "JJ", "JJR", "JJS")) \
            and not (named == number and thing.base in _OF_HEADS and after != "of")  # "in a row"
        units.append(Unit(start, end, head.base, tokens[head.phrase.head].tag in PLURAL_TAGS) if movable else None)
        number += 1
    return units


def _symmetric(words: str, between, first: str, second: str) -> bool:
    """Does the relation read the same both ways round? "with" does between two people ("a man
    with a woman"), not between a room and what it holds ("a kitchen with a stove")."""
    tokens = words.split(" ")
    # Without a verb, "with" reads both ways ("a dock with boats"); with one, it does not when
    # the two are different kinds of thing ("a man with a hat stands").
    kinds_differ = thing_kind(first) != thing_kind(second) and any(t.tag.startswith("VB") for t in between)
    for size in (1, 2, 3):
        for start in range(len(tokens) - size + 1):
            phrase = " ".join(tokens[start:start + size])
            if phrase in SYMMETRIC_RELATIONS and not (phrase == "with" and kinds_differ):
                return True
    symmetric = _SYMMETRIC_WORDS - {"with"} if kinds_differ else _SYMMETRIC_WORDS
    return any(t.lower in symmetric for t in between)


def _same_thing(first: str, second: str) -> bool:
    """The same word, or one a synonym, hypernym or hyponym of the other ("a man riding a person")."""
    if first == second:
        return True
    if wordnet.concrete_sense(first) is None or wordnet.concrete_sense(second) is None:
        return False
    return nouns_related(first, second) or nouns_related(second, first)


def swap_np(caption: Caption, ctx: RuleContext) -> list[str]:
    """The paper's order swap: two things a verb or relation stands between, plausible or not.
    "A man riding a horse" -> "A horse riding a man"."""
    units = _units(caption, read_slots(caption))
    candidates = []
    for first, second in zip(units, units[1:]):  # neighbours: subject and object, thing and place
        if first is None or second is None:
            continue
        between = caption.tokens[first.end:second.start]
        if not between or len(between) > _MAX_BETWEEN:
            continue  # too far apart to be related
        if not any(t.tag.startswith(("VB", "IN", "TO", "RP")) for t in between) \
                or any(t.lower in (",", ";", ":", ".", "that", "which", "who", "while", "where", "when") for t in between):
            continue  # a list, or another clause: nothing relates the two
        if between[0].tag in ("VBN", "VBD") and caption.tokens[second.start].tag not in ("DT", "PRP$", "CD"):
            ctx.refuse("participle-compound")  # "a horse drawn carriage" is one thing, not two
            continue
        if first.plural != second.plural and not caption.words.isdisjoint(_PRONOUNS_AFTER) \
                and any(t.lower in _PRONOUNS_AFTER for t in caption.tokens[second.end:]):
            ctx.refuse("no-agreement")  # "boats with a river in it": the pronoun would point elsewhere
            continue
        words = " ".join(t.lower for t in between)
        if _symmetric(words, between, first.base, second.base):
            ctx.refuse("symmetric-relation")
            continue
        if _same_thing(first.base, second.base):
            ctx.refuse("same-noun")
            continue
        text = _swapped(caption, first.start, first.end, second.start, second.end, first.plural, second.plural, ctx)
        if text is not None:
            candidates.append(text)
    return pick(ctx.rng, candidates, 2)
