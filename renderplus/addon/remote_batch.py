"""The batch another Render+ server runs, as the add-on's pump reads a batch of its own: a
``revision`` that moves and a frozen ``view()`` (``BatchView.from_json`` of the server's poll).

A daemon thread (``BatchPoller``) polls ``GET /batch`` with ``If-None-Match`` about twice a
second, and ``GET /queue`` with it: a 304 changes nothing, a new answer makes a new revision;
the poll's ETag names the server's batch object, so a new batch (the next of the queue, one
posted from a terminal) becomes a new ``RemoteBatch``. Nothing here touches ``bpy``.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..batch.queue import QueueEntry, QueueView
from ..batch.view import BatchStatus, BatchView
from ..server.tokenfile import process_alive
from .remote_link import ServerGoneError, ServerLink

POLL_INTERVAL = 0.5     # seconds between polls
POLL_TIMEOUT = 5.0      # seconds one poll may take (in the thread: Blender never waits for it)
_ETAG = re.compile(r'"([0-9a-f]+)-(\d+)')


@dataclass(frozen=True)
class RemoteJob:
    """What the panel's rows need of a job the add-on did not send (the poll has no recipe)."""

    id: int
    name: str
    blend_file: str = ""

    @property
    def display_name(self) -> str:
        return self.name or f"Job {self.id}"


@dataclass(frozen=True)
class RemoteRecipe:
    name: str
    jobs: tuple[RemoteJob, ...]

    @classmethod
    def of_view(cls, view: BatchView) -> RemoteRecipe:
        return cls(view.name, tuple(RemoteJob(job.id, job.name) for job in view.jobs))


def recipe_key(name: str, job_names: Any) -> tuple[str, tuple[str, ...]]:
    """What links a batch the server runs to a recipe this add-on sent it."""
    return name, tuple(job_names)


class RemoteBatch:
    """One batch of the server; ``recipe`` is the one this add-on sent (its rows keep their link
    to the scene's jobs) or, for another's, one made from the poll."""

    def __init__(self, key: str, recipe: Any, view: BatchView) -> None:
        self.key = key
        self.recipe = recipe
        self._view = view

    @property
    def revision(self) -> int:
        return self._view.revision

    def view(self) -> BatchView:
        return self._view

    @property
    def status(self) -> BatchStatus:
        return self._view.status

    @property
    def running(self) -> bool:
        """RUNNING, or started and waiting for its start time (as ``Batch.running``)."""
        view = self._view
        return view.running or (view.status is BatchStatus.WAITING and view.starts_at is not None)

    def update(self, view: BatchView) -> None:
        self._view = view   # one reference swap: readers see the old or the new view whole


def queue_of(data: dict[str, Any]) -> QueueView:
    """``GET /queue``'s answer as the engine's QueueView."""
    entries = tuple(QueueEntry(id=int(entry["id"]), name=str(entry.get("name") or ""),
                               jobs=int(entry.get("jobs") or 0), position=int(entry.get("position") or 0),
                               added=float(entry.get("added") or 0.0),
                               estimated_start=entry.get("estimated_start"),
                               estimated_end=entry.get("estimated_end"),
                               estimate_runs=entry.get("estimate_runs"))
                    for entry in data.get("batches") or ())
    return QueueView(entries, bool(data.get("held")), data.get("estimated_end"))


class BatchPoller:
    """Keeps ``batch`` and ``queue`` as the server last answered; ``gone`` once it ended."""

    def __init__(self, link: ServerLink, recipe_for: Callable[[BatchView], Any]) -> None:
        self.link = ServerLink(link.record, POLL_TIMEOUT)
        self.batch: RemoteBatch | None = None
        self.queue: QueueView | None = None
        self.gone = False
        self._recipe_for = recipe_for
        self._etag = ""
        self._lock = threading.Lock()     # one poll at a time (the thread's, or an action's)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="renderplus-remote-poll", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 0.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and timeout > 0 and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set() and not self.gone:
            try:
                self.poll()
            except Exception as exc:   # keep polling; say what went wrong
                print(f"Render+: polling {self.link.url} failed: {exc}", file=sys.stderr)
            self._stop.wait(POLL_INTERVAL)

    def poll(self) -> None:
        """One round: the batch (304: nothing new) and the queue. The server's end (no answer,
        or its process gone) is said once and ends the polling."""
        with self._lock:
            if self.gone:
                return
            try:
                self._poll_batch()
                self.queue = queue_of(self.link.call("GET", "/queue"))
            except TimeoutError:
                return
            except ServerGoneError:
                self._went()
            except Exception:
                if not process_alive(self.link.record.pid):
                    self._went()
                    return
                raise

    def _went(self) -> None:
        if not process_alive(self.link.record.pid) or not self._answers():
            self.gone = True
            print(f"Render+: the Render+ server at {self.link.url} (pid {self.link.record.pid}) "
                  "has ended: this Blender renders its next batch itself", file=sys.stderr)

    def _answers(self) -> bool:
        try:
            self.link.request("GET", "/test", timeout=1.0)
        except (ServerGoneError, TimeoutError):
            return False
        return True

    def _poll_batch(self) -> None:
        headers = {"If-None-Match": self._etag} if self._etag else {}
        answer = self.link.request("GET", "/batch", headers=headers)
        if answer.status == 304:
            return
        if answer.status == 409:   # the server has run no batch yet
            self.batch, self._etag = None, ""
            return
        if answer.status != 200:
            raise ServerGoneError(f"GET /batch answered HTTP {answer.status}")
        etag = answer.headers.get("etag", "")
        found = _ETAG.search(etag)
        key = found.group(1) if found else ""
        batch = self.batch
        revision = int(found.group(2)) if found else (batch.revision + 1 if batch is not None else 0)
        view = dataclasses.replace(BatchView.from_json(answer.data), revision=revision)
        if batch is None or batch.key != key:
            self.batch = RemoteBatch(key, self._recipe_for(view), view)
        else:
            batch.update(view)
        self._etag = etag
