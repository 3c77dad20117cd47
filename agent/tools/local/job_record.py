"""What a session remembers of its background jobs, so a continued session finds them again.

A job outlives the process that started it (see `job_log.py`), and its Popen object goes
with that process. `jobs.json`, beside the jobs' logs in the session's folder, holds for
each job what it takes to follow it from another process: its id, pid, command, log and
start time. A pid alone is not enough, since a pid is reused once its process has gone:
the kernel's record of when the process started tells the job from a newcomer.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from agent.paths import write_json

RECORD_FILE = "jobs.json"


def process_stamp(pid: int) -> str | None:
    """When process `pid` started, as the system tells it; None when no such process
    runs (an ended one not yet reaped counts as ended)."""
    if sys.platform.startswith("linux"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rpartition(")")[2].split()  # after the name, which may hold spaces
        return None if fields[0] in ("Z", "X") else fields[19]  # state, ..., starttime
    try:
        shown = subprocess.run(
            ["ps", "-o", "stat=,lstart=", "-p", str(pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split(None, 1)
    except OSError:
        return None
    return None if len(shown) < 2 or shown[0].startswith("Z") else shown[1].strip()


@dataclass
class JobRecord:
    job_id: str
    pid: int
    command: str
    log_path: str
    stamp: str  # process_stamp(pid) when the job started
    started_at: float = field(default_factory=time.time)

    def alive(self) -> bool:
        """Whether this very job still runs (not another process that got its pid)."""
        return process_stamp(self.pid) == self.stamp


def load(directory: Path) -> list[JobRecord]:
    """The jobs recorded in `directory`; none when the file is missing or unreadable."""
    try:
        data = json.loads((directory / RECORD_FILE).read_text(encoding="utf-8"))
        return [JobRecord(**entry) for entry in data["jobs"]]
    except (OSError, ValueError, TypeError, KeyError):
        return []


def save(directory: Path, records: list[JobRecord]) -> None:
    """Write the records (private, in one step); no records: no file."""
    path = directory / RECORD_FILE
    if records:
        write_json(path, {"jobs": [asdict(r) for r in records]})
    else:
        path.unlink(missing_ok=True)
