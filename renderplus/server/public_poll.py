"""The poll as a request without the token sees it (docs/api.md, Access and Poll).

``GET /batch`` and ``GET /batch/jobs/{id}`` stay open on loopback (the read routes), and on a
shared workstation every local user reaches loopback. Hook commands and their output, and the
full paths of frames and .blend files, are for the user who holds the token: without it a hook
keeps its phase, job and exit code (``cmd`` and ``output`` are null), ``outputs`` lists base
names (same positions, so the dashboard's ``/frames/...`` indexes still match), a ``movie``
its file's base name, and every absolute path in a ``messages`` sentence (and a movie's
``message``) is cut to its last component, a hook failure's command and last line dropped.
The keys and their types stay those of the spec's poll.

The full body is the view's own cached ``json_bytes``; the public one is cached here once per
revision (``PublicPolls``), each job's part reused while its ``JobView`` is the same object, so
a 10,000-job batch re-encodes only the jobs that changed.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any

from ..batch.view import BatchView, JobView
from .guard import TOKEN_SHOWN_KEY

_HOOK_FAILURE = re.compile(r"(\b[A-Z_]+ hook (?:failed \((?:exit code -?\d+|killed by signal [^()]*)\)"
                           r"|could not run)): .*", re.DOTALL)
# A POSIX path of two components or more, or a Windows one (C:\... or \\server\...): keep its tail.
_ABSOLUTE = re.compile(r"(?<![\w.~])(?:/(?:[^\s/'\"]+/)+|[A-Za-z]:[\\/](?:[^\s\\/'\"]+[\\/])*"
                       r"|\\\\(?:[^\s\\'\"]+\\)+)(?=[^\s/\\'\"]*)")


def token_shown(environ: dict[str, Any]) -> bool:
    """True when the access guard saw this server's token on the request, or loopback is open
    on purpose (``--no-token``). An app called without the guard shows the public poll."""
    return environ.get(TOKEN_SHOWN_KEY) is True


def public_sentence(text: str) -> str:
    """``text`` without hook commands and output, and with base names for absolute paths."""
    text = _HOOK_FAILURE.sub(r"\1", text)
    return _ABSOLUTE.sub("", text)


def public_name(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def public_job(job: JobView) -> dict[str, Any]:
    data = job.to_json()
    data["messages"] = [public_sentence(message) for message in job.messages]
    data["outputs"] = [public_name(path) for path in job.outputs]
    if data.get("movie"):
        data["movie"] = public_movie(data["movie"])
    return data


def public_movie(movie: dict[str, Any]) -> dict[str, Any]:
    """A job's ``movie`` with its path's base name and a failure's sentence without paths."""
    path, message = movie.get("path"), movie.get("message")
    return {**movie, "path": public_name(path) if isinstance(path, str) else path,
            "message": public_sentence(message) if isinstance(message, str) else message}


def public_job_text(job: JobView) -> str:
    if not job.messages and not job.outputs and not job.movie:
        return job.json_text  # nothing private in it: the view's own cached text
    return json.dumps(public_job(job))


def public_batch(view: BatchView, jobs: str) -> bytes:
    """The public poll of ``view``, its ``jobs`` array already encoded."""
    slot = uuid.uuid4().hex
    data = view.to_json(jobs=False)
    data["messages"] = [public_sentence(message) for message in view.messages]
    data["hooks"] = [{**hook.to_json(), "cmd": None, "output": None} for hook in view.hooks]
    data["jobs"] = slot
    return json.dumps(data).replace(f'"{slot}"', jobs, 1).encode()


class PublicPolls:
    """The public body of the newest view, encoded once per revision for every poller."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: BatchView | None = None
        self._body = b""
        # id(JobView) -> (the JobView itself, so the id stays its own, and its public text)
        self._jobs: dict[int, tuple[JobView, str]] = {}

    def body(self, view: BatchView) -> bytes:
        with self._lock:
            if view is self._view:
                return self._body
            known: dict[int, tuple[JobView, str]] = self._jobs
            texts: dict[int, tuple[JobView, str]] = {}
            for job in view.jobs:
                entry = known.get(id(job))
                if entry is None or entry[0] is not job:
                    entry = (job, public_job_text(job))
                texts[id(job)] = entry
            jobs = "[" + ", ".join(texts[id(job)][1] for job in view.jobs) + "]"
            self._view, self._body, self._jobs = view, public_batch(view, jobs), texts
            return self._body
