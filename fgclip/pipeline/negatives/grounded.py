"""What the corpus's own counts say of an edit: the shared judges of a corpus table.

With a :class:`~.corpus.CorpusTable`, every replacement a rule makes is asked three things:

- **alternation** (:func:`alternate`): do the captions of one image use the two words for the
  same thing ("boat" / "ship", "large" / "big", "next to" / "beside", "standing" / "grazing")?
  Then both describe one picture, and neither is a negative of the other;
- **support** (:func:`supports`): is each slot the new word enters one the corpus fills that
  way, said of this very thing or often of things of its kind (:func:`thing_kind`)? "orange
  wine", "a ball plays", "tugs next to a leash" are not;
- **frequency** (:func:`draw`): among the replacements left, one is drawn as often as the corpus
  uses it, so that a negative's words are as common as the captions' own (what a text-only probe
  would otherwise pick up).

WordNet stays the judge of synonymy (:func:`nouns_related`, :func:`verbs_related`). With
``corpus_proposals`` the rules also propose the corpus's own words for a slot, judged besides by
how alike the company two things keep (:func:`similarity`) and how well a thing fits the others
named (:func:`scene_fit`); docs/negatives.md says why that is off by default.

Every function here is pure: the same (caption, table, random state) gives the same result.
"""

from __future__ import annotations

import math
from functools import lru_cache
from random import Random
from typing import Mapping

from . import wordnet
from .corpus import CorpusTable

# How often (share of their chances) two words must alternate on one thing for the captions of
# one image to count them as two names of one thing; and at least how many times.
ALTERNATION_RATE = 0.15
ALTERNATION_MIN = 2
_ALTERNATION_PRIOR = 5  # pseudo-chances: a pair seen twice in three chances is not yet a rule
# Things: named in place of each other (cd) rather than beside each other (cn) this often.
NOUN_ALTERNATION_SHARE = 0.75

# Coarse kinds of things: a proposal stays within its original's kind (a bus may become a train,
# not an umbrella), and a pair not said of a thing is judged by what its kind does (birds fly;
# the other animals do not, so a squirrel is not "flying over the sand"). The first of these
# synsets above a noun's concrete sense names its kind, so more specific ones come first; a noun
# under none keeps its WordNet file.
THING_KINDS: tuple[str, ...] = (
    "person.n.01", "bird.n.01", "fish.n.01", "insect.n.01", "animal.n.01", "plant.n.02",
    "dish.n.02", "beverage.n.01", "baked_goods.n.01", "fruit.n.01", "vegetable.n.01", "food.n.01", "food.n.02",
    "conveyance.n.03", "clothing.n.01", "headdress.n.01", "footwear.n.02", "jewelry.n.01",
    "furniture.n.01", "tableware.n.01", "container.n.01", "electronic_equipment.n.01", "computer.n.01",
    "sports_equipment.n.01", "toy.n.01", "musical_instrument.n.01", "utensil.n.01", "tool.n.01",
    "room.n.01", "building.n.01", "structure.n.01", "area.n.05", "geological_formation.n.01",
    "body_of_water.n.01", "land.n.04", "device.n.01", "equipment.n.01", "implement.n.01",
)


@lru_cache(maxsize=None)
def thing_kind(base: str) -> str | None:
    """The kind of thing a noun names (a name from :data:`THING_KINDS`, else its WordNet file),
    or None when it names no visible thing."""
    sense = wordnet.concrete_sense(base)
    if sense is None:
        return None
    ancestors = {s.name() for s in sense.closure(lambda s: s.hypernyms() + s.instance_hypernyms())}
    ancestors.add(sense.name())
    for kind in THING_KINDS:
        if kind in ancestors:
            return kind
    return sense.lexname()


def alternate(table: CorpusTable, cls: str, first: str, second: str) -> bool:
    """Do the captions of one image use these two words for the same thing (class n, a, v or r)?"""
    x, y = (first, second) if first < second else (second, first)
    chances = min(table.count("s", cls, first), table.count("s", cls, second)) + _ALTERNATION_PRIOR
    if cls == "n":
        alternations = table.count("cd", "n", x, y)
        side_by_side = table.count("cn", x, y)
        return alternations >= ALTERNATION_MIN and alternations >= NOUN_ALTERNATION_SHARE * (alternations + side_by_side) \
            and alternations >= ALTERNATION_RATE * chances
    alternations = table.count("ca", cls, x, y)
    return alternations >= ALTERNATION_MIN and alternations >= ALTERNATION_RATE * chances


def draw(rng: Random, weights: Mapping[str, float], count: int) -> list[str]:
    """Up to ``count`` keys drawn without replacement, each with probability proportional to its
    weight. Keys are taken in sorted order, so the draw depends only on the weights and ``rng``."""
    pool = sorted((key, w) for key, w in weights.items() if w > 0)
    chosen: list[str] = []
    while pool and len(chosen) < count:
        if len(pool) == 1:
            chosen.append(pool.pop()[0])
            break
        total = sum(w for _, w in pool)
        target = rng.random() * total
        for position, (key, weight) in enumerate(pool):
            target -= weight
            if target < 0 or position == len(pool) - 1:
                chosen.append(key)
                del pool[position]
                break
    return chosen


def scene_fit(table: CorpusTable, base: str, others: set[str]) -> float:
    """How well a thing fits the other things a caption names: the lowest, over them, of
    log P(other | thing) / P(other) by the corpus's co-mentions, with Dirichlet smoothing
    towards P(other). A pair never seen so costs a thing named often more than a rare one: the
    corpus has had the chance to show the frequent one in that company, and did not."""
    things = _thing_mentions(table)
    own = table.count("n", base)
    worst = math.inf
    for other in others:
        prior = (table.count("n", other) + 1) / things
        together = table.count("cn", *sorted((base, other)))
        worst = min(worst, math.log((together + SCENE_SMOOTHING * prior) / (own + SCENE_SMOOTHING) / prior))
    return worst


SCENE_SMOOTHING = 20.0  # pseudo-mentions: how far a thing's own co-mentions are trusted
# The least a replacement may fit any other thing the caption names (nats): a thing named 100
# times and never beside "faucet" is refused beside it; one named 10 times is not yet.
SCENE_FLOOR = -1.5


def _thing_mentions(table: CorpusTable) -> int:
    cache = table.__dict__.setdefault("_grounded", {})
    if "things" not in cache:
        cache["things"] = max(sum(table.singles("n").values()), 1)
    return cache["things"]


# A thing named fewer times than this has too few counts of its own: its slots are judged by
# what the corpus says of its kind alone (a "surfer" rides what people ride).
RARE_THING = 5


def by_kind(table: CorpusTable, name: str, side: int) -> dict[str, dict[str, int]]:
    """A two-field count summed over the things of each kind on ``side`` (0: first field)."""
    cache = table.__dict__.setdefault("_grounded", {})
    key = ("kinds", name, side)
    if key not in cache:
        summed: dict[str, dict[str, int]] = {}
        prefix = name + "\t"
        for fields, count in table.counts.items():
            if fields.startswith(prefix):
                parts = fields.split("\t")[1:]
                if len(parts) != 2:
                    continue
                kind = thing_kind(parts[side])
                if kind is not None:
                    other = parts[1 - side]
                    row = summed.setdefault(kind, {})
                    row[other] = row.get(other, 0) + count
        cache[key] = summed
    return cache[key]


def fits(table: CorpusTable, name: str, first: str, second: str, thing_side: int) -> bool:
    """Is the pair ``name first second`` one the corpus says? A thing too rare to have counts of
    its own (fewer than :data:`RARE_THING` mentions) is judged by its kind: the pair must have
    been said of things of that kind at least three times and in :data:`KIND_SHARE` of that
    kind's pairs of that name (animals *stand* in 25% of their acts and *ride* in 0.6%)."""
    if table.count(name, first, second):
        return True
    if table.count("n", (first, second)[thing_side]) >= RARE_THING:
        return False
    kind, seen = _said_of_kind(table, name, first, second, thing_side)
    return kind is not None and seen >= 3 and seen >= KIND_SHARE * _row_total(table, name, thing_side, kind)


KIND_SHARE = 0.01


def supports(table: CorpusTable, name: str, first: str, second: str, thing_side: int | None) -> bool:
    """Does the corpus say the pair ``name first second``, or, failing that, say it often of
    things of the same kind (as :func:`fits` asks of rare things, here of any)? The looser test
    for the curated replacements, which the curated lists already vouch for: "orange juice" may
    become "apple juice" when the corpus has fruit juices, not "orange wine" when it has none.
    A pair with no thing in it (a verb and its preposition, ``thing_side`` None) is taken as said
    when its first word is too rare for its absence to mean anything."""
    if table.count(name, first, second):
        return True
    if thing_side is None:  # "rg v:tug next to": is "tug" used often enough to know?
        letter, _, word = first.partition(":")
        return table.count(letter, word) < RARE_THING
    kind, seen = _said_of_kind(table, name, first, second, thing_side)
    if kind == PERSON:
        return seen >= 2  # what one person is said to do or have, another can ("a child carries")
    return kind is not None and seen >= 3 and seen >= CURATED_KIND_SHARE * _row_total(table, name, thing_side, kind)


PERSON = "person.n.01"
# The share of its kind's pairs a pair must have for a curated replacement: lower than
# KIND_SHARE, since the curated lists already vouch for the replacement itself.
CURATED_KIND_SHARE = 0.003
# A curated replacement the slot's own counts do not name is drawn as if named there once for
# every this many times the corpus uses it at all.
CURATED_SHARE = 20


def _said_of_kind(table: CorpusTable, name: str, first: str, second: str, thing_side: int) -> tuple[str | None, int]:
    """(the kind of the pair's thing, how often the pair is said of things of that kind)."""
    kind = thing_kind((first, second)[thing_side])
    if kind is None:
        return None, 0
    return kind, by_kind(table, name, thing_side).get(kind, {}).get((first, second)[1 - thing_side], 0)


def _row_total(table: CorpusTable, name: str, side: int, kind: str) -> int:
    cache = table.__dict__.setdefault("_grounded", {}).setdefault("row_totals", {})
    key = (name, side, kind)
    if key not in cache:
        cache[key] = sum(by_kind(table, name, side).get(kind, {}).values())
    return cache[key]


# --- things -----------------------------------------------------------------------------------

# What a thing's company is read from: the verbs it is the object or the doer of, the relations
# it follows, its modifiers, and the things named beside it.
_CONTEXTS = (("vo", 1), ("ro", 1), ("an", 1), ("sv", 0), ("cn", 0), ("cn", 1))
# Two things are alike enough to replace each other when their company is this alike (cosine of
# positive PMI vectors): car/bus 0.19, car/truck 0.11, car/umbrella 0.06, cake/book 0.06 on
# 10k COCO captions.
SIMILARITY_FLOOR = 0.08


def similarity(table: CorpusTable, first: str, second: str) -> float:
    """How alike the company two things keep in this corpus (0: nothing shared, 1: the same)."""
    a, b = _company(table, first), _company(table, second)
    if not a or not b:
        return 0.0
    if len(b) < len(a):
        a, b = b, a
    dot = sum(weight * b.get(feature, 0.0) for feature, weight in a.items())
    return dot / (_norm(table, first) * _norm(table, second))


def _company(table: CorpusTable, base: str) -> dict[tuple[str, str], float]:
    """A thing's positive PMI with each context it appears in."""
    cache = table.__dict__.setdefault("_grounded", {}).setdefault("company", {})
    if base not in cache:
        mentions = max(table.count("n", base), 1)
        total = _thing_mentions(table)
        vector: dict[tuple[str, str], float] = {}
        for name, side in _CONTEXTS:
            seen = table.by_first(name, base) if side == 0 else table.by_last(name, base)
            for context, count in seen.items():
                context_total = _context_total(table, name, side, context)
                pmi = math.log(count * total / (mentions * context_total)) if context_total else 0.0
                if pmi > 0:
                    key = ("cn" if name == "cn" else name, context)
                    vector[key] = vector.get(key, 0.0) + pmi
        cache[base] = vector
    return cache[base]


def _norm(table: CorpusTable, base: str) -> float:
    return math.sqrt(sum(w * w for w in _company(table, base).values())) or 1.0


def _context_total(table: CorpusTable, name: str, side: int, context: str) -> int:
    cache = table.__dict__.setdefault("_grounded", {}).setdefault("context_totals", {})
    key = (name, side, context)
    if key not in cache:
        cache[key] = sum((table.by_last(name, context) if side == 0 else table.by_first(name, context)).values())
    return cache[key]


def nouns_related(original: str, candidate: str) -> bool:
    """Is ``candidate`` a synonym, hypernym or hyponym of the thing ``original`` names? The
    original is read in its caption sense (a "man" is an adult male, not mankind), the candidate
    in its caption sense and its first sense."""
    sense, above_sense = _noun_sense_and_ancestors(original)
    if sense is None:
        return True
    for other in _noun_senses_to_compare(candidate):
        if other == sense or other in above_sense or sense in _ancestors(other):
            return True
    return False


@lru_cache(maxsize=None)  # a pure function of the word: bounded by the vocabulary
def _noun_sense_and_ancestors(word: str) -> tuple[str | None, frozenset]:
    sense = wordnet.concrete_sense(word)
    return (sense.name(), _ancestors(sense.name())) if sense is not None else (None, frozenset())


@lru_cache(maxsize=None)
def _noun_senses_to_compare(word: str) -> tuple[str, ...]:
    own = wordnet.concrete_sense(word)
    first = wordnet.wn().synsets(word.replace(" ", "_"), "n")[:1]
    return tuple(dict.fromkeys([s.name() for s in ([own] if own is not None else []) + first]))


@lru_cache(maxsize=None)
def _ancestors(synset_name: str) -> frozenset:
    synset = wordnet.wn().synset(synset_name)
    return frozenset(a.name() for a in synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms()))


# --- acts -------------------------------------------------------------------------------------

def verbs_related(first: str, second: str) -> bool:
    """Are two verbs synonyms, or is one a kind of the other ("walk" of "move"), in any sense?"""
    mine, above_mine = _verb_senses_and_ancestors(first)
    theirs, above_theirs = _verb_senses_and_ancestors(second)
    return not (mine.isdisjoint(theirs) and mine.isdisjoint(above_theirs) and theirs.isdisjoint(above_mine))


@lru_cache(maxsize=None)  # a pure function of the verb: bounded by the vocabulary
def _verb_senses_and_ancestors(lemma: str) -> tuple[frozenset, frozenset]:
    senses = wordnet.wn().synsets(lemma, "v")
    names = frozenset(s.name() for s in senses)
    return names, frozenset().union(*(_ancestors(name) for name in names)) if names else frozenset()


# --- relations --------------------------------------------------------------------------------

def placed_fits(table: CorpusTable, placed: str, relation: str, target: str) -> bool:
    """Does the corpus put a thing of ``placed``'s kind ``relation`` a ``target``?"""
    seen = table.by_pair("rt", relation, target)
    if placed in seen:
        return True
    kind = thing_kind(placed)
    return kind is not None and any(thing_kind(other) == kind for other in seen)
