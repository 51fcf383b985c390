"""Flamenco (Blender Studio's render farm) behind the farm executor, over its REST API v3.

Plain HTTP + JSON from the documented API (no generated client). A Render+ job is one
Flamenco job of Render+'s own job type (``blender_scripts/flamenco_renderplus.js``: the
built-in ``simple-blender-render`` cannot pass ``--python``): its ``tasks`` setting lists each
chunk's Blender options after the .blend, and the job type runs them with the Manager's
``{blender}`` and ``{blenderArgs}`` variables, so the Blender is the farm's. Task names are
``chunk-N``. A task's output is its task log, read through the log's download URL from the
last offset (``Range``), so the parser sees every line once; only the lines Blender printed
pass (the Worker prefixes them ``pid=N > ``). The Worker sends its log in chunks (10 KiB, or
every 30 s), so a quiet task's progress arrives late; frames still arrive when tasks end.
A job the Manager does not know lists no tasks (not 404): the job itself is then asked for.
A pause is ``pause-requested`` (the Manager assigns none of the job's tasks any more and pauses
the job once its active ones have finished); the waiting tasks then read ``paused``, and stay so
when the paused job is cancelled: such a task has ended.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from .base import (
    ENCODE_INDEX,
    FarmError,
    FarmInfo,
    FarmJobSpec,
    FarmJobStatus,
    FarmTask,
    TaskState,
    TaskStatus,
    UnknownFarmJob,
)

NAME = "flamenco"
JOB_TYPE = "flamenco-renderplus"   # the Manager names a job type after its file's name
ENCODE_TASK = "encode"             # the job type's name for the encode task
TIMEOUT = 10.0
_OUTPUT_LINE = re.compile(r"pid=\d+ > (.*)", re.DOTALL)   # one line the task's command printed
_STATES = {"active": TaskState.RUNNING, "completed": TaskState.COMPLETED,
           "failed": TaskState.FAILED, "canceled": TaskState.CANCELLED,
           "paused": TaskState.QUEUED}  # a paused job's waiting tasks: not run, not ended


def job_settings(spec: FarmJobSpec) -> dict[str, str]:
    """The job's settings for Render+'s job type: each chunk's (and the encode's) Blender
    options after the .blend, as JSON."""
    chunks = [{"name": f"chunk-{task.index}", "frames": task.frames.to_spec(),
               "args": list(task.argv[3:])} for task in spec.tasks]
    settings = {"blendfile": spec.blendfile, "tasks": json.dumps(chunks)}
    if spec.encode is not None:
        settings["encode"] = json.dumps({"name": ENCODE_TASK, "args": list(spec.encode.argv[3:])})
    return settings


def blender_output(log_text: str) -> str:
    """Blender's own lines from a piece of a Flamenco task log.

    The Worker writes each line the command printed as ``pid=N > LINE``; the log also holds the
    Manager's and Worker's own lines (timestamped assignments, status changes, the command line
    it is "going to run"), which are not Blender's and would confuse the parser."""
    lines = []
    for line in log_text.splitlines(keepends=True):
        match = _OUTPUT_LINE.match(line)
        if match:
            lines.append(match.group(1))
    return "".join(lines)


class FlamencoEngine:
    """A Flamenco Manager at ``url`` (``http://manager:8080``); ``ffmpeg``: the FFmpeg on the
    Workers that makes a job's movie."""

    name = NAME
    blender: str | None = "{blender}"   # the Manager's variable: each Worker's own Blender

    def __init__(self, url: str, *, priority: int = 50, job_type: str = JOB_TYPE,
                 timeout: float = TIMEOUT, ffmpeg: str = "ffmpeg") -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"not a Flamenco Manager URL: {url!r} (expected http://host:port)")
        self.url = url.rstrip("/")
        self.priority = priority
        self.job_type = job_type
        self.timeout = timeout
        self.ffmpeg = ffmpeg
        self._task_ids: dict[str, dict[int, str]] = {}
        self._ended_reasons: dict[str, str] = {}  # task id -> why it failed or was cancelled

    def where(self) -> str:
        return f"the Flamenco Manager at {self.url}"

    # ------------------------------------------------------------------ the interface

    def submit(self, spec: FarmJobSpec) -> str:
        types = {t.get("name"): t for t in self._job_types()}
        if self.job_type not in types:
            raise FarmError(f"the Manager has no job type {self.job_type!r}: put "
                            "flamenco_renderplus.js in the scripts/ folder beside the "
                            "flamenco-manager executable and restart the Manager")
        body = {"name": spec.name, "type": self.job_type, "priority": self.priority,
                "submitter_platform": "linux",
                "type_etag": types[self.job_type].get("etag", ""),
                "settings": job_settings(spec),
                "metadata": {"renderplus.job": str(spec.job_id), "renderplus.folder": spec.folder}}
        answer = self._call("POST", "/api/v3/jobs", body)
        job_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise FarmError(f"the Manager answered no job id: {answer!r}")
        return job_id

    def submit_encode(self, spec: FarmJobSpec, farm_id: str) -> str:
        """Nothing more to queue: ``submit`` sent the encode as the job's last task."""
        if spec.encode is None:
            raise FarmError("the job has no encode to queue")
        return farm_id

    def poll_encode(self, encode: FarmTask) -> TaskStatus:
        farm_id = encode.farm_id
        answer = self._known(farm_id, f"/api/v3/jobs/{farm_id}/tasks")
        summaries = answer.get("tasks", []) if isinstance(answer, dict) else []
        summary = next((t for t in summaries if t.get("name") == ENCODE_TASK), None)
        if summary is None:
            raise UnknownFarmJob(f"the Manager's job {farm_id} has no task {ENCODE_TASK!r}")
        task_id = str(summary.get("id"))
        self._task_ids.setdefault(farm_id, {})[ENCODE_INDEX] = task_id
        state = _STATES.get(str(summary.get("status")), TaskState.QUEUED)
        if summary.get("status") == "paused" and self._job_ended(farm_id):
            state = TaskState.CANCELLED
        reason = self._ended_reason(farm_id, task_id, state) if state in (
            TaskState.FAILED, TaskState.CANCELLED) else ""
        code = None if not state.ended else (0 if state is TaskState.COMPLETED else 1)
        return TaskStatus(ENCODE_INDEX, state, code, reason)

    def poll(self, farm_id: str, tasks: Sequence[FarmTask]) -> FarmJobStatus:
        answer = self._known(farm_id, f"/api/v3/jobs/{farm_id}/tasks")
        if not isinstance(answer, dict) or not answer.get("tasks"):
            # The Manager lists no tasks (200) for a job it does not know: ask for the job.
            self._known(farm_id, f"/api/v3/jobs/{farm_id}")
        ids = self._task_ids.setdefault(farm_id, {})
        states = []
        for summary in answer.get("tasks", []) if isinstance(answer, dict) else []:
            name = str(summary.get("name", ""))
            if not name.startswith("chunk-") or not name[6:].isdigit():
                continue
            index = int(name[6:])
            ids[index] = str(summary.get("id"))
            state = _STATES.get(str(summary.get("status")), TaskState.QUEUED)
            if summary.get("status") == "paused" and self._job_ended(farm_id):
                state = TaskState.CANCELLED  # a paused job cancelled keeps its tasks "paused"
            reason = ""
            if state in (TaskState.FAILED, TaskState.CANCELLED):
                reason = self._ended_reason(farm_id, ids[index], state)
            code = None if not state.ended else (0 if state is TaskState.COMPLETED else 1)
            states.append(TaskStatus(index, state, code, reason))
        where = f"{self.where()} (queued)"
        return FarmJobStatus(tuple(sorted(states, key=lambda s: s.index)), where)

    def _job_ended(self, farm_id: str) -> bool:
        job = self._known(farm_id, f"/api/v3/jobs/{farm_id}")
        return isinstance(job, dict) and job.get("status") in ("canceled", "failed", "completed")

    def _ended_reason(self, farm_id: str, task_id: str, state: TaskState) -> str:
        """The task's (and for a cancel, the job's) last activity; asked once per ended task,
        not on every poll for as long as the job lives."""
        known = self._ended_reasons.get(task_id)
        if known is None:
            known = self._activity(f"/api/v3/tasks/{task_id}")
            if state is TaskState.CANCELLED:
                job_activity = self._activity(f"/api/v3/jobs/{farm_id}")
                known = "; ".join(r for r in (known, job_activity) if r)
            self._ended_reasons[task_id] = known
        return known

    def read_log(self, farm_id: str, task: FarmTask, offset: int, *,
                 final: bool = False) -> tuple[str, int]:
        task_id = self._task_ids.get(farm_id, {}).get(task.index)
        if task_id is None:
            return "", offset
        info = self._call("GET", f"/api/v3/tasks/{task_id}/log")
        if not isinstance(info, dict) or int(info.get("size") or 0) <= offset or not info.get("url"):
            return "", offset
        data = self._fetch(str(info["url"]), offset)
        if not final:
            data = data[:data.rfind(b"\n") + 1]
        return blender_output(data.decode("utf-8", "replace")), offset + len(data)

    def cancel(self, farm_id: str, reason: str) -> None:
        try:
            self._call("POST", f"/api/v3/jobs/{farm_id}/setstatus",
                       {"status": "cancel-requested", "reason": reason})
        except FarmError as exc:
            if "HTTP 422" not in str(exc):  # already ended: nothing to cancel
                raise

    def pause(self, farm_id: str, reason: str) -> None:
        """``pause-requested``: the Manager assigns no more of the job's tasks and pauses it
        once its active tasks have finished."""
        try:
            self._call("POST", f"/api/v3/jobs/{farm_id}/setstatus",
                       {"status": "pause-requested", "reason": reason})
        except FarmError as exc:
            if "HTTP 422" not in str(exc):  # already paused or ended: nothing to hold
                raise

    def describe(self) -> FarmInfo:
        try:
            version = self._call("GET", "/api/v3/version")
            types = [str(t.get("name")) for t in self._job_types()]
        except FarmError as exc:
            return FarmInfo(NAME, False, str(exc))
        number = version.get("version", "?") if isinstance(version, dict) else "?"
        detail = f"Flamenco {number} at {self.url}"
        return FarmInfo(NAME, True, detail, tuple(types), self.job_type in types)

    # ------------------------------------------------------------------ HTTP

    def _job_types(self) -> list[dict[str, Any]]:
        answer = self._call("GET", "/api/v3/jobs/types")
        types = answer.get("job_types", []) if isinstance(answer, dict) else []
        return [t for t in types if isinstance(t, dict)]

    def _known(self, farm_id: str, path: str) -> Any:
        """GET ``path`` of job ``farm_id``; UnknownFarmJob when the Manager has no such job
        (404), or the id is no job id at all (400)."""
        try:
            return self._call("GET", path)
        except FarmError as exc:
            if "HTTP 404" in str(exc) or "HTTP 400" in str(exc):
                raise UnknownFarmJob(f"the Manager does not know job {farm_id}") from exc
            raise

    def _activity(self, path: str) -> str:
        try:
            answer = self._call("GET", path)
        except FarmError:
            return ""
        return str(answer.get("activity") or "") if isinstance(answer, dict) else ""

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json",
                                                  "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            raise FarmError(f"{method} {path}: HTTP {exc.code} {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise FarmError(f"the Flamenco Manager at {self.url} does not answer: {exc}") from exc
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise FarmError(f"{method} {path}: not JSON: {text[:200]!r}") from exc

    def _fetch(self, url: str, offset: int) -> bytes:
        request = urllib.request.Request(urllib.parse.urljoin(self.url + "/", url),
                                         headers={"Range": f"bytes={offset}-"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data: bytes = response.read()
                return data if response.status == 206 else data[offset:]
        except urllib.error.HTTPError as exc:
            if exc.code == 416:  # nothing past the offset yet
                return b""
            raise FarmError(f"task log {url}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise FarmError(f"task log {url}: {exc}") from exc
