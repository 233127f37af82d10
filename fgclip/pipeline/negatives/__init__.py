"""LLM-free hard-negative captions: ``negatives(caption, seed) -> list[Negative]``.

Pure functions, no Ray and no global state beyond lazily loaded, read-only WordNet and tagger
data: safe to call from any process or thread, and the same (caption, seed) always gives the
same list.

Layout: :mod:`.parse` tags and chunks a caption; one module per kind of rule edits it
(:mod:`.relation` replace-rel, :mod:`.swap` swap-obj, :mod:`.attribute` replace-att and
swap-att, :mod:`.object` replace-obj, :mod:`.action` replace-action), on the shared questions and
the :class:`.core.RuleContext` of :mod:`.core` and the shared word lists of :mod:`.lexicon`.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from random import Random
from typing import Callable, Iterable

from ...schema import KINDS, Negative
from . import action, attribute, object, relation, swap
from .core import RuleContext
from .corpus import CorpusTable
from .parse import Caption, parse
from .tagging import Tagger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    apply: Callable[[Caption, RuleContext], list[str]]


RULES: tuple[Rule, ...] = (
    Rule("replace-rel", "relation", relation.replace_rel),
    Rule("swap-obj", "relation", swap.swap_obj),
    Rule("swap-np", "relation", swap.swap_np),
    Rule("replace-att", "attribute", attribute.replace_att),
    Rule("swap-att", "attribute", attribute.swap_att),
    Rule("replace-obj", "object", object.replace_obj),
    Rule("replace-action", "action", action.replace_action),
)
RULE_NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)
# The two modes of order swaps, as the rules each leaves out.
SWAP_MODES: dict[str, frozenset] = {"paper": frozenset(), "plausible": frozenset({"swap-np"})}
# Every "kind/reason" a rule can count in ``negatives(..., refused=counter)``, kind by kind.
REFUSAL_REASONS: tuple[str, ...] = tuple(
    f"{kind}/{reason}"
    for kind, module in (("relation", relation), ("relation", swap), ("attribute", attribute),
                         ("object", object), ("action", action))
    for reason in module.REFUSALS
)
# Set up once, not at every call: the rules of each kind (in RULES order), and the names to check against.
_RULES_BY_KIND: dict[str, tuple[Rule, ...]] = {kind: tuple(r for r in RULES if r.kind == kind) for kind in KINDS}
_KIND_SET = frozenset(KINDS)
_RULE_NAME_SET = frozenset(RULE_NAMES)

# Exceptions raised inside a rule, by rule name. A rule that fails on one caption must not cost
# the caption its other negatives (nor stop a million-caption job); the failure is counted and
# logged, and the tests assert that it stays at zero on real captions.
rule_errors: Counter = Counter()
_MAX_LOGGED_ERRORS = 20


# The rules read at most this many characters of a caption and carry the rest unchanged into
# every negative. Several rules look phrases up across the whole caption or pair every phrase
# with every other, so their work grew about as the square of a caption's length (88 s for one
# 33.6k-character caption in the audit that found it, 8 s at 16.8k). The cap equals the default
# of a build's --max-caption-chars, so no caption a default build accepts is cut; a build that
# raises that limit gets negatives whose edits all fall in a caption's first 2,000 characters
# (CLIP's text encoder reads 77 tokens, a few hundred characters: an edit past them would not
# be seen in training anyway).
MAX_CHARS_READ = 2000
# Where a sentence ends: its mark, any closing quotes or brackets, then the space before the next.
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s)")
_SPACE = re.compile(r"\s")


def part_read(caption: str) -> tuple[str, str]:
    """The part of ``caption`` the rules read and the rest they leave as it is (``read + rest
    == caption``): the whole caption up to MAX_CHARS_READ characters; past that, the caption up
    to the last sentence end within its first MAX_CHARS_READ characters, else up to the last
    space there, else (one unbroken run of characters) its first MAX_CHARS_READ characters."""
    if len(caption) <= MAX_CHARS_READ:
        return caption, ""
    window = caption[:MAX_CHARS_READ + 1]  # a space right after the cap still marks a sentence end
    cut = max((m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= MAX_CHARS_READ), default=0)
    if cut == 0:
        cut = max((m.start() for m in _SPACE.finditer(window)), default=0)
        cut = len(caption[:cut].rstrip()) or MAX_CHARS_READ
    return caption[:cut], caption[cut:]


def fold(text: str) -> str:
    """Case- and whitespace-insensitive form, to tell a negative from its caption."""
    return " ".join(text.lower().split())


def negatives(
    caption: str,
    seed: int | str = 0,
    *,
    table: CorpusTable | None = None,
    swaps: str = "plausible",
    corpus_proposals: bool = False,
    kinds: Iterable[str] = KINDS,
    rules_enabled: Iterable[str] | None = None,
    per_kind: int = 2,
    tagger: Tagger | None = None,
    refused: Counter | None = None,
) -> list[Negative]:
    """Hard negatives of ``caption``: up to ``per_kind`` of each kind, rules taken in turn.

    The random choices are seeded from (seed, rule, caption), so the output depends on nothing
    else: not on the process, the order of calls, or the other rules enabled.

    ``table``: the corpus statistics table (a :class:`.corpus.CorpusTable` from ``fgclip pipeline
    count``): replacements are then drawn from the corpus's own words by their counts, and
    edits the corpus gives no support for are refused (see :mod:`.grounded`); None: the curated
    lists alone. ``corpus_proposals``: with a table, the rules also propose the corpus's own
    words for a slot, beyond the curated ones (off by default: on 10k COCO captions they were
    read less often valid, see docs/negatives.md). ``swaps``: "plausible" (the default) makes only order swaps whose scene is a
    possible one (swap-obj); "paper" also the paper's swaps of any two neighbouring phrases
    (swap-np), most of them absurd by design (see :mod:`.swap` and docs/negatives.md).
    ``refused``: a Counter to which each edit a rule's veto refuses is added, as "kind/reason"
    (the names in :data:`REFUSAL_REASONS`), for every enabled rule of the chosen kinds, also where
    the kind's ``per_kind`` negatives were found without that edit; None counts nothing.

    A caption longer than :data:`MAX_CHARS_READ` is read only up to a cut near there (see
    :func:`part_read`): its negatives are those of that part, with the rest appended unchanged.
    """
    if not isinstance(caption, str) or not caption.strip():
        return []
    kinds = tuple(kinds)
    unknown = set(kinds) - _KIND_SET
    if unknown:
        raise ValueError(f"unknown kind(s) {sorted(unknown)}; expected some of {', '.join(KINDS)}")
    enabled = _RULE_NAME_SET if rules_enabled is None else set(rules_enabled)
    if enabled - _RULE_NAME_SET:
        raise ValueError(f"unknown rule(s) {sorted(enabled - _RULE_NAME_SET)}; expected some of {', '.join(RULE_NAMES)}")
    if swaps not in SWAP_MODES:
        raise ValueError(f"unknown swaps mode {swaps!r}; expected one of {', '.join(SWAP_MODES)}")
    enabled = enabled - SWAP_MODES[swaps]
    caption, rest = part_read(caption)  # from here on, "caption" is the part the rules read
    parsed = parse(caption, tagger)
    original = fold(caption)
    seen = {original}
    result: list[Negative] = []
    for kind in kinds:
        per_rule: list[tuple[Rule, list[str]]] = []
        for rule in _RULES_BY_KIND[kind]:
            if rule.name not in enabled:
                continue
            ctx = RuleContext(_SeededOnUse(seed, rule.name, caption), kind, table, refused, corpus_proposals)
            per_rule.append((rule, _run_rule(rule, parsed, ctx)))
        taken = 0
        while taken < per_kind and any(texts for _, texts in per_rule):
            for rule, texts in per_rule:
                while texts and taken < per_kind:
                    text = texts.pop(0)
                    folded = fold(text)
                    if text.strip() and folded not in seen:
                        seen.add(folded)
                        result.append(Negative(text + rest, kind, rule.name))
                        taken += 1
                        break
    return result


class _SeededOnUse:
    """A Random seeded from crc32(``key``) when first used. Rules draw only when they have more
    options than they keep, which most captions do not; seeding a Mersenne Twister for each of
    the six rules anyway was 6% of the generator's time."""

    __slots__ = ("_seed", "_rule", "_caption", "_random")

    def __init__(self, seed: int | str, rule: str, caption: str):
        self._seed, self._rule, self._caption = seed, rule, caption  # the key is built only when used
        self._random: Random | None = None

    def __getattr__(self, name: str):
        if self._random is None:
            key = f"{self._seed}|{self._rule}|{self._caption}"
            self._random = Random(zlib.crc32(key.encode("utf-8")))
        return getattr(self._random, name)


def _run_rule(rule: Rule, parsed: Caption, ctx: RuleContext) -> list[str]:
    try:
        return list(rule.apply(parsed, ctx))
    except Exception:  # noqa: BLE001 - counted and logged, see rule_errors
        rule_errors[rule.name] += 1
        if rule_errors[rule.name] <= _MAX_LOGGED_ERRORS:
            log.exception("rule %s failed on caption %r", rule.name, parsed.text)
        return []


__all__ = ["CorpusTable", "MAX_CHARS_READ", "SWAP_MODES", "KINDS", "Negative", "REFUSAL_REASONS", "RULES",
           "RULE_NAMES", "Rule", "RuleContext", "negatives", "parse", "part_read", "rule_errors", "fold"]
