"""A real single-node Slurm cluster for the tests: munged, slurmctld and slurmd started as
root with their own configuration, socket, state and logs in one temp folder (nothing under
/etc changes), stopped by their pids. Needs Debian's ``slurmctld slurmd slurm-client munge``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.ports import free_port
from tests.procs import is_alive
from tests.waiting import wait_for

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "scancel", "sinfo")
MUNGE_KEY = "/etc/munge/munge.key"

_CONF = """\
ClusterName=renderplus
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={dir}/munge/munge.socket
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/log/slurmctld.log
SlurmdLogFile={dir}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SchedulerParameters=sched_min_interval=100000
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=3600
KillWait=5
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName={partition} Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def missing_reason() -> str | None:
    """Why a cluster cannot start here, or None."""
    if os.geteuid() != 0:
        return "the Slurm test cluster runs its daemons as root"
    absent = [name for name in DAEMONS if shutil.which(name) is None
              and not os.path.exists(f"/usr/sbin/{name}")]
    if absent:
        return (f"Slurm is not installed ({', '.join(absent)} missing): "
                "apt-get install slurmctld slurmd slurm-client munge (scripts/setup.sh test)")
    if not os.path.exists(MUNGE_KEY):
        return f"munge has no key ({MUNGE_KEY})"
    return None


@dataclass
class SlurmCluster:
    dir: Path
    conf: Path
    partition: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *argv: str) -> str:
        return subprocess.run(list(argv), env=self.env(), capture_output=True, text=True,
                              timeout=30, check=True).stdout

    def stop(self) -> None:
        for name in ("slurmd", "slurmctld", "munge/munged"):
            pid_file = self.dir / f"{name}.pid"
            try:
                pid = int(pid_file.read_text().strip())
            except (OSError, ValueError):
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            with contextlib.suppress(AssertionError):  # still alive after 10 s: killed below
                wait_for(lambda pid=pid: not is_alive(pid), timeout=10, interval=0.05)
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


def start_cluster(partition: str = "render", cpus: int | None = None) -> SlurmCluster:
    """Start munged, slurmctld and slurmd; return once the node is idle (about 4 s)."""
    base = Path(tempfile.mkdtemp(prefix="renderplus-slurm-"))
    base.chmod(0o755)  # munged (user munge) must reach its own folder
    for sub in ("state", "spool", "log"):
        (base / sub).mkdir()
    munge_dir = base / "munge"
    munge_dir.mkdir(mode=0o755)
    munge = pwd.getpwnam("munge")
    os.chown(munge_dir, munge.pw_uid, munge.pw_gid)
    host = socket.gethostname()
    conf = base / "slurm.conf"
    conf.write_text(_CONF.format(host=host, dir=base, partition=partition,
                                 cpus=cpus or min(os.cpu_count() or 1, 2),
                                 ctld_port=free_port(), slurmd_port=free_port()))
    cluster = SlurmCluster(base, conf, partition)
    try:
        subprocess.run(["runuser", "-u", "munge", "--", "munged",
                        f"--socket={munge_dir}/munge.socket", f"--pid-file={munge_dir}/munged.pid",
                        f"--log-file={munge_dir}/munged.log", f"--seed-file={munge_dir}/munged.seed"],
                       check=True, capture_output=True, text=True, timeout=30)
        env = cluster.env()
        for daemon in ("slurmctld", "slurmd"):
            subprocess.run([daemon], env=env, check=True, capture_output=True, text=True, timeout=30)
        states: list[str] = []

        def node_is_idle() -> bool:
            states.append(subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True,
                                         text=True, timeout=10).stdout.strip())
            return states[-1] == "idle"

        try:
            wait_for(node_is_idle, timeout=30, interval=0.2)
        except AssertionError:
            raise RuntimeError(f"the Slurm node did not come up (state {states[-1]!r}): "
                               + (base / "log" / "slurmctld.log").read_text()[-2000:]) from None
        return cluster
    except BaseException:
        cluster.stop()
        raise
