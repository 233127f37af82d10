"""Curated word lists: what each rule may change, and into what.

Every replacement listed here is chosen to be false of a picture that the original word
describes (on -> under, red -> blue, sitting -> standing), and to keep the sentence plausible.
Lists are plain data so that they can be read, reviewed and extended without touching the rules.
"""

from __future__ import annotations



# --- relations: spatial phrases, and what they may not be applied to --------------------------

SPATIAL_RELATIONS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("on", "top", "of"): ("next to",),
    ("in", "front", "of"): ("behind",),
    ("behind",): ("in front of",),
    ("to", "the", "left", "of"): ("to the right of",),
    ("to", "the", "right", "of"): ("to the left of",),
    ("on", "the", "left", "of"): ("on the right of",),
    ("on", "the", "right", "of"): ("on the left of",),
    ("left",): ("right",),
    ("right",): ("left",),
    ("next", "to"): ("far from",),
    ("close", "to"): ("far from",),
    ("far", "from"): ("next to",),
    ("beside",): ("far from",),
    ("near",): ("far from",),
    ("under",): ("next to",),
    ("underneath",): ("next to",),
    ("beneath",): ("next to",),
    ("below",): ("above",),
    ("above",): ("below", "next to"),
    ("over",): ("next to",),
    ("on",): ("next to",),
    ("onto",): ("off",),
    ("off",): ("onto",),
    ("upon",): ("next to",),
    ("atop",): ("next to",),
    ("off", "of"): ("onto",),
    ("inside", "of"): ("outside of",),
    ("inside",): ("outside",),
    ("outside", "of"): ("inside of",),
    ("outside",): ("inside",),
    ("in",): ("next to",),
    ("into",): ("out of",),
    ("out", "of"): ("into",),
    ("toward",): ("away from",),
    ("towards",): ("away from",),
    ("away", "from"): ("toward",),
    ("by",): ("far from",),
    ("at",): ("far from",),
    ("against",): ("away from",),
    ("up",): ("down",),
    ("down",): ("up",),
    ("upstairs",): ("downstairs",),
    ("downstairs",): ("upstairs",),
}

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

ROOM_NOUNS = frozenset({"kitchen", "bathroom", "bedroom", "living room", "room", "office", "restaurant",
                        "garage", "hallway", "lobby", "classroom", "dining room", "den", "hotel room"})

# Places one is on or in rather than beside. Vertical relations to them are not edited: neither
# "under a beach" nor "next to a beach" is a scene (see GROUND_RELATIONS).
GROUND_NOUNS = frozenset({
    "beach", "field", "street", "road", "sidewalk", "grass", "snow", "water", "ocean", "sea", "lake",
    "river", "pond", "hill", "mountain", "slope", "ground", "floor", "park", "yard", "lawn", "runway",
    "track", "tracks", "court", "shore", "sand", "dirt", "city", "room", "kitchen", "bathroom", "bedroom",
    "living room", "air", "sky", "highway", "pasture", "forest", "wave", "waves", "area", "town",
    "intersection", "platform", "station", "airport", "parking lot", "zoo", "market", "farm", "desert",
    "valley", "vineyard", "diamond", "meadow", "orchard", "canyon", "marsh", "countryside", "woods",
    "jungle", "savanna", "enclosure", "pen", "corral", "garden", "hillside", "mountainside", "island",
}) | ROOM_NOUNS

GROUND_RELATIONS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("on",): (), ("in",): (), ("under",): (), ("over",): (), ("upon",): (), ("atop",): (),
    ("above",): (), ("below",): (),
    ("on", "top", "of"): (), ("underneath",): (), ("beneath",): (),
}

# Ground relations that do make another place: the inside of a room is not its outside, the
# road is not beside it. Looked up before GROUND_RELATIONS, by relation and then by ground.
_ENCLOSURES = ROOM_NOUNS | {"pen", "corral", "enclosure", "barn", "tent", "stable", "cage"}
WATER_NOUNS = frozenset({"water", "ocean", "sea", "lake", "river", "pond"})
# Not a sidewalk: its edge is the street's.
PATH_GROUNDS = frozenset({"street", "road", "highway", "runway", "track", "tracks"})
_BOUNDED_AREAS = frozenset({"field", "park", "yard", "pasture", "parking lot", "lawn", "garden", "meadow",
                            "orchard", "vineyard", "farm", "zoo"})
GROUND_RELATIONS_BY_GROUND: dict[tuple[str, ...], dict[frozenset, tuple[str, ...]]] = {
    # Not fields, parks or lawns: "standing next to a field" may still be in it (rounds 9, 10).
    ("in",): {_ENCLOSURES: ("outside",), WATER_NOUNS: ("next to",), PATH_GROUNDS: ("next to",), _BOUNDED_AREAS: ()},
    ("on",): {PATH_GROUNDS: ("next to",), _BOUNDED_AREAS: ()},
    ("inside",): {_ENCLOSURES: ("outside",)},
    ("inside", "of"): {_ENCLOSURES: ("outside of",)},
    ("outside",): {_ENCLOSURES: ("inside",)},
    ("outside", "of"): {_ENCLOSURES: ("inside of",)},
}

# Verbs done in a ground, that do not carry over to beside it: "swimming in the lake" ->
# "swimming next to the lake" is no scene.
IN_GROUND_VERBS = frozenset({"swim", "surf", "float", "paddle", "wade", "graze", "play", "splash", "bathe",
                             "soak", "dive", "sail", "row", "fish", "ski", "snowboard", "skate", "drive",
                             "ride", "travel", "park", "land", "cook", "wash", "sleep", "lie", "lay"})

# Relations whose object may be a pronoun ("a meter on top of it"), and those that may take
# "each other" ("standing next to each other" -> "far from each other").
PRONOUN_RELATIONS = frozenset({
    ("on", "top", "of"), ("in", "front", "of"), ("behind",), ("next", "to"), ("close", "to"), ("beside",),
    ("near",), ("under",), ("underneath",), ("beneath",), ("below",), ("above",), ("on",), ("in",),
    ("inside",), ("inside", "of"), ("to", "the", "left", "of"), ("to", "the", "right", "of"),
})
NEARNESS_RELATIONS = frozenset({("next", "to"), ("close", "to"), ("beside",), ("near",)})

# Nouns that name no one thing and so are never replaced, but are still things one can be
# next to or swap places with ("a dog chasing a person"), by lexicographer file.
GENERIC_THING_FILES: dict[str, str] = {
    "person": "noun.person", "people": "noun.person", "animal": "noun.animal", "animals": "noun.animal",
    "vehicle": "noun.artifact", "vehicles": "noun.artifact", "camera": "noun.artifact",
    "food": "noun.food",
}

# Drawn shapes (diagrams, fgclip's synthetic shapes world): WordNet files most of them under
# noun.shape, which is no visible thing there, yet each can sit anywhere beside another thing.
SHAPE_NOUNS = frozenset({"circle", "square", "triangle", "star", "cross", "rectangle", "oval", "diamond",
                         "heart", "hexagon", "pentagon"})

# "up" and "down" are relations only along a path ("walking down the street"); elsewhere they
# are particles ("holding up an umbrella").
# Where on a thing, as opposed to next to it: "parked on the side of the road" / "in the middle
# of the road". A side is only an edge on open ground or a path ("on the side of a bus" is its
# surface), so PART_RELATIONS_ON_GROUND apply only to SIDED_GROUNDS and PATH_NOUNS.
PART_RELATIONS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("in", "the", "middle", "of"): ("at the edge of",),
    ("in", "the", "center", "of"): ("at the edge of",),
    ("in", "the", "corner", "of"): ("in the middle of",),
    ("at", "the", "edge", "of"): ("in the middle of",),
    ("on", "the", "edge", "of"): ("in the middle of",),
    ("at", "the", "top", "of"): ("at the bottom of",),
    ("on", "the", "top", "of"): ("at the bottom of",),
    ("at", "the", "bottom", "of"): ("at the top of",),
    ("in", "the", "back", "of"): ("in the front of",),
    ("in", "the", "front", "of"): ("in the back of",),
}
PART_RELATIONS_ON_GROUND: dict[tuple[str, ...], tuple[str, ...]] = {
    ("on", "the", "side", "of"): ("in the middle of",),
    ("at", "the", "side", "of"): ("in the middle of",),
    ("by", "the", "side", "of"): ("in the middle of",),
}
# A road's side is its verge, a lake's side is its shore: "a parking lot on the side of the
# ocean" cannot move to the middle of it.
SIDED_GROUNDS = GROUND_NOUNS - WATER_NOUNS - {"air", "sky", "wave", "waves", "city", "town"}

PATH_NOUNS = frozenset({
    "stairs", "steps", "staircase", "ramp", "hill", "slope", "mountain", "pole", "tree", "ladder",
    # (ground nouns, reachable here only through "up"/"down")
    "escalator", "stairway", "hillside", "mountainside",
})  # vertical only: "walking down a street" and "up a street" are the same walk

# Where "on" means using, not resting on ("surfing the web on a laptop", "talking on the phone").
MEDIA_NOUNS = frozenset({"phone", "laptop", "computer", "tv", "television", "screen", "tablet", "cellphone",
                         "cell phone", "cellular phone", "monitor", "radio", "display"})

# Vessels one cooks in: "cooking in a skillet" has no plausible "next to".
COOKING_VESSELS = frozenset({"skillet", "pan", "pot", "oven", "wok", "microwave", "fryer", "toaster", "grill"})

# Nouns no relation edit should point at: "in the air", "in the distance".
UNRELATABLE_NOUNS = frozenset({"air", "sky", "background", "distance", "foreground", "rain", "sun", "sunlight",
                               "shade", "dark", "light", "flat", "wind", "snow"})

# "at" relates a person to a workplace ("sitting at a table"), not to a place ("at third base").
AT_OBJECTS = frozenset({
    "table", "desk", "counter", "computer", "laptop", "bar", "window", "door", "sink", "stove",
    "camera", "bench", "booth", "station", "gate", "register", "dining table", "kitchen table",
})
# Where "at" means seated or served there: "socializing at a table" has no "far from a table"
# (round 10), so "at" is not edited before these.
AT_FURNITURE = frozenset({"table", "desk", "counter", "bar", "bench", "booth", "dining table", "kitchen table"})

# Past participles after which "in" / "with" name a material or content, not a place:
# "covered in chocolate", "lined with boats", "dressed in red".
CONTENT_PARTICIPLES = frozenset({
    "covered", "filled", "lined", "topped", "dressed", "wrapped", "decorated", "loaded", "stuffed",
    "packed", "painted", "coated", "surrounded", "piled", "stacked", "made", "done", "served",
    "garnished", "sprinkled", "smothered", "draped", "clad", "equipped", "crowded", "full",
    "embedded", "mounted", "attached", "framed", "reflected", "set", "built", "carved", "printed",
})

# Verbs of looking: what follows them is where the gaze goes, not where things are.
LOOKING_VERBS = frozenset({"look", "gaze", "stare", "peer", "peek", "glance", "watch", "check"})
# Where a gaze goes is a relation: "a dog looking at another dog" / "looking away from" it.
GAZE_VERBS = frozenset({"look", "gaze", "stare", "peer", "glance"})
GAZE_PREPOSITIONS = frozenset({"at", "into", "toward", "towards"})
GAZE_ADVERBS = frozenset({"up", "down", "back", "over", "out", "straight", "directly", "intently"})


# --- relation verbs: the verb *is* the relation between two things ----------------------------

RELATION_VERBS: dict[str, tuple[str, ...]] = {
    "hold": ("throw", "drop"),
    "carry": ("drop", "throw"),
    "throw": ("catch",),
    "catch": ("throw", "drop"),
    "wear": ("hold", "carry"),
    "push": ("pull",),
    "pull": ("push",),
    "kick": ("hold", "catch"),
    "hit": ("catch", "miss"),
    "hug": ("push", "kick"),
    "grab": ("drop", "throw"),
    "lift": ("drop", "push"),
    "drop": ("catch", "hold"),
    "chase": ("lead", "ignore"),
    "follow": ("lead",),
    "lead": ("follow",),
    "look": ("point",),
    "stare": ("point",),
    "point": ("look",),
    "enter": ("leave",),
    "leave": ("enter",),
}

# Relation verbs that take their object after "at" only ("look on" is no relation).
AT_ONLY_VERBS = frozenset({"look", "stare", "point"})

# Relation verbs only people do (a dog "wearing" a hat does not then "carry" it).
PEOPLE_ONLY_RELATION_VERBS = AT_ONLY_VERBS | {"wear"}


# --- actions: what a subject does -------------------------------------------------------------

ACTION_VERBS: dict[str, tuple[str, ...]] = {
    "sit": ("stand", "lie"),
    "stand": ("sit",),  # not "girls lying by some pastries" (round 11)
    "lie": ("stand", "sit"),
    "lay": ("stand", "sit"),
    "walk": ("run", "sit"),
    "run": ("walk", "sit"),
    "jog": ("sit", "walk"),
    "ride": ("push", "wash", "feed"),
    "eat": ("cook", "cut", "serve"),
    "drink": ("pour", "spill"),
    "cook": ("eat", "serve"),
    "cut": ("eat", "cook"),
    "bake": ("eat", "cut"),
    "prepare": ("eat", "serve"),
    "serve": ("eat", "cook"),
    "play": ("watch", "sleep"),
    "read": ("write", "close"),
    "write": ("read", "erase"),
    "sleep": ("play",),
    "rest": ("play", "run"),
    "swim": ("stand", "sit"),
    "fly": ("land", "sit", "carry", "fold"),
    "pose": ("run",),
    "land": ("fly",),
    "jump": ("sit",),  # jumping off and falling off look alike in a still (round 13)
    "fall": ("jump",),
    "climb": ("descend", "jump"),
    "smile": ("frown", "cry"),
    "laugh": ("cry", "frown"),
    "cry": ("laugh", "smile"),
    "talk": ("listen", "sing"),
    "graze": ("sleep", "run"),
    "feed": ("pet", "ride"),
    "pet": ("feed", "ride"),
    "ski": ("walk", "sit"),
    "surf": ("swim", "paddle"),
    "skate": ("walk", "fall"),
    "skateboard": ("walk", "sit"),
    "snowboard": ("ski", "walk"),
    "drive": ("park", "wash", "repair"),
    "park": ("drive",),
    "wash": ("dry", "dirty"),
    "open": ("close",),
    "close": ("open",),
    "sell": ("buy",),
    "buy": ("sell",),
    "paint": ("wash", "clean"),
    "clean": ("paint",),
    "build": ("destroy", "paint"),
    "fix": ("break",),
    "repair": ("break",),
    "type": ("read",),
    "sing": ("talk", "dance"),
    "dance": ("sit", "sing"),
    "bite": ("lick", "hold"),
    "lick": ("bite",),
    "sniff": ("bite", "lick"),
    "point": ("look",),
    "wave": ("point",),
    "shop": ("work",),
    "work": ("sleep",),
    "pack": ("unpack",),
    "unpack": ("pack",),
    "swing": ("drop", "throw"),
    "load": ("unload",),
    "unload": ("load",),
    "board": ("leave",),
    "cross": ("block",),
    "use": ("carry", "fix"),
    "hang": ("lie",),
    "stop": ("drive",),
    "travel": ("stop",),
    "kneel": ("stand",),
    "crouch": ("stand", "jump"),
    "lean": ("stand",),
    "chew": ("lick",),
}

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
    "drive": {"noun.artifact": ("wash", "repair", "park")},
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

STATIC_VERBS = frozenset({"sit", "stand", "lie", "lay", "stop", "park", "wait", "rest", "sleep", "kneel"})

# Motion particles after a verb ("walking down the street"): a static verb cannot take them.
MOTION_PARTICLES = frozenset({"down", "up", "across", "along", "through", "toward", "towards", "into", "past",
                              "around", "away", "over", "off", "out", "above", "overhead"})

POSTURE_PARTICLES = frozenset({("sit", "down"), ("lie", "down"), ("lay", "down"), ("sit", "up"), ("stand", "up")})

# Objects of "play" that one also watches while playing: no "watching" negative for them.
PLAYED_ON_SCREEN = frozenset({"wii", "video game", "video games", "game", "games", "videogame", "xbox"})

# Words that make a subject an agent who can do an action.
ANIMATE_WORDS = frozenset({
    "people", "person", "persons", "someone", "somebody", "crowd", "group", "family", "couple", "team",
    "everyone", "players", "children", "kids", "men", "women",
})

# Every verb the curated action table names, as a key or a replacement.
# Relations that hold a thing up: what rests on a table cannot be "next to" it, in the air.
RESTING_RELATIONS = frozenset({("on",), ("on", "top", "of"), ("atop",), ("upon",)})

# Places larger than any one photo: their size is not in the picture.
BEYOND_VIEW_PLACES = frozenset({"city", "town", "village", "area", "country", "countryside", "neighborhood",
                                "region", "cities", "towns", "areas"})

# Boards one stands on to ride: "on his surfboard" is riding it.
BOARDS = frozenset({"surfboard", "skateboard", "snowboard", "board", "skis", "ski", "snow board", "surf board",
                    "wakeboard", "paddle board", "paddleboard"})

# Verbs whose "on" is support: "leaning its paws on a bed" cannot lean "next to" it (round 12).
SUPPORT_VERBS = frozenset({"lean", "prop", "balance", "brace", "rest"})
# "old" in fixed phrases: "an old fashion stove" is no age (round 12).
OLD_IDIOM_NEXT = frozenset({"fashion", "fashioned", "time", "timey", "school", "style", "styled", "world"})

# What one sits in front of at a table: "in front of several glasses" faces them (round 13).
TABLEWARE = frozenset({"glass", "glasses", "cup", "mug", "bottle", "plate", "bowl", "wine glass", "dish", "tray"})

# Nouns that name a shade before a colour word: "mustard yellow" is one colour (round 13).
SHADE_NOUNS = frozenset({"mustard", "lime", "sky", "navy", "olive", "forest", "royal", "baby", "lemon", "mint",
                         "blood", "cherry", "kelly", "hunter", "powder", "neon", "pastel", "burnt", "brick"})

# Words that put the scene in the air: "planes flying above a bridge" are never "below" it.
AIRBORNE_WORDS = frozenset({"flying", "flies", "fly", "sky", "air", "airborne", "kite", "kites"})

# Metallic colours are for made things: "gold rice", "silver broccoli" are no food (round 10).
METALLIC_COLOURS = frozenset({"gold", "golden", "silver", "bronze", "copper"})

# Birds perch, peck and feed alike: sitting / standing, eating / sniffing cannot be told apart.
BIRD_SYNSET = "bird.n.01"

# Whether a vehicle moves is the one action a caption gives a thing without an agent: "a bus
# parked on the street" / "a bus driving on the street". Engines only: a parked bicycle or canoe
# does not move by itself. Vehicles are found in WordNet below these synsets.
MOTOR_VEHICLE_SYNSETS = frozenset({"self-propelled_vehicle.n.01", "public_transport.n.01", "craft.n.02"})
MOTOR_VEHICLE_EXTRA = frozenset({"vehicle", "cab", "firetruck", "engine", "subway"})
NOT_MOTOR_VEHICLES = frozenset({"bike", "canoe", "kayak", "raft", "scooter", "sailboat", "glider", "balloon",
                                "hot air balloon", "paddle boat", "rowboat"})
DRY_LAND_NOUNS = frozenset({"shore", "beach", "sand", "grass", "land", "dock", "trailer", "shoreline", "field"})
RESTING_VEHICLE_WORDS = frozenset({"parked", "stopped", "sitting", "standing", "waiting", "idling"})
MOVING_VEHICLE_WORDS = frozenset({"driving", "traveling", "travelling", "moving", "rolling", "cruising",
                                  "speeding", "riding"})
# After these a vehicle can be either still or moving ("stopped at", "moving along"); not after
# "down", "through" or "past", which only a moving one goes.
VEHICLE_STATE_PLACES = frozenset({"on", "in", "at", "along", "next", "near", "beside", "by", "alongside",
                                  "outside", "behind", "under", "inside", ".", ","})

KNOWN_ACTIONS = frozenset(ACTION_VERBS) | frozenset(v for vs in ACTION_VERBS.values() for v in vs)


# --- attributes: a value is replaced by a contrasting one of the same category ----------------

# category; listed "opposites" are preferred where the category has them) ----------------------
COLOURS = ("red", "blue", "green", "yellow", "orange", "purple", "pink", "brown", "black", "white",
           "gray", "grey", "silver", "beige", "tan", "gold", "maroon", "teal", "turquoise")

COLOUR_EQUIVALENTS = ({"gray", "grey", "silver"}, {"gold", "yellow"}, {"beige", "tan", "brown"},
                      {"teal", "turquoise", "blue", "green"}, {"maroon", "red", "brown"})

# Colours an animal's coat can have; a blue dog is no hard negative.
ANIMAL_COLOURS = ("black", "white", "brown", "gray", "tan")

# Things whose colour is fixed by nature in a photo: "green sky" is no hard negative either.
NATURAL_COLOUR_NOUNS = frozenset({"sky", "grass", "water", "ocean", "sea", "tree", "trees", "leaves", "sun",
                                  "clouds", "cloud", "snow", "field", "lawn", "banana", "bananas", "broccoli"})

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

YOUNG_NOUNS = frozenset({"schoolboy", "schoolboys", "schoolgirl", "schoolgirls", "teenager", "teenagers","child", "children", "kid", "kids", "baby", "babies", "toddler", "toddlers",
                         "puppy", "puppies", "kitten", "kittens", "calf", "boy", "boys", "girl", "girls"})

NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve")

# Adjectives that would turn a noun into another thing rather than change its attribute
# ("hot dog", "high chair", "teddy bear"): never edited as attributes.
FIXED_COMPOUNDS = frozenset({
    ("hot", "dog"), ("hot", "dogs"), ("high", "chair"), ("high", "chairs"), ("teddy", "bear"),
    ("teddy", "bears"), ("living", "room"), ("dining", "table"), ("dining", "room"), ("cutting", "board"),
    ("stop", "sign"), ("stop", "signs"), ("cell", "phone"), ("cell", "phones"),
    ("cellular", "phone"), ("cellular", "phones"), ("snow", "board"), ("snow", "boards"), ("flying", "disc"),
    ("flying", "discs"), ("smart", "phone"), ("smart", "phones"), ("squat", "toilet"), ("french", "fries"),
    ("traffic", "light"), ("traffic", "lights"), ("parking", "meter"), ("parking", "lot"),
    ("parking", "meters"), ("ice", "cream"), ("fire", "hydrant"), ("fire", "truck"),
    ("double", "decker"), ("big", "ben"), ("little", "league"), ("black", "and", "white"),
    ("blue", "jeans"), ("red", "light"), ("green", "light"), ("light", "pole"), ("light", "post"),
    ("open", "field"),
    ("fast", "food"), ("white", "house"), ("old", "fashioned"), ("high", "school"), ("tennis", "court"),
    ("stuffed", "animal"), ("stuffed", "animals"), ("wine", "glass"), ("baseball", "bat"),
    ("tennis", "racket"), ("toilet", "paper"), ("stainless", "steel"), ("flat", "screen"),
    ("remote", "control"), ("computer", "monitor"), ("wet", "suit"), ("wet", "suits"), ("roller", "skating"),
    ("christmas", "tree"), ("half", "pipe"), ("night", "stand"), ("fire", "place"), ("trash", "can"), ("passenger", "train"), ("ski", "slope"),
    ("polar", "bear"), ("brown", "bear"), ("black", "bear"), ("grizzly", "bear"), ("golden", "retriever"),
    ("video", "game"), ("video", "games"), ("jumbo", "jet"), ("jumbo", "jets"),
})

# Fixed phrases that act as one adjective.
FIXED_MODIFIERS = frozenset({("black", "and", "white"), ("double", "decker"), ("old", "fashioned"),
                             ("flat", "screen"), ("stainless", "steel")})


# --- objects: groups of caption nouns, each member visibly another thing than the others ------

# replace-obj takes a replacement from the noun's group first and falls back to WordNet siblings
# for the long tail. Every pair is checked against WordNet by the tests (same lexicographer file,
# no synonym, hypernym or hyponym).
OBJECT_GROUPS: tuple[tuple[str, ...], ...] = (
    ("man", "woman"), ("boy", "girl"), ("lady", "gentleman"), ("guy", "lady"), ("child", "adult"),
    ("kid", "adult"), ("skier", "snowboarder"), ("skateboarder", "cyclist"),
    ("dog", "cat"), ("horse", "camel"), ("cow", "sheep", "goat", "pig", "horse"),
    ("zebra", "giraffe", "elephant", "bear", "deer", "lion"),
    ("bird", "squirrel", "butterfly"), ("duck", "pigeon", "seagull", "goose", "parrot", "owl"),
    ("car", "truck"), ("bus", "truck"), ("motorcycle", "bicycle"), ("bike", "skateboard"),
    ("airplane", "helicopter"), ("plane", "helicopter"), 
    ("oven", "microwave", "toaster"), ("refrigerator", "dishwasher"),
    ("pizza", "sandwich", "salad", "soup", "pasta", "steak", "omelet"), ("burger", "pizza", "salad"),
    ("banana", "apple", "orange", "lemon", "pear", "peach", "grape", "strawberry", "pineapple"),
    ("broccoli", "carrot", "cauliflower", "spinach", "lettuce", "cucumber", "potato", "tomato", "onion"),
    ("donut", "muffin", "croissant", "bagel"), ("cake", "pie", "bread"),
    ("cup", "glass", "bottle"), ("mug", "glass", "bottle"), ("plate", "bowl", "tray"), ("vase", "basket"),
    ("fork", "knife", "spoon", "spatula", "chopsticks"),
    ("bed", "sofa", "bench"), ("counter", "shelf", "cabinet"),
    ("chair", "couch", "bench"), ("sofa", "chair", "bench"), ("armchair", "bench"),
    ("laptop", "television", "tablet", "radio"), ("computer", "television", "radio"), ("monitor", "radio"),
    ("keyboard", "phone", "remote"),
    ("frisbee", "ball"), ("kite", "balloon"),
    ("skateboard", "scooter"),
    ("racket", "club"),
    ("toilet", "sink", "bathtub", "shower", "urinal"), ("mirror", "painting"),
    ("hat", "helmet", "scarf"), ("cap", "helmet"), ("shirt", "dress"), ("jacket", "dress"),
    ("backpack", "suitcase", "basket", "box"), ("handbag", "basket", "box"), ("purse", "basket", "box"),
    
    ("ocean", "river"),
    ("house", "church"), ("building", "bridge"),
    ("pole", "fence"), ("teddy bear", "doll"),
    ("fire hydrant", "mailbox", "parking meter", "trash can"), ("stop sign", "fire hydrant", "parking meter"),
    ("tie", "scarf", "necklace"), ("snow", "grass"), ("rock", "log"), ("clock", "lamp"),
    ("wine", "beer", "juice"), ("doughnut", "muffin", "bagel"), ("statue", "fountain"),
    ("book", "magazine"), ("tv", "radio"),
    # people by role, and who else could be in their place
    ("man", "child"), ("woman", "child"), ("bride", "groom"), ("baby", "puppy"), ("kitten", "puppy"),
    ("baseball player", "tennis player", "soccer player", "football player"), ("surfer", "skier"),
    ("batter", "catcher", "umpire"), ("chef", "waiter"),
    # animals
    ("polar bear", "brown bear", "black bear"), ("swan", "duck", "goose"), ("calf", "foal", "lamb"),
    ("cat", "rabbit"),
    # vehicles and boards
    ("train", "bus"), ("van", "bus"), ("surfboard", "snowboard", "skateboard"), ("jet", "helicopter"),
    # street and buildings
    ("clock tower", "church", "lighthouse"),
    ("window", "door"), ("tower", "bridge"),
    # places, each taking the same prepositions as the others of its group (see SCENE_PREPOSITIONS)
    ("kitchen", "bathroom", "bedroom", "living room", "office"), ("street", "sidewalk"), ("road", "sidewalk"),
    ("highway", "sidewalk"), ("field", "beach", "parking lot"), ("park", "zoo"),
    ("grass", "snow", "sand"), ("zoo", "farm"), ("mountain", "beach"), ("forest", "desert", "field"),
    # food and drink
    ("hot dog", "hamburger", "taco", "pizza"), ("vegetable", "fruit"), ("meat", "cheese", "tofu"),
    ("wedding cake", "pie"), ("rice", "pasta", "bread"),
    ("chicken", "beef", "shrimp"), ("egg", "sausage"), ("cookie", "cupcake"),
    # things
    ("table", "bed"), ("tennis ball", "baseball", "soccer ball"),
    ("toothbrush", "comb", "razor"), ("guitar", "violin", "drum"), ("suit", "dress", "sweater"),
    ("boot", "sandal"), ("vase", "bottle"), ("pillow", "blanket"),
    ("flower", "leaf"), ("bag", "box"), ("tent", "hut"),
    ("sign", "clock", "lamp"), ("traffic light", "lamp post", "parking meter"),
)

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

def _object_alternatives() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for group in OBJECT_GROUPS:
        for word in group:
            others = table.setdefault(word, [])
            others.extend(w for w in group if w != word and w not in others)
    return {word: tuple(others) for word, others in table.items()}

OBJECT_ALTERNATIVES: dict[str, tuple[str, ...]] = _object_alternatives()

# Caption nouns whose most frequent WordNet sense is not the thing in the picture ("table" of
# data, "plate" in baseball): for these the most frequent concrete sense is taken instead.
CONCRETE_CAPTION_NOUNS = frozenset(OBJECT_ALTERNATIVES) | GROUND_NOUNS | AT_OBJECTS | frozenset({
    "table", "plate", "counter", "shelf", "cabinet", "desk", "street", "road", "sidewalk", "park",
    "garden", "shore", "cliff", "stove", "sled", "boomerang", "bag", "pitcher", "mug", "monitor",
    "kite", "bat", "mouse", "remote", "keyboard", "tie", "cap", "jet", "ship", "canoe", "van",
})

# Caption nouns whose most frequent concrete WordNet sense is a person or an animal while a
# photo caption almost always means the object or the food: "a man holding a bat" holds a club,
# not a mammal, so he may throw it; "a hot dog" is food, not a show-off. The sense is taken from
# this lexicographer file instead.
CAPTION_SENSE_FILES: dict[str, str] = {
    **dict.fromkeys(("bat", "mouse", "monitor", "controller", "trailer", "mug", "printer", "calculator",
                     "comforter", "toaster", "planter", "bleacher", "coaster", "poster", "ottoman",
                     "feeder", "hood", "wing"), "noun.artifact"),
    **dict.fromkeys(("hot dog", "hotdog", "egg", "macaroni", "tart", "smoothie", "quiche", "beef",
                     "salmon"), "noun.food"),
    "town": "noun.location",
    "fan": "noun.person",  # "fans watch in the stands": spectators, not an electric fan (round 12)
    "sign": "noun.artifact",
}

# Nouns that are not things in the picture, or that head partitive phrases ("a group of
# people"): never replaced, never swapped.
NOT_REPLACEABLE_NOUNS = frozenset({
    "top", "side", "front", "back", "middle", "center", "centre", "bottom", "edge", "left", "right",
    "picture", "photo", "photograph", "image", "view", "shot", "close-up", "closeup", "scene",
    "group", "couple", "pair", "bunch", "lot", "lots", "kind", "type", "piece", "pieces", "set",
    "number", "variety", "assortment", "selection", "collection", "stack", "pile", "row", "line",
    "herd", "flock", "team", "crowd", "bunch", "slice", "slices", "array", "display", "plenty",
    "way", "part", "area", "place", "thing", "things", "something", "someone", "one", "ones",
    "others", "other", "background", "foreground", "distance", "air", "day", "night", "time",
    "while", "lot", "edge", "corner", "end", "half", "full", "use", "way", "sort", "style",
    "person", "people", "object", "item", "items", "stuff", "dish", "meal", "food", "animal",
    "animals", "vehicle", "vehicles", "other", "bit", "amount", "top", "tops", "body", "web",
    "internet", "camera",
})

# Nouns used in the plural for one thing: their "singular" is another word ("a pant", "a glass").
PLURAL_ONLY_NOUNS = frozenset({"pants", "shorts", "jeans", "trousers", "glasses", "sunglasses", "goggles",
                               "scissors", "clothes", "tongs", "pliers", "binoculars", "headphones", "overalls",
                               "pajamas", "leggings", "tights", "remains", "goods", "stairs", "steps"})

# Nouns that take no "a": a replacement from these is not put after "a"/"an" ("a pasta").
MASS_NOUNS = frozenset({"pasta", "rice", "bread", "meat", "cheese", "tofu", "coffee", "tea", "beef", "chicken",
                        "shrimp", "juice", "wine", "beer", "soup", "snow", "grass", "sand", "dirt", "water",
                        "furniture", "luggage", "broccoli", "spinach", "lettuce", "cauliflower"})

# Foods one cannot have a slice or a piece of: not "a slice of soup".
UNSLICEABLE_FOODS = frozenset({"soup", "salad", "pasta", "rice", "juice", "coffee", "tea", "beer", "wine",
                               "water", "spinach", "lettuce", "broccoli", "cauliflower", "omelet", "shrimp",
                               "burger", "hamburger", "hot dog", "taco", "sandwich"})
PARTITIVE_NOUNS = frozenset({"slice", "slices", "piece", "pieces", "bite", "bites", "chunk", "chunks", "wedge"})

# Modifiers that say a person is grown: "an old man" does not become "an old child".
# A small or little person is a child: "a small child" never becomes "a small man".
SMALL_MODIFIERS = frozenset({"small", "little", "tiny", "baby"})
ADULT_NOUNS = frozenset({"man", "woman", "adult", "lady", "gentleman", "guy"})
GROWN_MODIFIERS = frozenset({"old", "older", "elderly", "aged", "adult", "grown", "senior", "bearded",
                             "middle-aged", "mature", "bald"})

# Nouns with the same singular and plural: their number cannot be read off the word.
INVARIANT_NOUNS = frozenset({"sheep", "deer", "fish", "moose", "bison", "aircraft"})

MALE_NOUNS = frozenset({"man", "boy", "gentleman", "guy", "father", "son", "king", "groom", "grandfather",
                        "husband", "brother", "uncle", "nephew", "grandson", "businessman", "policeman"})

FEMALE_NOUNS = frozenset({"woman", "girl", "lady", "mother", "daughter", "queen", "bride", "grandmother",
                          "wife", "sister", "aunt", "niece", "granddaughter", "businesswoman", "policewoman"})

MALE_TO_FEMALE_PRONOUNS = {"he": "she", "him": "her", "his": "her", "himself": "herself"}

FEMALE_TO_MALE_PRONOUNS = {"she": "he", "hers": "his", "herself": "himself"}

GENDERED_PRONOUNS = frozenset(MALE_TO_FEMALE_PRONOUNS) | frozenset(FEMALE_TO_MALE_PRONOUNS) | {"her"}

# Modifiers that already fix a colour or a material: "lush green hillside" -> "lush brown" and
# "clear glass jar" -> "clear wooden jar" contradict themselves.
COLOUR_FIXING_WORDS = frozenset({"lush", "leafy", "grassy", "snowy", "rusty", "rusted", "clear", "transparent",
                                 "golden", "tanned", "sunny", "frosted", "see-through"})
# Surfaces things hang on or lean against: "on a wall" and "next to a wall" are the same photo.
VERTICAL_SURFACES = frozenset({"wall", "door", "fence", "window", "board", "post", "pole", "side"})
# Verbs after which "off" names the surface food comes from ("eating off of a plate").
OFF_VERBS = frozenset({"eat", "drink", "pick", "take", "get", "lick", "wipe", "scrape", "nurse", "feed"})
# Phrasal verbs whose "off" is no place: "showing off his team spirit", "taking off".
PHRASAL_OFF_VERBS = frozenset({"show", "take", "set", "kick", "turn", "pay", "tip", "doze", "nod", "cool",
                               "head", "push", "lift", "blast", "tee", "shake", "fend", "ward"})
