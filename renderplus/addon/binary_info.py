"""What a Blender binary can do (its version and render engines), asked off Blender's main thread.

The job's engine menu offers the engines the *rendering* binary has (``engine_menu``), and the
check before Render compares each job's engine with them (a job saved or imported with "EEVEE
Next" keeps it, but Blender 3.4 has no such engine) and the .blend's version with the binary's.
Asking a binary takes seconds (``blender --version``, then ``blender -b -E help``, about 1.7 s
for 3.4), too long for the UI thread: ``BinaryInfoCache``
asks in a daemon thread and answers None ("checking...") until it knows. Answers are kept per
binary file (path, size, modification time), so a replaced Blender is asked again.

No ``bpy`` here: the bridge's pump notices a finished lookup (``take_finished``) and redraws.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..batch import preflight

THREAD_NAME = "renderplus-binary-check"


@dataclass(frozen=True)
class BinaryInfo:
    """One binary's answer: ``problem`` says why it cannot render (then the rest is None)."""

    binary: str
    version: str | None = None  # "3.4.1"
    engines: tuple[str, ...] | None = None  # None: it would not list them (checked at render time)
    problem: str | None = None

    @property
    def version_number(self) -> int | None:
        """``304`` for 3.4.x: the form a .blend header stores (``blend_file_version``)."""
        return preflight.version_number(self.version)


def inspect(binary: str) -> BinaryInfo:
    """Ask ``binary`` (blocking: run it in a thread)."""
    facts = preflight.inspect_binary(binary)
    return BinaryInfo(binary, version=facts.version, engines=facts.engines, problem=facts.problem)


def _file_key(binary: str) -> tuple[str, str, int, int]:
    real = os.path.realpath(binary)
    try:
        info = os.stat(real)
    except OSError:
        return binary, "", 0, 0
    return binary, real, info.st_mtime_ns, info.st_size


class BinaryInfoCache:
    """Answers per binary; an unknown binary starts one lookup thread and answers None."""

    def __init__(self, ask: Callable[[str], BinaryInfo] = inspect) -> None:
        self._ask = ask
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str, int, int], BinaryInfo] = {}
        self._threads: dict[tuple[str, str, int, int], threading.Thread] = {}
        self._finished = False

    def get(self, binary: str) -> BinaryInfo | None:
        """The answer for ``binary``, or None while it is being asked (this starts the lookup)."""
        key = _file_key(binary)
        with self._lock:
            known = self._known.get(key)
            if known is not None:
                return known
            if key not in self._threads:
                thread = threading.Thread(target=self._lookup, args=(key,), name=THREAD_NAME, daemon=True)
                self._threads[key] = thread
                thread.start()
        return None

    def wait(self, binary: str, timeout: float) -> BinaryInfo | None:
        """``get``, waiting up to ``timeout`` seconds for a lookup under way."""
        info = self.get(binary)
        if info is not None:
            return info
        with self._lock:
            thread = self._threads.get(_file_key(binary))
        if thread is not None:
            thread.join(timeout)
        return self.get(binary) if thread is None or not thread.is_alive() else None

    @property
    def pending(self) -> bool:
        with self._lock:
            return bool(self._threads)

    def take_finished(self) -> bool:
        """True once after one or more lookups finished (the panels should redraw)."""
        with self._lock:
            finished, self._finished = self._finished, False
            return finished

    def shutdown(self, timeout: float = 10.0) -> None:
        """Wait for lookups under way (the add-on is disabled: no thread may outlive it)."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)

    def _lookup(self, key: tuple[str, str, int, int]) -> None:
        try:
            info = self._ask(key[0])
        except Exception as exc:  # never leave "checking..." forever
            info = BinaryInfo(key[0], problem=f"cannot ask {key[0]}: {exc}")
        with self._lock:
            self._known[key] = info
            del self._threads[key]
            self._finished = True
