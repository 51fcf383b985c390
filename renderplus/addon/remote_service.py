"""The add-on's batch slot while it is attached to another Render+ server of this user (one
handed a batch when a Blender quit, or started from a terminal): the subset of ``BatchService``
that ``batch_lifecycle``, ``queue_lifecycle`` and ``bridge`` use, each over HTTP
(docs/api.md). That server owns the batch, its queue and the store; this Blender only shows
them (``remote_batch``'s polling thread) and asks for changes.

Actions run in Blender's main thread with short timeouts; a refusal is a ``ServiceError`` with
the server's sentence. Nothing here touches ``bpy``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..batch.options import RunOptions
from ..batch.queue import QueueEntry, QueueView
from ..batch.recipe import Recipe
from ..batch.service import NotRunningError, ServiceError
from ..batch.view import BatchStatus, BatchView
from ..server.tokenfile import ServerRecord
from .remote_batch import BatchPoller, RemoteBatch, RemoteRecipe, recipe_key
from .remote_link import ServerLink

SENT_KEPT = 32   # recipes sent lately, to link the batches they become to the scene's jobs


class RemoteService:
    """Another server's batch slot, as the add-on's own ``BatchService`` is used."""

    store = None   # the server owns the store: nothing to resume or estimate from here

    def __init__(self, record: ServerRecord, options: RunOptions | None = None) -> None:
        self.record = record
        self.options = options or RunOptions()
        self.link = ServerLink(record)
        self._sent: OrderedDict[tuple[str, tuple[str, ...]], Recipe] = OrderedDict()
        self.poller = BatchPoller(self.link, self._recipe_for)
        self.poller.poll()   # the first picture at once (short timeouts)
        self.poller.start()

    @property
    def attached_to(self) -> str:
        """The sentence the panel shows."""
        return f"Attached to the Render+ server at {self.record.url} (pid {self.record.pid})"

    @property
    def gone(self) -> bool:
        return self.poller.gone

    # ------------------------------------------------------------------ what the panels read

    @property
    def batch(self) -> RemoteBatch | None:
        return self.poller.batch

    @property
    def running(self) -> bool:
        batch = self.poller.batch
        return not self.gone and batch is not None and batch.running

    @property
    def paused(self) -> bool:
        batch = self.poller.batch
        return not self.gone and batch is not None and batch.status is BatchStatus.PAUSED

    def view(self) -> BatchView | None:
        batch = self.poller.batch
        return batch.view() if batch is not None else None

    def queue_view(self) -> QueueView:
        return self.poller.queue or QueueView((), False)

    def set_options(self, options: RunOptions) -> None:
        """The add-on's Blender preference: sent with each recipe that names no Blender."""
        self.options = options

    def interrupted_view(self) -> BatchView | None:
        return None   # the server resumes its own batches

    def owned_elsewhere(self) -> str | None:
        return None

    def show_last_ended(self) -> RemoteBatch | None:
        return self.poller.batch

    # ------------------------------------------------------------------ actions

    def load_recipe(self, recipe: Recipe) -> None:
        self.link.call("POST", "/batch/recipe", self._recipe_body(recipe))

    def start(self) -> RemoteBatch:
        self.link.call("GET", "/batch/start")
        return self._refreshed()

    def resume(self) -> RemoteBatch:
        self.link.call("GET", "/batch/resume")
        return self._refreshed()

    def cancel(self) -> None:
        self._ask_quickly("DELETE", "/batch")

    def cancel_current_job(self) -> None:
        self._ask_quickly("DELETE", "/batch/jobs/current")

    def cancel_job(self, job_id: int) -> None:
        self._ask_quickly("DELETE", f"/batch/jobs/{int(job_id)}")

    def pause(self, when: str = "frame") -> None:
        self._changed("POST", "/batch/pause", {"when": when})

    def enqueue(self, recipe: Recipe) -> QueueEntry:
        answer = self._changed("POST", "/queue", self._recipe_body(recipe))
        return QueueEntry(id=int(answer.get("id", -1)), name=str(answer.get("name") or recipe.name),
                          jobs=int(answer.get("jobs") or len(recipe.jobs)),
                          position=int(answer.get("position") or 0), added=0.0)

    def move_queued(self, queue_id: int, position: int) -> None:
        self._changed("PATCH", f"/queue/{int(queue_id)}", {"position": int(position)})

    def drop_queued(self, queue_id: int) -> None:
        self._changed("DELETE", f"/queue/{int(queue_id)}")

    def hold_queue(self) -> None:
        self._changed("POST", "/queue/hold")

    def continue_queue(self) -> None:
        self._changed("POST", "/queue/continue")

    def move_job(self, job_id: int, position: int) -> None:
        self._changed("PATCH", f"/batch/jobs/{int(job_id)}", {"position": int(position)})

    def set_job_enabled(self, job_id: int, enabled: bool) -> None:
        self._changed("PATCH", f"/batch/jobs/{int(job_id)}", {"enabled": bool(enabled)})

    def shutdown(self, timeout: float = 1.0) -> None:
        """The add-on goes (quit or disable): stop polling, waiting a second at most for a poll
        under way (a daemon thread); the server and its batch go on."""
        self.poller.stop(min(timeout, 1.0))

    # ------------------------------------------------------------------ helpers

    def _recipe_body(self, recipe: Recipe) -> dict[str, Any]:
        """The recipe as JSON; one naming no Blender gets the add-on's (the preference), as a
        batch of the add-on's own would. Remembered, so the batch it becomes keeps its rows'
        link to the scene's jobs."""
        body = recipe.to_dict()
        if not body.get("blender_bin") and self.options.blender_bin:
            body["blender_bin"] = self.options.blender_bin
        self._sent[recipe_key(recipe.name, (job.display_name for job in recipe.jobs))] = recipe
        while len(self._sent) > SENT_KEPT:
            self._sent.popitem(last=False)
        return body

    def _recipe_for(self, view: BatchView) -> Any:
        sent = self._sent.get(recipe_key(view.name, (job.name or f"Job {job.id}" for job in view.jobs)))
        return sent if sent is not None else RemoteRecipe.of_view(view)

    def _changed(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        answer = self.link.call(method, path, body)
        self.poller.poll()   # the pump's next tick shows what it did
        return answer

    def _ask_quickly(self, method: str, path: str) -> None:
        """A cancel: the server answers once the batch has ended (seconds, maybe); Blender
        waits only for the request to arrive, the polling shows the end."""
        try:
            answer = self.link.request(method, path, timeout=1.0)
        except TimeoutError:
            return   # sent: the server cancels; the poll shows it
        if answer.status == 409 and self.poller.batch is None:
            raise NotRunningError()
        if answer.status >= 400:
            raise ServiceError(str(answer.data.get("status") or f"HTTP {answer.status}"))
        self.poller.poll()

    def _refreshed(self) -> RemoteBatch:
        """Poll now, so the pump's next tick shows what the action did."""
        self.poller.poll()
        batch = self.poller.batch
        if batch is None:
            raise ServiceError(f"The Render+ server at {self.record.url} shows no batch")
        return batch
