"""The poll's JSON text: a job nothing has happened to yet is written from a template
(``_BLANK_JOB``, for the first poll of a huge recipe); it must be exactly what ``to_json()``
encodes, so a field added to one and not the other fails here."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renderplus.batch.view import BatchView, JobStatus, JobView, ProcessInfo, Times


def encoded(job: JobView) -> str:
    return json.dumps(job.to_json())


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.DISABLED])
@pytest.mark.parametrize("name", ["", "Cam Left", 'quote " and \\ back', "caméra ✓ 🎬", "\x00\x1f\x7f\u2028"])
def test_a_blank_job_is_written_exactly_as_to_json_encodes_it(status: JobStatus, name: str) -> None:
    job = JobView(id=7, status=status, name=name, frames_total=250)
    assert job.json_text == encoded(job)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(job_id=st.integers(0, 10**6), name=st.text(), frames_total=st.integers(0, 10**6),
       status=st.sampled_from([JobStatus.QUEUED, JobStatus.DISABLED]))
def test_any_blank_job_matches_to_json(job_id: int, name: str, frames_total: int, status: JobStatus) -> None:
    job = JobView(id=job_id, status=status, name=name, frames_total=frames_total)
    assert job.json_text == encoded(job)


@pytest.mark.parametrize("changed", [
    {"status": JobStatus.RUNNING}, {"messages": ("waiting",)}, {"times": Times(1.0, None)},
    {"process": ProcessInfo(started=1.0)}, {"outputs": ("/r/0001.png",)}, {"engine_type": "CYCLES"},
    {"progress": 1.5}, {"frames_done": 1},
])
def test_a_job_that_moved_is_encoded_from_its_fields(changed: dict[str, object]) -> None:
    fields: dict[str, object] = {"status": JobStatus.QUEUED, **changed}
    job = JobView(id=1, name="shot", **fields)  # type: ignore[arg-type]
    assert job.json_text == encoded(job)
    assert json.loads(job.json_text) == job.to_json()


def test_a_poll_without_the_token_reads_back_hooks_without_a_command() -> None:
    """The open poll shows a hook's ``cmd`` and ``output`` as null (docs/api.md, Access)."""
    view = BatchView.from_json({"hooks": [{"phase": "PRE_JOB", "job": 0, "cmd": None,
                                           "returncode": 0, "output": None}]})
    assert view.hooks[0].cmd == "" and view.hooks[0].output == ""

