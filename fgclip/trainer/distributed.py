"""The process group, from whoever launched us, and the global batch gathered across ranks.

Launchers: torchrun (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``), SLURM's srun (``SLURM_PROCID``,
``SLURM_NTASKS``, ``SLURM_LOCALID``; ``MASTER_ADDR``/``MASTER_PORT`` set by the batch script), or
Ray Train, which initialises the group itself before calling the training function. A plain
``fgclip train`` is a world of one and never touches torch.distributed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str | None = None) -> World:
    """Join (or find) the process group and pick this process's device."""
    if dist.is_available() and dist.is_initialized():
        rank, size = dist.get_rank(), dist.get_world_size()
        local_rank = int(os.environ.get("LOCAL_RANK", 0))
    elif int(os.environ.get("WORLD_SIZE", 1)) > 1:
        rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local_rank = int(os.environ.get("LOCAL_RANK", 0))
    elif int(os.environ.get("SLURM_NTASKS", 1)) > 1 and "MASTER_ADDR" in os.environ:
        rank, size = int(os.environ["SLURM_PROCID"]), int(os.environ["SLURM_NTASKS"])
        local_rank = int(os.environ.get("SLURM_LOCALID", 0))
    else:
        rank, size, local_rank = 0, 1, 0
    if device is None:
        device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    elif device == "cuda":
        device = f"cuda:{local_rank}"
    chosen = torch.device(device)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    if size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if chosen.type == "cuda" else "gloo", rank=rank, world_size=size)
    return World(rank, size, local_rank, chosen)


def gather(local: torch.Tensor, world: World) -> torch.Tensor:
    """Concatenate every rank's ``local`` along dim 0, in rank order.

    The other ranks' slices arrive without gradient; this rank's slice is ``local`` itself, so
    the loss back-propagates into this rank's encoders only. Each rank computes the same global
    loss; the caller scales it by the world size, so that DDP's gradient average sums the
    ranks' contributions into exactly the gradient of the global loss. Every rank must pass the
    same shape (the data stream gives every rank equal batches).
    """
    if world.size == 1:
        return local
    parts = [torch.empty_like(local) for _ in range(world.size)]
    dist.all_gather(parts, local.detach().contiguous())
    parts[world.rank] = local
    return torch.cat(parts, dim=0)


def barrier(world: World) -> None:
    if world.size > 1:
        dist.barrier()


def teardown(world: World, owned: bool) -> None:
    """Leave the group if this module created it (Ray Train tears down its own)."""
    if owned and world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()
