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


@dataclass(frozen=True)
class Negative:
    text: str
    kind: str
    rule: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown negative kind {self.kind!r}; expected one of {', '.join(KINDS)}")

    def to_dict(self) -> dict[str, str]:
        # Written out: dataclasses.asdict deep-copies each field: 4% of a shard's time with negatives.
        return {"text": self.text, "kind": self.kind, "rule": self.rule}

    @classmethod
    def from_dict(cls, record: dict) -> "Negative":
        missing = [key for key in ("text", "kind", "rule") if key not in record]
        if missing:
            raise ValueError(f"negative record lacks key(s) {', '.join(missing)}: {record!r}")
        return cls(str(record["text"]), str(record["kind"]), str(record["rule"]))
