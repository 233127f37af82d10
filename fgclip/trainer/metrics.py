"""What a run reports: ``metrics.jsonl`` in the run folder (and TensorBoard when installed), and
the PNG charts ``fgclip plot RUN_DIR`` draws from it.

A metrics row holds the step, every loss term, the learning rate, the logit scale, samples/s,
the samples skipped so far by reason, and per negative kind: the margin tau_k, the mean
text-text cosine cos(T_i, T_i^k) (does the text tower separate that kind at all?) and the mean
gap s<I_i,T_i> - s<I_i,T_i^k> (does the image side follow?).

The run folder may be a URL (fgclip.files.Folder). An object store cannot append to a file, so
there the metrics file is kept whole in memory and uploaded whole, each upload one atomic write
(see :class:`MetricsLog`); the charts are uploaded like any other file.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from ..files import Folder, read_bytes_at, write_atomically
from ..plots import pyplot, save_figure

log = logging.getLogger(__name__)
METRICS_FILE = "metrics.jsonl"
# At most one upload of the whole metrics file in this many seconds between checkpoints, when
# the run folder is a URL: often enough to follow a run, rarely enough that a long run's file
# (megabytes after 100k steps) is not sent again at every row.
UPLOAD_INTERVAL_S = 60.0


class MetricsLog:
    """Appends rows to ``RUN_DIR/metrics.jsonl``; a resumed run first drops the rows written after
    its checkpoint, so the file never holds a step twice.

    In a local folder every row is appended and flushed as it comes (a kill cuts at most the last
    line, which :func:`read_metrics` skips). In a URL folder the file's text is kept in memory
    and uploaded whole: at most every :data:`UPLOAD_INTERVAL_S` seconds as rows come, and at
    every :meth:`persist` (which the trainer calls before each checkpoint) and at :meth:`close`.
    So at every checkpoint the stored file holds every row up to its step; a kill loses only
    rows after the last checkpoint, which a resume drops anyway. TensorBoard, whose event files
    are appended to as well, is written for local folders only.
    """

    def __init__(self, run_dir: str | Path | Folder, enabled: bool = True, truncate_after: int | None = None):
        self.enabled = enabled
        self.folder = run_dir if isinstance(run_dir, Folder) else Folder(run_dir)
        self.path: Path | str = self.folder.path(METRICS_FILE) if self.folder.is_url \
            else Path(self.folder.location) / METRICS_FILE
        self._handle = None
        self._board = None
        self._text: list[str] = []  # a URL folder's whole file, line by line
        self._unsaved = False
        self._uploaded_at = time.monotonic()
        if not enabled:
            return
        if self.folder.is_url:
            if self.folder.exists(METRICS_FILE):
                self._text = [json.dumps(row) + "\n" for row in read_metrics(self.path)
                              if truncate_after is not None and row["step"] <= truncate_after]
                self._unsaved = True
                self.persist()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            kept = [row for row in read_metrics(self.path) if truncate_after is not None and row["step"] <= truncate_after]
            write_atomically(self.path, "".join(json.dumps(row) + "\n" for row in kept).encode("utf-8"))
        self._handle = open(self.path, "a", encoding="utf-8")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            log.debug("tensorboard is not installed: metrics go to %s only", self.path)
        else:
            self._board = SummaryWriter(str(Path(self.folder.location) / "tensorboard"))

    def write(self, row: dict) -> None:
        if not self.enabled:
            return
        if self.folder.is_url:
            self._text.append(json.dumps(row) + "\n")
            self._unsaved = True
            if time.monotonic() - self._uploaded_at >= UPLOAD_INTERVAL_S:
                self.persist()
            return
        self._handle.write(json.dumps(row) + "\n")
        self._handle.flush()
        if self._board is not None:
            for name, value in _scalars(row):
                self._board.add_scalar(name, value, row["step"])

    def persist(self) -> None:
        """Make every row written so far stored in the run folder (a no-op for a local one, whose
        rows are flushed as they come)."""
        if self.folder.is_url and self._unsaved:
            self.folder.write_bytes(METRICS_FILE, "".join(self._text).encode("utf-8"))
            self._unsaved = False
            self._uploaded_at = time.monotonic()

    def close(self) -> None:
        if self.enabled:
            self.persist()
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._board is not None:
            self._board.close()
            self._board = None


def _scalars(row: dict, prefix: str = ""):
    for name, value in row.items():
        if isinstance(value, dict):
            yield from _scalars(value, f"{prefix}{name}/")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and name != "step":
            yield f"{prefix}{name}", value


def read_metrics(path: str | Path) -> list[dict]:
    """The rows of a metrics file (a path or URL); a torn last line (a run killed mid-write) is
    left out."""
    rows = []
    for number, line in enumerate(read_bytes_at(path).decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            log.warning("%s:%d: unreadable metrics row skipped", path, number)
    return rows


def plot_run(run_dir: str | Path) -> list[Path | str]:
    """Draw ``losses.png``, ``margins.png`` and ``kinds.png`` into ``run_dir`` (a path or URL);
    returns their paths (URLs for a URL folder)."""
    folder = Folder(run_dir)

    def at(name: str) -> Path | str:
        return folder.path(name) if folder.is_url else Path(run_dir) / name

    path = at(METRICS_FILE)
    if not folder.is_file(METRICS_FILE):
        raise FileNotFoundError(f"{path} does not exist: is {run_dir} a training run folder?")
    rows = read_metrics(path)
    if not rows:
        raise ValueError(f"{path} holds no metrics rows yet")
    plt = pyplot()
    steps = [row["step"] for row in rows]
    written = []

    fig, ax = plt.subplots(figsize=(7, 4))
    for name in ("total", "itc", "imc", "cmr"):
        if any(name in row for row in rows):
            ax.plot(steps, [row.get(name) for row in rows], label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(f"loss terms: {Path(str(run_dir).rstrip('/')).name}")
    ax.legend()
    ax.grid(alpha=0.3)
    written.append(at("losses.png"))
    save_figure(fig, written[-1])

    kinds = _kinds(rows, "tau")
    if kinds:
        fig, ax = plt.subplots(figsize=(7, 4))
        for kind in kinds:
            ax.plot(steps, [row.get("tau", {}).get(kind) for row in rows], label=kind)
        ax.set_xlabel("step")
        ax.set_ylabel("tau_k (logit units)")
        ax.set_title("adaptive CMR margin per negative kind")
        ax.legend()
        ax.grid(alpha=0.3)
        written.append(at("margins.png"))
        save_figure(fig, written[-1])

        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
        for kind in kinds:
            left.plot(steps, [_number(row.get("text_cosine", {}).get(kind)) for row in rows], label=kind)
            right.plot(steps, [_number(row.get("gap", {}).get(kind)) for row in rows], label=kind)
        left.set_title("text-text cosine cos(T, T^k)")
        right.set_title("gap s<I,T> - s<I,T^k>")
        for ax in (left, right):
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
            ax.legend()
        written.append(at("kinds.png"))
        save_figure(fig, written[-1])
    return written


def _kinds(rows: list[dict], key: str) -> list[str]:
    kinds: list[str] = []
    for row in rows:
        for kind in row.get(key, {}) or {}:
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def _number(value):
    return float("nan") if value is None else value
