"""How a training run starts: in this process (alone, or one of torchrun's or SLURM's), or as
``--ray-workers N`` workers of Ray Train's TorchTrainer running the same ``loop.train``.

The run folder may be a URL: the workers write it through fgclip.files.Folder as a single
process does. Ray Train's own run records (no fgclip file) then go to a folder of this machine's
cache, since Ray's storage takes only some of the schemes fsspec does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from ..config import TrainConfig, dump_config, load_config
from ..files import Folder, local_cache_folder, url_key
from ..log import setup_logging
from . import loop


def run(cfg: TrainConfig, echo: Callable[[str], None] = print) -> dict:
    if cfg.ray_workers == 0:
        return loop.train(cfg, echo)
    from .. import ray_backend  # only here: the trainer itself never needs Ray

    config = dump_config(cfg)
    output = Folder(cfg.output)
    if output.is_url:
        records = local_cache_folder("ray", url_key(cfg.output))
    else:
        local = Path(cfg.output).resolve()
        config["output"] = str(local)  # Ray workers may start in another directory
        output, records = Folder(local), local / "ray"
    output.make()
    echo(f"starting {cfg.ray_workers} Ray Train worker(s) ({cfg.gpus_per_worker} GPU each)")
    ray_backend.run_torch_trainer(_ray_worker, config, workers=cfg.ray_workers, gpus_per_worker=cfg.gpus_per_worker,
                                  address=cfg.address, storage_path=str(records))
    return json.loads(output.read_text(loop.SUMMARY_FILE))


def _ray_worker(config: dict) -> None:
    """One Ray Train worker: the process group is already up, so ``loop.train`` joins it."""
    setup_logging()
    loop.train(load_config(TrainConfig, **config), echo=print)
