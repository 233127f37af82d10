"""How a fgclip process logs: set up once, where the process starts (a command, a Ray Train worker).

fgclip's own loggers (``fgclip.*``) log at INFO everywhere. Every other logger logs at the level
the process chooses: WARNING for training and evaluation, where open_clip logs each model it
builds on the root logger at INFO, and INFO for the pipeline commands. The levels are set even
when a handler is already there (Ray Train's workers start with one), so every process that
calls :func:`setup_logging` ends with the same levels.
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(others: int = logging.WARNING) -> None:
    """fgclip's loggers at INFO, every other one at ``others``, records to stderr in FORMAT
    (unless the process has a handler already)."""
    logging.basicConfig(format=FORMAT)
    logging.getLogger().setLevel(others)
    logging.getLogger("fgclip").setLevel(logging.INFO)
