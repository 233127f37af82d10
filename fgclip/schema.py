"""The records the pipeline writes and the trainer reads: the one contract between the stages.

A hard negative is a caption that differs from a true caption in one compositional detail.
Its ``kind`` names the slot it fills in the cross-modal rank loss (one adaptive margin per
kind); its ``rule`` names the edit that produced it.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from typing import Any, Container, Iterable, Iterator

KINDS: tuple[str, ...] = ("relation", "attribute", "object", "action")
# The names a negative's ``rule`` takes: fgclip.pipeline.negatives.RULE_NAMES, written out here so
# that the trainer and the configs can check a rule name without importing the generator.
RULE_NAMES: tuple[str, ...] = (
    "replace-rel", "swap-obj", "swap-np", "replace-att", "swap-att", "replace-obj", "replace-action",
)


# The ``source`` of a negative fgclip's own rules made. Records of such negatives leave the key
# out, so that shards keep the bytes they had before negatives could be imported (a build without
# imported negatives is byte-identical to one made before), and a record without it, from any
# shard old or new, counts as this source.
GENERATED = "generated"


def source_of(record: dict) -> str:
    """The source of a negative's record (a dict read from a shard)."""
    return record.get("source") or GENERATED


def check_kinds(kinds, empty_hint: str | None = None) -> tuple[str, ...]:
    """``kinds`` as a tuple; ValueError unless they are distinct names from KINDS, and, when
    ``empty_hint`` is given, at least one (the hint says what to use instead of none)."""
    kinds = tuple(kinds)
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown negative kind(s) {', '.join(map(repr, unknown))}; valid kinds: {', '.join(KINDS)}")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds {list(kinds)} name a kind twice")
    if empty_hint is not None and not kinds:
        raise ValueError(f"kinds is empty; {empty_hint}")
    return kinds


def check_source_names(field: str, names) -> tuple[str, ...] | None:
    """``names`` as a tuple (None stays None: every source); ValueError naming ``field`` unless
    they are non-empty strings, at least one."""
    if names is None:
        return None
    if isinstance(names, str):
        raise ValueError(f"{field}: expected a list of source names, got the string {names!r}")
    names = tuple(names)
    bad = [name for name in names if not isinstance(name, str) or not name.strip()]
    if bad or not names:
        raise ValueError(f"{field}: source names must be non-empty strings (at least one), got {list(names)!r}")
    return names


@dataclass(frozen=True)
class Negative:
    text: str
    kind: str
    rule: str
    source: str = GENERATED  # who made it: fgclip's rules, or a file of imported negatives

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown negative kind {self.kind!r}; expected one of {', '.join(KINDS)}")

    def to_dict(self) -> dict[str, str]:
        # Written out: dataclasses.asdict deep-copies each field: 4% of a shard's time with negatives.
        record = {"text": self.text, "kind": self.kind, "rule": self.rule}
        if self.source != GENERATED:  # see GENERATED: generated records keep their old bytes
            record["source"] = self.source
        return record

    @classmethod
    def from_dict(cls, record: dict) -> "Negative":
        missing = [key for key in ("text", "kind", "rule") if key not in record]
        if missing:
            raise ValueError(f"negative record lacks key(s) {', '.join(missing)}: {record!r}")
        return cls(str(record["text"]), str(record["kind"]), str(record["rule"]), source_of(record))


# ---------------------------------------------------------------------------------------------
# The shard: per sample ``{key}.{image extension}``, ``{key}.txt`` (the first caption) and
# ``{key}.json`` (the record below), in an uncompressed tar.

# In the order the trainer looks for a sample's image: the first found wins, as open_clip's
# "jpg;png;jpeg;webp" does.
IMAGE_EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg", "png", "webp")


def record_to_json(captions: Iterable[tuple[str, Iterable[Negative]]], source: dict) -> bytes:
    """The ``{key}.json`` of a sample: every caption with its negatives, and where the sample
    came from in the input."""
    record = {
        "captions": [{"text": text, "negatives": [n.to_dict() for n in negatives]} for text, negatives in captions],
        "source": source,
    }
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def record_from_json(data: bytes) -> tuple[list[tuple[str, list[Negative]]], dict]:
    """The captions (each with its negatives) and the source of a ``{key}.json`` that
    :func:`record_to_json` wrote; ValueError for anything else. The stages read more leniently
    on top of :func:`is_sample_record` (img2dataset's own json, kinds a run does not know)."""
    record = json.loads(data)
    if not is_sample_record(record) or not isinstance(record["captions"], list) \
            or not isinstance(record.get("source"), dict):
        raise ValueError(f"not a sample record (needs a 'captions' list and a 'source' object): {str(record)[:80]}")
    parsed = []
    for entry in record["captions"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) \
                or not isinstance(entry.get("negatives"), list):
            raise ValueError(f"caption entry needs a text and a negatives list: {str(entry)[:80]}")
        parsed.append((entry["text"], [Negative.from_dict(negative) for negative in entry["negatives"]]))
    return parsed, record["source"]


def is_sample_record(document: object) -> bool:
    """Whether a parsed ``{key}.json`` is fgclip's record, whose "captions" hold the captions; if
    not (img2dataset writes a json of its own, with url, width...), the txt is the caption."""
    return isinstance(document, dict) and "captions" in document


def split_member_name(name: str) -> tuple[str | None, str | None]:
    """'dir/000000016.jpg' -> ('dir/000000016', 'jpg'): the key ends at the basename's first dot;
    (None, None) for a name that is no sample's member (no extension, a dot file)."""
    folder, _, base = name.rpartition("/")
    stem, dot, extension = base.partition(".")
    if not dot or not stem:
        return None, None
    return (f"{folder}/{stem}" if folder else stem), extension.lower()


class BrokenTar(Exception):
    """A tar that breaks off. The samples yielded before it are whole; ``key`` names the one being
    read when it broke (None before the first), which is lost with whatever followed it.
    ``cause`` is the error tarfile or the file raised, or None when the archive just stops
    without its end-of-archive block."""

    def __init__(self, key: str | None, cause: BaseException | None):
        super().__init__(f"tar broken after key {key!r}: {cause!r}" if cause is not None else
                         f"tar broken after key {key!r}: no end-of-archive block")
        self.key, self.cause = key, cause


def iter_tar_samples(fileobj, read: Container[str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key, {extension: bytes}) of each sample in the tar ``fileobj`` (seekable), in archive order.

    Members group into a sample while their key stays the same and no extension repeats: a
    repeated one starts a new sample under the same key, as webdataset's own reader does.
    ``read`` names the extensions whose bytes are read (None: all); a member of any other comes
    as its ``tarfile.TarInfo`` (``offset_data``, ``size``), so that a reader that only locates
    images seeks over them instead of reading them through.

    BrokenTar when the archive breaks off. The last sample is yielded only once the archive is
    known to end whole: tarfile takes a header cut short for the end of the archive and says
    nothing, and that sample may be missing members.
    """
    key, members = None, {}
    try:
        # Stream mode reads every member once, in order; random access seeks over those not read.
        with tarfile.open(fileobj=fileobj, mode="r|" if read is None else "r:") as tar:
            for member in tar:
                tar.members = []  # tarfile would otherwise keep every header of the archive
                member_key, extension = split_member_name(member.name) if member.isfile() else (None, None)
                if member_key is None:
                    continue
                if (member_key != key or extension in members) and members:
                    yield key, members  # a new sample: the one before it is whole, even if this one breaks
                    members = {}
                key = member_key
                members[extension] = tar.extractfile(member).read() if read is None or extension in read else member
            end = tar.offset
        fileobj.seek(end)
        ended_whole = fileobj.read(512) == bytes(512)  # the standard's two zero blocks; some writers leave one
    except (tarfile.TarError, EOFError, OSError) as err:
        raise BrokenTar(key, err) from err
    if not ended_whole:
        raise BrokenTar(key, None)
    if members:
        yield key, members
