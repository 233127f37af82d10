"""How a training run starts: in this process (alone, or one of torchrun's or SLURM's), or as
``--ray-workers N`` workers of Ray Train's TorchTrainer running the same ``loop.train``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from ..config import TrainConfig, dump_config, load_config
from ..log import setup_logging
from . import loop


def run(cfg: TrainConfig, echo: Callable[[str], None] = print) -> dict:
    if cfg.ray_workers == 0:
        return loop.train(cfg, echo)
    from .. import ray_backend  # only here: the trainer itself never needs Ray

    output = Path(cfg.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    config = dump_config(cfg)
    config["output"] = str(output)  # Ray workers may start in another directory
    echo(f"starting {cfg.ray_workers} Ray Train worker(s) ({cfg.gpus_per_worker} GPU each)")
    ray_backend.run_torch_trainer(_ray_worker, config, workers=cfg.ray_workers, gpus_per_worker=cfg.gpus_per_worker,
                                  address=cfg.address, storage_path=str(output / "ray"))
    return json.loads((output / loop.SUMMARY_FILE).read_text(encoding="utf-8"))


def _ray_worker(config: dict) -> None:
    """One Ray Train worker: the process group is already up, so ``loop.train`` joins it."""
    setup_logging()
    loop.train(load_config(TrainConfig, **config), echo=print)

