"""Background jobs: long commands started detached, followed and stopped by id.

Each job writes to a log file under the data directory, so its output survives
the session and can be read with any tool; the registry lives in
`ctx.state["local.bg"]`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from agent.config import data_home
from agent.tools.local.bash import (
    OUTPUT_LIMIT,
    BashArgs,
    run_env,
    terminate_group,
    work_dir,
)
from agent.tools.local.confine import Launch, shell_launch
from agent.tools.local.output import clean_lines
from agent.tools.router import cap_output
from agent.tools.spec import ToolContext, ToolError, ToolResult

BG_STATE = "local.bg"
TAIL_READ_BYTES = 1_000_000


class BashOutputArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(description="The id returned when the background job was started.")
    tail_lines: int = Field(
        50, ge=1, description="Show at most this many of the newest lines (default 50)."
    )


class KillBackgroundArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(description="The id returned when the background job was started.")


@dataclass
class BackgroundJob:
    job_id: str
    command: str
    log_path: Path
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    shown_bytes: int = 0

    def status(self) -> str:
        code = self.process.poll()
        if code is None:
            return f"running (pid {self.process.pid}, {time.monotonic() - self.started:.0f} s)"
        if code < 0:
            return f"killed by signal {signal.Signals(-code).name}"
        return f"exited {code}"


@dataclass
class BackgroundJobs:
    """The background jobs of one session, kept in `ctx.state["local.bg"]`."""

    directory: Path
    jobs: dict[str, BackgroundJob] = field(default_factory=dict)

    def get(self, job_id: str) -> BackgroundJob:
        if job_id not in self.jobs:
            known = ", ".join(self.jobs) or "none"
            raise ToolError(f"No background job '{job_id}'. Known jobs: {known}")
        return self.jobs[job_id]


def _jobs(ctx: ToolContext) -> BackgroundJobs:
    if BG_STATE not in ctx.state:
        name = ctx.session_id or f"unsaved-{os.getpid()}-{time.time_ns():x}"
        ctx.state[BG_STATE] = BackgroundJobs(data_home() / "bg" / name)
    return ctx.state[BG_STATE]


def _start_detached(launch: Launch, cwd: Path, log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            launch.argv,
            cwd=cwd,
            env=run_env(),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=launch.pass_fds,
        )


def start_background(args: BashArgs, ctx: ToolContext) -> ToolResult:
    registry = _jobs(ctx)
    number = len(registry.jobs) + 1
    while (registry.directory / f"bg{number}.log").exists():
        number += 1
    job_id = f"bg{number}"
    log_path = registry.directory / f"{job_id}.log"
    with shell_launch(args.command, ctx) as launch:
        process = _start_detached(launch, work_dir(args, ctx), log_path)
    registry.jobs[job_id] = BackgroundJob(job_id, args.command, log_path, process)
    return ToolResult(
        f"Started background job {job_id} (pid {process.pid}). Output goes to {log_path}.\n"
        f'Check it with bash_output(job_id="{job_id}"); stop it with '
        f'kill_background(job_id="{job_id}").',
        data={"job_id": job_id, "pid": process.pid, "log_path": str(log_path)},
    )


def _new_output(job: BackgroundJob, tail_lines: int) -> str:
    """What the job wrote since the last look, at most `tail_lines` of its newest lines.

    Only the end of the log is read, so a job that floods its log costs a look no more
    than a quiet one. While the job runs, a line it is still writing waits for the next
    look, unless nothing else is new (a progress bar that only redraws with `\\r`).
    """
    with job.log_path.open("rb") as log_file:
        size = log_file.seek(0, os.SEEK_END)
        start = max(job.shown_bytes, size - TAIL_READ_BYTES)
        log_file.seek(start)
        data = log_file.read(size - start)
    if job.process.poll() is None and (end := data.rfind(b"\n") + 1):
        data = data[:end]
    if not data:
        return "(no new output)"
    newest = _last_lines(data, tail_lines)
    skipped = start - job.shown_bytes + len(data) - len(newest)
    job.shown_bytes = start + len(data)
    shown = clean_lines(newest.decode("utf-8", errors="replace")).removesuffix("\n")
    if skipped:
        shown = (
            f"[... {skipped:,} bytes of earlier new output not shown; full log: "
            f"{job.log_path} ...]\n{shown}"
        )
    return cap_output(shown, OUTPUT_LIMIT)


def _last_lines(data: bytes, count: int) -> bytes:
    """The last `count` lines of `data`, found from the end without splitting the rest."""
    cut = len(data) - 1 if data.endswith(b"\n") else len(data)
    for _ in range(count):
        cut = data.rfind(b"\n", 0, cut)
        if cut < 0:
            return data
    return data[cut + 1 :]


async def bash_output(args: BashOutputArgs, ctx: ToolContext) -> ToolResult:
    job = _jobs(ctx).get(args.job_id)
    status = job.status()
    output = _new_output(job, args.tail_lines)
    return ToolResult(
        f"Job {job.job_id}: {status}\n{output}",
        data={"job_id": job.job_id, "status": status, "log_path": str(job.log_path)},
    )


async def kill_background(args: KillBackgroundArgs, ctx: ToolContext) -> ToolResult:
    job = _jobs(ctx).get(args.job_id)
    if job.process.poll() is not None:
        return ToolResult(f"Job {job.job_id} was not running ({job.status()}). Log: {job.log_path}")
    await terminate_group(job.process.pid)
    job.process.poll()
    return ToolResult(f"Stopped job {job.job_id} ({job.status()}). Log: {job.log_path}")
