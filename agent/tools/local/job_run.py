"""A background job as a run: its log read as it grows, its end as the process tells it.

The log is read from where the last read stopped, whole lines only while the job runs;
a job that floods its log is read at most `MAX_READ_BYTES` a time (the newest part), so
following it costs the same whatever it prints.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

from agent.runs.model import Ended, Run

if TYPE_CHECKING:
    from agent.tools.local.background import BackgroundJob

MAX_READ_BYTES = 4 << 20


class JobSource:
    """Reads one background job's log for its run."""

    def __init__(self, job: BackgroundJob, offset: int = 0) -> None:
        self.job = job
        self.offset = offset

    async def read(self) -> tuple[str, Ended | None]:
        running = self.job.running()
        if not running:
            await self.job.settle()
        text = self._new_text(whole_lines=running)
        return text, None if running else self._ended()

    def cost_usd(self) -> float | None:
        return None

    def catch_up(self, offset: int) -> str:
        """What the log held up to `offset` (where an earlier follower stopped), read at
        once; following goes on from there."""
        try:
            with self.job.log_path.open("rb") as log_file:
                start = max(0, offset - MAX_READ_BYTES)
                log_file.seek(start)
                data = log_file.read(offset - start)
        except OSError:
            data = b""
        self.offset = offset
        return data.decode("utf-8", errors="replace")

    def _new_text(self, whole_lines: bool) -> str:
        try:
            with self.job.log_path.open("rb") as log_file:
                size = log_file.seek(0, os.SEEK_END)
                start = max(self.offset, size - MAX_READ_BYTES)
                log_file.seek(start)
                data = log_file.read(size - start)
        except OSError:
            return ""
        if whole_lines:
            data = data[: data.rfind(b"\n") + 1]
        self.offset = start + len(data)
        return data.decode("utf-8", errors="replace")

    def _ended(self) -> Ended:
        from agent.tools.local.background import Reattached

        process = self.job.process
        code = None if isinstance(process, Reattached) else process.poll()
        if code is None:
            return Ended("ended", None, "ended (exit code unknown)")
        if code < 0:
            return Ended("killed", code, f"killed by signal {signal.Signals(-code).name}")
        return Ended("succeeded" if code == 0 else "failed", code, f"exited {code}")


def job_run(job: BackgroundJob) -> tuple[Run, JobSource]:
    """The run of a background job, and what follows it (its command scrubbed of secrets:
    it goes to the ledger)."""
    from agent.context.redact import redact

    command = redact(job.command)
    run = Run(job.job_id, "local", command, started_at=job.started_at, hardware="local")
    return run, JobSource(job)
