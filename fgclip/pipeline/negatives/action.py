"""replace-action (kind action): what someone does, changed into another action.

    A man riding a horse.         -> A man feeding a horse.
    A woman sitting on a bench.   -> A woman standing on a bench.
    A bus parked on the street.   -> A bus moving on the street.   (a vehicle's state)
    A man holding an umbrella.    -> A man throwing an umbrella.   (verbs of handling)

Replacements come from the curated tables (by what the verb acts on where that matters, and
for animals where people's actions would be absurd), else from WordNet's verb siblings kept to
the curated actions. Invariants: only a verb someone (a person or an animal) is doing changes,
and only a vehicle with an engine is said to move or stop by itself; the replacement keeps the
verb's form ("riding" -> "feeding"), takes an object only where the verb has one, is not
already said, and fits what follows ("sitting down" never becomes "standing down the hill").
Every veto below refuses with the reason in ``REFUSALS``.
"""

from __future__ import annotations

from functools import lru_cache

from . import lexicon, wordnet
from .core import (RuleContext, ground, has_agent, head_word, irregular_past, is_animate, lexname, negated, next_phrase,
                   object_of, pick, starts_phrase, subject_phrase)
from .corpus import CorpusTable
from .grounded import CURATED_SHARE, RARE_THING, alternate, by_kind, draw, fits, supports, thing_kind, verbs_related
from .slots import slots_of
from .grammar import inflect_verb, match_case
from .parse import NOUN_TAGS, Caption, Edit, apply_edits

REFUSALS: tuple[str, ...] = (
    # the verb
    "verb-chain", "no-agent", "negated", "pronoun-clause", "infinitive", "body-part", "flown-in-sky",
    "posture-said-twice", "animal-look-alike", "mixed-objects", "ridden-vehicle", "before-infinitive",
    "phrasal-verb", "for-purpose", "thing-clause", "talking-on", "verb-pair", "bird-posture", "play-with",
    "plays-on-screen", "pose-with", "airborne-ride",
    # verbs of handling (holding -> throwing)
    "people-only-verb", "animate-object", "held-in-place", "participle-after-object", "thrown-food",
    # a replacement proposed by the corpus table
    "related-verb", "alternates", "unseen-with-object", "unseen-without-object", "unseen-before-relation",
    "unseen-before-word", "unseen-as-doer",
    # a replacement
    "needs-object", "takes-no-object", "stand-in", "lie-at-furniture", "verb-already-said", "sleep-on",
    "static-in-air", "land-over", "static-verb-with-path",
    # a vehicle's state
    "state-already-said", "moving-path", "driven", "vessel-on-land", "at-a-stop",
)

# --- what a verb may become -------------------------------------------------------------------

# Object-dependent replacements for verbs whose alternatives depend on what they act on: by
# the object's lexicographer file, None for no object, "*" for any other object ("riding a wave").
ACTION_VERBS_BY_OBJECT: dict[str, dict[str, tuple[str, ...]]] = {
    "serve": {"noun.food": ("eat", "cook")},
    "eat": {"noun.food": ("cook", "cut", "serve"), None: ("cook",)},
    "cut": {"noun.food": ("eat", "cook")},
    "prepare": {"noun.food": ("eat", "serve")},
    "cook": {"noun.food": ("eat", "serve"), None: ("eat",)},
    "brush": {"noun.animal": ("wash", "feed")},
    "ride": {"noun.animal": ("feed", "lead"), "noun.artifact": ("push", "carry")},  # not "watching the wave sideways"
    "walk": {"noun.animal": ("feed", "wash"), None: ("run", "sit")},
    "make": {"noun.food": ("eat", "serve")},
    "enjoy": {"noun.food": ("cook", "serve")},
    "drive": {"noun.artifact": ("wash", "repair")},  # not "park": one drives to park (round 16)
}

# What an animal does instead, where the people's alternatives would be absurd for it.
ANIMAL_ACTION_VERBS: dict[str, tuple[str, ...]] = {
    # eating, drinking and sniffing look alike from afar (round 11): no edit
    "eat": (), "drink": (), "bite": ("lick",), "feed": ("sleep",),
    # an animal sitting and one lying look alike in a photo; standing does not
    "sit": ("stand",), "lie": ("stand",), "lay": ("stand",), "stand": ("lie",),
}

# Verbs that never carry an edit: auxiliaries and verbs of being or seeming.
NON_ACTION_VERBS = frozenset({
    "stick",  # "a dog sticking out of a window": a posture, "hanging out" is the same (round 11)
    "watch",  # "ignoring" and "playing" a watched game are not in the photo (round 12)
    "be", "have", "do", "get", "go", "seem", "appear", "become", "make", "show", "include",
    "contain", "feature", "use", "see", "take", "let", "try", "want", "like", "come", "keep",
    "depict", "say", "display", "set", "locate", "place", "put", "line", "stack", "pile", "top",
    "decorate", "attach", "mount", "hang", "remain", "stay", "gather", "crowd", "border", "face",
    "overlook", "look", "seem", "sound", "smell", "taste", "feel",
})

# Every verb the curated action table names, as a key or a replacement.
KNOWN_ACTIONS = frozenset(lexicon.ACTION_VERBS) | frozenset(v for vs in lexicon.ACTION_VERBS.values() for v in vs)


@lru_cache(maxsize=None)  # a pure function of the verb: bounded by the vocabulary
def _sibling_actions(lemma: str) -> tuple[str, ...]:
    """WordNet's siblings of a verb, kept to the curated actions ("lowered" -> "swung" is no caption)."""
    return tuple(v for v in wordnet.verb_siblings(lemma, limit=30) if v in KNOWN_ACTIONS)


def _has_actions(lemma: str | None) -> bool:
    """Does any table give the verb alternatives? Relation verbs are replace-rel's, and the
    non-actions (auxiliaries, verbs of being or seeming) carry no edit."""
    if lemma is None or lemma in lexicon.RELATION_VERBS:
        return False
    if lemma in ACTION_VERBS_BY_OBJECT or lemma in lexicon.ACTION_VERBS:
        return True
    return lemma not in NON_ACTION_VERBS and bool(_sibling_actions(lemma))


def _grounded_actions(table: CorpusTable, caption: Caption, index: int, ctx: RuleContext) -> dict[str, int]:
    """Acts this corpus says the doer does, that take the same object (or none) and the same
    relations after them, each with its count: for "a dog *catching* a frisbee", what dogs do
    to frisbees. The doer is the thing before the verb, else the caption's first person or animal
    (captions chain participles: "a woman on a horse *holding* a cake")."""
    slots = slots_of(caption)
    act = next((a for a in slots.acts if a.index == index), None)
    if act is None:
        return {}
    if act.subject is not None:
        subject = slots.things[act.subject].base
    else:
        doers = [t.base for t in slots.things if t.phrase.end <= index and is_animate(caption, t.phrase)]
        if not doers:
            return {}
        subject = doers[0]
    obj = slots.things[act.object].base if act.object is not None else None
    relations = [r.words for r in slots.relations if r.governor == "v:" + act.lemma]
    # An adverb or a particle right after the verb ("walking *together*") must follow the new one too.
    tokens = caption.tokens
    following = tokens[index + 1].lower if index + 1 < len(tokens) and tokens[index + 1].tag in ("RB", "RP") else None
    token = tokens[index]
    form_tag = "VBG" if token.lower.endswith("ing") else token.tag
    pool = table.by_first("sv", subject)
    if table.count("n", subject) < RARE_THING:
        pool = by_kind(table, "sv", 0).get(thing_kind(subject) or "", {})
    present = {a.lemma for a in slots.acts}
    weights: dict[str, int] = {}
    for candidate, count in pool.items():
        if candidate in present or candidate in NON_ACTION_VERBS or not candidate.isalpha():
            continue
        if verbs_related(act.lemma, candidate):
            ctx.refuse("related-verb")
        elif alternate(table, "v", act.lemma, candidate):
            ctx.refuse("alternates")
        elif obj is not None and not fits(table, "vo", candidate, obj, 1):
            ctx.refuse("unseen-with-object")
        elif obj is None and not table.count("vi", candidate):
            ctx.refuse("unseen-without-object")
        elif not all(table.count("rg", "v:" + candidate, r) for r in relations):
            ctx.refuse("unseen-before-relation")
        elif following and not table.count("b", inflect_verb(candidate, form_tag, irregular_past()), following):
            ctx.refuse("unseen-before-word")  # "walking together" is said; "checking together" is not
        else:
            weights[candidate] = count
    return weights


def _act_slots(caption: Caption, index: int) -> tuple[str | None, str | None, list[str]]:
    """The verb at ``index``'s doer and object (base forms, or None) and the relations it governs."""
    slots = slots_of(caption)
    act = next((a for a in slots.acts if a.index == index), None)
    if act is None:
        return None, None, []
    doer = slots.things[act.subject].base if act.subject is not None else None
    done_to = slots.things[act.object].base if act.object is not None else None
    return doer, done_to, [r.words for r in slots.relations if r.governor == "v:" + act.lemma]


# --- which verbs may change -------------------------------------------------------------------

_AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "being", "am", "'s", "'re", "has", "have",
                         "had", "do", "does", "did", "will", "can", "could", "would", "should", "may", "might"})

# Objects of "play" that one also watches while playing: no "watching" negative for them.
PLAYED_ON_SCREEN = frozenset({"wii", "video game", "video games", "game", "games", "videogame", "xbox"})


def _plays_on_screen(caption: Caption, index: int) -> bool:
    """"playing video games" is also watching them; "playing a game of soccer" is not."""
    phrase = next_phrase(caption, index + 1)
    if phrase is None or not {caption.lower(k) for k in range(phrase.start, phrase.end)} & PLAYED_ON_SCREEN:
        return False  # "a video game system" too (round 11)
    return not (phrase.end < len(caption.tokens) and caption.lower(phrase.end) == "of")


def _relative_clause_of_a_thing(caption: Caption, index: int) -> bool:
    """"a tree branch that is sitting next to bushes": the verb belongs to the branch, even when
    a bird was named before it."""
    k = index - 1
    while k > 0 and (caption.tokens[k].tag.startswith(("VB", "RB")) or caption.lower(k) in _AUXILIARIES):
        k -= 1
    if k <= 0 or caption.lower(k) not in ("that", "which"):
        return False
    owner = [p for p in caption.phrases if p.end <= k]
    return bool(owner) and owner[-1].end == k and not is_animate(caption, owner[-1])


# Birds perch, peck and feed alike: sitting / standing, eating / sniffing cannot be told apart.
BIRD_SYNSET = "bird.n.01"


def _alternatives(caption: Caption, index: int, lemma: str, has_object: bool, ctx: RuleContext) -> tuple[str, ...]:
    """The actions the verb at ``index`` may become, from the tables, before the caption's
    other words are looked at; refuses where what it acts on rules out every one."""
    if lemma in ANIMAL_ACTION_VERBS and not has_agent(caption, index, people_only=True):
        if not ANIMAL_ACTION_VERBS[lemma]:
            ctx.refuse("animal-look-alike")  # an animal eating, drinking or sniffing look alike from afar (round 11)
        return ANIMAL_ACTION_VERBS[lemma]  # a cow does not serve its hay
    if lemma in ACTION_VERBS_BY_OBJECT:
        by_object = ACTION_VERBS_BY_OBJECT[lemma]
        if not has_object:
            return by_object.get(None, ())
        obj = object_of(caption, index + 1)  # through "a slice of", to the pizza
        kind = lexname(caption, obj) if obj is not None and not ground(caption, obj) else None
        if obj is not None and obj.end + 1 < len(caption.tokens) and caption.lower(obj.end) in ("and", "or"):
            also = next_phrase(caption, obj.end + 1)
            if also is not None and lexname(caption, also) != kind:
                ctx.refuse("mixed-objects")  # "riding motorcycles and horses": no verb fits both
                return ()
        if lemma == "ride" and obj is not None and wordnet.is_motor_vehicle(head_word(caption, obj) or ""):
            ctx.refuse("ridden-vehicle")  # one rides a train or a bus but does not push or carry it
            return ()
        return by_object.get(kind, by_object.get("*", ())) if kind else by_object.get("*", ())
    if lemma in lexicon.ACTION_VERBS:
        return lexicon.ACTION_VERBS[lemma]
    return _sibling_actions(lemma)


# Replacements that need an object after them.
TRANSITIVE_ONLY_VERBS = frozenset({
    "push", "wash", "feed", "pet", "repair", "serve", "cut", "pour", "spill", "erase", "close",
    "carry", "fix", "buy", "destroy", "comb", "ignore", "block", "unpack", "unload", "lick", "hold",
    "throw", "drop", "kick", "catch", "ride", "watch", "fold",
})

INTRANSITIVE_ONLY_VERBS = frozenset({
    "fall", "sit", "stand", "lie", "lay", "sleep", "cry", "laugh", "frown", "smile", "land", "dance",
    "rest", "kneel", "swim", "descend",
})

# Motion particles after a verb ("walking down the street"): a static verb cannot take them.
MOTION_PARTICLES = frozenset({"down", "up", "across", "along", "through", "toward", "towards", "into", "past",
                              "around", "away", "over", "off", "out", "above", "overhead"})

POSTURE_PARTICLES = frozenset({("sit", "down"), ("lie", "down"), ("lay", "down"), ("sit", "up"), ("stand", "up")})


def _verb_edit(caption: Caption, index: int, ctx: RuleContext) -> list[str]:
    """The action at ``index`` replaced (at most one draw), or nothing where it may not change."""
    tokens = caption.tokens
    token = tokens[index]
    if not token.tag.startswith("VB") or caption.phrase_at(index) is not None or index == 0:
        return []
    form_tag = "VBG" if token.lower.endswith("ing") else token.tag
    if form_tag == "VBZ" and not token.lower.endswith("s"):
        return []  # a tagging slip: no verb form to keep
    if form_tag == "VBN" and caption.lower(index - 1) not in ("is", "are", "was", "were", "been", "be", "has", "have"):
        return []  # a participle used as an adjective ("thick wheeled bike"), not an action
    if form_tag in ("VBN", "VBD") and index + 1 < len(tokens) and tokens[index + 1].tag in NOUN_TAGS:
        return []  # "a horse drawn carriage"
    lemma = wordnet.verb_lemma(token.lower)
    if not (lemma is not None and lemma not in NON_ACTION_VERBS if ctx.corpus_proposals else _has_actions(lemma)):
        return []
    previous = tokens[index - 1]
    if previous.tag.startswith("VB") and previous.lower not in _AUXILIARIES:
        ctx.refuse("verb-chain")  # part of a fixed verb phrase: "keep watch", "go play"
        return []
    if not has_agent(caption, index):
        ctx.refuse("no-agent")  # actions need an agent: a bus does not sit or stand
        return []
    if previous.lower in ("it", "they"):
        ctx.refuse("pronoun-clause")  # "watch a train as it passes": the thing's doing, not the agent's
        return []
    if previous.lower == "to":
        ctx.refuse("infinitive")  # "about to run" is an intention, not in the photo
        return []
    if negated(caption, index):
        ctx.refuse("negated")  # "no people riding the horses" -> "feeding" them: still true (round 16)
        return []
    direct = next_phrase(caption, index + 1)
    if direct is not None and lexname(caption, direct) == "noun.body":
        ctx.refuse("body-part")  # "shaking hands" -> "jumping hands" (round 12)
        return []
    following = caption.lower(index + 1) if index + 1 < len(tokens) else ""
    has_object = direct is not None  # not "standing next to"
    airborne = any(t.lower in ("sky", "air") for t in tokens[index + 1:index + 6])
    if airborne and lemma == "fly":
        ctx.refuse("flown-in-sky")  # a kite in the sky is being flown, whatever else is said
        return []
    if index + 1 < len(tokens) and tokens[index + 1].tag in ("VBN", "VBD", "JJ") and tokens[index + 1].lower.endswith("ed"):
        ctx.refuse("posture-said-twice")  # "lies crouched": the posture is said twice
        return []
    alternatives = _alternatives(caption, index, lemma, has_object, ctx) if _has_actions(lemma) else ()
    if ctx.table is not None:  # the curated acts (and the corpus's own), drawn by their counts
        weights = _grounded_actions(ctx.table, caption, index, ctx) if ctx.corpus_proposals else {}
        doer, done_to, relations = _act_slots(caption, index)
        for curated in alternatives:
            if curated in weights:
                continue
            if alternate(ctx.table, "v", lemma, curated):
                ctx.refuse("alternates")  # the captions of one image say either: "sitting" / "resting"
            elif done_to is not None and not supports(ctx.table, "vo", curated, done_to, 1):
                ctx.refuse("unseen-with-object")  # "eating a mixed drink", "pedalling a motorcycle"
            elif doer is not None and not supports(ctx.table, "sv", doer, curated, 0):
                ctx.refuse("unseen-as-doer")  # "a ball plays above his head"
            elif not all(supports(ctx.table, "rg", "v:" + curated, r, None) for r in relations):
                ctx.refuse("unseen-before-relation")  # "a bear swinging in the sky"
            else:
                weights[curated] = max(1, ctx.table.count("v", curated) // CURATED_SHARE)
        alternatives = tuple(draw(ctx.rng, weights, len(weights)))
    if not alternatives:
        return []
    if following == "to":
        ctx.refuse("before-infinitive")  # "preparing to play", "going to eat": the action is the infinitive's
        return []
    if following in ("up", "out") and starts_phrase(caption, index + 2):
        ctx.refuse("phrasal-verb")  # "cleaning up a mess": the particle makes another verb of it
        return []
    if following == "for":
        ctx.refuse("for-purpose")  # "grazing for food" -> "running for food", "posing for a picture" -> "running for"
        return []
    if _relative_clause_of_a_thing(caption, index):
        ctx.refuse("thing-clause")  # "a branch that is sitting next to bushes"
        return []
    if lemma == "talk" and following in ("on", "into"):
        ctx.refuse("talking-on")  # "talking on a cell phone" and "singing on" it look alike
        return []
    if form_tag in ("VBD", "VBN") and following in ("and", "or") and index + 2 < len(tokens) \
            and caption.lower(index + 2).endswith("ing"):
        ctx.refuse("verb-pair")  # "crouched and skiing": a changed first verb leaves the pair ungrammatical
        return []
    doer = subject_phrase(caption, index)
    if doer is not None and lemma in ANIMAL_ACTION_VERBS \
            and wordnet.is_kind_of(head_word(caption, doer) or "", BIRD_SYNSET):
        ctx.refuse("bird-posture")  # a perched bird sits and stands alike
        return []
    if lemma == "play" and following == "with":
        ctx.refuse("play-with")  # "playing with a dog" -> "watching with a dog"
        return []
    if lemma == "play" and _plays_on_screen(caption, index):
        ctx.refuse("plays-on-screen")  # playing video games is also watching them
        return []
    if lemma == "pose" and following == "with":
        ctx.refuse("pose-with")  # "posing with a trophy": not "running with a trophy" (nor "for a picture": above)
        return []
    if airborne and lemma == "ride":
        ctx.refuse("airborne-ride")  # not "carrying a bike through the air"
        return []
    kept = _fitting_actions(caption, index, lemma, alternatives, has_object, following, airborne, ctx)
    edits = []
    for replacement in pick(ctx.rng, kept, 1) if ctx.table is None else kept[:1]:
        form = inflect_verb(replacement, form_tag, irregular_past())
        if form != token.lower:
            edits.append(apply_edits(caption, [Edit(index, index + 1, match_case(token.text, form))]))
    return edits


def _fitting_actions(caption: Caption, index: int, lemma: str, alternatives, has_object: bool, following: str,
                     airborne: bool, ctx: RuleContext) -> list[str]:
    """The replacements that fit the words around the verb."""
    present_lemmas = {wordnet.verb_lemma(t.lower) for t in caption.tokens if t.tag.startswith("VB")}
    lying_place = following in ("at", "in") or not caption.words.isdisjoint(lexicon.AT_FURNITURE - {"bench", "booth"})
    kept = []
    for a in alternatives:
        if not has_object and a in TRANSITIVE_ONLY_VERBS:
            ctx.refuse("needs-object")  # not "a man repairing down the road"
        elif has_object and a in INTRANSITIVE_ONLY_VERBS:
            ctx.refuse("takes-no-object")  # not "falling moguls"
        elif a == "stand" and following == "in":
            ctx.refuse("stand-in")  # not "standing in a chair"
        elif a in ("lie", "lay") and lying_place:
            ctx.refuse("lie-at-furniture")  # not "lying at a table"
        elif a in present_lemmas:
            ctx.refuse("verb-already-said")  # not "sitting and sitting"
        elif a == "sleep" and (following in ("on", "with") and lemma != "lie"
                               or not caption.words.isdisjoint(lexicon.WATER_NOUNS)):
            ctx.refuse("sleep-on")  # not "sleeping on ski bindings", "sleeping in the water with one another"
        elif a in lexicon.STATIC_VERBS | {"land"} and airborne:
            ctx.refuse("static-in-air")  # not "a bird sitting in the sky"
        elif a == "land" and following in ("over", "above", "through", "across", "around", "past", "high", "low"):
            ctx.refuse("land-over")  # not "landing over the trees"
        elif following in MOTION_PARTICLES and a in lexicon.STATIC_VERBS \
                and ((a, following) not in POSTURE_PARTICLES or starts_phrase(caption, index + 2)):
            ctx.refuse("static-verb-with-path")  # "sitting down" and "lying down", but not "sitting down the hill"
        else:
            kept.append(a)
    return kept


# --- a vehicle's state: parked -> moving ------------------------------------------------------

RESTING_VEHICLE_WORDS = frozenset({"parked", "stopped", "sitting", "standing", "waiting", "idling"})
MOVING_VEHICLE_WORDS = frozenset({"driving", "traveling", "travelling", "moving", "rolling", "cruising",
                                  "speeding", "riding"})
# After these a vehicle can be either still or moving ("stopped at", "moving along"); not after
# "down", "through" or "past", which only a moving one goes.
VEHICLE_STATE_PLACES = frozenset({"on", "in", "at", "along", "next", "near", "beside", "by", "alongside",
                                  "outside", "behind", "under", "inside", ".", ","})
_VEHICLE_STATE_WORDS = RESTING_VEHICLE_WORDS | MOVING_VEHICLE_WORDS
# Where a vehicle stops for a moment: one "moving" there looks the same in a still photo (round 16).
STOPPING_PLACES = frozenset({"stop", "station", "platform", "terminal", "light", "lights", "gate", "waiting",
                             "intersection", "crosswalk", "depot", "loading", "boarding", "passengers"})


def _vehicle_states(caption: Caption, ctx: RuleContext) -> list[str]:
    """"a bus parked on the street" -> "a bus moving on the street", "a train traveling on
    tracks" -> "a train stopped on tracks", "a parked car" -> "a moving car"."""
    words = caption.words
    if words.isdisjoint(_VEHICLE_STATE_WORDS):
        return []  # most captions: no token to look at
    candidates = []
    tokens = caption.tokens
    for index, token in enumerate(tokens):
        if token.lower in RESTING_VEHICLE_WORDS:
            replacement = "moving"
        elif token.lower in MOVING_VEHICLE_WORDS and token.tag == "VBG":
            replacement = "stopped"
        else:
            continue
        if index == 0:
            continue
        phrase = caption.phrase_at(index)
        if phrase is not None:  # "a parked car": the participle modifies the vehicle
            if token.lower not in ("parked", "stopped") or index >= phrase.head:
                continue
            vehicle = phrase
        else:
            vehicle = subject_phrase(caption, index)
            if vehicle is None:
                continue
        base = head_word(caption, vehicle) or ""
        if not wordnet.is_motor_vehicle(base):
            continue  # engines only: a parked bicycle or canoe does not move by itself
        if replacement in words:
            ctx.refuse("state-already-said")  # "a parked car and a moving bus" -> "moving car and a moving bus"
            continue
        if phrase is None:
            following = caption.lower(index + 1) if index + 1 < len(tokens) else "."
            if following not in VEHICLE_STATE_PLACES or caption.lower(min(index + 2, len(tokens) - 1)) == "top":
                ctx.refuse("moving-path")  # "driving down the road" has no still counterpart; nor "sitting on top of"
                continue
            previous = tokens[index - 1]
            if previous.tag.startswith("VB") and previous.lower not in _AUXILIARIES:
                ctx.refuse("verb-chain")  # "cars sit parked": "sit moving" is no English
                continue
            if has_agent(caption, index):
                ctx.refuse("driven")  # "a man driving a car": his action, not the car's state
                continue
        if wordnet.is_kind_of(base, "vessel.n.02") and words & lexicon.DRY_LAND_NOUNS:
            ctx.refuse("vessel-on-land")  # "boats sitting on the shore" cannot be moving there
            continue
        if replacement == "moving" and not words.isdisjoint(STOPPING_PLACES):
            ctx.refuse("at-a-stop")  # "a bus stopped at a stop waiting": moving there is no still photo's
            continue
        candidates.append(apply_edits(caption, [Edit(index, index + 1, match_case(token.text, replacement))]))
    return candidates


# --- the rule ---------------------------------------------------------------------------------

# --- verbs of handling and directing: holding -> throwing ---------------------------------------

# Relation verbs that take their object after "at" only ("look on" is no relation).
AT_ONLY_VERBS = frozenset({"look", "stare", "point"})
# Relation verbs only people do (a dog "wearing" a hat does not then "carry" it).
PEOPLE_ONLY_RELATION_VERBS = AT_ONLY_VERBS | {"wear"}

# Where a held thing is said to be, which a thrown or dropped one would not be.
_HELD_PLACES = frozenset({"hand", "hands", "air", "up", "to", "mouth", "mouths", "teeth", "arms", "lap"})


def _handling_verb_edits(caption: Caption, index: int, ctx: RuleContext) -> list[str]:
    """holding -> throwing, chasing -> leading: a verb that relates its doer to a thing (the
    curated ``lexicon.RELATION_VERBS``) replaced, when someone does it to a thing that follows."""
    tokens = caption.tokens
    token = tokens[index]
    following = caption.lower(index + 1) if index + 1 < len(tokens) else ""
    if not (starts_phrase(caption, index + 1) or following == "at"):
        return []  # no object follows
    lemma = wordnet.verb_lemma(token.lower)
    if lemma not in lexicon.RELATION_VERBS or (following == "at") != (lemma in AT_ONLY_VERBS):
        return []  # no relation verb ("look on" is none)
    if not has_agent(caption, index):
        ctx.refuse("no-agent")  # "a pitcher holding flowers" holds them as a container, not in hands
        return []
    if negated(caption, index):
        ctx.refuse("negated")  # "no people wearing a helmet" -> "carrying" one: still true (round 16)
        return []
    if lemma in PEOPLE_ONLY_RELATION_VERBS and not has_agent(caption, index, people_only=True):
        ctx.refuse("people-only-verb")  # a dog "wearing" a hat does not then "carry" it
        return []
    obj = next_phrase(caption, index + 1)
    if obj is not None and is_animate(caption, obj):
        ctx.refuse("animate-object")  # not "throws a sick child"
        return []
    if obj is not None and not _HELD_PLACES.isdisjoint(t.lower for t in tokens[obj.end:obj.end + 4]):
        ctx.refuse("held-in-place")  # not "throwing a racket in his hand"
        return []
    if obj is not None and obj.end < len(tokens) and tokens[obj.end].tag == "VBG":
        # "a girl wearing a bonnet holding a bag": "carrying a bonnet holding" reads as the bonnet's
        ctx.refuse("participle-after-object")
        return []
    present = {wordnet.verb_lemma(t.lower) for t in tokens if t.tag.startswith("VB")}
    options = []
    for option in lexicon.RELATION_VERBS[lemma]:
        if option in present:
            ctx.refuse("verb-already-said")  # not "holding a tie holding a bag"
        elif option == "throw" and obj is not None and lexname(caption, obj) == "noun.food":
            ctx.refuse("thrown-food")  # one does not throw one's food
        else:
            options.append(option)
    edits = []
    for replacement in pick(ctx.rng, options):
        form = inflect_verb(replacement, token.tag, irregular_past())
        edits.append(apply_edits(caption, [Edit(index, index + 1, match_case(token.text, form))]))
    return edits


def replace_action(caption: Caption, ctx: RuleContext) -> list[str]:
    """riding -> feeding, sitting -> standing, holding -> throwing: curated verbs, then WordNet
    verb siblings."""
    candidates = []
    for index, token in enumerate(caption.tokens):
        if token.tag.startswith("VB") and wordnet.verb_lemma(token.lower) in lexicon.RELATION_VERBS:
            candidates += _handling_verb_edits(caption, index, ctx)
        else:
            candidates += _verb_edit(caption, index, ctx)
    return pick(ctx.rng, candidates + _vehicle_states(caption, ctx))
