"""Asking the cluster about jobs: their state, their output, following them to the end.

The controller (`scontrol show job`) knows a job while it runs and for a few minutes after
(MinJobAge); past that only accounting (`sacct`) does, on clusters that keep it. A job's
output is read from the file Slurm writes (`StdOut`), from where the last read stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from agent.tools.slurm import commands, parse
from agent.tools.slurm.commands import SlurmError
from agent.tools.spec import ToolError

if TYPE_CHECKING:
    from agent.config import Settings

POLL_FIRST_S = 0.5
POLL_MAX_S = 3.0
POLL_MAX_REMOTE_S = 10.0  # each look is an ssh connection
PARTIAL_MOST = 64 << 10  # a line longer than this is handed on before its end
FOLLOW_TRIES = 5  # failed looks in a row before following gives up


async def job_state(settings: Settings, job_id: str) -> list[parse.Job]:
    """The job's record (one per array task): from the controller, else from accounting."""
    try:
        text = await commands.run(settings, ["scontrol", "show", "job", "-o", job_id])
    except SlurmError as exc:
        if "invalid job id" not in str(exc).lower():
            raise
        text = ""
    if jobs := parse.scontrol_jobs(text):
        return jobs
    argv = ["sacct", "-X", "-P", "-n", "-j", job_id, "-o", parse.SACCT_FIELDS]
    try:
        jobs = parse.sacct_jobs(await commands.run(settings, argv))
    except SlurmError as exc:
        if "accounting storage is disabled" not in str(exc).lower():
            raise
        jobs = []
    if not jobs:
        raise ToolError(
            f"Slurm does not know job {job_id}: check the id with operation='ps' (a job that "
            "ended a while ago is forgotten where the cluster keeps no accounting)"
        )
    return jobs


def _label(job: parse.Job, many: bool) -> str:
    return f"[{job.get('ArrayTaskId', job.get('JobId', ''))}] " if many else ""


class OutputReader:
    """New whole lines of a job's output files (every task of an array, each line then
    prefixed with its task id), from where the last read stopped."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._offsets: dict[str, int] = {}
        self._partial: dict[str, bytes] = {}

    async def read(self, jobs: list[parse.Job], final: bool = False) -> list[str]:
        """New lines since the last read (a bounded amount per file, unless `final`: then
        to the end, with a line still unfinished handed on as it is)."""
        found = []
        paths = {job["StdOut"]: job for job in jobs if "%" not in job.get("StdOut", "%")}
        for path, job in paths.items():
            while True:
                offset = self._offsets.get(path, 0)
                data = await commands.read_from(self._settings, path, offset)
                self._offsets[path] = offset + len(data)
                last = len(data) < commands.READ_MOST
                found += self._lines(path, job, data, final and last, len(paths) > 1)
                if not final or last:
                    break
        return found

    async def read_last(self, jobs: list[parse.Job]) -> list[str]:
        """The lines at the end of each output file (a bounded amount; a line the cut
        splits is left out)."""
        found = []
        paths = {job["StdOut"]: job for job in jobs if "%" not in job.get("StdOut", "%")}
        for path, job in paths.items():
            data, cut = await commands.read_last(self._settings, path)
            if cut:
                data = data[data.find(b"\n") + 1 :] if b"\n" in data else b""
            found += self._lines(path, job, data, True, len(paths) > 1)
        return found

    def _lines(self, path: str, job: parse.Job, data: bytes, final: bool, many: bool) -> list[str]:
        text = self._partial.pop(path, b"") + data
        # a progress bar redraws its line with \r: each redraw is a line of its own
        lines = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        rest = lines.pop()  # what follows the last line end: a line still being written
        if rest and (final or len(rest) > PARTIAL_MOST):
            lines.append(rest)
        elif rest:
            self._partial[path] = rest
        prefix = _label(job, many)
        return [prefix + line.decode(errors="replace") for line in lines if line]


async def follow(
    settings: Settings, job_id: str, on_line: Callable[[str], None]
) -> list[parse.Job]:
    """Hand each new output line to `on_line` until the job (every array task) ends; returns
    its final records."""
    reader = OutputReader(settings)
    delay = POLL_FIRST_S
    most = POLL_MAX_REMOTE_S if settings.slurm.host else POLL_MAX_S
    failures = 0
    while True:
        try:
            jobs = await job_state(settings, job_id)
        except SlurmError:  # a busy controller or a dropped ssh connection: ask again
            failures += 1
            if failures >= FOLLOW_TRIES:
                raise
            await asyncio.sleep(most)
            continue
        failures = 0
        done = parse.overall_state(jobs) in parse.TERMINAL
        for line in await reader.read(jobs, final=done):
            on_line(line)
        if done:
            return jobs
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, most)


async def tail(settings: Settings, job_id: str, lines: int) -> list[str]:
    """The newest `lines` lines of the job's output so far."""
    jobs = await job_state(settings, job_id)
    found = await OutputReader(settings).read_last(jobs)
    return found[-lines:]
