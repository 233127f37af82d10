"""The records the pipeline writes and the trainer reads: the one contract between the stages.

A hard negative is a caption that differs from a true caption in one compositional detail.
Its ``kind`` names the slot it fills in the cross-modal rank loss (one adaptive margin per
kind); its ``rule`` names the edit that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass

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
