"""The kill -9 harness's scenarios (bench/kill9.py): which executor, which hook, how many servers.

Each scenario is one recipe shape over the same tiny Cycles .blend: several short animated
jobs, a few frames each, PNG at a tiny size, so a batch lasts seconds and a kill lands in any
of its phases (Blender starting, a frame rendering, a hook, the hand-over between jobs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# A PRE_JOB hook that ignores SIGTERM (docs/api.md, Recipe: hooks are shell commands). It works
# for 2 s (a third of a job, so kills often land in it); once the Render+ that started it is
# gone ($PPID: the server, whose thread runs the hook's shell) it goes on for up to 60 s, as a
# long asset sync would, so that a hook the kill -9 orphans is still there when the restarted
# server should have ended it. Its `sleep`s inherit the ignored TERM: only SIGKILL ends them.
STUBBORN_HOOK = ("trap '' TERM; sleep 2; n=0; "
                 "while [ $n -lt 120 ] && ! kill -0 $PPID 2>/dev/null; do sleep 0.5; n=$((n+1)); done")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    settings: dict[str, Any] = field(default_factory=dict)
    pre_job_hook: str | None = None
    servers: int = 1          # servers on one --work-dir, all killed and restarted together
    slower: float = 1.0       # its jobs take this many times as long: kills are drawn that much later
    timed: float = 0.5        # the share of kills drawn as a delay (the rest: a point of progress)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("process", "a Blender process per job",
             {"session_reuse": False, "parallel": 1}),
    Scenario("session", "one Blender session for the batch's jobs",
             {"session_reuse": True, "parallel": 1}),
    Scenario("session-hook", "one Blender session, a 3 s PRE_JOB hook (an asset sync)",
             {"session_reuse": True, "parallel": 1}, pre_job_hook="sleep 3", slower=2.0,
             timed=1.0),
    Scenario("parallel", "2 parallel slots, a process per job",
             {"session_reuse": False, "parallel": 2}),
    Scenario("hook", "a PRE_JOB hook that ignores SIGTERM (process per job)",
             {"session_reuse": False, "parallel": 1}, pre_job_hook=STUBBORN_HOOK, timed=1.0),
    Scenario("two-servers", "two servers on one --work-dir, both resuming",
             {"session_reuse": False, "parallel": 1}, servers=2),
)
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


def recipe(scenario: Scenario, blender: str, blend: Path, out: Path, jobs: int,
           frames: int) -> dict[str, Any]:
    """The batch's recipe (docs/api.md, Recipe); every job writes ``out/jobN_####.png``."""
    hooks = {"PRE_JOB": [{"cmd": scenario.pre_job_hook}], "POST_JOB": []} if scenario.pre_job_hook else {}
    return {
        "version": 2.2, "name": f"kill9 {scenario.name}", "blender_bin": blender,
        "settings": {"retries": 1, **scenario.settings},
        "jobs": [{"id": index, "name": f"job{index}", "blend_file": str(blend), "animated": True,
                  "frame_start": 1, "frame_end": frames, "engine": "CYCLES", "format": "PNG",
                  "output": str(out / f"job{index}_####"), "hooks": hooks}
                 for index in range(jobs)],
    }


def expected_frames(out: Path, jobs: int, frames: int) -> list[Path]:
    return [out / f"job{index}_{frame:04d}.png" for index in range(jobs) for frame in range(1, frames + 1)]
