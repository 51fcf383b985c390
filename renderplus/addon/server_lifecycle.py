"""The in-process batch server's lifecycle: start it, ask it to stop, and what the panels and
preferences read of it (URL, dashboard, token, port, "stopping").

Runs in Blender's main thread and never waits for the server's threads: stopping only asks, and
``bridge``'s pump notices when the port is free. The handles live in ``bridge.state()``.
"""

from __future__ import annotations

from ..server.httpd import DEFAULT_HOST
from . import bridge
from .batch_lifecycle import get_service
from .bridge import BridgeError
from .remote_service import RemoteService


def start_server(port: int, *, no_token: bool = False) -> str:
    """Start the batch server on 127.0.0.1:``port`` in daemon threads; return its URL.

    The server makes its own access token unless ``no_token`` (the preference "No token on
    this machine"): then anyone on this machine may drive it."""
    if server_url() is not None:
        raise BridgeError(f"The batch server is already running at {server_url()}")
    service = get_service()
    if isinstance(service, RemoteService):   # that server serves this Blender: no second port
        raise BridgeError(f"{service.attached_to}: it serves this Blender, no server of its own starts")
    bridge.forget_stopped_servers()
    if any(handle.port == port for handle in bridge.state().stopping):
        raise BridgeError(f"The batch server on port {port} is still stopping: try again in a moment")
    try:  # imported here: the server loads Bottle (installed, or the bundled wheel in 3.x)
        from ..server import start_server as start_http_server
    except ImportError as exc:
        raise BridgeError(f"The batch server is not available: {exc}") from exc
    try:
        handle = start_http_server(service, host=DEFAULT_HOST, port=port, no_token=no_token)
    except OSError as exc:
        raise BridgeError(f"Cannot start the batch server on port {port}: "
                          f"{exc.strerror or exc}") from exc
    bridge.state().server = handle
    bridge.ensure_pump()
    return str(handle.url)


def stop_server() -> bool:
    """Ask the server to stop and return at once (its own thread lets requests in flight end
    and frees the port; the pump notices). False when it was not running."""
    state = bridge.state()
    handle, state.server = state.server, None
    if handle is None:
        return False
    handle.request_stop()
    if not handle.stopped:
        state.stopping.append(handle)
        bridge.ensure_pump()
    return True


def server_url() -> str | None:
    """The running server's URL; None when stopped or stopping."""
    handle = bridge.state().server
    return str(handle.url) if handle is not None and handle.running else None


def dashboard_url() -> str | None:
    """The running server's dashboard with its access token (None when stopped)."""
    handle = bridge.state().server
    if handle is None or not handle.running:
        return None
    return handle.dashboard_url


def server_token() -> str | None:
    """The running server's access token; None when it has none (or is stopped)."""
    handle = bridge.state().server
    return handle.token if handle is not None and handle.running and handle.token else None


def server_port() -> int | None:
    handle = bridge.state().server
    return int(handle.port) if handle is not None and handle.running else None


def server_stopping() -> bool:
    """A stop was asked for and the port is not free yet."""
    bridge.forget_stopped_servers()
    return bool(bridge.state().stopping)
