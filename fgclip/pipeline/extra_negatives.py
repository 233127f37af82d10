"""Negatives made elsewhere (``build-negatives --extra-negatives FILE``), read into one lookup.

Three shapes of file, told apart by name and content (or ``--extra-negatives-format``):

- ``jsonl``: a line ``{"key" and/or "caption", "negatives": [{"text", "kind", "source", "rule"}]}``.
  ``key`` is the sample key the build assigns (the input row number, nine digits); ``caption``
  the exact caption text (compared stripped, as the shards hold it). With both, the negatives go
  to that caption of that sample; with a key alone, to every caption of the sample (each is a
  false caption of its image); with a caption alone, to that caption in every sample that has it.
  ``source`` defaults to "imported", ``rule`` to "imported"; ``kind`` must be one of
  :data:`fgclip.schema.KINDS`, else that negative is counted malformed.
- ``negclip``: NegCLIP's tsv (``valid_neg_clip.tsv``: an index column, ``title`` the caption,
  ``filepath``, ``neg_caption`` a Python list of negative captions, ``neg_image`` hard-negative
  image ids, not used). Matched by caption. NegCLIP's negatives are order swaps of nouns,
  adjectives, verbs or phrases, mixed, and the file does not say which was swapped: every one
  gets kind :data:`NEGCLIP_KIND` ("relation", the kind fgclip's own order swaps have), rule
  "negclip-swap" and source "negclip".
- ``sugarcrepe``: SugarCrepe's ``{id: {"filename", "caption", "negative_caption"}}``, one file
  per subset; the kind comes from the file name (:data:`SUGARCREPE_KINDS`), the rule is the
  subset's name (``swap_att`` -> "swap-att"), the source "sugarcrepe". Matched by caption.

Bad lines and negatives are counted (``malformed_lines``, ``malformed_negatives``), never fatal;
a file that cannot be used at all (missing, of no known shape, a SugarCrepe file of another name)
raises :class:`ExtraNegativesError`, which the build reports as a usage error.

The build's driver reads the files once (:func:`read_extra_negatives`) and writes the lookup in
one normalised file beside the plan (:meth:`ExtraNegatives.to_bytes`); each shard worker process
reads that once and keeps it for its next shard, as it does the corpus table. Memory: the lookup
holds every imported text once, a few times the size of the file's text in Python objects (about
150 MB for a NegCLIP-sized file of 100,000 captions), in the driver and in each worker process.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from typing import Iterator

from ..config import EXTRA_NEGATIVE_FORMATS
from ..files import open_binary
from ..schema import KINDS

DEFAULT_SOURCE = "imported"
DEFAULT_RULE = "imported"
NEGCLIP_KIND = "relation"
NEGCLIP_RULE = "negclip-swap"
NEGCLIP_COLUMNS = ("title", "neg_caption")
# SugarCrepe's subsets as fgclip's kinds. A swap of two objects is fgclip's swap-obj, a relation
# negative (who does what to whom), not an object one: the rank-loss slot follows what changed.
SUGARCREPE_KINDS = {
    "replace_att": "attribute", "swap_att": "attribute", "add_att": "attribute",
    "replace_obj": "object", "add_obj": "object",
    "replace_rel": "relation", "swap_obj": "relation",
}

# (text, kind, rule, source): one imported negative, as the lookup holds it (tuples: small).
ImportedNegative = tuple[str, str, str, str]


class ExtraNegativesError(ValueError):
    """An extra-negatives file that cannot be used at all; the message names it."""


@dataclass
class ExtraNegatives:
    """Imported negatives by (key, caption), by key and by caption. Each value is a list of
    ``(entry ids, negatives)``; an entry is one line (row, item) of a file, numbered across the
    files, so that a build can count which entries no sample matched."""

    by_key_caption: dict[tuple[str, str], list] = field(default_factory=dict)
    by_key: dict[str, list] = field(default_factory=dict)
    by_caption: dict[str, list] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)  # per file: path, format, sha256, counts
    entries: int = 0

    @property
    def fingerprint(self) -> str:
        """A digest of what was read (each file's content and format), not of where it lay."""
        text = json.dumps([[f["format"], f["sha256"]] for f in self.files])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def lookup(self, key: str, caption: str) -> list[tuple[list[int], list[ImportedNegative]]]:
        """What the files hold for this caption of sample ``key``: (entry ids, negatives) each."""
        found = []
        for table, lookup_key in ((self.by_key_caption, (key, caption)), (self.by_key, key),
                                  (self.by_caption, caption)):
            found.extend(table.get(lookup_key, ()))
        return found

    def summary(self) -> dict:
        counts = {name: sum(f[name] for f in self.files)
                  for name in ("negatives", "malformed_lines", "malformed_negatives")}
        return {"files": [dict(f) for f in self.files], "entries": self.entries, **counts,
                "fingerprint": self.fingerprint}

    def _add(self, key: str | None, caption: str | None, negatives: list[ImportedNegative]) -> None:
        if key is not None and caption is not None:
            table, lookup_key = self.by_key_caption, (key, caption)
        elif key is not None:
            table, lookup_key = self.by_key, key
        else:
            table, lookup_key = self.by_caption, caption
        table.setdefault(lookup_key, []).append(([self.entries], negatives))
        self.entries += 1

    def to_bytes(self) -> bytes:
        """The lookup as one json document (read back by :meth:`from_bytes` in the workers)."""
        def rows(table, split):
            return [[*split(k), ids, [list(n) for n in negs]] for k, values in table.items() for ids, negs in values]

        document = {
            "fingerprint": self.fingerprint, "files": self.files, "entries": self.entries,
            "by_key_caption": rows(self.by_key_caption, lambda k: k),
            "by_key": rows(self.by_key, lambda k: (k,)),
            "by_caption": rows(self.by_caption, lambda k: (k,)),
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "ExtraNegatives":
        document = json.loads(data)
        extra = cls(files=document["files"], entries=document["entries"])
        for row in document["by_key_caption"]:
            extra.by_key_caption.setdefault((row[0], row[1]), []).append((row[2], [tuple(n) for n in row[3]]))
        for name in ("by_key", "by_caption"):
            table = getattr(extra, name)
            for row in document[name]:
                table.setdefault(row[0], []).append((row[1], [tuple(n) for n in row[2]]))
        return extra


def read_extra_negatives(paths: list[str] | tuple[str, ...], fmt: str | None = None) -> ExtraNegatives:
    """Read every file (each in ``fmt``, or in the format its name and content say) into one lookup."""
    extra = ExtraNegatives()
    for path in paths:
        try:
            with open_binary(path) as handle:
                data = handle.read()
        except FileNotFoundError as err:
            raise ExtraNegativesError(f"{path}: no such file") from err
        except (OSError, ImportError, ValueError) as err:  # a folder, no permission, an unknown URL scheme
            raise ExtraNegativesError(f"{path}: cannot read it ({err})") from err
        file_format = fmt or guess_format(path, data)
        counts = {"negatives": 0, "malformed_lines": 0, "malformed_negatives": 0}
        entries_before = extra.entries
        for item in _READERS[file_format](path, data, counts):
            if item is None:
                counts["malformed_lines"] += 1
                continue
            key, caption, negatives = item
            if negatives:
                counts["negatives"] += len(negatives)
                extra._add(key, caption, negatives)
        extra.files.append({
            "path": path if "://" in path else os.path.abspath(path), "format": file_format,
            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "entries": extra.entries - entries_before, **counts,
        })
    return extra


def guess_format(path: str, data: bytes) -> str:
    """The format of a file, from its name, else from its first line."""
    name = os.path.basename(path.rstrip("/")).lower()
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".tsv"):
        return "negclip"
    if name.endswith(".json"):
        return "sugarcrepe"
    first = data.lstrip()[:65536].split(b"\n", 1)[0]
    if b"\t" in first and all(column.encode() in first for column in NEGCLIP_COLUMNS):
        return "negclip"
    try:
        value = json.loads(first)
    except ValueError:
        value = None
    if isinstance(value, dict) and "negatives" in value:
        return "jsonl"
    raise ExtraNegativesError(f"{path}: not a jsonl of negatives, NegCLIP tsv or SugarCrepe json by its name or "
                              f"first line; name it with --extra-negatives-format ({', '.join(EXTRA_NEGATIVE_FORMATS)})")


# Each reader yields (key, caption, negatives) per entry, or None for a malformed line; it counts
# the malformed negatives of usable lines in counts["malformed_negatives"].
Item = tuple[str | None, str | None, list[ImportedNegative]] | None


def _read_jsonl(path: str, data: bytes, counts: dict) -> Iterator[Item]:
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            yield None
            continue
        if not isinstance(record, dict) or not isinstance(record.get("negatives"), list):
            yield None
            continue
        key, caption = record.get("key"), record.get("caption")
        key = key if isinstance(key, str) and key.strip() else None
        caption = caption.strip() if isinstance(caption, str) and caption.strip() else None
        if key is None and caption is None:
            yield None
            continue
        negatives = []
        for negative in record["negatives"]:
            imported = _jsonl_negative(negative)
            if imported is None:
                counts["malformed_negatives"] += 1
            else:
                negatives.append(imported)
        yield key, caption, negatives


def _jsonl_negative(negative: object) -> ImportedNegative | None:
    if not isinstance(negative, dict):
        return None
    text, kind = negative.get("text"), negative.get("kind")
    source, rule = negative.get("source", DEFAULT_SOURCE), negative.get("rule", DEFAULT_RULE)
    if not isinstance(text, str) or not text.strip() or kind not in KINDS:
        return None
    if not all(isinstance(v, str) and v.strip() for v in (source, rule)):
        return None
    return text.strip(), kind, rule.strip(), source.strip()


def _read_negclip(path: str, data: bytes, counts: dict) -> Iterator[Item]:
    rows = csv.reader(io.StringIO(data.decode("utf-8", errors="replace")), delimiter="\t")
    header = next(rows, None) or []
    if not all(column in header for column in NEGCLIP_COLUMNS):
        raise ExtraNegativesError(f"{path}: a NegCLIP tsv needs columns {', '.join(NEGCLIP_COLUMNS)}; "
                                  f"found {', '.join(c for c in header if c) or 'none'}")
    title, listed = header.index("title"), header.index("neg_caption")
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(title, listed) or not row[title].strip():
            yield None
            continue
        try:
            texts = ast.literal_eval(row[listed])  # a Python list literal, as pandas wrote it
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            yield None
            continue
        if not isinstance(texts, list):
            yield None
            continue
        negatives = []
        for text in texts:
            if isinstance(text, str) and text.strip():
                negatives.append((text.strip(), NEGCLIP_KIND, NEGCLIP_RULE, "negclip"))
            else:
                counts["malformed_negatives"] += 1
        yield None, row[title].strip(), negatives


def _read_sugarcrepe(path: str, data: bytes, counts: dict) -> Iterator[Item]:
    subset = os.path.splitext(os.path.basename(path.rstrip("/")))[0]
    if subset not in SUGARCREPE_KINDS:
        raise ExtraNegativesError(f"{path}: a SugarCrepe file's name says its kind; expected one of "
                                  f"{', '.join(f'{name}.json' for name in SUGARCREPE_KINDS)}")
    try:
        items = json.loads(data)
    except ValueError as err:
        raise ExtraNegativesError(f"{path}: not json ({err})") from err
    if not isinstance(items, dict):
        raise ExtraNegativesError(f"{path}: a SugarCrepe file is an object of {{id: {{caption, negative_caption}}}}")
    kind, rule = SUGARCREPE_KINDS[subset], subset.replace("_", "-")
    for item in items.values():
        caption = item.get("caption") if isinstance(item, dict) else None
        negative = item.get("negative_caption") if isinstance(item, dict) else None
        if not (isinstance(caption, str) and caption.strip() and isinstance(negative, str) and negative.strip()):
            yield None
            continue
        yield None, caption.strip(), [(negative.strip(), kind, rule, "sugarcrepe")]


_READERS = {"jsonl": _read_jsonl, "negclip": _read_negclip, "sugarcrepe": _read_sugarcrepe}
