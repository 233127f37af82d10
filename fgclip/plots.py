"""Saving matplotlib figures: headless (Agg), and atomically, like every other file fgclip writes."""

from __future__ import annotations

import io
from pathlib import Path

from .files import write_atomically


def pyplot():
    """matplotlib.pyplot on the Agg backend: no display needed (clusters, CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path, dpi: int = 110) -> None:
    """Write ``fig`` to ``path`` atomically (its format from the suffix), then close it."""
    write_atomically(path, figure_bytes(fig, Path(path).suffix.lstrip(".") or "png", dpi))


def figure_bytes(fig, image_format: str = "png", dpi: int = 110) -> bytes:
    """``fig`` drawn as an image file's bytes; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, format=image_format)
    pyplot().close(fig)
    return buffer.getvalue()
