"""The statistics pass: a corpus's captions counted into its table (``corpus_counts.tsv.gz``).

What is counted, and the table file, are :mod:`fgclip.pipeline.negatives.corpus`'s: one
Counter per sample (all captions of one image together, since the co-description counts compare
them), summed over the corpus. This module gives the pass its units of work, with no Ray in it:

- :func:`count_plan_shard`: one shard of a build's plan (its captions are cleaned there), as
  ``build-negatives`` counts before it writes any shard;
- :func:`count_samples`: a chunk of samples read by ``fgclip pipeline count``, which writes no plan;
- :func:`samples_of`: the input rows as the plan sees them (captions cleaned by
  ``clean_captions``, duplicate keys and rows without a usable caption skipped and counted), so
  that both give the same table for the same input.

Executors (``executors.sum_counts``) run the first two over many items and sum the counters; the
shard tasks then read the table once per worker process (``shards.cached_table``).
"""

from __future__ import annotations

from collections import Counter
from itertools import islice
from typing import Iterable, Iterator, Sequence

from ..files import Folder
from .shards import read_plan, row_outcome, row_record
from .sources import BadRow, SourceRow

CHUNK_SAMPLES = 1000  # samples per work item of ``fgclip pipeline count`` (the build counts by shard)


def count_plan_shard(shard: int, output: str) -> Counter:
    """The counts of one planned shard's samples (images are not read: a sample whose image
    turns out missing is counted all the same, as ``fgclip pipeline count`` counts it)."""
    _, entries = read_plan(Folder(output), shard)
    return count_samples([entry["captions"] for entry in entries])


def count_samples(samples: Sequence[Sequence[str]]) -> Counter:
    """The summed counts of samples, each the cleaned captions of one image."""
    from .negatives.corpus import count_corpus

    return count_corpus(samples)


def samples_of(rows: Iterable[SourceRow | BadRow], max_caption_chars: int, skipped: Counter) -> Iterator[list[str]]:
    """The cleaned captions of each usable row, in input order; each row that is not usable
    is counted in ``skipped`` by its reason, as the plan counts it."""
    seen: set[bytes] = set()
    for row in rows:
        entry, _, reason, _ = row_outcome(row_record(row, seen, max_caption_chars))
        if entry is None:
            skipped[reason] += 1
        else:
            yield entry["captions"]


def chunks(samples: Iterable[list[str]], size: int = CHUNK_SAMPLES) -> list[list[list[str]]]:
    """``samples`` cut into lists of ``size`` (the last one shorter): the pass's work items."""
    samples = iter(samples)
    return list(iter(lambda: list(islice(samples, size)), []))
