"""Counts taken from the caption corpus being built: what its own captions say, and how.

The generator asks these counts two questions about an edit: is the new word one this corpus
puts in that slot (a thing ridden, a colour of cars, a relation between a cat and a couch), and
how often, so that negatives are drawn the way the corpus's own captions are written. It also
asks which words the captions of one image use for the same thing ("boat" / "ship", "next to" /
"beside"): those are no negative of each other.

One sample (the captions of one image) gives a :class:`collections.Counter` of string keys
(:func:`count_sample`); a corpus's counters are summed (by Ray Data in a build, see
``fgclip pipeline count``) into a :class:`CorpusTable`. Keys are tab-separated fields, the first
naming the count:

    #samples / #captions / #multi     samples, captions, samples with two or more captions
    n  BASE                           a thing (noun phrase head, singular base form)
    a  WORD                           a modifier of a thing ("red", "wooden", "parked")
    an WORD  BASE                     a modifier with its thing ("red  car")
    v  LEMMA                          an act (verb), and with its slots:
    vo LEMMA BASE  /  sv BASE LEMMA   verb and object / subject and verb
    vi LEMMA                          the verb with no object right after it
    r  WORDS                          a relation ("next to"), and with its slots:
    rg GOVERNOR WORDS                 what comes before it: "v:sit" or "n:cat"
    ro WORDS BASE                     the thing after it
    rt BASE WORDS BASE                the thing before it, the relation, the thing after it
    cn BASE BASE                      two things named in one caption (in sorted order)
    b  WORD WORD                      two tokens side by side (lower case; <s> and </s> at the ends)
    cd n BASE BASE                    two things that two captions of one image name where the
                                      other names neither (sorted order; once per sample)
    ca CLASS WORD WORD                two words (a: modifiers, v: acts, r: relations) said of the
                                      same thing by two captions of one image, each where the
                                      other says neither ("large dog" / "big dog"; sorted order)
    s  CLASS WORD                     samples of two or more captions in which the word had the
                                      chance to alternate so (n: named at all)

The table file is gzip-compressed text, one ``count<TAB>key`` line per key in sorted order,
written byte-for-byte the same for the same counts; its digest is part of a build's identity.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections import Counter
from functools import cached_property
from itertools import combinations
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .parse import parse
from .slots import Slots, read_slots
from .tagging import Tagger

TABLE_FILE = "corpus_counts.tsv.gz"  # its name beside the shards of a build
_HEADER = "# fgclip corpus counts 1"
SAMPLES, CAPTIONS, MULTI = "#samples", "#captions", "#multi"


class TableError(ValueError):
    """A table file that cannot be read; the message names the file and the line."""


def _anchored(caption, slots: Slots) -> dict[str, set[tuple[str, str]]]:
    """What a caption says of each thing: (thing, modifier), (doer, act), (thing placed, relation)."""
    tokens = caption.tokens
    things = slots.things
    return {
        "a": {(t.base, tokens[k].lower) for t in things for k in t.modifiers if tokens[k].tag.startswith("JJ")},
        "v": {(things[a.subject].base, a.lemma) for a in slots.acts if a.subject is not None},
        "r": {(things[r.object].base, r.words) for r in slots.relations},
    }


def count_caption(counts: Counter, caption, slots: Slots) -> None:
    """Add one parsed caption's slots and bigrams to ``counts``."""
    tokens = caption.tokens
    things = slots.things
    for thing in things:
        counts["n\t" + thing.base] += 1
        for k in thing.modifiers:
            counts["a\t" + tokens[k].lower] += 1
            counts[f"an\t{tokens[k].lower}\t{thing.base}"] += 1
    for act in slots.acts:
        counts["v\t" + act.lemma] += 1
        if act.object is not None:
            counts[f"vo\t{act.lemma}\t{things[act.object].base}"] += 1
        else:
            counts["vi\t" + act.lemma] += 1
        if act.subject is not None:
            counts[f"sv\t{things[act.subject].base}\t{act.lemma}"] += 1
    for relation in slots.relations:
        target = things[relation.object].base
        counts["r\t" + relation.words] += 1
        counts[f"ro\t{relation.words}\t{target}"] += 1
        if relation.governor is not None:
            counts[f"rg\t{relation.governor}\t{relation.words}"] += 1
        if relation.before is not None:
            counts[f"rt\t{things[relation.before].base}\t{relation.words}\t{target}"] += 1
    for first, second in combinations(sorted({t.base for t in things}), 2):
        counts[f"cn\t{first}\t{second}"] += 1
    words = ["<s>"] + [" ".join(t.lower.split()) for t in tokens] + ["</s>"]
    for first, second in zip(words, words[1:]):
        counts[f"b\t{first}\t{second}"] += 1


def count_sample(captions: Sequence[str], tagger: Tagger | None = None) -> Counter:
    """The counts of one sample: the captions of one image (or the one caption a row has)."""
    counts: Counter = Counter()
    add_sample(counts, captions, tagger)
    return counts


def add_sample(counts: Counter, captions: Sequence[str], tagger: Tagger | None = None) -> None:
    """Add one sample's counts to ``counts`` (what :func:`count_sample` returns, without a
    Counter of its own to merge)."""
    captions = [c for c in captions if isinstance(c, str) and c.strip()]
    if not captions:
        return
    counts[SAMPLES] += 1
    counts[CAPTIONS] += len(captions)
    nouns, anchored = [], []
    for text in captions:
        caption = parse(text, tagger)
        slots = read_slots(caption)
        count_caption(counts, caption, slots)
        nouns.append({t.base for t in slots.things})
        anchored.append(_anchored(caption, slots))
    if len(captions) > 1:
        counts[MULTI] += 1
        _count_noun_alternations(counts, nouns)
        for cls in ("a", "v", "r"):
            _count_anchored_alternations(counts, cls, [a[cls] for a in anchored], nouns)


def _count_noun_alternations(counts: Counter, nouns: list[set[str]]) -> None:
    """Things two captions of one image name where the other names neither ("a boat" / "a
    ship"), once per sample; and in how many samples of two or more captions each thing is named."""
    for noun in set().union(*nouns):
        counts["s\tn\t" + noun] += 1
    pairs = set()
    for first, second in combinations(nouns, 2):
        for x in first - second:
            for y in second - first:
                pairs.add((x, y) if x < y else (y, x))
    for x, y in pairs:
        counts[f"cd\tn\t{x}\t{y}"] += 1


def _count_anchored_alternations(counts: Counter, cls: str, said: list[set[tuple[str, str]]],
                                 nouns: list[set[str]]) -> None:
    """Words two captions of one image say of the same thing where the other says neither: "a
    large dog" / "a big dog", "a man sitting" / "a man resting", "under a tree" / "next to a
    tree". ``s`` counts the samples in which a word is said of a thing another caption names
    too (the chances it had to alternate), ``ca`` the alternations; both once per sample."""
    chances, pairs = set(), set()
    for i, first in enumerate(said):
        for j, second in enumerate(said):
            if i == j:
                continue
            chances.update(word for thing, word in first if thing in nouns[j])
            if j < i:
                continue
            for thing, x in first:
                for other, y in second:
                    if other == thing and x != y and (thing, y) not in first and (thing, x) not in second:
                        pairs.add((x, y) if x < y else (y, x))
    for word in chances:
        counts[f"s\t{cls}\t{word}"] += 1
    for x, y in pairs:
        counts[f"ca\t{cls}\t{x}\t{y}"] += 1


def count_corpus(samples: Iterable[Sequence[str]], tagger: Tagger | None = None) -> Counter:
    """The summed counts of many samples, in this process (the build spreads this over workers)."""
    total: Counter = Counter()
    for captions in samples:
        add_sample(total, captions, tagger)
    return total


class CorpusTable:
    """A corpus's counts, with the look-ups the rules make. Immutable once made."""

    def __init__(self, counts: Mapping[str, int], source: str = "table"):
        self.counts: dict[str, int] = dict(counts)
        self.source = source

    @property
    def samples(self) -> int:
        return self.counts.get(SAMPLES, 0)

    @property
    def captions(self) -> int:
        return self.counts.get(CAPTIONS, 0)

    @property
    def multi_caption_samples(self) -> int:
        return self.counts.get(MULTI, 0)

    def __len__(self) -> int:
        return len(self.counts)

    def count(self, *fields: str) -> int:
        return self.counts.get("\t".join(fields), 0)

    def by_first(self, name: str, first: str) -> dict[str, int]:
        """Every count ``name first X`` as {X: count}: "vo ride" -> {"horse": 31, "bike": 12, ...}."""
        return self._index(name, 0).get(first, {})

    def by_last(self, name: str, last: str) -> dict[str, int]:
        """Every count ``name X last`` as {X: count}: "an * car" -> {"red": 40, "parked": 22, ...}."""
        return self._index(name, -1).get(last, {})

    def singles(self, name: str) -> dict[str, int]:
        """Every one-field count of a name as {X: count}: "n" -> {"man": 507, "dog": 120, ...}."""
        return self._index(name, None).get("", {})

    def by_pair(self, name: str, second: str, third: str) -> dict[str, int]:
        """Every three-field count ``name X second third`` as {X: count}: "rt * on table" ->
        {"cat": 4, "laptop": 3, ...}."""
        return self._index(name, 1).get(f"{second}\t{third}", {})

    def _index(self, name: str, position: int | None) -> dict[str, dict[str, int]]:
        cache = self.__dict__.setdefault("_indexes", {})
        key = (name, position)
        if key not in cache:
            prefix = name + "\t"
            index: dict[str, dict[str, int]] = {}
            for fields, count in self.counts.items():
                if fields.startswith(prefix):
                    parts = fields.split("\t")[1:]
                    if position is None:  # one field: singles
                        if len(parts) == 1:
                            index.setdefault("", {})[parts[0]] = count
                        continue
                    if position == 1:  # three fields: by the last two
                        if len(parts) == 3:
                            index.setdefault(f"{parts[1]}\t{parts[2]}", {})[parts[0]] = count
                        continue
                    if len(parts) != 2:
                        continue
                    by, other = (parts[0], parts[1]) if position == 0 else (parts[1], parts[0])
                    index.setdefault(by, {})[other] = count
            cache[key] = index
        return cache[key]

    @cached_property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()[:16]

    def to_bytes(self) -> bytes:
        """The table file: the same counts always give the same bytes."""
        cache = self.__dict__.get("_bytes")
        if cache is not None:
            return cache
        lines = [_HEADER] + [f"{count}\t{key}" for key, count in sorted(self.counts.items())]
        raw = ("\n".join(lines) + "\n").encode("utf-8")
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=6) as packed:
            packed.write(raw)
        self.__dict__["_bytes"] = buffer.getvalue()
        return self.__dict__["_bytes"]

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "table") -> "CorpusTable":
        try:
            text = gzip.decompress(data).decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError) as err:
            raise TableError(f"{source}: not a fgclip corpus table ({err})") from err
        lines = text.split("\n")
        if lines[0] != _HEADER:
            raise TableError(f"{source}: line 1: expected {_HEADER!r}, found {lines[0][:60]!r}")
        counts: dict[str, int] = {}
        for number, line in enumerate(lines[1:], start=2):
            if not line:
                continue
            count, tab, key = line.partition("\t")
            if not tab or not key or not count.isdigit():
                raise TableError(f"{source}: line {number}: expected COUNT<TAB>KEY, found {line[:60]!r}")
            counts[key] = int(count)
        table = cls(counts, source)
        table.__dict__["_bytes"] = data
        return table

    @classmethod
    def load(cls, path: str | Path) -> "CorpusTable":
        """A table file from a local path or a URL (through :class:`fgclip.files.Folder`)."""
        from ...files import open_binary

        with open_binary(str(path)) as handle:
            return cls.from_bytes(handle.read(), str(path))

    def summary(self) -> dict:
        kinds = Counter(key.split("\t", 1)[0] for key in self.counts)
        return {"samples": self.samples, "captions": self.captions, "multi_caption_samples": self.multi_caption_samples,
                "keys": len(self.counts), "keys_by_count": dict(sorted(kinds.items())), "fingerprint": self.fingerprint}
