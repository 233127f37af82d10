"""A worker's decoded samples as one batch: images stacked, captions and negatives tokenized.

A batch is a dict: "image" [B,3,H,W], "text" long [B,L], "neg_text" long [B,K,L] and "neg_mask"
bool [B,K] (K = len(settings.kinds); both absent when hard_negatives is False), "keys"
list[str], "skipped" {reason: samples} dropped by its worker since its previous batch, and
"normalization": a fgclip.trainer.normalization.Normalization when "image" is uint8, else None.
Slot k of a row holds its negative of kind ``kinds[k]``; a kind the sample has no negative of
leaves its slot all padding with ``neg_mask`` False, never a stand-in text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch.utils.data import default_collate

from .normalization import Normalization
from .samples import Sample

if TYPE_CHECKING:  # the stream imports this module
    from .stream import StreamSettings


def collate(items: list[tuple[Sample, torch.Tensor]], skipped: dict[str, int], tokenize, s: StreamSettings,
            normalization: Normalization | None) -> dict:
    """The batch of ``items`` (each sample with its image tensor), ``skipped`` its drop counts."""
    samples = [sample for sample, _ in items]
    text = _tokens(tokenize, [sample.caption for sample in samples])
    batch = {
        # default_collate stacks straight into shared memory inside a loader worker: the batch
        # then crosses to the trainer without a second copy (0.5 ms a 224-px sample otherwise).
        "image": default_collate([image for _, image in items]),
        "text": text,
        "keys": [sample.key for sample in samples],
        "skipped": skipped,
        "normalization": normalization,
    }
    if s.hard_negatives:
        rows, slots = len(samples), len(s.kinds)
        mask = torch.tensor([[n is not None for n in sample.negatives] for sample in samples], dtype=torch.bool)
        mask = mask.reshape(rows, slots)
        neg_text = text.new_zeros((rows, slots, text.shape[1]))  # missing slots stay all padding
        present = [n for sample in samples for n in sample.negatives if n is not None]
        if present:
            neg_text[mask] = _tokens(tokenize, present)  # row-major, the order of `present`
        batch["neg_text"], batch["neg_mask"] = neg_text, mask
    return batch


def _tokens(tokenize, texts: list[str]) -> torch.Tensor:
    tokens = torch.as_tensor(tokenize(texts)).long()
    if tokens.ndim != 2 or tokens.shape[0] != len(texts):
        raise ValueError(f"tokenize gave shape {tuple(tokens.shape)} for {len(texts)} texts; expected [n, L]")
    return tokens
