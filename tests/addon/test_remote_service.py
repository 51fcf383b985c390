"""The add-on's side of attaching, in plain Python against a real standalone server: which
server the token files name (``server_finder``), the polling with ETags (a 304 changes
nothing), the actions over HTTP with the server's refusals as sentences, a new batch of the
queue becoming a new ``RemoteBatch``, and a server that ends said once."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from renderplus.addon import server_finder
from renderplus.addon.remote_link import Answer
from renderplus.addon.remote_service import RemoteService
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.service import ServiceError
from renderplus.server.tokenfile import ServerRecord, servers_folder
from tests.server.helpers import ServerProcess, held_recipe, wait_for


@pytest.fixture
def server(own_config_folder: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(work_dir=tmp_path / "work")
    yield process
    process.close()


def test_no_server_no_record(own_config_folder: Path) -> None:
    assert server_finder.other_server() is None


def test_the_finder_names_the_live_server_but_not_this_process_nor_a_stale_one(server: ServerProcess) -> None:
    record = server_finder.other_server()
    assert record is not None and record.port == server.port
    assert record.pid == server.process.pid
    assert server_finder.other_server(own_pid=record.pid) is None   # this Blender's own server
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = ServerRecord(url="http://127.0.0.1:1", host="127.0.0.1", port=1, token="t", pid=dead.pid,
                         started=0.0)
    (servers_folder() / "1.json").write_text(stale.to_json())
    assert server_finder.other_server() == record


def test_polling_with_etags_and_actions_over_http(server: ServerProcess,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    record = server_finder.other_server()
    assert record is not None
    service = RemoteService(record)
    try:
        assert service.batch is None and not service.running   # 409: no batch yet
        statuses: list[int] = []
        request = service.poller.link.request

        def counted(*args: Any, **kwargs: Any) -> Answer:
            answer = request(*args, **kwargs)
            if args[1] == "/batch":
                statuses.append(answer.status)
            return answer

        service.poller.link.request = counted  # type: ignore[method-assign]
        service.load_recipe(parse_recipe(held_recipe(name="first")))
        first = service.start()
        assert first.view().name == "first" and service.running and first.view().running

        def unchanged_poll() -> bool:
            """A poll answered 304 (the ETag sent back) left the very same view."""
            before, seen = first.view(), len(statuses)
            service.poller.poll()
            return 304 in statuses[seen:] and first.view() is before

        wait_for(unchanged_poll, timeout=20)
        assert 200 in statuses
        revision = first.revision

        with pytest.raises(ServiceError, match="A batch is already running"):
            service.load_recipe(parse_recipe(held_recipe(name="refused")))
        entry = service.enqueue(parse_recipe(held_recipe(name="second")))
        assert [queued.id for queued in service.queue_view().entries] == [entry.id]

        service.cancel()   # the queue then starts "second": a new batch of the server
        wait_for(lambda: service.batch is not first and service.batch is not None, timeout=30)
        second = service.batch
        assert second is not None and second.view().name == "second"
        assert not service.queue_view().entries
        service.pause("job")   # held in its PRE_BATCH hook: the pause waits, a second is refused
        wait_for(lambda: second.view().pausing == "job", timeout=30)
        with pytest.raises(ServiceError, match=r"(?i)paus"):
            service.pause("job")
        service.cancel()
        wait_for(lambda: second.view().status.value == "CANCELLED", timeout=30)
        assert not service.running and second.revision > revision

        server.close()
        wait_for(lambda: service.gone, timeout=30)
        assert not service.running
        said = capsys.readouterr().err
        assert said.count("has ended: this Blender renders its next batch itself") == 1
        with pytest.raises(ServiceError, match="does not answer"):
            service.pause("now")
    finally:
        service.shutdown()


def test_a_recipe_naming_no_blender_gets_the_add_ons(server: ServerProcess) -> None:
    from renderplus.batch.options import RunOptions

    record = server_finder.other_server()
    assert record is not None
    service = RemoteService(record, RunOptions(blender_bin="/opt/blender/blender"))
    try:
        data = held_recipe(name="mine")
        del data["blender_bin"]
        body = service._recipe_body(parse_recipe(data))
        assert body["blender_bin"] == "/opt/blender/blender"
        assert json.loads(json.dumps(body))["name"] == "mine"
    finally:
        service.shutdown()
