"""Sleep, hibernate or power off the machine after a batch, after an announced grace period.

The action waits ``grace`` seconds (announced in the batch's messages and its view), so the
user can call it off: a cancel request, the CLI or the add-on all end in ``cancel()``. Commands
run through an injectable runner so tests never power anything off; several commands are tried
per action because which one works depends on the system (``systemctl`` needs systemd, the
``loginctl`` route works where polkit allows the seated user, ``shutdown`` needs root).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..batch.process import run_command
from ..batch.view import PowerOffState
from .summary import format_time

ACTIONS = ("SLEEP", "HIBERNATE", "POWEROFF")
COMMAND_TIMEOUT = 30.0

PowerRunner = Callable[[Sequence[str]], Any]
Report = Callable[[str], None]

_SLEEP_PS = ("Add-Type -AssemblyName System.Windows.Forms; "
             "[void][System.Windows.Forms.Application]::SetSuspendState('Suspend', $false, $false)")
_COMMANDS: dict[str, dict[str, list[list[str]]]] = {
    "linux": {
        "SLEEP": [["systemctl", "suspend"], ["loginctl", "suspend"]],
        "HIBERNATE": [["systemctl", "hibernate"], ["loginctl", "hibernate"]],
        "POWEROFF": [["systemctl", "poweroff"], ["loginctl", "poweroff"], ["shutdown", "-h", "now"]],
    },
    "darwin": {
        "SLEEP": [["pmset", "sleepnow"]],
        # macOS has no "hibernate now": sleep, and pmset's hibernatemode decides how deep.
        "HIBERNATE": [["pmset", "sleepnow"]],
        "POWEROFF": [["osascript", "-e", 'tell application "System Events" to shut down'],
                     ["shutdown", "-h", "now"]],
    },
    "win32": {
        "SLEEP": [["powershell", "-NoProfile", "-NonInteractive", "-Command", _SLEEP_PS]],
        "HIBERNATE": [["shutdown", "/h"]],
        "POWEROFF": [["shutdown", "/s", "/t", "0"]],
    },
}


def power_commands(action: str, platform: str | None = None) -> list[list[str]]:
    """The commands that carry out ``action`` on ``platform`` (``sys.platform`` style), in order."""
    if action not in ACTIONS:
        raise ValueError(f"unknown power action {action!r} (expected one of {', '.join(ACTIONS)})")
    platform = platform or sys.platform
    family = platform if platform in ("darwin", "win32") else "linux"
    return [list(argv) for argv in _COMMANDS[family][action]]


def default_runner(argv: Sequence[str]) -> Any:
    """Run a power command for real (with a timeout)."""
    return run_command(argv, timeout=COMMAND_TIMEOUT)


def runner_succeeded(result: Any) -> tuple[bool, str]:
    """Read a runner's answer: a CommandResult, a CompletedProcess, an exit status, or None (ok)."""
    if result is None or result is True:
        return True, ""
    if result is False:
        return False, "failed"
    if isinstance(result, int):
        return result == 0, f"exit status {result}"
    ok = getattr(result, "ok", None)
    if isinstance(ok, bool):
        return ok, str(getattr(result, "detail", "") or "failed")
    code = getattr(result, "returncode", None)
    if isinstance(code, int):
        return code == 0, f"exit status {code}"
    return True, ""


class PowerScheduler:
    """One pending power action at a time; thread-safe."""

    def __init__(self, report: Report, *, grace: float = 60.0, runner: PowerRunner | None = None,
                 platform: str | None = None, on_change: Callable[[], None] | None = None) -> None:
        self._report = report
        self.grace = max(0.0, float(grace))
        self._runner = runner
        self._platform = platform
        self._on_change = on_change
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: PowerOffState | None = None
        self._closed = False

    @property
    def pending(self) -> PowerOffState | None:
        """The action and when it runs (epoch seconds) while it waits, else None."""
        with self._lock:
            return self._pending

    def schedule(self, action: str) -> bool:
        """Announce ``action`` and carry it out after the grace period unless cancelled first."""
        commands = power_commands(action, self._platform)
        with self._lock:
            if self._closed or self._pending is not None:
                return False
            at = time.time() + self.grace
            self._pending = PowerOffState(action, at)
            self._cancel = threading.Event()
            # A daemon: a process that exits (Ctrl+C) never powers off behind the user's back;
            # a CLI that should power off waits for it (Batch.wait_poweroff).
            self._thread = threading.Thread(target=self._wait_then_act,
                                            args=(action, commands, self._cancel),
                                            name="renderplus-poweroff", daemon=True)
            self._thread.start()
        self._report(f"{_verb(action)} at {format_time(at)[11:]} (in {self.grace:g} s) — cancel "
                     "the batch (DELETE /batch, --cancel or the add-on) to call it off")
        self._changed()
        return True

    def cancel(self) -> bool:
        """Call off a pending action; False when none was pending."""
        with self._lock:
            pending = self._pending
            if pending is None:
                return False
            self._pending = None
            self._cancel.set()
        self._report(f"{_verb(pending.action)} called off")
        self._changed()
        return True

    def close(self) -> None:
        """Call off anything pending and refuse new actions."""
        with self._lock:
            self._closed = True
        self.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no action is pending (done or called off); False on timeout."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _wait_then_act(self, action: str, commands: list[list[str]], cancel: threading.Event) -> None:
        if cancel.wait(self.grace):
            return
        with self._lock:
            if cancel.is_set():
                return
            self._pending = None
        self._changed()
        self._report(f"{_verb(action)} now: the grace period is over")
        runner = self._runner or default_runner
        failures = []
        for argv in commands:
            try:
                ok, detail = runner_succeeded(runner(argv))
            except Exception as exc:
                ok, detail = False, str(exc) or type(exc).__name__
            if ok:
                return
            failures.append(f"{' '.join(argv)}: {detail}")
        self._report(f"Could not {action.lower()} the machine: " + "; ".join(failures))

    def _changed(self) -> None:
        if self._on_change is not None:
            with contextlib.suppress(Exception):
                self._on_change()


def _verb(action: str) -> str:
    return {"SLEEP": "Sleep", "HIBERNATE": "Hibernation",
            "POWEROFF": "Power-off"}.get(action, action.capitalize())
