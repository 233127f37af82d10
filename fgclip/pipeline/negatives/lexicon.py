"""Curated word lists that several parts of the generator share.

Every replacement listed here is chosen to be false of a picture that the original word
describes (red -> blue, sitting -> standing), and to keep the sentence plausible. Lists are
plain data so that they can be read, reviewed and extended without touching the rules. A list
that one rule alone uses lives in that rule's module, beside the veto that uses it
(``relation.SPATIAL_RELATIONS``, ``attribute.ATTRIBUTE_OPPOSITES``, ``object.SCENE_CLUES``, ...);
the lists here are used by several rules, or by the parser and the WordNet reader.
"""

from __future__ import annotations


# --- places and things ------------------------------------------------------------------------

ROOM_NOUNS = frozenset({"kitchen", "bathroom", "bedroom", "living room", "room", "office", "restaurant",
                        "garage", "hallway", "lobby", "classroom", "dining room", "den", "hotel room"})

# Places one is on or in rather than beside. Vertical relations to them are not edited: neither
# "under a beach" nor "next to a beach" is a scene (see relation.GROUND_RELATIONS).
GROUND_NOUNS = frozenset({
    "beach", "field", "street", "road", "sidewalk", "grass", "snow", "water", "ocean", "sea", "lake",
    "river", "pond", "hill", "mountain", "slope", "ground", "floor", "park", "yard", "lawn", "runway",
    "track", "tracks", "court", "shore", "sand", "dirt", "city", "room", "kitchen", "bathroom", "bedroom",
    "living room", "air", "sky", "highway", "pasture", "forest", "wave", "waves", "area", "town",
    "intersection", "platform", "station", "airport", "parking lot", "zoo", "market", "farm", "desert",
    "valley", "vineyard", "diamond", "meadow", "orchard", "canyon", "marsh", "countryside", "woods",
    "jungle", "savanna", "enclosure", "pen", "corral", "garden", "hillside", "mountainside", "island",
}) | ROOM_NOUNS

WATER_NOUNS = frozenset({"water", "ocean", "sea", "lake", "river", "pond"})

# Nouns that name no one thing and so are never replaced, but are still things one can be
# next to or swap places with ("a dog chasing a person"), by lexicographer file.
GENERIC_THING_FILES: dict[str, str] = {
    "person": "noun.person", "people": "noun.person", "animal": "noun.animal", "animals": "noun.animal",
    "vehicle": "noun.artifact", "vehicles": "noun.artifact", "camera": "noun.artifact",
    "food": "noun.food",
}

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
    "hit": ("catch",),  # not "miss": a still photo seldom tells them apart (round 16)
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
    "drive": ("wash", "repair"),
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

# Verbs of a posture or a halt: they take no path ("sitting down the hill").
STATIC_VERBS = frozenset({"sit", "stand", "lie", "lay", "stop", "park", "wait", "rest", "sleep", "kneel"})

# Words that make a subject an agent who can do an action.
ANIMATE_WORDS = frozenset({
    "people", "person", "persons", "someone", "somebody", "crowd", "group", "family", "couple", "team",
    "everyone", "players", "children", "kids", "men", "women",
})

# Whether a vehicle moves is the one action a caption gives a thing without an agent: "a bus
# parked on the street" / "a bus driving on the street". Engines only: a parked bicycle or canoe
# does not move by itself. Vehicles are found in WordNet below these synsets.
MOTOR_VEHICLE_SYNSETS = frozenset({"self-propelled_vehicle.n.01", "public_transport.n.01", "craft.n.02"})
MOTOR_VEHICLE_EXTRA = frozenset({"vehicle", "cab", "firetruck", "engine", "subway"})
NOT_MOTOR_VEHICLES = frozenset({"bike", "canoe", "kayak", "raft", "scooter", "sailboat", "glider", "balloon",
                                "hot air balloon", "paddle boat", "rowboat"})
# Dry ground by the water: boats on it are not moving, people on it are not only in the water.
DRY_LAND_NOUNS = frozenset({"shore", "beach", "sand", "grass", "land", "dock", "trailer", "shoreline", "field"})


# --- attributes -------------------------------------------------------------------------------

COLOURS = ("red", "blue", "green", "yellow", "orange", "purple", "pink", "brown", "black", "white",
           "gray", "grey", "silver", "beige", "tan", "gold", "maroon", "teal", "turquoise")

# Nouns that name the young: not made "old" (attribute), not put where an adult was (object),
# not swapped with an adult (swap-obj: "a baby holding a man").
YOUNG_NOUNS = frozenset({"schoolboy", "schoolboys", "schoolgirl", "schoolgirls", "teenager", "teenagers","child", "children", "kid", "kids", "baby", "babies", "toddler", "toddlers",
                         "puppy", "puppies", "kitten", "kittens", "calf", "boy", "boys", "girl", "girls"})

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
    # places, each taking the same prepositions as the others of its group (see object.SCENE_PREPOSITIONS)
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
