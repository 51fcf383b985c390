"""What a child's exit status says: an exit code, or the signal that ended it.

Python reports a child killed by signal N as ``-N``. A child started through a wrapper (a
shell script, ``bwrap``) cannot report that: the wrapper itself exits, by shell convention with
128+N (139 for SIGSEGV). So a status above 128 whose remainder is a known signal number is read
as that signal too, the raw status kept in the sentence (a program may exit 130 by itself:
the sentence shows the number it really gave). Jobs, hooks and session Blenders share this
reading, so a wrapped Blender's crash reads, and is retried, as a direct one's.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

SHELL_SIGNAL_BASE = 128      # a shell's status for a command killed by signal N: 128 + N
LARGEST_SIGNAL = 64          # Linux's SIGRTMAX: no status above 128 + 64 is a signal
WRAPPERS_SAY_SIGNALS = os.name != "nt"   # Windows has no such convention (nor such signals)


@dataclass(frozen=True)
class ExitStatus:
    """``raw``: the status as received; ``signal``: the signal that ended the process (directly
    or under a wrapper), else None; ``wrapped``: the signal came as a wrapper's 128+N."""

    raw: int
    signal: int | None = None
    wrapped: bool = False

    @classmethod
    def of(cls, raw: int) -> ExitStatus:
        if raw < 0:
            return cls(raw, -raw)
        number = raw - SHELL_SIGNAL_BASE
        if WRAPPERS_SAY_SIGNALS and 0 < number <= LARGEST_SIGNAL \
                and signal_name(number) is not None:
            return cls(raw, number, wrapped=True)
        return cls(raw)

    @property
    def ok(self) -> bool:
        return self.raw == 0

    def describe(self, wrapper: str = "its wrapper") -> str:
        """``exit code 1``; ``killed by signal 9`` (a direct child, as 1.x said it);
        ``killed by signal 11, SIGSEGV; exit status 139 from its wrapper``."""
        if self.signal is None:
            return f"exit code {self.raw}"
        if not self.wrapped:
            return f"killed by signal {self.signal}"
        name = signal_name(self.signal)
        return f"killed by signal {self.signal}, {name}; exit status {self.raw} from {wrapper}"


def signal_name(number: int) -> str | None:
    """``SIGSEGV`` for 11; None for a number that is no signal here."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return None
