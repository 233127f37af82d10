"""Saving matplotlib figures: headless (Agg), and atomically, like every other file fgclip writes."""

from __future__ import annotations

import os
from pathlib import Path


def pyplot():
    """matplotlib.pyplot on the Agg backend: no display needed (clusters, CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path, dpi: int = 110) -> None:
    """Write ``fig`` to a temporary name beside ``path``, rename it into place, close it."""
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(temporary, dpi=dpi)
    pyplot().close(fig)
    os.replace(temporary, path)
