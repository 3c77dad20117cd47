"""Background jobs: long commands started detached, followed and stopped by id.

Each job's output goes to a log file under the data directory, scrubbed of secrets and
readable by the user only (see `job_log.py`), so it can be read with any tool while the
job runs, also after the session; the log of a job that has ended goes with the
session. The registry lives in `ctx.state["local.bg"]`; what it takes to find a job that
is still running from another process is recorded beside the logs (`job_record.py`), so
a continued session follows and stops the jobs it started before.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from agent.config import data_home
from agent.runs.registry import runs_of
from agent.tools.local import job_record
from agent.tools.local.bash import (
    OUTPUT_LIMIT,
    BashArgs,
    run_env,
    terminate_group,
    work_dir,
)
from agent.tools.local.job_log import start_writer
from agent.tools.local.job_record import JobRecord, process_stamp
from agent.tools.local.job_run import job_run
from agent.tools.local.output import clean_lines
from agent.tools.local.roots import refusal_note
from agent.tools.local.sandbox import Launch, shell_launch
from agent.tools.router import cap_output
from agent.tools.spec import ToolContext, ToolError, ToolResult

BG_STATE = "local.bg"
TAIL_READ_BYTES = 1_000_000
WRITER_GRACE_S = 5  # how long a look waits for the log writer to catch up with an ended job


class BashOutputArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(description="The id returned when the background job was started.")
    tail_lines: int = Field(
        50, ge=1, description="Show at most this many of the newest lines (default 50)."
    )


class KillBackgroundArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(description="The id returned when the background job was started.")


class Reattached:
    """A job that an earlier run of this session started: not a child of this process,
    so it is followed by its pid and start time, and its exit code is not known."""

    def __init__(self, record: JobRecord) -> None:
        self.pid = record.pid
        self._record = record
        self._ended = False

    def running(self) -> bool:
        self._ended = self._ended or not self._record.alive()
        return not self._ended


@dataclass
class BackgroundJob:
    job_id: str
    command: str
    log_path: Path
    process: subprocess.Popen[bytes] | Reattached
    writer: subprocess.Popen[bytes] | None  # None: it writes for an earlier run
    stamp: str | None = None  # process_stamp of the job when it started
    started_at: float = field(default_factory=time.time)
    shown_bytes: int = 0
    refused: list[str] = field(default_factory=list)  # protected names the sandbox refused
    shown_refused: int = 0

    def refusals(self) -> str:
        """A note on protected names refused since the last look, or ''."""
        new = self.refused[self.shown_refused :]
        self.shown_refused = len(self.refused)
        return f"\n\n{refusal_note(new)}" if new else ""

    def running(self) -> bool:
        if isinstance(self.process, Reattached):
            return self.process.running()
        return self.process.poll() is None

    def record(self) -> JobRecord | None:
        if self.stamp is None:
            return None
        pid, log = self.process.pid, str(self.log_path)
        return JobRecord(self.job_id, pid, self.command, log, self.stamp, self.started_at)

    async def settle(self) -> None:
        """Once the job has ended, wait (bounded) until its log holds all it printed."""
        if not self.running() and self.writer is not None and self.writer.poll() is None:
            try:
                await asyncio.to_thread(self.writer.wait, WRITER_GRACE_S)
            except subprocess.TimeoutExpired:
                pass  # something the job started still holds the pipe open

    def status(self) -> str:
        if self.running():
            return f"running (pid {self.process.pid}, {time.time() - self.started_at:.0f} s)"
        if isinstance(self.process, Reattached):
            return "ended (exit code unknown: it was started before the session was continued)"
        code = self.process.poll()
        assert code is not None
        if code < 0:
            return f"killed by signal {signal.Signals(-code).name}"
        return f"exited {code}"


@dataclass
class BackgroundJobs:
    """The background jobs of one session, kept in `ctx.state["local.bg"]`."""

    directory: Path
    jobs: dict[str, BackgroundJob] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for record in job_record.load(self.directory):
            if record.alive():  # started by an earlier run of this session
                job = BackgroundJob(
                    record.job_id,
                    record.command,
                    Path(record.log_path),
                    Reattached(record),
                    None,
                    record.stamp,
                    record.started_at,
                )
                self.jobs[record.job_id] = job
        weakref.finalize(self, _remove_ended_logs, self.directory, self.jobs)

    def get(self, job_id: str) -> BackgroundJob:
        if job_id not in self.jobs:
            known = ", ".join(self.jobs) or "none"
            raise ToolError(f"No background job '{job_id}'. Known jobs: {known}")
        return self.jobs[job_id]

    def running(self) -> list[BackgroundJob]:
        return [job for job in self.jobs.values() if job.running()]

    def remember(self) -> None:
        """Record the running jobs, for a later run of this session."""
        records = [r for job in self.running() if (r := job.record()) is not None]
        job_record.save(self.directory, records)


def background_jobs(state: dict[str, object], session_id: str | None) -> BackgroundJobs:
    """The session's jobs; on first use, those an earlier run of it left running."""
    if BG_STATE not in state:
        name = session_id or f"unsaved-{os.getpid()}-{time.time_ns():x}"
        state[BG_STATE] = BackgroundJobs(data_home() / "bg" / name)
    jobs = state[BG_STATE]
    assert isinstance(jobs, BackgroundJobs)
    return jobs


def _jobs(ctx: ToolContext) -> BackgroundJobs:
    return background_jobs(ctx.state, ctx.session_id)


def _remove_ended_logs(directory: Path, jobs: dict[str, BackgroundJob]) -> None:
    """At the end of the session: the logs of ended jobs go; a running job keeps its log
    and its record. The record file is read again: another run may have added to it."""
    for job in jobs.values():
        if not job.running():
            job.log_path.unlink(missing_ok=True)
    records = job_record.load(directory)
    for record in records:
        if not record.alive() and Path(record.log_path).parent == directory:
            Path(record.log_path).unlink(missing_ok=True)
    job_record.save(directory, [r for r in records if r.alive()])
    try:
        directory.rmdir()
    except OSError:
        pass  # a job still runs, or the folder is gone


def _start_detached(
    launch: Launch, cwd: Path, log_path: Path
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """The job and the process writing its log."""
    writer, pipe = start_writer(log_path)
    try:
        process = subprocess.Popen(
            launch.argv,
            cwd=cwd,
            env=run_env(),
            stdin=subprocess.DEVNULL,
            stdout=pipe,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=launch.pass_fds,
        )
    except BaseException:
        writer.kill()
        raise
    finally:
        os.close(pipe)
    return process, writer


def start_background(args: BashArgs, ctx: ToolContext) -> ToolResult:
    registry = _jobs(ctx)
    number = len(registry.jobs) + 1
    while (registry.directory / f"bg{number}.log").exists():
        number += 1
    while f"bg{number}" in registry.jobs:
        number += 1
    job_id = f"bg{number}"
    log_path = registry.directory / f"{job_id}.log"
    with shell_launch(args.command, ctx) as launch:
        process, writer = _start_detached(launch, work_dir(args, ctx), log_path)
    stamp = process_stamp(process.pid)
    job = BackgroundJob(job_id, args.command, log_path, process, writer, stamp)
    if launch.supervisor is not None:
        job.refused = launch.supervisor.refused  # the same list, filled while the job runs
    registry.jobs[job_id] = job
    registry.remember()
    runs_of(ctx.state, ctx.session_id, ctx.cwd).add(*job_run(job))
    return ToolResult(
        f"Started background job {job_id} (pid {process.pid}). Output goes to {log_path}.\n"
        f'Check it with bash_output(job_id="{job_id}"); stop it with '
        f'kill_background(job_id="{job_id}").\n'
        "It is watched: you are woken when it ends, prints a traceback, runs out of memory "
        "or its loss becomes NaN, so there is no need to poll it (end your turn to wait); "
        "`monitor` adds conditions.",
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
    if job.running() and (end := data.rfind(b"\n") + 1):
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
    await job.settle()
    status = job.status()
    if not job.running():
        runs_of(ctx.state).saw_end(job.job_id)
    output = _new_output(job, args.tail_lines)
    return ToolResult(
        f"Job {job.job_id}: {status}\n{output}{job.refusals()}",
        data={"job_id": job.job_id, "status": status, "log_path": str(job.log_path)},
    )


async def kill_background(args: KillBackgroundArgs, ctx: ToolContext) -> ToolResult:
    registry = _jobs(ctx)
    job = registry.get(args.job_id)
    if not job.running():
        return ToolResult(f"Job {job.job_id} was not running ({job.status()}). Log: {job.log_path}")
    runs_of(ctx.state).saw_end(job.job_id)
    await terminate_group(job.process.pid)
    job.running()
    await job.settle()
    registry.remember()
    return ToolResult(f"Stopped job {job.job_id} ({job.status()}). Log: {job.log_path}")


async def jobs_at_exit(ctx: ToolContext) -> str | None:
    """At the end of a session, one line naming the jobs still running and where their
    output goes. Confined ones are stopped (bubblewrap ends them with ml-intern anyway,
    and their supervisor goes with it); unconfined ones
    are left running, recorded for a continued session to follow."""
    registry = ctx.state.get(BG_STATE)
    if not isinstance(registry, BackgroundJobs) or not (running := registry.running()):
        return None
    plural = "s" if len(running) > 1 else ""
    if ctx.settings.sandbox == "workspace-write":
        for job in running:
            await terminate_group(job.process.pid)
        registry.remember()
        named = ", ".join(f"{job.job_id} ({_short(job.command)})" for job in running)
        return (
            f"Stopped background job{plural} {named}: confined jobs end with the session "
            f"(--sandbox workspace-write). Logs: {running[0].log_path.parent}"
        )
    named = "; ".join(
        f"{job.job_id} ({_short(job.command)}, pid {job.process.pid}, output in {job.log_path})"
        for job in running
    )
    return (
        f"Still running background job{plural} {named}: left running after ml-intern. "
        f"`ml-intern --resume {registry.directory.name}` follows "
        f"{'them' if plural else 'it'} again; `kill -- -PID` stops one."
    )


def _short(command: str, limit: int = 60) -> str:
    line = " ".join(command.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def job_lines(state: dict[str, object], session_id: str) -> list[str]:
    """One line per job of the session, running or ended, for a status listing."""
    return [
        f"{job.job_id} {job.status()}: {job.command}"
        for job in background_jobs(state, session_id).jobs.values()
    ]
