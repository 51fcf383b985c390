"""The open poll shows no hook commands, hook output or full paths without the token
(docs/api.md, Access): a real batch behind the access guard, and the public body's rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from renderplus.batch.view import BatchStatus, BatchView, HookRun, JobStatus, JobView
from renderplus.server.guard import TokenScope
from renderplus.server.public_poll import PublicPolls, public_sentence

from .helpers import recipe_data, wait_for
from .wsgi_client import WsgiClient

TOKEN = "poll-token"
WITH_TOKEN = {"Authorization": f"Bearer {TOKEN}"}


def run_batch(client: WsgiClient, tmp_path: Path) -> Path:
    """A finished batch whose job and batch hooks failed, printing a path and a secret."""
    secret_folder = tmp_path / "secret-project"
    secret_folder.mkdir()
    (secret_folder / "shot.blend").write_bytes(b"BLENDER-v304")
    job_hook = {"PRE_JOB": [{"cmd": f"echo the-job-hook-output {secret_folder}/a; exit 2"}]}
    recipe = recipe_data([{"blend_file": str(secret_folder / "shot.blend"), "hooks": job_hook}],
                         hooks={"POST_BATCH": [{"cmd": "echo the-hook-output; exit 3"}]})
    assert client.call("POST", "/batch/recipe", recipe, headers=WITH_TOKEN).code == 200
    assert client.call("GET", "/batch/start", headers=WITH_TOKEN).code == 200
    wait_for(lambda: client.call("GET", "/batch", headers=WITH_TOKEN).data["status"] == "FINISHED"
             and client.call("GET", "/batch", headers=WITH_TOKEN).data["hooks"], timeout=30)
    return secret_folder


def test_the_open_poll_hides_hooks_and_paths_the_token_shows_them(
        guarded: Callable[..., WsgiClient], tmp_path: Path) -> None:
    client = guarded(TOKEN, TokenScope.NOT_READS)
    secret_folder = run_batch(client, tmp_path)
    full = client.call("GET", "/batch", headers=WITH_TOKEN)
    assert full.data["hooks"][-1]["cmd"] == "echo the-hook-output; exit 3"
    assert "the-hook-output" in full.data["hooks"][-1]["output"]
    assert str(secret_folder) in json.dumps(full.data)

    public = client.call("GET", "/batch")
    assert public.code == 200
    text = json.dumps(public.data)
    assert "hook-output" not in text and "secret-project" not in text
    hook = public.data["hooks"][-1]
    assert hook == {"phase": "POST_BATCH", "job": None, "cmd": None, "returncode": 3, "output": None}
    assert public.data["jobs"][0]["status"] == "FAILED" and public.data["jobs"][0]["messages"]
    assert set(public.data) == set(full.data)  # the spec's keys all stay
    assert public.headers["etag"] != full.headers["etag"]  # two bodies, two validators
    assert client.call("GET", "/batch", headers={"If-None-Match": public.headers["etag"]}).code == 304

    job = client.call("GET", "/batch/jobs/0")
    assert job.code == 200 and "secret-project" not in json.dumps(job.data)
    assert job.data["messages"][0].startswith("PRE_JOB hook failed (exit code 2)")
    assert str(secret_folder) in json.dumps(client.call("GET", "/batch/jobs/0", headers=WITH_TOKEN).data)


def test_with_no_token_on_purpose_loopback_sees_the_whole_poll(guarded: Callable[..., WsgiClient],
                                                               tmp_path: Path) -> None:
    client = guarded(None, TokenScope.OFF)
    run_batch(client, tmp_path)
    assert client.call("GET", "/batch").data["hooks"][-1]["cmd"] == "echo the-hook-output; exit 3"


def test_public_sentences_keep_base_names_and_drop_hook_commands() -> None:
    assert public_sentence("Missing .blend file: /home/ann/secret/shot.blend (docs)") == \
        "Missing .blend file: shot.blend (docs)"
    assert public_sentence("kept the log at C:\\Users\\ann\\logs\\job0.log") == "kept the log at job0.log"
    assert public_sentence("PRE_JOB hook failed (exit code 2): rsync /a /b -> denied") == \
        "PRE_JOB hook failed (exit code 2)"
    killed = "killed by signal 11, SIGSEGV; exit status 139 from its shell"
    assert public_sentence(f"POST_JOB hook failed ({killed}): rsync /a /b -> x") == \
        f"POST_JOB hook failed ({killed})"
    assert public_sentence("PRE_JOB hook failed (killed by signal 9): rsync /a /b") == \
        "PRE_JOB hook failed (killed by signal 9)"
    assert public_sentence("PRE_JOB hook could not run: rsync /a /b -> cannot run: x") == \
        "PRE_JOB hook could not run"
    assert public_sentence("retry 2 of 3: Blender crashed") == "retry 2 of 3: Blender crashed"


def test_the_public_body_lists_outputs_by_base_name_and_is_cached_per_revision() -> None:
    job = JobView(0, JobStatus.RUNNING, outputs=("/srv/ann/renders/shot_0001.png",),
                  messages=("wrote /srv/ann/renders/shot_0001.png",))
    idle = JobView(1, JobStatus.QUEUED)
    view = BatchView(BatchStatus.RUNNING, jobs=(job, idle), revision=4,
                     hooks=(HookRun("PRE_BATCH", None, "sync /srv/ann", 0, "synced /srv/ann"),))
    polls = PublicPolls()
    body = polls.body(view)
    data = json.loads(body)
    assert data["jobs"][0]["outputs"] == ["shot_0001.png"]
    assert data["jobs"][0]["messages"] == ["wrote shot_0001.png"]
    assert data["jobs"][1] == json.loads(idle.json_text)
    assert b"/srv/ann" not in body
    assert polls.body(view) is body  # encoded once per view
    newer = BatchView(BatchStatus.RUNNING, jobs=(job, idle), revision=5)
    assert polls.body(newer) is not body
