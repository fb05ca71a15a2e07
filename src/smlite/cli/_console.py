"""The console the rich outputs of ``summary`` and ``size`` are printed on."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["stdout_console"]

_PIPE_WIDTH = 1000


def stdout_console() -> Console:
    """A console that styles only a terminal: no colour or control codes in a pipe."""
    from rich.console import Console

    out = sys.stdout
    tty = out.isatty()
    # Without a terminal rich would wrap at 80 columns; in logs and pipes lines
    # are kept whole instead (tables take only the width their cells need).
    width = None if tty or os.environ.get("COLUMNS") else _PIPE_WIDTH
    return Console(
        file=out,
        force_terminal=tty,
        color_system="auto" if tty else None,
        no_color=not tty,
        highlight=False,
        emoji=False,
        markup=False,
        width=width,
        soft_wrap=False,
    )
