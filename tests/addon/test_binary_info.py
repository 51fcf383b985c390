"""``BinaryInfoCache`` in plain Python: a binary is asked off the main thread (the panel shows
"checking..." meanwhile), the pump learns once that an answer came, and a Blender replaced in
place is asked again. A stand-in Blender script answers ``--version`` and ``-E help``."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from renderplus.addon import binary_info
from renderplus.addon.binary_info import BinaryInfo, BinaryInfoCache
from tests.addon.helpers import fake_blender
from tests.waiting import wait_for


def test_the_answer_arrives_off_the_main_thread_and_is_announced_once(tmp_path: Path) -> None:
    binary = str(fake_blender(tmp_path / "blender", "3.4.1"))
    asked_in: list[threading.Thread] = []

    def ask(name: str) -> BinaryInfo:
        asked_in.append(threading.current_thread())
        return binary_info.inspect(name)

    cache = BinaryInfoCache(ask)
    assert cache.get(binary) is None  # "checking...": the lookup runs in a thread
    info = wait_for(lambda: cache.get(binary), timeout=60)
    assert info == BinaryInfo(binary, "3.4.1", ("BLENDER_EEVEE", "BLENDER_WORKBENCH", "CYCLES"))
    assert info.version_number == 304
    assert asked_in[0] is not threading.main_thread() and asked_in[0].name == binary_info.THREAD_NAME
    assert cache.take_finished() and not cache.take_finished()  # the pump redraws once
    assert not cache.pending
    assert cache.get(binary) is info and len(asked_in) == 1  # known: not asked again


def test_a_binary_replaced_in_place_is_asked_again(tmp_path: Path) -> None:
    path = fake_blender(tmp_path / "blender", "3.4.1")
    cache = BinaryInfoCache()
    first = cache.wait(str(path), 60)
    assert first is not None and first.version == "3.4.1"
    fake_blender(path, "5.0.1")  # a newer Blender installed under the same name
    os.utime(path, ns=(1, 1))
    assert cache.get(str(path)) is None
    second = wait_for(lambda: cache.get(str(path)), timeout=60)
    assert second.version == "5.0.1" and second.engines == ("BLENDER_EEVEE", "BLENDER_WORKBENCH", "CYCLES")


def test_a_missing_binary_and_a_failing_lookup_say_why(tmp_path: Path) -> None:
    cache = BinaryInfoCache()
    missing = cache.wait(str(tmp_path / "nowhere"), 60)
    assert missing is not None and missing.problem == (
        f"Blender binary not found or not executable: {tmp_path / 'nowhere'}")

    def broken(name: str) -> BinaryInfo:
        raise RuntimeError("boom")

    info = BinaryInfoCache(broken).wait("/opt/blender", 60)
    assert info == BinaryInfo("/opt/blender", problem="cannot ask /opt/blender: boom")


def test_a_bounded_wait_returns_none_while_the_lookup_goes_on(tmp_path: Path) -> None:
    release = threading.Event()

    def slow(name: str) -> BinaryInfo:
        release.wait(60)
        return BinaryInfo(name, "4.2.0", ("CYCLES",))

    cache = BinaryInfoCache(slow)
    assert cache.wait("/opt/blender", 0.05) is None and cache.pending
    release.set()
    cache.shutdown()
    assert cache.get("/opt/blender") == BinaryInfo("/opt/blender", "4.2.0", ("CYCLES",))
