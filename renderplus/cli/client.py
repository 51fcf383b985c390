"""The client flags: ``--poll``, ``--poll-job ID``, ``--cancel``, ``--cancel-job [ID]``, ``--stop``
(and the queue's and the pause's, ``queue_client``; ``--resume`` when a server answers).

They talk to a server already running on ``--host``/``--port`` (docs/api.md, Client flags) with
the standard library's ``http.client``, so they work without Bottle. A poll is read back into the
engine's typed read model (``BatchView.from_json``), so the bars are the foreground run's. Every
answer, error or not, is (status code, JSON object); a server that does not answer becomes one
``ClientError`` with a sentence saying so (exit 1).

The access token (docs/api.md, Access): ``--token`` or ``$RENDERPLUS_TOKEN`` when given, else the
one the running server on this machine saved for its user (``server.tokenfile``), so the user who
started it types nothing more. That saved token is only ever sent to this machine's server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import sys
import time
from typing import Any, TextIO

from ..batch.view import BatchStatus, BatchView, JobStatus, JobView
from .bars import LiveView, final_text, job_finished_polling
from .common import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    POLL_INTERVAL,
    Interrupt,
    Mode,
    UsageError,
    access_token,
    given,
    refuse_serve_only_flags,
)

DEFAULT_TIMEOUT = 30.0
STOP_WAIT = 60.0
OWN_FLAGS = ("poll", "poll_job", "cancel", "cancel_job", "stop")
CLIENT_FLAGS = (*OWN_FLAGS, "queue", "queue_list", "pause")  # one a run (queue_client has the rest)
CURRENT = "current"


class ClientError(Exception):
    """No usable answer from the server; ``str()`` says why, for people."""


class NoServerError(ClientError):
    """Nothing listens on the port (connection refused): no server runs there."""


class ServerClient:
    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.host = host.strip("[]")
        self.port = port
        self.token = token
        self.timeout = timeout

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status code, JSON body, response headers); ClientError when nothing usable came back."""
        sent = dict(headers or {})
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            answer_headers = {key.lower(): value for key, value in response.getheaders()}
        except ConnectionRefusedError:
            raise NoServerError(f"No Render+ server is running on {self.where} (connection refused); "
                              "start one with --serve") from None
        except TimeoutError:
            raise ClientError(f"The server on {self.where} did not answer "
                              f"within {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise ClientError(f"Cannot talk to the server on {self.where}: {exc}") from None
        finally:
            connection.close()
        if response.status == 304:
            return 304, {}, answer_headers
        try:
            data = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            raise ClientError(f"The server on {self.where} did not answer JSON "
                              f"(HTTP {response.status}): is it a Render+ server?") from None
        if not isinstance(data, dict):
            raise ClientError(f"Unexpected answer from {self.where}: {raw[:80]!r}")
        return response.status, data, answer_headers

    def port_free(self) -> bool:
        """True when nothing listens on the port any more."""
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0):
                return False
        except OSError:
            return True

    def wait_port_free(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.port_free():
                return True
            time.sleep(0.1)
        return self.port_free()


# ------------------------------------------------------------------------------ flags and checks

def job_id(text: str) -> str:
    """A job index (an integer from 0), kept as text for the URL."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a job index, an integer from 0 (got {text!r})")
    return str(int(text))


def job_or_current(text: str) -> str:
    """``--cancel-job``'s value: a job index, or ``current`` (what the flag alone means)."""
    return CURRENT if text == CURRENT else job_id(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("talking to a running server (--host, --port, --token)")
    group.add_argument("--poll", action="store_true", help="Poll a running batch.")
    group.add_argument("--poll-job", type=job_id, metavar="POLL_JOB", help="Poll a specific render job")
    group.add_argument("--cancel", action="store_true", help="Cancel the running batch.")
    group.add_argument("--cancel-job", type=job_or_current, nargs="?", const=CURRENT, metavar="ID",
                       help="Cancel the current render job (with ID: that job, running or queued).")
    group.add_argument("--stop", action="store_true", help="Stop the server.")


def _asked(args: argparse.Namespace) -> bool:
    return bool(given(args, *OWN_FLAGS))


def refuse_other_flags(args: argparse.Namespace) -> None:
    """One client flag a run, and none of the flags that start something here (UsageError)."""
    clients = given(args, *CLIENT_FLAGS)
    if len(clients) > 1:
        raise UsageError(f"{' and '.join(clients)} cannot be combined: give one client flag")
    for flag in given(args, "serve", "recipe", "dry", "check"):
        raise UsageError(f"{clients[0]} talks to a running server: it cannot be combined with {flag}")
    refuse_serve_only_flags(args)


def client_token(args: argparse.Namespace, host: str) -> str | None:
    """``--token`` / ``$RENDERPLUS_TOKEN``, else the token saved by this user's server on the port.

    The saved token goes only to this machine (a loopback address, or the address that server
    listens on): a client pointed at another machine never sends it there."""
    from ..server.guard import is_loopback
    from ..server.tokenfile import read_record

    token = access_token(args)
    if token is not None:
        return token
    record = read_record(args.port)
    if record is None:
        return None
    wanted = host.strip("[]").lower()
    return record.token if is_loopback(wanted) or wanted == record.host.lower() else None


def client_connection(args: argparse.Namespace) -> ServerClient:
    host = args.host or DEFAULT_HOST
    return ServerClient(host, args.port, client_token(args, host))


def fail(data: dict[str, Any], code: int) -> int:
    sys.stderr.write(f"server: {data.get('status') or f'HTTP {code}'}\n")
    return EXIT_FAILED


# ------------------------------------------------------------------------------ the modes

def run_client(args: argparse.Namespace, out: TextIO) -> int:
    client = client_connection(args)
    if args.poll:
        return poll_batch(client, args.print_stats, out)
    if args.poll_job is not None:
        return poll_job(client, args.poll_job, out)
    if args.cancel:
        return simple_request(client, "DELETE", "/batch", out)
    if args.cancel_job is not None:
        return cancel_job(client, args.cancel_job, out)
    return stop_server(client, out)


def poll_batch(client: ServerClient, print_stats: bool, out: TextIO) -> int:
    bars = LiveView(out)
    view: BatchView | None = None
    etag = ""
    with Interrupt() as interrupt:
        while not interrupt.event.is_set():
            asked = {"If-None-Match": etag} if etag else None
            code, data, headers = client.request("GET", "/batch", headers=asked)
            if code == 200 or view is None:
                if code != 200:
                    return fail(data, code)
                view = BatchView.from_json(data)
            etag = headers.get("etag", "")
            bars.show_batch(view)
            if view.status.ended:
                break
            interrupt.event.wait(POLL_INTERVAL)
        else:
            return EXIT_INTERRUPTED
    out.write(final_text(view, print_stats))
    return EXIT_FAILED if view.status is BatchStatus.CANCELLED or view.failed else EXIT_OK


def poll_job(client: ServerClient, job: str, out: TextIO) -> int:
    bars = LiveView(out)
    with Interrupt() as interrupt:
        while not interrupt.event.is_set():
            code, data, _ = client.request("GET", f"/batch/jobs/{job}")
            if code != 200:
                return fail(data, code)
            view = JobView.from_json(data)
            bars.show_job(view)
            if job_finished_polling(view):
                break
            interrupt.event.wait(POLL_INTERVAL)
        else:
            return EXIT_INTERRUPTED
    out.write(f"Job {view.id} {view.status.value}\n")
    out.write("".join(f"  {message}\n" for message in view.messages))
    return EXIT_OK if view.status in (JobStatus.FINISHED, JobStatus.DISABLED) else EXIT_FAILED


def simple_request(client: ServerClient, method: str, path: str, out: TextIO) -> int:
    code, data, _ = client.request(method, path)
    if code != 200:
        return fail(data, code)
    out.write(f"{data.get('status')}\n")
    return EXIT_OK


def cancel_job(client: ServerClient, job: str, out: TextIO) -> int:
    """``--cancel-job``: the current job; ``--cancel-job ID``: that job (``DELETE /batch/jobs/ID``,
    an extension route: a server without it is told apart from a job that cannot be cancelled)."""
    if job == CURRENT:
        return simple_request(client, "DELETE", "/batch/jobs/current", out)
    code, data, _ = client.request("DELETE", f"/batch/jobs/{job}")
    if no_such_route(code, data):
        sys.stderr.write(f"server: the server on {client.where} cannot cancel a job by its number "
                         f"(DELETE /batch/jobs/{job} answered HTTP {code}); it is an older Render+: "
                         "use --cancel-job without a number to cancel the current job\n")
        return EXIT_FAILED
    if code != 200:
        return fail(data, code)
    out.write(f"{data.get('status')}\n")
    return EXIT_OK


def no_such_route(code: int, data: dict[str, Any]) -> bool:
    """The server lacks the route (405, or Bottle's own 404), as opposed to an answer about the job."""
    return code == 405 or (code == 404 and str(data.get("status") or "").startswith("No such route"))


def stop_server(client: ServerClient, out: TextIO) -> int:
    code, data, _ = client.request("DELETE", "/server")
    if code != 200:
        return fail(data, code)
    out.write(f"{data.get('status')}\n")
    out.flush()
    if not client.wait_port_free(STOP_WAIT):
        sys.stderr.write(f"server: the server on {client.where} is still listening after {STOP_WAIT:g} s\n")
        return EXIT_FAILED
    out.write(f"Server on {client.where} stopped\n")
    return EXIT_OK


MODES = (Mode("client", 20, _asked, refuse_other_flags, run_client),)
