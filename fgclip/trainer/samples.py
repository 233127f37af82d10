"""One shard, one sample: the tars read, each sample checked, its caption and negatives drawn, its
image decoded; a bad sample dropped and counted, never an error.

The shards are the tars the pipeline stage writes (docs/build.md, "Output"): per sample
``{key}.jpg`` (or .jpeg/.png/.webp), ``{key}.txt`` and ``{key}.json`` with every caption and its
hard negatives, plus ``sizes.json`` beside them. Plain img2dataset tars (image + txt, and maybe
img2dataset's own metadata json without a "captions" field) train too, with no negatives. The
trainer meets the pipeline only in these files: nothing here imports ``fgclip.pipeline``.

* A sample's caption and its negative of each kind are drawn by ``(seed, epoch, key)``, its image
  augmentation too (fgclip.trainer.seeds): the same whatever the shuffle, the worker count or a
  skip, and different from epoch to epoch.
* Checking is cheap (:func:`check_sample` reads the image's header, not its pixels), so a resumed
  run passes over samples without decoding them; :func:`decode` is the costly step.
* Bad samples are dropped, logged (the first few per worker, with shard and key) and counted by
  reason in :class:`Problems`, which the next batch's ``"skipped"`` reports; a missing or damaged
  shard never stops the stream.
"""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from typing import TYPE_CHECKING, Iterable, Iterator, NamedTuple, Sequence

import torch
from PIL import Image

from ..files import open_binary
from ..schema import IMAGE_EXTENSIONS, KINDS, BrokenTar, is_sample_record, iter_tar_samples, source_of
from .seeds import global_rngs_seeded, seed_int, seeded_random

if TYPE_CHECKING:  # the stream imports this module
    from .stream import StreamSettings

log = logging.getLogger(__name__)

LOGGED_PROBLEMS = 5  # per worker; after that problems are only counted


class Problems:
    """Dropped samples of one worker: counted for the next batch, the first few logged."""

    def __init__(self, where: str):
        self.where = where
        self.pending: Counter[str] = Counter()
        self.seen = 0

    def drop(self, reason: str, shard: str, key: str | None, detail: object, count: int = 1) -> None:
        self.pending[reason] += count
        self.seen += 1
        if self.seen <= LOGGED_PROBLEMS:
            where = f"{shard} key {key}" if key is not None else shard
            log.warning("%s: %s, skipped (%s): %s", self.where, reason, where, detail)
            if self.seen == LOGGED_PROBLEMS:
                log.warning("%s: further problems are counted in batch['skipped'], not logged", self.where)

    def take(self) -> dict[str, int]:
        counts = dict(self.pending)
        self.pending.clear()
        return counts


class Sample(NamedTuple):
    """A sample that passed the cheap checks, its caption and negatives chosen, image not decoded."""

    key: str
    shard: str
    image: Image.Image  # opened (its header read), not decoded
    caption: str
    negatives: tuple[str | None, ...]  # one per settings.kinds slot
    pass_no: int


def read_shard(shard: str, expected: int | None, problems: Problems) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {extension: bytes}) of each sample in a tar; a missing or damaged shard is counted.

    Members group into samples by fgclip.schema.iter_tar_samples (webdataset's rule). When the tar
    breaks off, the samples before the damage are kept and the sample being read is dropped;
    "truncated_shard" then counts the samples lost (sizes.json count minus samples read), or 1
    when sizes.json does not know the shard.
    """
    try:
        raw_file = open_binary(shard)
    except OSError as e:
        problems.drop("missing_shard", shard, None, e, expected or 1)
        return
    read, damage = 0, None
    with raw_file:
        try:
            for key, files in iter_tar_samples(raw_file):
                read += 1
                yield key, files
        except BrokenTar as broken:
            damage = repr(broken.cause) if broken.cause is not None else "no end-of-archive block"
    # A whole tar without a single sample: sizes.json tells whether it ought to hold some.
    if damage is None and not read and expected is not None and read < expected:
        damage = f"sizes.json counts {expected} samples"
    if damage is not None:
        lost = max(1, expected - read) if expected is not None else 1
        problems.drop("truncated_shard", shard, None, f"broke off after {read} samples: {damage}", lost)


def tar_records(shards: Sequence[str], sizes: dict[str, int], problems: Problems) -> Iterator[tuple[str, str, dict[str, bytes]]]:
    """(shard, key, {extension: bytes}) of each sample of the shards in turn; ``sizes`` are the
    known sample counts by shard path."""
    for shard in shards:
        for key, files in read_shard(shard, sizes.get(shard), problems):
            yield shard, key, files


def usable_samples(records: Iterable[tuple[str, str, dict[str, bytes]]], pass_no: int, s: StreamSettings, epoch: int,
                   problems: Problems) -> Iterator[Sample]:
    """The records that pass :func:`check_sample`, as Samples of pass ``pass_no``."""
    for shard, key, files in records:
        sample = check_sample(key, files, shard, pass_no, s, epoch, problems)
        if sample is not None:
            yield sample


def check_sample(key: str, files: dict[str, bytes], shard: str, pass_no: int, s: StreamSettings, epoch: int,
                 problems: Problems) -> Sample | None:
    """The Sample, its caption and negatives drawn, or None (counted) when it is unusable. Cheap:
    the image header is read, not decoded."""
    image_ext = next((e for e in IMAGE_EXTENSIONS if e in files), None)
    if image_ext is None:
        problems.drop("missing_image", shard, key, f"members {sorted(files)}")
        return None
    try:
        captions = [c for c in caption_records(files, s.hard_negatives, s.skip_rules, s.negative_sources) if c[0]]
    except (ValueError, TypeError, AttributeError) as e:
        problems.drop("bad_json", shard, key, e)
        return None
    if not captions:
        problems.drop("no_caption", shard, key, "no non-empty caption in json or txt")
        return None
    try:
        image = Image.open(io.BytesIO(files[image_ext]))  # kept open: decode reads on from the header
    except Exception as e:  # PIL raises many kinds; any of them means this image is unusable
        problems.drop("corrupt_image", shard, key, e)
        return None
    # Seeded by key, not drawn from a running stream: the choice is the same whatever the
    # shuffle, the worker count or a skip, and differs from epoch to epoch.
    rng = seeded_random("caption", s.seed, epoch, key)
    caption, negatives = captions[rng.randrange(len(captions))]
    chosen = tuple(rng.choice(negatives[k]) if negatives.get(k) else None for k in s.kinds) if s.hard_negatives else ()
    return Sample(key, shard, image, caption, chosen, pass_no)


def caption_records(files: dict[str, bytes], with_negatives: bool, skip_rules: tuple[str, ...] = (),
                     sources: tuple[str, ...] | None = None) -> list[tuple[str, dict[str, list[str]]]]:
    """(caption, {kind: negative texts}) of a sample, leaving out the negatives of ``skip_rules``
    and those of sources not in ``sources`` (None: none left out); ValueError/TypeError when its
    json is malformed.

    A json without "captions" (img2dataset writes one with url, width, ...) falls back to the txt.
    """
    record = json.loads(files["json"]) if "json" in files else None
    if is_sample_record(record):
        if not isinstance(record["captions"], list):
            raise TypeError("'captions' is not a list")
        return [_caption_entry(entry, with_negatives, skip_rules, sources) for entry in record["captions"]]
    if record is not None and not isinstance(record, dict):
        raise TypeError("json is not an object")
    return [(files.get("txt", b"").decode("utf-8", errors="replace").strip(), {})]


def _caption_entry(entry: dict, with_negatives: bool, skip_rules: tuple[str, ...] = (),
                   sources: tuple[str, ...] | None = None) -> tuple[str, dict[str, list[str]]]:
    if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
        raise TypeError(f"caption without text: {str(entry)[:80]}")
    by_kind: dict[str, list[str]] = {}
    for negative in (entry.get("negatives") or []) if with_negatives else ():
        if not isinstance(negative, dict) or not isinstance(negative.get("text"), str):
            raise TypeError(f"negative without text: {str(negative)[:80]}")
        # Unknown kinds, and the rules and sources the run leaves out, fill no slot. The slot
        # draws uniformly among what is left of its kind, generated and imported alike.
        if (negative.get("kind") in KINDS and negative["text"].strip() and negative.get("rule") not in skip_rules
                and (sources is None or source_of(negative) in sources)):
            by_kind.setdefault(negative["kind"], []).append(negative["text"].strip())
    return entry["text"].strip(), by_kind


def decode(sample: Sample, preprocess, s: StreamSettings, epoch: int, problems: Problems) -> torch.Tensor | None:
    """The preprocessed image, or None (counted) when it does not decode."""
    try:
        with sample.image as image:
            image.load()
            rgb = image if image.mode == "RGB" else image.convert("RGB")
    except Exception as e:  # a header that parsed over broken data
        problems.drop("corrupt_image", sample.shard, sample.key, e)
        return None
    try:
        # The augmentation draws from RNGs seeded by the sample, not from the worker's running
        # state, so skipping samples (resume) leaves the later samples' crops unchanged.
        with global_rngs_seeded(seed_int("augment", s.seed, epoch, sample.key)):
            return preprocess(rgb)
    except Exception as e:
        problems.drop("preprocess_error", sample.shard, sample.key, e)
        return None
