"""Real services for the around-the-batch tests: a private D-Bus session bus with a notification
listener, an SMTP server on loopback (plain, STARTTLS or TLS, with a trustme CA), an ALSA
output captured to a WAV file, and a guard that no test ever runs a real power command.
"""

from __future__ import annotations

import array
import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
import time
import warnings
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from renderplus.around import power
from tests.ports import free_port

from .webhook_receiver import receiver as receiver  # the webhook tests' HTTP receiver

# ---------------------------------------------------------------------------------------------
# No test powers the machine off


@pytest.fixture(autouse=True)
def _no_real_power_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(argv: Any) -> None:
        raise AssertionError(f"a test tried to run a real power command: {argv}")

    monkeypatch.setattr(power, "default_runner", refuse)


# ---------------------------------------------------------------------------------------------
# D-Bus


@dataclass
class NotifyCall:
    app_name: str
    replaces_id: int
    icon: str
    summary: str
    body: str
    actions: list[str]
    hints: dict[str, Any]
    expire_timeout: int
    signature: str


@dataclass
class NotificationListener:
    """Owns ``org.freedesktop.Notifications`` on a bus and records every Notify call."""

    address: str
    calls: list[NotifyCall] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> None:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        conn = open_dbus_connection(bus=self.address)
        reply = conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.Notifications"),
                                        timeout=5)
        assert reply.body[0] == 1, f"could not own the notifications name: {reply.body}"
        self._thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[NotifyCall]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.calls) < count and time.monotonic() < deadline:
                self._changed.wait(0.1)
        return list(self.calls)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _serve(self, conn: Any) -> None:
        from jeepney import HeaderFields, MessageType, new_error, new_method_return

        try:
            while not self._stop.is_set():
                try:
                    msg = conn.receive(timeout=0.1)
                except TimeoutError:
                    continue
                if msg.header.message_type != MessageType.method_call:
                    continue
                member = msg.header.fields.get(HeaderFields.member)
                if member == "Notify":
                    signature = msg.header.fields.get(HeaderFields.signature, "")
                    app, replaces, icon, summary, body, actions, hints, expire = msg.body
                    call = NotifyCall(app, replaces, icon, summary, body, list(actions),
                                      dict(hints), expire, signature)
                    with self._changed:
                        self.calls.append(call)
                        self._changed.notify_all()
                    conn.send(new_method_return(msg, "u", (len(self.calls),)))
                elif member == "GetCapabilities":
                    conn.send(new_method_return(msg, "as", (["body"],)))
                elif member == "GetServerInformation":
                    conn.send(new_method_return(msg, "ssss", ("test", "renderplus", "1", "1.2")))
                else:
                    conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))
        finally:
            conn.close()


@pytest.fixture
def dbus_session(tmp_path: Path) -> Iterator[str]:
    """A private session bus (``dbus-daemon --session``); yields its address."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (Debian package dbus)")
    socket_path = tmp_path / "bus"
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1",
         f"--address=unix:path={socket_path}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        assert address.startswith("unix:"), f"dbus-daemon did not start: {address!r}"
        yield address
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def notifications(dbus_session: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationListener]:
    """A notification service on the private bus, which is made this process's session bus."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", dbus_session)
    listener = NotificationListener(dbus_session)
    listener.start()
    yield listener
    listener.stop()


# ---------------------------------------------------------------------------------------------
# SMTP


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        self.server.envelopes.append(envelope)
        message = message_from_bytes(envelope.original_content, policy=default)
        assert isinstance(message, EmailMessage)
        self.server.messages.append(message)
        return "250 Message accepted"


@pytest.fixture(scope="session")
def certificate_authority() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(certificate_authority: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def client_context(certificate_authority: Any) -> ssl.SSLContext:
    """What a mail client uses to trust the test CA."""
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    return context


@pytest.fixture
def smtp_factory(certificate_authority: Any) -> Iterator[Callable[..., SmtpServer]]:
    """``smtp_factory(tls="none"|"starttls"|"implicit", user=None, password=None)`` -> a live
    aiosmtpd server on 127.0.0.1 (a random free port, bound before it is announced)."""
    from aiosmtpd.smtp import SMTP, AuthResult

    started: list[tuple[asyncio.AbstractEventLoop, threading.Thread, Any]] = []

    def start(tls: str = "none", user: str | None = None, password: str | None = None) -> SmtpServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        server = SmtpServer("127.0.0.1", sock.getsockname()[1])
        handler = _Handler(server)
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate_authority.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)

        def authenticate(smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            login = data.login.decode()
            given = data.password.decode()
            server.logins.append((login, given))
            return AuthResult(success=(login, given) == (user, password), handled=False)

        def protocol() -> SMTP:
            with warnings.catch_warnings():  # AUTH over implicit TLS looks "TLS-less" to aiosmtpd
                warnings.simplefilter("ignore", UserWarning)
                return SMTP(handler, hostname="mail.test",
                            tls_context=server_context if tls == "starttls" else None,
                            require_starttls=tls == "starttls",
                            auth_required=user is not None,
                            auth_require_tls=tls == "starttls",
                            authenticator=authenticate if user is not None else None)

        loop = asyncio.new_event_loop()
        listener = loop.run_until_complete(loop.create_server(
            protocol, sock=sock, ssl=server_context if tls == "implicit" else None))
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        started.append((loop, thread, listener))
        return server

    yield start
    for loop, thread, listener in started:
        loop.call_soon_threadsafe(listener.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung mail server)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections complete in the kernel's backlog; nobody answers
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    return free_port()


# ---------------------------------------------------------------------------------------------
# Sound


@dataclass
class AlsaCapture:
    """ALSA's default device redirected to a WAV file (``$HOME/.asoundrc``, file plugin)."""

    output: Path

    def peak(self) -> float:
        """The captured sound's peak amplitude, 0..1."""
        with wave.open(str(self.output), "rb") as captured:
            assert captured.getsampwidth() == 2
            samples = array.array("h")
            samples.frombytes(captured.readframes(captured.getnframes()))
        assert len(samples) > 0, "nothing was played"
        return max(abs(s) for s in samples) / 32768


@pytest.fixture
def alsa_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AlsaCapture:
    home = tmp_path / "home"
    home.mkdir()
    output = tmp_path / "played.wav"
    (home / ".asoundrc").write_text(
        'pcm.!default {\n  type file\n  slave.pcm "null"\n'
        f'  file "{output}"\n  format "wav"\n}}\n')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/no-pulseaudio-here")  # paplay must fail
    return AlsaCapture(output)


@pytest.fixture(scope="session")
def tone_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 0.2 s 440 Hz tone at amplitude 0.8 as 16-bit .wav and as .ogg, made by sox."""
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    folder = tmp_path_factory.mktemp("sounds")
    files = {}
    for ext in ("wav", "ogg"):
        path = folder / f"tone.{ext}"
        bits = ["-b", "16"] if ext == "wav" else []
        subprocess.run(["sox", "-n", "-r", "44100", "-c", "1", *bits, str(path),
                        "synth", "0.2", "sine", "440", "vol", "0.8"], check=True, timeout=30,
                       capture_output=True)
        files[ext] = path
    return files
