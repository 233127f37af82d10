"""Saving matplotlib figures: headless (Agg), and atomically, like every other file fgclip writes
(to a local path or a URL, through fgclip.files)."""

from __future__ import annotations

import io
from pathlib import Path

from .files import write_bytes_at


def pyplot():
    """matplotlib.pyplot on the Agg backend: no display needed (clusters, CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path, dpi: int = 110) -> None:
    """Write ``fig`` to ``path`` (a local path or a URL) atomically, its format from the suffix,
    then close it."""
    write_bytes_at(path, figure_bytes(fig, Path(str(path)).suffix.lstrip(".") or "png", dpi))


def figure_bytes(fig, image_format: str = "png", dpi: int = 110) -> bytes:
    """``fig`` drawn as an image file's bytes; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, format=image_format)
    pyplot().close(fig)
    return buffer.getvalue()
