"""Plays a Blender that quits during a batch, in a plain Python: the add-on's batch slot and
in-process server (as ``addon_state.make_service`` and ``server_lifecycle.start_server`` make
them), a batch started and one queued; on "quit" on stdin it does what the add-on's quit does
before Blender exits: pause now, hand over, stop the server and the service ("quit"), or hand
over and end at once, as a crash would, leaving the batch interrupted ("crash").

Run as ``python quitting_blender.py CONFIG.json``, or in Blender as ``blender -b --python
quitting_blender.py -- CONFIG.json`` (Blender then quits when the script ends); the add-on
folder's parent goes first on the path (an installed add-on's copy, whose Bottle is the bundled
wheel). Prints JSON lines: the
server's port, token and this pid once the batch runs; then the hand-over (or its error).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]
config = json.loads(Path(argv[0]).read_text())
sys.path.insert(0, config["addon_parent"])

from renderplus.around import watchers_factory  # noqa: E402
from renderplus.batch import spawner  # noqa: E402
from renderplus.batch.options import RunOptions  # noqa: E402
from renderplus.batch.recipe import parse_recipe  # noqa: E402
from renderplus.batch.service import BatchService, open_store  # noqa: E402
from renderplus.batch.view import BatchStatus  # noqa: E402
from renderplus.server import start_server  # noqa: E402
from renderplus.server.handover import HandOverError, hand_over  # noqa: E402

work = Path(config["work_dir"])
store, problem = open_store(work)
assert store is not None, problem
service = BatchService(RunOptions(log_dir=str(work / "log"), blender_bin=config["blender"]),
                       work_dir=work, store=store, observers=(watchers_factory(),))
handle = start_server(service, port=config["port"])
service.load_recipe(parse_recipe(config["batch"]))
service.start()
service.enqueue(parse_recipe(config["queued"]))
print(json.dumps({"pid": os.getpid(), "port": handle.port, "token": handle.token}),
      flush=True)

asked = sys.stdin.readline().strip()
if asked in ("quit", "crash"):
    batch = service.batch
    assert batch is not None
    if asked == "quit":
        service.pause("now")
        deadline = time.monotonic() + 120
        while batch.status is not BatchStatus.PAUSED and time.monotonic() < deadline:
            batch.wait_change(batch.revision, 1.0)
    try:
        handed = hand_over(work_dir=work, port=handle.port, token=handle.token,
                           blender=config["blender"], log_dir=work / "log")
        print(json.dumps({"pid": handed.pid, "log": str(handed.log_path),
                          "command": list(handed.command), "python": handed.python}), flush=True)
    except HandOverError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
    if asked == "crash":
        os._exit(0)   # no clean stop: the batch stays RUNNING under a dead owner
handle.stop()
service.shutdown()
spawner.shutdown()
