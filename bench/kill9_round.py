"""One round of the kill -9 harness (bench/kill9.py): a batch killed and resumed until it ends.

A round starts the scenario's server(s) on a fresh ``--work-dir`` and starts the batch. Then,
at seeded random moments, it kills every server with SIGKILL, notes what the store had
recorded, restarts the servers on the same folder and asks each of them to resume (``GET
/batch/resume``, all at once). Half of the moments are a delay after the (re)start (they reach
Blender's start, hooks and hand-overs), half a point of the batch's progress between where it
stands and the start of its last frame (they reach a frame being rendered or written, however
fast the machine is, and fall inside the batch); the scenarios about hooks draw only delays
(progress stands still while a hook runs). After ``max_kills`` kills the batch is left to end.
Then it counts (bench/kill9_measure.py) frames lost, recorded frames rendered again and
processes left, both after each restart and after the final stop.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import kill9_measure as measure
from bench.kill9_scenarios import Scenario, expected_frames, recipe
from bench.kill9_server import Server
from tests.blendfiles import make_blend

ENDED = ("FINISHED", "CANCELLED")


def never() -> bool:
    return False


@dataclass(frozen=True)
class Config:
    blender: str
    jobs: int = 3
    frames: int = 4
    samples: int = 400
    size: tuple[int, int] = (48, 36)
    kill_after: tuple[float, float] = (0.3, 4.0)   # seconds after a (re)start, for timed kills
    max_kills: int = 3                              # per batch; then it is left to end
    grace: float = 5.0                              # seconds a dead server's processes get to end
    late_after: float = 1.0                         # a frame this old at a kill should be recorded
    round_timeout: float = 300.0


@dataclass
class RoundResult:
    kills: int = 0
    frames: int = 0
    lost: list[str] = field(default_factory=list)
    again: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    together: list[str] = field(default_factory=list)    # saved by two live servers
    saved_twice: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)        # done before a kill, unrecorded, redone
    double_resumes: int = 0
    problems: list[str] = field(default_factory=list)   # the round could not run or end


class Round:
    def __init__(self, scenario: Scenario, config: Config, folder: Path, seed: str, tag: str) -> None:
        self.scenario, self.config, self.folder = scenario, config, folder
        self.rng = random.Random(seed)
        self.tag = tag                       # every mark of this round starts with it
        self.work, self.out = folder / "work", folder / "out"
        self.token = secrets.token_hex(16)
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(folder / "config"),
                    "XDG_STATE_HOME": str(folder / "state")}
        self.generation = 0
        self.servers: list[Server] = []
        self.dead_marks: set[str] = set()
        self.log_dirs: list[tuple[int, Path]] = []     # (generation, one server's log folder)
        self.recorded: dict[str, measure.Stamp] = {}
        self.unrecorded: dict[str, measure.Stamp] = {}
        self.result = RoundResult()

    # ------------------------------------------------------------------ the round

    def run(self) -> RoundResult:
        self.out.mkdir(parents=True, exist_ok=True)
        config = self.config
        try:
            blend = make_blend(self.folder, size=config.size, samples=config.samples, frames=config.frames)
            self._start_servers()
            first = self.servers[0]
            body = recipe(self.scenario, config.blender, blend, self.out, config.jobs, config.frames)
            for method, path, data in (("POST", "/batch/recipe", body), ("GET", "/batch/start", None)):
                code, answer = first.request(method, path, data)
                if code != 200:
                    raise RuntimeError(f"{method} {path} answered {code}: {answer.get('status')}")
            self._kill_and_resume_until_the_end()
        except (OSError, RuntimeError) as exc:
            self.result.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            self._finish()
        return self.result

    def _kill_and_resume_until_the_end(self) -> None:
        deadline = time.monotonic() + self.config.round_timeout
        while True:
            last_life = self.result.kills >= self.config.max_kills
            if self._wait_for_the_end(deadline, never if last_life else self._kill_moment()):
                return
            if last_life or time.monotonic() >= deadline:
                self.result.problems.append(
                    f"the batch did not end within {self.config.round_timeout:g} s "
                    f"(after {self.result.kills} kills; see {self.folder})")
                return
            self._kill_all()
            self._start_servers()
            self._resume_everywhere()
            left = measure.left_running(self.dead_marks.__contains__, self.config.grace)
            self.result.left += [f"after kill {self.result.kills}: {item}" for item in left.values()]

    # ------------------------------------------------------------------ servers

    def _start_servers(self) -> None:
        self.servers = []
        for index in range(self.scenario.servers):
            name = "AB"[index] if self.scenario.servers > 1 else "S"
            log_dir = self.folder / "logs" / f"{name}{self.generation}"
            self.log_dirs.append((self.generation, log_dir))
            mark = f"{self.tag}:{name}{self.generation}"
            self.servers.append(Server(name, self.work, log_dir, self.token, mark, self.env))

    def _kill_all(self) -> None:
        killed_ns = time.time_ns()
        for server in self.servers:
            server.kill9()
            self.dead_marks.add(server.mark)
        self.result.kills += 1
        self.generation += 1
        self._note_records()
        self._note_unrecorded(killed_ns)

    def _note_records(self) -> None:
        """Remember each frame's identity as the store first showed it (looked at every
        0.2 s and at each kill): a later different file at that path was rendered again."""
        for path, stamp in measure.recorded_frames(self.work).items():
            self.recorded.setdefault(path, stamp)

    def _note_unrecorded(self, killed_ns: int) -> None:
        """Frames complete on disk ``late_after`` s before the kill that the store had not
        recorded: Render+ learnt of them late (a hand-over that waits for the next job's hook)."""
        config = self.config
        for path in expected_frames(self.out, config.jobs, config.frames):
            stamp = measure.file_stamp(path)
            if stamp is None or str(path) in self.recorded or str(path) in self.unrecorded:
                continue
            if killed_ns - stamp[1] >= config.late_after * 1e9 and measure.complete_png(path):
                self.unrecorded[str(path)] = stamp

    def _resume_everywhere(self) -> None:
        """Every server asks to resume at the same moment (two Render+ started after a crash)."""
        codes: list[int] = []
        gate = threading.Barrier(len(self.servers))

        def ask(server: Server) -> None:
            gate.wait()
            try:
                codes.append(server.request("GET", "/batch/resume")[0])
            except OSError:
                codes.append(0)

        threads = [threading.Thread(target=ask, args=(server,)) for server in self.servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if codes.count(200) > 1:
            self.result.double_resumes += 1

    def _kill_moment(self) -> Callable[[], bool]:
        """The next kill's moment, drawn now: a delay, or a point of the batch's progress
        between where it stands and its last frame's start."""
        if self.rng.random() < self.scenario.timed:
            early, late = self.config.kill_after
            at = time.monotonic() + self.rng.uniform(early, late * self.scenario.slower)
            return lambda: time.monotonic() >= at
        now = self._progress()
        target = now + self.rng.random() * max(0.0, self._last_frame_starts() - now)
        return lambda: self._progress() >= target

    def _last_frame_starts(self) -> float:
        """The progress at which the batch's last frame starts: a target beyond it could be
        passed over by a fast last frame and so fall after the batch's end (no kill at all)."""
        total = self.config.jobs * self.config.frames
        return 100.0 * (total - 1) / total

    def _progress(self) -> float:
        """The batch's progress (0-100, docs/api.md, Poll) as the most advanced server shows it."""
        shown = [float(poll.get("progress") or 0.0) for server in self.servers
                 if (poll := server.poll()) is not None]
        return max(shown, default=0.0)

    def _wait_for_the_end(self, deadline: float, kill_now: Callable[[], bool]) -> bool:
        """True once no server runs the batch and the store shows it ended (GET /batches):
        an interrupted batch stays RUNNING in the store until someone resumes and ends it.
        False when ``kill_now`` says so first, or at ``deadline``."""
        while True:
            self._note_records()
            if self._ended():
                return True
            if kill_now() or time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def _ended(self) -> bool:
        statuses = []
        for server in self.servers:
            try:
                code, info = server.request("GET", "/test", timeout=10)
                listed, history = server.request("GET", "/batches?limit=1", timeout=10)
            except OSError:
                return False
            if code != 200 or info.get("running") or listed != 200:
                return False
            statuses += [item.get("status") for item in history.get("batches", [])[:1]]
        return bool(statuses) and all(status in ENDED for status in statuses)

    # ------------------------------------------------------------------ the count

    def _finish(self) -> None:
        result, config = self.result, self.config
        expected = expected_frames(self.out, config.jobs, config.frames)
        result.frames = len(expected)
        result.lost = [path.name for path in measure.lost_frames(expected)]
        result.again = [Path(path).name for path in measure.rendered_again(self.recorded)]
        result.late = [Path(path).name for path in measure.rendered_again(self.unrecorded)]
        self._count_saved_lines()
        for server in self.servers:
            if not server.stop():
                result.problems.append(f"server {server.name} did not stop on DELETE /server")
        result.left += [f"after the stop: {item}" for item in
                        measure.left_running(lambda mark: mark.startswith(self.tag + ":"),
                                             config.grace).values()]


    def _count_saved_lines(self) -> None:
        """Frames Blender saved more than once over the round, and those saved by two servers
        of one generation (alive at the same time: two Blenders on the same file)."""
        total: Counter[str] = Counter()
        servers_per_frame: dict[int, Counter[str]] = {}
        for generation, log_dir in self.log_dirs:
            counts = measure.saved_counts(log_dir)
            total.update(counts)
            servers_per_frame.setdefault(generation, Counter()).update(counts.keys())
        self.result.saved_twice = sorted(Path(path).name for path, count in total.items() if count > 1)
        self.result.together = sorted({Path(path).name for counts in servers_per_frame.values()
                                       for path, servers in counts.items() if servers > 1})
