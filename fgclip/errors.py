"""The two ways a command fails, and the exit status of each.

Every error fgclip raises on purpose derives from one of these. The command line needs no list
of them: :class:`UsageError` (bad input, a wrong option: fix the command and run it again) exits
2, :class:`RunError` (the input was fine, the run failed) exits 1. A bad record *inside* the
data is neither: it is skipped and counted where it is met.
"""

from __future__ import annotations


class UsageError(ValueError):
    """Input or options the command cannot work with; the message names the file, line or key."""

    exit_code = 2


class RunError(RuntimeError):
    """A run that started on good input and failed (a diverging loss, a dead worker)."""

    exit_code = 1
