"""bash on the user's machine, and the process-group handling background jobs share.

Every command runs in its own process group so that a timeout, Ctrl-C or
`kill_background` stops the whole tree it started, not just the shell.
Output is drained on a thread of its own (`output.py`): the front ends see it live in
coalesced chunks, the model gets its head and tail, and neither makes the command wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.tools.local.output import OutputReader, widen_pipe
from agent.tools.local.roots import refusal_note
from agent.tools.local.sandbox import Launch, shell_launch
from agent.tools.router import cap_output
from agent.tools.spec import ToolContext, ToolError, ToolResult

DEFAULT_TIMEOUT_S = 120
MAX_TIMEOUT_S = 600
OUTPUT_LIMIT = 30_000
TERM_GRACE_S = 3.0
EXIT_DRAIN_S = 0.5

# Process groups of foreground commands still running. A run that exits at once (a
# second stop signal) cannot wait for their clean stop, but must not leave them behind.
_running: set[int] = set()


class BashArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(
        description="The shell command to run with bash. Chain dependent steps with &&."
    )
    description: str | None = Field(
        None, description="What the command does, in 5-10 words, shown to the user."
    )
    work_dir: str | None = Field(
        None,
        description="Directory to run in; a relative path starts at the working directory. "
        "Default: the working directory.",
    )
    timeout: int = Field(
        DEFAULT_TIMEOUT_S,
        description=f"Seconds before the command is stopped (default {DEFAULT_TIMEOUT_S}, "
        f"max {MAX_TIMEOUT_S}). For anything longer use run_in_background.",
    )
    run_in_background: bool = Field(
        False,
        description="Start the command detached and return at once with a job id, for "
        "training runs, servers and anything slow. Follow it with bash_output and stop it "
        "with kill_background.",
    )

    @field_validator("timeout")
    @classmethod
    def _clamp(cls, value: int) -> int:
        return max(1, min(value, MAX_TIMEOUT_S))


def run_env() -> dict[str, str]:
    """The user's environment, made friendly to a non-interactive caller."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("PAGER", "cat")
    env.setdefault("GIT_PAGER", "cat")
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    return env


def work_dir(args: BashArgs, ctx: ToolContext) -> Path:
    path = ctx.cwd / Path(args.work_dir).expanduser() if args.work_dir else ctx.cwd
    if not path.is_dir():
        raise ToolError(f"work_dir is not an existing directory: {path}")
    return path


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies excluded, unlike kill(0))."""
    proc = Path("/proc")
    if not (proc / "self").exists():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def kill_running_commands() -> None:
    """SIGKILL every foreground command still running, for a process about to vanish."""
    for pgid in list(_running):
        kill_group(pgid)


async def wait_gone(pgid: int, within: float) -> bool:
    """Whether every process of the group has exited within `within` seconds."""
    for _ in range(int(within / 0.02)):
        if not group_alive(pgid):
            return True
        await asyncio.sleep(0.02)
    return not group_alive(pgid)


async def terminate_group(pgid: int, grace: float = TERM_GRACE_S) -> None:
    """SIGTERM the group, give it `grace` seconds to clean up, then SIGKILL what is left."""
    kill_group(pgid, signal.SIGTERM)
    if not await wait_gone(pgid, grace):
        kill_group(pgid, signal.SIGKILL)
        await wait_gone(pgid, 1.0)


async def _spawn(launch: Launch, cwd: Path) -> tuple[asyncio.subprocess.Process, int]:
    """Start bash with stdout+stderr on a pipe we own, so waiting for exit never waits
    on grandchildren that keep the pipe open."""
    read_fd, write_fd = os.pipe()
    widen_pipe(read_fd)
    try:
        proc = await asyncio.create_subprocess_exec(
            *launch.argv,
            cwd=cwd,
            env=run_env(),
            stdin=subprocess.DEVNULL,
            stdout=write_fd,
            stderr=write_fd,
            start_new_session=True,
            pass_fds=launch.pass_fds,
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    return proc, read_fd


def exit_note(code: int) -> str:
    if code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    return f"exit code {code}"


async def _wait_exit(proc: asyncio.subprocess.Process, timeout: float) -> int | None:
    """The exit code, or None after stopping the group at the timeout."""
    try:
        async with asyncio.timeout(timeout):
            return await proc.wait()
    except TimeoutError:
        await terminate_group(proc.pid)
        return None


async def run_foreground(args: BashArgs, ctx: ToolContext, limit: int = OUTPUT_LIMIT) -> ToolResult:
    """Run a command to its end, its timeout, or the caller's cancellation."""
    with shell_launch(args.command, ctx) as launch:
        proc, read_fd = await _spawn(launch, work_dir(args, ctx))
    output = OutputReader(read_fd)
    live = asyncio.create_task(output.stream(ctx.log))
    _running.add(proc.pid)
    try:
        code = await _wait_exit(proc, args.timeout)
    except asyncio.CancelledError:
        kill_group(proc.pid)
        await wait_gone(proc.pid, 1.0)
        raise
    finally:
        _running.discard(proc.pid)
        complete = await output.finished(EXIT_DRAIN_S)
        live.cancel()
        output.send_live(ctx.log, final=True)
    notes = [cap_output(output.summary(limit), limit) or "(no output)"]
    if code is None:
        notes.append(
            f"Command timed out after {args.timeout} s and was stopped. "
            "For long runs use run_in_background=true and poll with bash_output."
        )
        return ToolResult("\n\n".join(notes), is_error=True)
    if not complete:
        notes.append(
            "(processes it left running in the background still hold its output, which is "
            "not shown; start long-lived processes with run_in_background=true)"
        )
    if code != 0:
        notes.append(exit_note(code))
    if launch.supervisor is not None and launch.supervisor.refused:
        notes.append(refusal_note(launch.supervisor.refused))
    return ToolResult("\n\n".join(notes), is_error=code != 0, data={"exit_code": code})
