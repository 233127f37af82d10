"""The shapes world: two coloured shapes in a spatial relation, drawn small enough to train on a
laptop in minutes, with captions and hard negatives that are true or false by construction.

A :class:`Scene` is a scene graph: two objects (shape, colour, size, centre) and the relation
that holds between them. Everything else is derived from it:

- :func:`render` draws it (PIL, a dark background, shapes filled in their colours);
- :func:`captions` describes it in varied English ("a small red circle to the left of a large
  blue square", "there is a blue square to the right of a red circle", ...);
- :func:`parse_caption` and :func:`caption_is_true` read a caption back into the facts it states
  and check them against the scene, geometry included (:func:`relation_holds`), so the tests can
  prove every caption true and every negative false;
- :func:`benchmark_negatives` edits the scene graph, not the words: one property changed, then
  described with the very template of the true caption (SugarCrepe's five subsets).

Two writers put the world on disk:

- :func:`write_corpus`: ``images/000000.png`` ... and ``corpus.jsonl`` rows ``{"image", "caption":
  [...], "scene"}``, which ``fgclip pipeline build-negatives --input corpus.jsonl`` reads as any
  jsonl corpus (its own rules then make the training negatives);
- :func:`write_benchmark`: held-out scenes, ``shapes.json`` (``--benchmark shapes``) and
  ``shapes_retrieval.json`` (``--benchmark shapes-retrieval``).

and :func:`write_scene_graph_negatives` gives a corpus's captions negatives made from the scene
graph, exact by construction, in the jsonl that ``build-negatives --extra-negatives`` merges
into the shards (source "scene-graph"), beside the rules' negatives or instead of them.

Held out by construction, not by luck: a scene goes to the benchmark when a hash of what its
image shows (:func:`is_held_out`, one eighth of all scenes) says so, and the corpus never draws
such a scene, whatever the seeds or counts. The two writers also use separate string seeds
(``fgclip-shapes:corpus:...`` and ``fgclip-shapes:benchmark:...``), so their streams are
independent. String seeds give the same numbers in every process (no PYTHONHASHSEED involved),
and PIL writes PNGs without timestamps, so the same (count, config, seed) gives byte-identical
files.

This module imports no torch and nothing of the pipeline, trainer or eval: it meets them in files.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from PIL import Image, ImageDraw

from ..files import write_atomically, write_json

# --- the vocabulary -----------------------------------------------------------------------------

# Colours far apart in RGB and all bright against the background, so that no colour can be
# mistaken for another at 64 pixels. The default config uses the first seven.
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (230, 40, 40),
    "green": (40, 200, 60),
    "blue": (50, 90, 235),
    "yellow": (240, 220, 40),
    "purple": (160, 60, 200),
    "orange": (245, 140, 30),
    "white": (245, 245, 245),
    "pink": (250, 130, 200),
    "cyan": (40, 215, 225),
    "brown": (140, 85, 35),
}
BACKGROUND = (18, 18, 24)

SHAPES = ("circle", "square", "triangle", "star", "cross")

# An object's radius (half the side of its bounding box) as a fraction of the image side: 1.7x
# apart, so that "small" and "large" are never a judgement call.
SIZE_RADII = {"small": 0.10, "large": 0.17}

RELATIONS = ("left of", "right of", "above", "below")
CONVERSE = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}

# How captions word each relation. The lists are parallel (the i-th wording of "left of" is the
# i-th of "right of"...), so that a negative that changes the relation keeps the wording style.
RELATION_WORDS = {
    "left of": ("to the left of", "left of", "on the left of"),
    "right of": ("to the right of", "right of", "on the right of"),
    "above": ("above", "over", "higher than"),
    "below": ("below", "under", "beneath"),
}

# Caption templates; {a} and {b} are noun phrases, {rel} a relation wording. Template 2 may use
# "the" instead of "a" ("the small red circle is left of the large blue square").
TEMPLATES = (
    "{a} {rel} {b}",
    "there is {a} {rel} {b}",
    "{a} is {rel} {b}",
    "an image of {a} {rel} {b}",
    "{a} placed {rel} {b}",
)
_PREFIXES = ("there is ", "an image of ")  # the template words before the first noun phrase
_VERBS = ("is", "placed")  # and those between it and the relation

# The benchmark subsets, in SugarCrepe's order (it has no add_* here: a two-object world has
# nothing to add that the scene graph could make false in one step).
SUBSETS = ("replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")

# Where the two objects sit before jitter, as fractions of the image side: the first and the
# second slot along the relation's axis, both centred on the other axis.
_SLOTS = (0.28, 0.72)
MAX_JITTER = 0.25  # beyond this the slots overlap so often that sampling would mostly reject

# One scene in eight (by a hash of what its image shows) belongs to the benchmark only.
HELD_OUT_EIGHTHS = 1


# --- configuration ------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorldConfig:
    """What the world may contain. Every field is a lever; :meth:`__post_init__` checks them all
    and raises ValueError naming the field."""

    image_size: int = 64
    shapes: tuple[str, ...] = SHAPES
    colours: tuple[str, ...] = ("red", "green", "blue", "yellow", "purple", "orange", "white")
    sizes: tuple[str, ...] = ("small", "large")
    relations: tuple[str, ...] = RELATIONS
    objects: int = 2
    two_colour: bool = False  # each object split in two colours (left half, right half)
    captions_per_image: int = 3
    jitter: float = 0.15  # position noise, as a fraction of the image side

    def __post_init__(self) -> None:
        # Lists (from YAML or json) become tuples, so that a config read back equals the one
        # written and stays hashable.
        for name in ("shapes", "colours", "sizes", "relations"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        _check_int("image_size", self.image_size, 32)
        _check_words("shapes", self.shapes, SHAPES, 3,
                     "at least 3, so that replace_obj always has a shape neither object has")
        needed = 5 if self.two_colour is True else 3
        _check_words("colours", self.colours, tuple(PALETTE), needed,
                     f"at least {needed}, so that replace_att always has a colour neither object has")
        _check_words("sizes", self.sizes, tuple(SIZE_RADII), 1, "at least 1")
        _check_words("relations", self.relations, RELATIONS, 2, "at least 2")
        unpaired = [r for r in self.relations if CONVERSE[r] not in self.relations]
        if unpaired:
            # Captions may name either object first, with the converse relation.
            raise ValueError(f"relations: {', '.join(unpaired)} without its converse "
                             f"({', '.join(CONVERSE[r] for r in unpaired)}); captions need both")
        if type(self.objects) is not int or self.objects != 2:
            raise ValueError(f"objects: only 2 objects per scene are implemented, got {self.objects!r}")
        if not isinstance(self.two_colour, bool):
            raise ValueError(f"two_colour: expected true or false, got {self.two_colour!r}")
        _check_int("captions_per_image", self.captions_per_image, 1)
        if (isinstance(self.jitter, bool) or not isinstance(self.jitter, (int, float))
                or not 0 <= self.jitter <= MAX_JITTER):
            raise ValueError(f"jitter: expected a number from 0 to {MAX_JITTER}, got {self.jitter!r}")


def _check_int(name: str, value: object, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{name}: expected an integer >= {least}, got {value!r}")


def _check_words(name: str, value: object, known: tuple[str, ...], least: int, why: str) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: expected a list of names, got {value!r}")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise ValueError(f"{name}: unknown {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    if len(set(value)) != len(value):
        raise ValueError(f"{name}: names repeat in {value!r}")
    if len(value) < least:
        raise ValueError(f"{name}: {len(value)} given, need {why}")


def config_to_dict(cfg: WorldConfig) -> dict:
    """The config as plain json values (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()}


def config_from_dict(values: dict) -> WorldConfig:
    """The config :func:`config_to_dict` wrote; ValueError naming a key that is no field."""
    unknown = sorted(set(values) - {f.name for f in fields(WorldConfig)})
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a field of the shapes world's config")
    return WorldConfig(**values)


# --- scenes -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Obj:
    """One object. ``colour`` is a name, or a pair of names (left half, right half) in a
    two-colour world; ``x``, ``y`` its centre and ``radius`` half its bounding box, in pixels."""

    shape: str
    colour: str | tuple[str, str]
    size: str
    x: int
    y: int
    radius: int

    @property
    def colours(self) -> tuple[str, ...]:
        return self.colour if isinstance(self.colour, tuple) else (self.colour,)


@dataclass(frozen=True)
class Scene:
    """``objects[0] <relation> objects[1]``, true by geometry (:func:`relation_holds`)."""

    objects: tuple[Obj, Obj]
    relation: str


def relation_holds(a: Obj, b: Obj, relation: str) -> bool:
    """Whether ``a <relation> b`` is plainly true of the picture.

    "a left of b": a's bounding box ends before b's begins (at least one pixel between them), and
    the horizontal distance between the centres is larger than the vertical one, so that nobody
    would rather say "above" or "below". The other three are the same rule turned; image y grows
    downwards. The definitions are mirror images, so "a left of b" holds exactly when "b right of
    a" does: a caption may name either object first.
    """
    dx, dy = b.x - a.x, b.y - a.y
    if relation == "left of":
        return a.x + a.radius < b.x - b.radius and abs(dy) < dx
    if relation == "right of":
        return b.x + b.radius < a.x - a.radius and abs(dy) < -dx
    if relation == "above":
        return a.y + a.radius < b.y - b.radius and abs(dx) < dy
    if relation == "below":
        return b.y + b.radius < a.y - a.radius and abs(dx) < -dy
    raise ValueError(f"unknown relation {relation!r}; known: {', '.join(RELATIONS)}")


def radius_of(size: str, image_size: int) -> int:
    return max(2, round(SIZE_RADII[size] * image_size))


def sample_scene(rng: random.Random, cfg: WorldConfig) -> Scene:
    """A random scene: two objects a caption can tell apart (they differ in shape or in colours),
    placed so that the relation holds unambiguously.

    The relation is drawn first; objects[0] goes to the slot the relation puts it in ("left of":
    the left slot), objects[1] to the other, each moved by up to ``jitter`` of the image side on
    both axes. Placements that leave the image or break :func:`relation_holds` are drawn again.
    """
    relation = rng.choice(cfg.relations)
    while True:
        first, second = _sample_looks(rng, cfg), _sample_looks(rng, cfg)
        if first[0] != second[0] or set(_as_tuple(first[1])) != set(_as_tuple(second[1])):
            break
    # The slot of objects[0] along the axis: the first slot for left of / above.
    horizontal = relation in ("left of", "right of")
    order = (0, 1) if relation in ("left of", "above") else (1, 0)
    side = cfg.image_size
    for _ in range(10_000):
        placed = []
        for (shape, colour, size), slot in zip((first, second), order):
            radius = radius_of(size, side)
            along = _SLOTS[slot] * side + rng.uniform(-cfg.jitter, cfg.jitter) * side
            across = 0.5 * side + rng.uniform(-cfg.jitter, cfg.jitter) * side
            x, y = (along, across) if horizontal else (across, along)
            placed.append(Obj(shape, colour, size, round(x), round(y), radius))
        a, b = placed
        if all(_inside(o, side) for o in placed) and relation_holds(a, b, relation):
            return Scene((a, b), relation)
    # Unreachable with a validated config (jitter <= MAX_JITTER): most draws are accepted.
    raise RuntimeError(f"could not place two objects {relation} each other in {side} pixels")


def _sample_looks(rng: random.Random, cfg: WorldConfig) -> tuple[str, str | tuple[str, str], str]:
    shape = rng.choice(cfg.shapes)
    colour = tuple(rng.sample(cfg.colours, 2)) if cfg.two_colour else rng.choice(cfg.colours)
    return shape, colour, rng.choice(cfg.sizes)


def _as_tuple(colour: str | tuple[str, ...]) -> tuple[str, ...]:
    return colour if isinstance(colour, tuple) else (colour,)


def _inside(obj: Obj, side: int) -> bool:
    return obj.radius <= obj.x <= side - 1 - obj.radius and obj.radius <= obj.y <= side - 1 - obj.radius


def scene_to_dict(scene: Scene) -> dict:
    """The scene as plain json values (a two-colour object's colour as a list)."""
    return {"relation": scene.relation,
            "objects": [{"shape": o.shape, "colour": list(o.colour) if isinstance(o.colour, tuple) else o.colour,
                         "size": o.size, "x": o.x, "y": o.y, "radius": o.radius} for o in scene.objects]}


def scene_from_dict(values: dict) -> Scene:
    objects = tuple(Obj(o["shape"], tuple(o["colour"]) if isinstance(o["colour"], list) else o["colour"],
                        o["size"], o["x"], o["y"], o["radius"]) for o in values["objects"])
    return Scene(objects, values["relation"])  # type: ignore[arg-type]


def is_held_out(scene: Scene) -> bool:
    """Whether the scene belongs to the benchmark (one scene in eight), decided by what its image
    shows: the objects as a set, so that "A left of B" and "B right of A" with the same
    placements, one picture, land on the same side."""
    objects = sorted(json.dumps(o, sort_keys=True) for o in scene_to_dict(scene)["objects"])
    digest = hashlib.sha256(json.dumps(objects).encode("utf-8")).digest()
    return digest[0] < 32 * HELD_OUT_EIGHTHS


# --- drawing ------------------------------------------------------------------------------------

def render(scene: Scene, cfg: WorldConfig) -> Image.Image:
    """The scene as an RGB image: each shape filled in its colour on a dark background; a
    two-colour object's left half (x < its centre) in its first colour, the rest in its second.

    Shapes are drawn without anti-aliasing, so every shape pixel has exactly its palette colour
    (the tests find objects by colour).
    """
    side = cfg.image_size
    image = Image.new("RGB", (side, side), BACKGROUND)
    for obj in scene.objects:
        mask = Image.new("L", (side, side), 0)
        _draw_shape(ImageDraw.Draw(mask), obj)
        colours = obj.colours
        if len(colours) == 1:
            image.paste(PALETTE[colours[0]], (0, 0, side, side), mask)
            continue
        left, right = mask.copy(), mask.copy()
        ImageDraw.Draw(left).rectangle((obj.x, 0, side, side), fill=0)
        ImageDraw.Draw(right).rectangle((0, 0, obj.x - 1, side), fill=0)
        image.paste(PALETTE[colours[0]], (0, 0, side, side), left)
        image.paste(PALETTE[colours[1]], (0, 0, side, side), right)
    return image


def _draw_shape(draw: ImageDraw.ImageDraw, obj: Obj) -> None:
    """The object's outline filled with 255, inside the box centre +- radius."""
    x, y, r = obj.x, obj.y, obj.radius
    if obj.shape == "circle":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    elif obj.shape == "square":
        half = round(0.85 * r)  # a full-box square would look larger than the circle of its size
        draw.rectangle((x - half, y - half, x + half, y + half), fill=255)
    elif obj.shape == "triangle":
        draw.polygon([(x, y - r), (x + r, y + r), (x - r, y + r)], fill=255)
    elif obj.shape == "star":
        points = []
        for k in range(10):  # five points, outer and inner corners alternating, one at the top
            angle = -math.pi / 2 + k * math.pi / 5
            reach = r if k % 2 == 0 else 0.45 * r
            points.append((x + reach * math.cos(angle), y + reach * math.sin(angle)))
        draw.polygon(points, fill=255)
    elif obj.shape == "cross":
        arm = max(1, round(r / 3))
        draw.rectangle((x - r, y - arm, x + r, y + arm), fill=255)
        draw.rectangle((x - arm, y - r, x + arm, y + r), fill=255)
    else:
        raise ValueError(f"unknown shape {obj.shape!r}")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")  # PIL adds no time or text chunks: same pixels, same bytes
    return buffer.getvalue()


# --- captions -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Phrase:
    """A noun phrase: what it says of one object (``size`` None: not mentioned)."""

    shape: str
    colours: tuple[str, ...]
    size: str | None


@dataclass(frozen=True)
class _Spec:
    """A caption before it is words: the same spec with one field changed gives a negative that
    differs from the true caption only in that field."""

    template: int
    article: str
    wording: int
    first: _Phrase
    relation: str
    second: _Phrase


def _words(spec: _Spec) -> str:
    return TEMPLATES[spec.template].format(a=_noun_phrase(spec.first, spec.article),
                                           rel=RELATION_WORDS[spec.relation][spec.wording],
                                           b=_noun_phrase(spec.second, spec.article))


def _noun_phrase(phrase: _Phrase, article: str) -> str:
    body = " ".join(([phrase.size] if phrase.size else []) + [" and ".join(phrase.colours), phrase.shape])
    if article == "a" and body[0] in "aeiou":
        article = "an"
    return f"{article} {body}"


def _random_spec(scene: Scene, rng: random.Random, sizes: bool | None = None) -> _Spec:
    """A random true description of the scene. ``sizes``: True states both objects' sizes,
    None states each with probability one half."""
    a, b = scene.objects
    relation = scene.relation
    if rng.random() < 0.5:
        # The other object first, with the converse relation: just as true (relation_holds).
        a, b, relation = b, a, CONVERSE[relation]
    template = rng.randrange(len(TEMPLATES))
    article = rng.choice(("a", "the")) if TEMPLATES[template].startswith("{a} is") else "a"

    def phrase(obj: Obj) -> _Phrase:
        stated = True if sizes else rng.random() < 0.5
        return _Phrase(obj.shape, obj.colours, obj.size if stated else None)

    return _Spec(template, article, rng.randrange(len(RELATION_WORDS[relation])), phrase(a), relation, phrase(b))


def captions(scene: Scene, rng: random.Random, cfg: WorldConfig) -> list[str]:
    """``cfg.captions_per_image`` different true captions of the scene, from several templates,
    wordings and orders, sizes mentioned or not."""
    texts: list[str] = []
    for _ in range(cfg.captions_per_image):
        text = _words(_random_spec(scene, rng))
        for _retry in range(50):  # hundreds of variants exist: a repeat is redrawn
            if text not in texts:
                break
            text = _words(_random_spec(scene, rng))
        texts.append(text)
    return texts


_RELATION_PATTERN = "|".join(re.escape(w) for w in sorted(
    (w for words in RELATION_WORDS.values() for w in words), key=len, reverse=True))
_CAPTION = re.compile(rf"^(?P<a>.+?)(?: (?:{'|'.join(_VERBS)}))? (?P<rel>{_RELATION_PATTERN}) (?P<b>.+)$")
_WORD_RELATION = {w: relation for relation, words in RELATION_WORDS.items() for w in words}


def parse_caption(text: str, cfg: WorldConfig) -> tuple[dict, str, dict] | None:
    """The facts a caption states: (subject, relation, object), each side a dict with ``shape``
    and, when stated, ``colour`` (a name, or a pair of names for "a red and blue circle") and
    ``size``. None when the caption is not in this world's language."""
    text = " ".join(text.lower().strip().rstrip(".").split())
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    match = _CAPTION.match(text)
    if match is None:
        return None
    subject, obj = _parse_noun_phrase(match["a"], cfg), _parse_noun_phrase(match["b"], cfg)
    if subject is None or obj is None:
        return None
    return subject, _WORD_RELATION[match["rel"]], obj


def _parse_noun_phrase(text: str, cfg: WorldConfig) -> dict | None:
    words = text.split()
    if len(words) < 2 or words[0] not in ("a", "an", "the") or words[-1] not in cfg.shapes:
        return None
    facts: dict = {"shape": words[-1]}
    middle = words[1:-1]
    if middle and middle[0] in cfg.sizes:
        facts["size"] = middle.pop(0)
    if len(middle) == 1 and middle[0] in cfg.colours:
        facts["colour"] = middle[0]
    elif (len(middle) == 3 and middle[1] == "and" and middle[0] in cfg.colours and middle[2] in cfg.colours
          and middle[0] != middle[2]):
        facts["colour"] = (middle[0], middle[2])
    elif middle:
        return None
    return facts


def _matches(obj: Obj, facts: dict) -> bool:
    """Whether every stated fact is true of the object (colours compared as a set: "a red and
    blue circle" does not say which half is which)."""
    if facts["shape"] != obj.shape or facts.get("size", obj.size) != obj.size:
        return False
    return "colour" not in facts or set(_as_tuple(facts["colour"])) == set(obj.colours)


def caption_is_true(scene: Scene, text: str, cfg: WorldConfig) -> bool:
    """Whether the caption is true of the scene: its subject describes one object, its object
    the other, and the stated relation holds between them by geometry."""
    parsed = parse_caption(text, cfg)
    if parsed is None:
        return False
    subject, relation, obj = parsed
    for i in (0, 1):
        a, b = scene.objects[i], scene.objects[1 - i]
        if _matches(a, subject) and _matches(b, obj) and relation_holds(a, b, relation):
            return True
    return False


# --- benchmark negatives ------------------------------------------------------------------------

def benchmark_negatives(scene: Scene, rng: random.Random, cfg: WorldConfig) -> dict[str, tuple[str, str]]:
    """subset -> (true caption, negative caption), one pair per subset that applies to the scene.

    The negative is the true caption's spec with one property of the scene changed, so the two
    share their template, wording and article and differ only in the edited words:

    - replace_att: one object's colour (one of its two in a two-colour world) becomes a colour
      neither object has; or, when both objects have the same size and another size exists,
      one object's size becomes it (both sizes are then stated). Colour or size: a coin flip
      where both apply.
    - replace_obj: one object's shape becomes a shape neither object has.
    - replace_rel: the stated relation becomes another one that is false of the scene. With
      relations ("left of", "right of") the only one is the flip, and "A right of B" then says
      what swap_obj's "B left of A" says: the two subsets test the same thing in other words.
    - swap_att: the objects' colours trade places; only when they differ.
    - swap_obj: the two noun phrases trade places around the relation.

    Every true caption is checked true and every negative false (:func:`caption_is_true`): with
    two objects a caption can tell apart neither can fail, so a failure is a bug and raises.
    """
    a, b = scene.objects
    used_colours = set(a.colours) | set(b.colours)
    pairs: dict[str, tuple[_Spec, _Spec]] = {}

    spare_sizes = [s for s in cfg.sizes if s not in (a.size, b.size)]
    kind = rng.choice(("colour", "size")) if spare_sizes else "colour"
    spec = _random_spec(scene, rng, sizes=True if kind == "size" else None)
    edited = rng.choice(("first", "second"))
    phrase: _Phrase = getattr(spec, edited)
    if kind == "colour":
        index = rng.randrange(len(phrase.colours))
        new_colour = rng.choice([c for c in cfg.colours if c not in used_colours])
        changed = replace(phrase, colours=phrase.colours[:index] + (new_colour,) + phrase.colours[index + 1:])
    else:
        changed = replace(phrase, size=rng.choice(spare_sizes))
    pairs["replace_att"] = (spec, replace(spec, **{edited: changed}))

    spec = _random_spec(scene, rng)
    edited = rng.choice(("first", "second"))
    new_shape = rng.choice([s for s in cfg.shapes if s not in (a.shape, b.shape)])
    pairs["replace_obj"] = (spec, replace(spec, **{edited: replace(getattr(spec, edited), shape=new_shape)}))

    spec = _random_spec(scene, rng)
    false_relations = [r for r in cfg.relations
                       if r != spec.relation and not caption_is_true(scene, _words(replace(spec, relation=r)), cfg)]
    if false_relations:
        pairs["replace_rel"] = (spec, replace(spec, relation=rng.choice(false_relations)))

    spec = _random_spec(scene, rng)
    if set(a.colours) != set(b.colours):
        pairs["swap_att"] = (spec, replace(spec, first=replace(spec.first, colours=spec.second.colours),
                                           second=replace(spec.second, colours=spec.first.colours)))

    spec = _random_spec(scene, rng)
    pairs["swap_obj"] = (spec, replace(spec, first=spec.second, second=spec.first))

    result = {}
    for subset in [name for name in SUBSETS if name in pairs]:
        true, negative = (_words(spec) for spec in pairs[subset])
        if not caption_is_true(scene, true, cfg) or caption_is_true(scene, negative, cfg):
            raise AssertionError(f"{subset}: {true!r} should be true and {negative!r} false of {scene}")
        result[subset] = (true, negative)
    return result


# --- training negatives from the scene graph ----------------------------------------------------

SCENE_GRAPH_SOURCE = "scene-graph"
# Edit -> (kind, rule): fgclip's own rule names and kinds (fgclip.schema.RULE_NAMES), so that a
# run's skip_rules and kinds treat these as the generator's; an exchange of the two noun phrases
# is a relation negative there (who is where), as the generator's swap-obj is.
_SCENE_GRAPH_EDITS = {"replace_att": ("attribute", "replace-att"), "swap_att": ("attribute", "swap-att"),
                      "replace_obj": ("object", "replace-obj"), "replace_rel": ("relation", "replace-rel"),
                      "swap_obj": ("relation", "swap-obj")}


def spec_of(text: str, cfg: WorldConfig) -> _Spec | None:
    """The spec :func:`captions` wrote ``text`` from (template, article, wording, phrases), or
    None for a caption this world's templates do not write."""
    parsed = parse_caption(text, cfg)
    if parsed is None:
        return None
    subject, relation, obj = parsed

    def phrase(facts: dict) -> _Phrase:
        return _Phrase(facts["shape"], _as_tuple(facts["colour"]) if "colour" in facts else (), facts.get("size"))

    first, second = phrase(subject), phrase(obj)
    for template in range(len(TEMPLATES)):
        for article in ("a", "the"):
            for wording in range(len(RELATION_WORDS[relation])):
                spec = _Spec(template, article, wording, first, relation, second)
                if _words(spec) == text:
                    return spec
    return None


def scene_graph_negatives(scene: Scene, text: str, rng: random.Random, cfg: WorldConfig) -> list[dict]:
    """Negatives of the true caption ``text`` of ``scene``: its spec with one fact of the scene
    changed (the benchmark's edits, :func:`benchmark_negatives`, applied to this caption rather
    than a fresh one), each checked false of the scene. ``[{"text", "kind", "rule", "source"}]``,
    one per edit that applies; none for a caption that is not this world's."""
    spec = spec_of(text, cfg)
    if spec is None or not caption_is_true(scene, text, cfg):
        return []
    a, b = scene.objects
    used_colours = set(a.colours) | set(b.colours)
    edited: dict[str, _Spec] = {}
    side = rng.choice(("first", "second"))
    phrase: _Phrase = getattr(spec, side)
    spare_colours = [c for c in cfg.colours if c not in used_colours]
    if phrase.colours and spare_colours:
        index = rng.randrange(len(phrase.colours))
        colours = phrase.colours[:index] + (rng.choice(spare_colours),) + phrase.colours[index + 1:]
        edited["replace_att"] = replace(spec, **{side: replace(phrase, colours=colours)})
    spare_shapes = [s for s in cfg.shapes if s not in (a.shape, b.shape)]
    side = rng.choice(("first", "second"))
    edited["replace_obj"] = replace(spec, **{side: replace(getattr(spec, side), shape=rng.choice(spare_shapes))})
    false_relations = [r for r in cfg.relations
                       if r != spec.relation and not caption_is_true(scene, _words(replace(spec, relation=r)), cfg)]
    if false_relations:
        edited["replace_rel"] = replace(spec, relation=rng.choice(false_relations))
    if spec.first.colours and spec.second.colours and set(spec.first.colours) != set(spec.second.colours):
        edited["swap_att"] = replace(spec, first=replace(spec.first, colours=spec.second.colours),
                                     second=replace(spec.second, colours=spec.first.colours))
    edited["swap_obj"] = replace(spec, first=spec.second, second=spec.first)
    negatives = []
    for edit, negative_spec in edited.items():
        negative = _words(negative_spec)
        # False by construction in this world; checked all the same, so that a scene where an
        # edit happens to stay true (never seen) loses that negative rather than teaching a lie.
        if negative != text and not caption_is_true(scene, negative, cfg):
            kind, rule = _SCENE_GRAPH_EDITS[edit]
            negatives.append({"text": negative, "kind": kind, "rule": rule, "source": SCENE_GRAPH_SOURCE})
    return negatives


def write_scene_graph_negatives(path: str | Path, corpus: str | Path, cfg: WorldConfig = WorldConfig(),
                                false_fraction: float = 0.0) -> Path:
    """Write the scene-graph negatives of every caption of ``corpus`` (a :func:`write_corpus`
    jsonl) to ``path``: one line ``{"key", "caption", "negatives"}`` per caption. ``key`` is the
    sample key build-negatives gives the row (its row number, nine digits), so that two images
    with the same caption each get the negatives of their own scene. Seeded by key and caption:
    the same corpus gives the same bytes.

    ``false_fraction`` (0 to 1) corrupts that share of the negatives on purpose, to measure what
    validity is worth: each negative is, with that probability, replaced by another *true*
    caption of the scene (:func:`false_negative`) that keeps its kind, rule and source, so the
    trainer cannot tell it from a real one. 0, the default, writes only exact negatives."""
    if isinstance(false_fraction, bool) or not isinstance(false_fraction, (int, float)) or not 0 <= false_fraction <= 1:
        raise ValueError(f"false_fraction: expected a number from 0 to 1, got {false_fraction!r}")
    lines = []
    rows = Path(corpus).read_text(encoding="utf-8").splitlines()
    for row_number, line in enumerate(rows):
        row = json.loads(line)
        scene = scene_from_dict(row["scene"])
        key = f"{row_number:09d}"  # fgclip.pipeline.shards.sample_key, written out: no pipeline import here
        for text in row["caption"]:
            rng = random.Random(f"fgclip-shapes:scene-graph:{key}:{text}")
            negatives = scene_graph_negatives(scene, text, rng, cfg)
            if false_fraction > 0:
                # Its own stream: the exact negatives stay the same whatever the fraction.
                corrupt = random.Random(f"fgclip-shapes:false-negatives:{key}:{text}")
                negatives = [{**negative, "text": false_negative(scene, text, corrupt)}
                             if corrupt.random() < false_fraction else negative for negative in negatives]
            record = {"key": key, "caption": text, "negatives": negatives}
            lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    path = Path(path)
    write_atomically(path, "".join(lines).encode("utf-8"))
    return path


def false_negative(scene: Scene, text: str, rng: random.Random) -> str:
    """A caption that is true of ``scene`` and differs from ``text``: what a hard-negative
    generator produces when its edit keeps the meaning (a synonym, the converse relation with the
    objects exchanged). Used only to corrupt negatives on purpose."""
    for _ in range(100):  # hundreds of wordings exist: a repeat of ``text`` is redrawn
        candidate = _words(_random_spec(scene, rng))
        if candidate != text:
            return candidate
    raise RuntimeError(f"no second true caption of {scene} besides {text!r}")  # unreachable: wordings vary


# --- writing the world --------------------------------------------------------------------------

def _scenes(rng: random.Random, cfg: WorldConfig, count: int, held_out: bool):
    """``count`` scenes from ``rng``, all on the given side of :func:`is_held_out`."""
    made = 0
    while made < count:
        scene = sample_scene(rng, cfg)
        if is_held_out(scene) == held_out:
            made += 1
            yield scene


def _write_image(folder: Path, index: int, scene: Scene, cfg: WorldConfig) -> str:
    name = f"images/{index:06d}.png"
    write_atomically(folder / name, png_bytes(render(scene, cfg)))
    return name


def write_corpus(folder: str | Path, count: int, cfg: WorldConfig = WorldConfig(), seed: int = 0) -> Path:
    """Write a training corpus of ``count`` scenes: ``folder/images/000000.png`` ...,
    ``folder/corpus.jsonl`` (one row per image: ``{"image": "images/000000.png", "caption":
    [...], "scene": {...}}``, which build-negatives reads with its default columns) and
    ``folder/world.json`` (config, seed, count). Returns the jsonl path.

    No scene of the benchmark can appear (see :func:`is_held_out`). Scenes and captions come from
    separate random streams, so changing ``captions_per_image`` keeps the images.
    """
    _check_int("count", count, 0)
    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    scene_rng = random.Random(f"fgclip-shapes:corpus:scenes:{seed}")
    text_rng = random.Random(f"fgclip-shapes:corpus:captions:{seed}")
    lines = []
    for index, scene in enumerate(_scenes(scene_rng, cfg, count, held_out=False)):
        image = _write_image(folder, index, scene, cfg)
        row = {"image": image, "caption": captions(scene, text_rng, cfg), "scene": scene_to_dict(scene)}
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
    path = folder / "corpus.jsonl"
    # The jsonl last: it names the images, so once it exists they all do.
    write_atomically(path, "".join(lines).encode("utf-8"))
    write_json(folder / "world.json", {"config": config_to_dict(cfg), "seed": seed, "count": count})
    return path


def write_benchmark(folder: str | Path, count: int, cfg: WorldConfig = WorldConfig(), seed: int = 0) -> Path:
    """Write the held-out benchmark of ``count`` scenes to ``folder``; returns ``folder``.

    - ``images/000000.png`` ...
    - ``shapes.json``: ``{"config": {...}, "seed": seed, "subsets": {"replace_att": [{"image",
      "caption", "negative_caption"}, ...], ...}, "scenes": [{"image", "scene"}, ...]}``, every
      subset of :data:`SUBSETS` present (swap_att holds only the scenes whose colours differ);
    - ``shapes_retrieval.json``: ``{"images": [...], "captions": [[...], ...]}``, the
      ``captions_per_image`` captions of each image. In a world this small, two images may show
      the same content, and a caption may then be as true of another image as of its own:
      retrieval scores have a ceiling below 100.
    """
    _check_int("count", count, 0)
    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    scene_rng = random.Random(f"fgclip-shapes:benchmark:scenes:{seed}")
    text_rng = random.Random(f"fgclip-shapes:benchmark:captions:{seed}")
    subsets: dict[str, list[dict]] = {name: [] for name in SUBSETS}
    scenes, images, texts = [], [], []
    for index, scene in enumerate(_scenes(scene_rng, cfg, count, held_out=True)):
        image = _write_image(folder, index, scene, cfg)
        for subset, (true, negative) in benchmark_negatives(scene, text_rng, cfg).items():
            subsets[subset].append({"image": image, "caption": true, "negative_caption": negative})
        images.append(image)
        texts.append(captions(scene, text_rng, cfg))
        scenes.append({"image": image, "scene": scene_to_dict(scene)})
    write_json(folder / "shapes.json", {"config": config_to_dict(cfg), "seed": seed, "subsets": subsets,
                                        "scenes": scenes})
    write_json(folder / "shapes_retrieval.json", {"images": images, "captions": texts})
    return folder
