"""swap-obj (kind relation): two noun phrases exchanged across an asymmetric relation.

    A dog chasing a cat.             -> A cat chasing a dog.
    A chair in front of a table.     -> A table in front of a chair.

Invariants: only two neighbouring phrases joined by a short relation (a preposition or a verb,
at most four words) are swapped; never across a relation that reads the same both ways round;
both phrases name things of one kind that could trade places (two people or animals in any
relation, two foods, other things only where placement is free); the verbs follow the new
subject's number. Every veto below refuses with the reason in ``REFUSALS``.
"""

from __future__ import annotations

from . import lexicon
from .core import RuleContext, agree_verbs, ground, head_word, lexname, pick
from .parse import Caption, Edit, NounPhrase, apply_edits, moved_text

REFUSALS: tuple[str, ...] = (
    "participle-compound", "symmetric-relation", "container-of", "same-noun", "different-kinds", "ground-swap",
    "child-swap", "food-verb", "fixed-placement", "no-agreement",
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
        if not _plausible_swap(caption, first, second, relation, ctx):
            continue
        edits = [
            Edit(first.start, first.end, moved_text(caption, second.start, second.end, first.start == 0)),
            Edit(second.start, second.end, moved_text(caption, first.start, first.end, False)),
        ]
        first_plural, second_plural = caption.is_plural(first), caption.is_plural(second)
        if first_plural != second_plural:
            # The second phrase is the new subject: verbs between and right after it follow its number.
            agreement = agree_verbs(caption, first.end, second.start, second_plural)
            after = agree_verbs(caption, second.end, second.end + 2, second_plural) if first.start == 0 else []
            if agreement is None or after is None:
                ctx.refuse("no-agreement")  # a verb WordNet does not know cannot be made to agree
                continue
            edits += agreement + after
        candidates.append(apply_edits(caption, edits))
    return pick(ctx.rng, candidates)
