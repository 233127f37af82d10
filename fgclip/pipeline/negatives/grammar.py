"""English agreement after an edit: articles, noun number, verb form and letter case.

Every rule edits a few words of a caption; the functions here make the edited caption read as
English again ("a apple" -> "an apple", "two dog" -> "two dogs", "riding" -> "feeding", not
"feed"). They are deterministic and need no data beyond the irregular-form tables WordNet ships
(``noun.exc`` and ``verb.exc``), which :mod:`.wordnet` hands in.
"""

from __future__ import annotations

import re

VOWELS = "aeiou"

# Spelled with a vowel letter, spoken with a consonant sound ("a unicorn", "a one-way sign").
_CONSONANT_SOUND_PREFIXES = (
    "uni", "use", "usu", "uten", "ura", "ure", "uri", "uro", "euro", "eu", "one", "once", "ewe",
    "ukulele", "utility", "uganda", "ufo",
)
# Spelled with a consonant letter, spoken with a vowel sound ("an hour", "an honest man").
_VOWEL_SOUND_PREFIXES = ("hour", "honest", "honor", "honour", "heir")
# Letters whose English name starts with a vowel sound, for abbreviations read letter by letter.
_VOWEL_SOUND_LETTERS = set("aefhilmnorsx")


def indefinite_article(next_word: str) -> str:
    """Return "a" or "an" for the word that follows the article (lower case)."""
    word = next_word.strip("\"'()[]")
    if not word:
        return "a"
    lower = word.lower()
    if lower[0].isdigit():
        # "an 8-year-old", "an 11 year old", "an 18", but "a 2", "a 100".
        digits = re.match(r"\d+", lower).group(0)
        if digits.startswith("8") or digits in ("11", "18") or (len(digits) in (5, 6) and digits[:2] in ("11", "18")):
            return "an"
        return "a"
    if len(word) > 1 and word.isupper() and word.isalpha():
        return "an" if lower[0] in _VOWEL_SOUND_LETTERS else "a"
    if lower.startswith(_VOWEL_SOUND_PREFIXES):
        return "an"
    if lower.startswith(_CONSONANT_SOUND_PREFIXES):
        return "a"
    return "an" if lower[0] in VOWELS else "a"


def match_case(template: str, word: str) -> str:
    """Give ``word`` the letter case of ``template`` (UPPER, Title or lower)."""
    if template.isupper() and (len(template) > 1 or template.isalpha() and len(word) == 1):
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


_SIBILANT_END = ("s", "x", "z", "ch", "sh")
_F_TO_VES = {"knife": "knives", "wife": "wives", "life": "lives", "leaf": "leaves", "loaf": "loaves",
             "shelf": "shelves", "wolf": "wolves", "half": "halves", "calf": "calves", "scarf": "scarves",
             "thief": "thieves", "elf": "elves"}
_O_TO_OES = {"potato", "tomato", "hero", "echo", "mango", "volcano", "torpedo", "veto"}
_INVARIANT = {"sheep", "deer", "fish", "moose", "bison", "aircraft", "series", "species", "salmon",
              "trout", "shrimp", "cattle", "people", "police", "clothes", "scissors", "glasses",
              "pants", "jeans", "shorts", "trousers", "binoculars", "pliers", "tongs", "skis",
              "broccoli", "furniture", "equipment", "luggage", "baggage"}


def pluralize(noun: str, irregular: dict[str, str] | None = None) -> str:
    """Plural of a (possibly multi-word) noun; only the last word inflects."""
    head_start = noun.rfind(" ") + 1
    prefix, head = noun[:head_start], noun[head_start:]
    lower = head.lower()
    if irregular and lower in irregular:
        plural = irregular[lower]
    elif lower in _INVARIANT:
        plural = lower
    elif lower in _F_TO_VES:
        plural = _F_TO_VES[lower]
    elif lower.endswith("man") and lower not in ("human", "german", "shaman", "talisman", "caiman"):
        plural = lower[:-3] + "men"
    elif lower.endswith(_SIBILANT_END):
        plural = lower + "es"
    elif lower.endswith("y") and len(lower) > 1 and lower[-2] not in VOWELS:
        plural = lower[:-1] + "ies"
    elif lower in _O_TO_OES:
        plural = lower + "es"
    else:
        plural = lower + "s"
    return prefix + match_case(head, plural)


def _doubles_final_consonant(verb: str) -> bool:
    """True for short verbs ending consonant-vowel-consonant: run -> running, sit -> sitting."""
    if len(verb) < 3 or verb[-1] in VOWELS + "wxy":
        return False
    if not (verb[-2] in VOWELS and verb[-3] not in VOWELS):
        return False
    vowel_groups = re.findall(r"[aeiou]+", verb)
    return len(vowel_groups) == 1


def inflect_verb(lemma: str, tag: str, irregular_past: dict[str, tuple[str, str]] | None = None) -> str:
    """Inflect a verb lemma to a Penn tag: VB/VBP (base), VBZ, VBG, VBD, VBN.

    ``irregular_past`` maps a lemma to (past, past participle) for irregular verbs.
    Phrasal verbs inflect their first word ("looking at").
    """
    head, _, rest = lemma.partition(" ")
    rest = " " + rest if rest else ""
    base = head.lower()
    if tag in ("VB", "VBP"):
        form = base
    elif tag == "VBZ":
        if base in ("have",):
            form = "has"
        elif base in ("be",):
            form = "is"
        elif base.endswith(_SIBILANT_END) or base.endswith("o"):
            form = base + "es"
        elif base.endswith("y") and base[-2] not in VOWELS:
            form = base[:-1] + "ies"
        else:
            form = base + "s"
    elif tag == "VBG":
        if base.endswith("ie"):
            form = base[:-2] + "ying"
        elif base.endswith("e") and not base.endswith(("ee", "ye", "oe")) and base != "be":
            form = base[:-1] + "ing"
        elif _doubles_final_consonant(base):
            form = base + base[-1] + "ing"
        else:
            form = base + "ing"
    elif tag in ("VBD", "VBN"):
        if irregular_past and base in irregular_past:
            past, participle = irregular_past[base]
            form = past if tag == "VBD" else participle
        elif base.endswith("e"):
            form = base + "d"
        elif base.endswith("y") and base[-2] not in VOWELS:
            form = base[:-1] + "ied"
        elif _doubles_final_consonant(base):
            form = base + base[-1] + "ed"
        else:
            form = base + "ed"
    else:
        raise ValueError(f"not a verb tag: {tag}")
    return form + rest
