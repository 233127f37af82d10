"""The stream's random choices, each seeded by what it is about, never drawn from a shared stream.

A choice is seeded by a tuple of parts, and the same parts give the same choice in every
process and every Python (string seeds go through sha512, not the salted ``hash``):

* the shard order of an epoch by ``("shards", seed, epoch)``: the same on every rank;
* a worker's shard order in its later passes by ``("pass", seed, epoch, rank, worker, pass)``;
* a worker's sample shuffle buffer by ``("buffer", seed, epoch, rank, worker)``;
* a sample's caption and its negative of each kind by ``("caption", seed, epoch, key)``;
* a sample's image augmentation by ``("augment", seed, epoch, key)``;
* the DataLoader's base seed of its workers by ``("loader", seed, epoch, rank)``.

Nothing of a sample depends on the samples before it, so a resumed run can pass over samples
without decoding them and still yield the very batches a run without the skip yields from there.
"""

from __future__ import annotations

import contextlib
import hashlib
import random

import torch


def seeded_random(*parts: object) -> random.Random:
    """A Random seeded by the parts."""
    return random.Random(_seed_text(*parts))


def seed_int(*parts: object) -> int:
    digest = hashlib.blake2b(_seed_text(*parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1  # < 2**63: fits torch's seed


@contextlib.contextmanager
def global_rngs_seeded(seed: int):
    """Seed torch's CPU generator and `random` for one sample, then put their states back, so an
    in-process stream (workers=0) leaves the trainer's RNGs as they were."""
    torch_state, random_state = torch.get_rng_state(), random.getstate()
    torch.default_generator.manual_seed(seed)  # not torch.manual_seed: that reseeds CUDA too
    random.seed(seed)
    try:
        yield
    finally:
        torch.set_rng_state(torch_state)
        random.setstate(random_state)


def _seed_text(*parts: object) -> str:
    return ":".join(map(str, parts))
