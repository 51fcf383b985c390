"""The power action: commands per platform, the grace period and calling it off.

Every test injects the command runner; the autouse fixture in conftest.py fails any test that
would reach the real one.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from renderplus.around import BatchWatchers
from renderplus.around.power import PowerScheduler, power_commands
from renderplus.batch.recipe import RecipeError, parse_recipe
from renderplus.batch.view import BatchView

from .views import batch_view, job_view, recipe_with

pytestmark = pytest.mark.timeout(60)


class FakeRunner:
    """Records commands; answers with the exit status given per command name."""

    def __init__(self, exit_status: dict[str, int] | None = None) -> None:
        self.exit_status = exit_status or {}
        self.calls: list[list[str]] = []
        self.called = threading.Event()

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
        self.calls.append(list(argv))
        self.called.set()
        return subprocess.CompletedProcess(list(argv), self.exit_status.get(argv[0], 0))


@pytest.mark.parametrize(("platform", "action", "first"), [
    ("linux", "SLEEP", ["systemctl", "suspend"]),
    ("linux", "HIBERNATE", ["systemctl", "hibernate"]),
    ("linux", "POWEROFF", ["systemctl", "poweroff"]),
    ("freebsd14", "POWEROFF", ["systemctl", "poweroff"]),
    ("darwin", "SLEEP", ["pmset", "sleepnow"]),
    ("darwin", "HIBERNATE", ["pmset", "sleepnow"]),
    ("darwin", "POWEROFF", ["osascript", "-e", 'tell application "System Events" to shut down']),
    ("win32", "HIBERNATE", ["shutdown", "/h"]),
    ("win32", "POWEROFF", ["shutdown", "/s", "/t", "0"]),
])
def test_the_right_command_per_platform(platform: str, action: str, first: list[str]) -> None:
    assert power_commands(action, platform)[0] == first


def test_linux_falls_back_to_loginctl() -> None:
    assert power_commands("SLEEP", "linux")[1] == ["loginctl", "suspend"]
    sleep = power_commands("SLEEP", "win32")[0]
    assert sleep[0] == "powershell" and "SetSuspendState('Suspend'" in sleep[-1]


def test_unknown_action_is_a_recipe_validation_error() -> None:
    with pytest.raises(RecipeError) as caught:
        parse_recipe({"version": 2.2, "jobs": [], "poweroff": {"enabled": True, "action": "REBOOT"}})
    [issue] = caught.value.errors
    assert issue.path == "poweroff.action" and "REBOOT" in issue.message
    with pytest.raises(ValueError, match="REBOOT"):
        power_commands("REBOOT", "linux")


def scheduler(runner: Callable[[Sequence[str]], Any], grace: float,
              reports: list[str], changes: list[int] | None = None) -> PowerScheduler:
    def changed() -> None:
        if changes is not None:
            changes.append(1)
    return PowerScheduler(reports.append, grace=grace, runner=runner, platform="linux",
                          on_change=changed)


def test_runs_after_the_grace_period() -> None:
    runner, reports, changes = FakeRunner(), list[str](), list[int]()
    power = scheduler(runner, 0.3, reports, changes)
    assert power.schedule("POWEROFF")
    pending = power.pending
    assert pending is not None and pending.action == "POWEROFF" and pending.at > 0
    assert not power.schedule("SLEEP")  # one pending action at a time
    assert power.wait(10)
    assert runner.calls == [["systemctl", "poweroff"]]
    assert power.pending is None
    assert "Power-off at" in reports[0] and "cancel" in reports[0]
    assert reports[-1] == "Power-off now: the grace period is over"
    assert len(changes) == 2  # announced, then carried out


def test_cancel_during_the_grace_period() -> None:
    runner, reports = FakeRunner(), list[str]()
    power = scheduler(runner, 30.0, reports)
    power.schedule("SLEEP")
    assert power.cancel()
    assert not power.cancel()
    assert power.wait(10)
    assert runner.calls == []
    assert reports[-1] == "Sleep called off"


def test_failing_command_tries_the_next_then_reports() -> None:
    runner, reports = FakeRunner({"systemctl": 1}), list[str]()
    power = scheduler(runner, 0.0, reports)
    power.schedule("HIBERNATE")
    power.wait(10)
    assert runner.calls == [["systemctl", "hibernate"], ["loginctl", "hibernate"]]
    assert not any(r.startswith("Could not") for r in reports)
    runner, reports = FakeRunner({"systemctl": 1, "loginctl": 1}), list[str]()
    power = scheduler(runner, 0.0, reports)
    power.schedule("HIBERNATE")
    power.wait(10)
    assert reports[-1].startswith("Could not hibernate the machine: systemctl hibernate: exit status 1")


def test_a_runner_that_raises_is_a_message() -> None:
    def broken(argv: Sequence[str]) -> None:
        raise PermissionError("not allowed")

    reports: list[str] = []
    power = scheduler(broken, 0.0, reports)
    power.schedule("POWEROFF")
    power.wait(10)
    assert "not allowed" in reports[-1]


def test_close_calls_off_and_refuses_new_actions() -> None:
    runner, reports = FakeRunner(), list[str]()
    power = scheduler(runner, 30.0, reports)
    power.schedule("POWEROFF")
    power.close()
    assert power.wait(10) and runner.calls == []
    assert not power.schedule("POWEROFF")


def ended(status: str = "FINISHED") -> BatchView:
    return batch_view([job_view(0, "FINISHED", rendertime=1.0)], status=status)


def test_watchers_schedule_after_the_batch_and_cancel() -> None:
    runner, reports, changes = FakeRunner(), list[str](), list[int]()
    recipe = recipe_with(jobs=1, poweroff={"enabled": True, "action": "POWEROFF"})
    watchers = BatchWatchers(recipe, reports.append, power_runner=runner, poweroff_grace=30.0,
                             platform="linux", on_change=lambda: changes.append(1))
    assert not watchers.poweroff_pending
    watchers.batch_ended(ended())
    assert watchers.poweroff_pending
    state = watchers.poweroff_state
    assert state is not None and state.action == "POWEROFF"
    assert watchers.cancel_poweroff()
    assert not watchers.poweroff_pending and not watchers.cancel_poweroff()
    watchers.close()
    assert runner.calls == [] and len(changes) == 2


def test_watchers_run_the_action_when_nobody_cancels() -> None:
    runner = FakeRunner()
    recipe = recipe_with(jobs=1, poweroff={"enabled": True, "action": "SLEEP"})
    watchers = BatchWatchers(recipe, lambda message: None, power_runner=runner,
                             poweroff_grace=0.1, platform="darwin")
    watchers.batch_ended(ended())
    assert watchers.wait_poweroff(10)
    assert runner.calls == [["pmset", "sleepnow"]]
    watchers.close()


@pytest.mark.parametrize("poweroff", [{"enabled": False, "action": "POWEROFF"},
                                      {"enabled": True, "action": "DISABLED"}])
def test_watchers_do_nothing_when_not_asked(poweroff: dict[str, Any]) -> None:
    runner, reports = FakeRunner(), list[str]()
    watchers = BatchWatchers(recipe_with(jobs=1, poweroff=poweroff), reports.append,
                             power_runner=runner, poweroff_grace=0.0)
    watchers.batch_ended(ended())
    assert watchers.wait_poweroff(10) and runner.calls == [] and reports == []


def test_watchers_skip_the_action_for_a_cancelled_batch() -> None:
    runner, reports = FakeRunner(), list[str]()
    recipe = recipe_with(jobs=1, poweroff={"enabled": True, "action": "POWEROFF"})
    watchers = BatchWatchers(recipe, reports.append, power_runner=runner, poweroff_grace=0.0)
    watchers.batch_ended(ended("CANCELLED"))
    assert watchers.wait_poweroff(10) and runner.calls == []
    assert reports == ["No poweroff: the batch was cancelled"]


def test_no_action_after_close() -> None:
    runner = FakeRunner()
    recipe = recipe_with(jobs=1, poweroff={"enabled": True, "action": "POWEROFF"})
    watchers = BatchWatchers(recipe, lambda message: None, power_runner=runner, poweroff_grace=0.0)
    watchers.close()
    watchers.batch_ended(ended())
    assert watchers.wait_poweroff(10) and runner.calls == [] and not watchers.poweroff_pending
