"""A Render+ of its own to kill: a ``BatchService`` with a store, started in a child process.

The tests that kill Render+ mid-batch (resume, a full store disk, the session hand-over) need
the engine in a process they can SIGKILL, alone in its own session so that ``killpg`` can take
its Blenders with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])

_SOURCE = """
import json, sys, time
sys.path.insert(0, {root!r})
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
{prepare}
service = BatchService(work_dir={work!r}, store=BatchStore.open({store!r}),
                       executor_factory={factory})
service.load_recipe(parse_recipe(json.loads({recipe!r})))
service.start()
print("started", flush=True)
{then}
time.sleep(600)
"""


def start_service(work: Path, recipe: dict[str, object], store: Path | None = None,
                  then: str = "", prepare: str = "", factory: str = "None"
                  ) -> subprocess.Popen[str]:
    """Start the batch of ``recipe`` in a new Render+ process (its store in ``store``, default
    ``work``); returns once the batch has started. ``then``: Python lines the process runs
    next, with ``service``, ``parse_recipe``, ``json`` and ``time`` at hand (queue more batches, pause);
    what they print, the test reads from ``stdout``. ``prepare``: Python lines run before the
    service is made (imports); ``factory``: a Python expression for its ``executor_factory``
    (a farm's; default None: this machine)."""
    source = _SOURCE.format(root=ROOT, work=str(work), store=str(store or work),
                            recipe=json.dumps(recipe), then=then, prepare=prepare, factory=factory)
    driver = subprocess.Popen([sys.executable, "-c", source], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    assert driver.stdout is not None and driver.stdout.readline().strip() == "started"
    return driver
