"""A real one-node Slurm cluster for the tests: munged, slurmctld and slurmd from Debian's
slurm-wlm, as root, with everything (key, config, state, spool, logs) in a temp dir and on
ports of their own, so it disturbs no cluster of the machine and starts in about a second.

Where it cannot start (not root, slurm-wlm or munge missing), the tests that need it skip,
and fail under CI=true (as the sandbox tests do).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DAEMONS = ("munged", "slurmctld", "slurmd")
START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 15.0
PARTITION = "debug"


@dataclass
class Cluster:
    root: Path
    conf: Path
    node: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *argv: str) -> str:
        done = subprocess.run(argv, env=self.env(), capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
        return done.stdout


def problem() -> str | None:
    """Why a cluster cannot start here, or None."""
    if os.geteuid() != 0:
        return "the Slurm tests run a cluster as root"
    missing = [name for name in (*DAEMONS, "sbatch") if shutil.which(name) is None]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install slurm-wlm munge)"
    return None


def require_cluster() -> None:
    """Skip (or, with CI=true, fail) unless a cluster can start here."""
    if (why := problem()) is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the Slurm tests, but {why}")
    pytest.skip(why)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 1024


def write_config(root: Path, node: str) -> Path:
    ctl_port, node_port = _free_ports(2)
    memory = int(_memory_mb() * 0.9)  # slurmd refuses a node with less than it is said to have
    # Jobs share the cores (OverSubscribe): on a one-CPU machine a job sleeping to its time
    # limit must not hold the others back.
    for sub in ("munge", "state", "spool", "log"):
        (root / sub).mkdir(mode=0o700)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    conf = root / "slurm.conf"
    conf.write_text(
        f"""ClusterName=mlintern
SlurmctldHost=localhost
SlurmctldPort={ctl_port}
SlurmdPort={node_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/munge.sock
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
OverTimeLimit=0
KillWait=1
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName={node} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} RealMemory={memory} State=UNKNOWN
PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=60 OverSubscribe=FORCE:8 State=UP
"""
    )
    return conf


def _start(cluster: Cluster) -> None:
    root = cluster.root
    subprocess.run(
        [
            "munged",
            f"--socket={root}/munge/munge.sock",
            f"--key-file={root}/munge/munge.key",
            f"--pid-file={root}/munged.pid",
            f"--log-file={root}/log/munged.log",
            f"--seed-file={root}/munge/seed",
            "--force",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    env = cluster.env()
    subprocess.run(["slurmctld", "-i"], env=env, check=True, capture_output=True, timeout=30)
    subprocess.run(
        ["slurmd", "-N", cluster.node], env=env, check=True, capture_output=True, timeout=30
    )
    deadline = time.monotonic() + START_DEADLINE_S
    state = ""
    while time.monotonic() < deadline:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            state = cluster.run("sinfo", "-h", "-n", cluster.node, "-o", "%T").strip()
            if state == "idle":
                return
        time.sleep(0.2)  # polling the controller for the node's state, with a deadline
    logs = "\n".join(
        f"{path.name}: {path.read_text()[-800:]}" for path in (root / "log").glob("*.log")
    )
    raise RuntimeError(
        f"the node is {state or 'not known'}, not idle, after {START_DEADLINE_S:.0f} s\n{logs}"
    )


def _stop(cluster: Cluster) -> None:
    """Cancel what still runs, then stop the daemons (by their pid files) and wait for them."""
    with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
        cluster.run("scancel", "--full", "--user=root")
    deadline = time.monotonic() + STOP_DEADLINE_S
    while time.monotonic() < deadline:
        try:
            if not cluster.run("squeue", "-h", "-o", "%i").strip():
                break
        except (RuntimeError, subprocess.TimeoutExpired):
            break
        time.sleep(0.2)
    pids = []
    for name in ("slurmd", "slurmctld", "munged"):
        with contextlib.suppress(OSError, ValueError):
            pid = int((cluster.root / f"{name}.pid").read_text().strip())
            os.kill(pid, signal.SIGTERM)
            pids.append(pid)
    deadline = time.monotonic() + STOP_DEADLINE_S
    for pid in pids:
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def one_node_cluster() -> Iterator[Cluster]:
    """Start the cluster, yield it, stop it and remove its files."""
    root = Path(tempfile.mkdtemp(prefix="ml-intern-slurm-"))
    root.chmod(0o711)  # munged wants its dirs closed; jobs (as root) read their scripts
    node = socket.gethostname().split(".")[0]
    cluster = Cluster(root, write_config(root, node), node)
    try:
        _start(cluster)
        yield cluster
    finally:
        _stop(cluster)
        shutil.rmtree(root, ignore_errors=True)
