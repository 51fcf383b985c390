"""Desktop notifications with whatever the system has, standard library only.

Linux: the freedesktop notification service on the session D-Bus, through ``notify-send``
(libnotify) or, without it, ``gdbus`` (GLib). A server started outside the desktop session (ssh,
a systemd unit) often lacks ``DBUS_SESSION_BUS_ADDRESS`` while the user's bus still exists at
``$XDG_RUNTIME_DIR/bus``; that socket is used then. macOS: ``osascript``. Windows: a toast
through PowerShell. Texts travel as arguments or environment variables, never inside a script,
so a batch name with quotes cannot break (or inject into) the command.
"""

from __future__ import annotations

import base64
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..batch.process import run_command

APP_NAME = "Render+"
NOTIFY_TIMEOUT = 10.0

Which = Callable[[str], "str | None"]


@dataclass(frozen=True)
class NotifyCommand:
    """One way to show a notification: the argv and extra environment it needs."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


def session_bus_address(environ: Mapping[str, str], uid: int | None = None) -> str | None:
    """The session bus to talk to: ``DBUS_SESSION_BUS_ADDRESS``, else the user's bus socket."""
    address = environ.get("DBUS_SESSION_BUS_ADDRESS", "").strip()
    if address:
        return address
    candidates = []
    if environ.get("XDG_RUNTIME_DIR"):
        candidates.append(os.path.join(environ["XDG_RUNTIME_DIR"], "bus"))
    if uid is None and hasattr(os, "getuid"):
        uid = os.getuid()
    if uid is not None:
        candidates.append(f"/run/user/{uid}/bus")
    for path in candidates:
        if os.path.exists(path):
            return f"unix:path={path}"
    return None


def gvariant_string(text: str) -> str:
    """``text`` as a GVariant text-format string literal (what ``gdbus call`` parses)."""
    escaped = (text.replace("\\", "\\\\").replace("'", "\\'")
               .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"))
    return f"'{escaped}'"


def linux_commands(summary: str, body: str, *, critical: bool, which: Which,
                   environ: Mapping[str, str]) -> tuple[list[NotifyCommand], str]:
    """Ways to notify on a freedesktop system, or none and the reason."""
    address = session_bus_address(environ)
    if address is None:
        return [], ("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and there is no "
                    "/run/user/<uid>/bus): Render+ is not running inside a desktop session")
    env = {"DBUS_SESSION_BUS_ADDRESS": address}
    urgency = "critical" if critical else "normal"
    commands = []
    if which("notify-send"):
        commands.append(NotifyCommand(
            ["notify-send", f"--app-name={APP_NAME}", f"--urgency={urgency}",
             "--icon=blender", "--", summary, body], env))
    if which("gdbus"):
        commands.append(NotifyCommand(
            ["gdbus", "call", "--session", "--timeout", str(int(NOTIFY_TIMEOUT)),
             "--dest", "org.freedesktop.Notifications",
             "--object-path", "/org/freedesktop/Notifications",
             "--method", "org.freedesktop.Notifications.Notify",
             gvariant_string(APP_NAME), "uint32 0", gvariant_string("blender"),
             gvariant_string(summary), gvariant_string(body), "@as []",
             f"@a{{sv}} {{'urgency': <byte {2 if critical else 1}>}}", "int32 -1"], env))
    if not commands:
        return [], "neither notify-send (package libnotify-bin) nor gdbus is installed"
    return commands, ""


def macos_commands(summary: str, body: str) -> list[NotifyCommand]:
    script = ["-e", "on run argv",
              "-e", "display notification (item 2 of argv) with title (item 1 of argv)",
              "-e", "end run"]
    return [NotifyCommand(["osascript", *script, summary, body])]


_WINRT = "Windows.UI.Notifications, ContentType = WindowsRuntime"
_TOAST_SCRIPT = "\n".join([
    "$ErrorActionPreference = 'Stop'",
    f"$manager = [Windows.UI.Notifications.ToastNotificationManager, {_WINRT}]",
    f"$kind = [Windows.UI.Notifications.ToastTemplateType, {_WINRT}]::ToastText02",
    "$xml = $manager::GetTemplateContent($kind)",
    "$texts = $xml.GetElementsByTagName('text')",
    "[void]$texts.Item(0).AppendChild($xml.CreateTextNode($env:RENDERPLUS_TOAST_TITLE))",
    "[void]$texts.Item(1).AppendChild($xml.CreateTextNode($env:RENDERPLUS_TOAST_BODY))",
    f"$toast = [Windows.UI.Notifications.ToastNotification, {_WINRT}]::new($xml)",
    # PowerShell's own app id: a toast needs a registered AppUserModelID to show.
    "$app = '{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\\WindowsPowerShell\\v1.0\\powershell.exe'",
    "$manager::CreateToastNotifier($app).Show($toast)",
])


def windows_commands(summary: str, body: str) -> list[NotifyCommand]:
    encoded = base64.b64encode(_TOAST_SCRIPT.encode("utf-16-le")).decode("ascii")
    return [NotifyCommand(["powershell", "-NoProfile", "-NonInteractive", "-ExecutionPolicy",
                           "Bypass", "-EncodedCommand", encoded],
                          {"RENDERPLUS_TOAST_TITLE": summary, "RENDERPLUS_TOAST_BODY": body})]


def notify_commands(summary: str, body: str, *, critical: bool = False,
                    platform: str | None = None, which: Which = shutil.which,
                    environ: Mapping[str, str] | None = None) -> tuple[list[NotifyCommand], str]:
    """The commands to try in order for this platform, or none and why."""
    platform = platform or sys.platform
    environ = os.environ if environ is None else environ
    if platform == "darwin":
        return macos_commands(summary, body), ""
    if platform == "win32":
        return windows_commands(summary, body), ""
    return linux_commands(summary, body, critical=critical, which=which, environ=environ)


def send_notification(summary: str, body: str, *, critical: bool = False,
                      platform: str | None = None, which: Which = shutil.which,
                      environ: Mapping[str, str] | None = None,
                      timeout: float = NOTIFY_TIMEOUT) -> str | None:
    """Show a notification; None when shown, else a sentence saying why not."""
    environ = os.environ if environ is None else environ
    commands, reason = notify_commands(summary, body, critical=critical, platform=platform,
                                       which=which, environ=environ)
    if not commands:
        return f"No desktop notification: {reason}"
    failures = []
    for command in commands:
        result = run_command(command.argv, timeout=timeout, env={**environ, **command.env})
        if result.ok:
            return None
        failures.append(result.detail)
    return "No desktop notification: " + "; ".join(failures)
