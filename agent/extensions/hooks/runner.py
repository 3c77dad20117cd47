"""Running hook commands: in parallel, each in its own process group, bounded in time
and output.

A hook is the user's own command (like their config), run with the shell outside the
sandbox, the event's JSON on stdin. It is killed with its whole process group when it
passes its timeout or when the turn is cancelled (Ctrl-C); output past `OUTPUT_MAX` bytes
is read and dropped, so a flood never stalls the hook or fills memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from agent.extensions.hooks.catalog import Hook

OUTPUT_MAX = 64 * 1024  # per stream: decisions and reasons are short
_CHUNK = 64 * 1024


@dataclass
class Run:
    """What one hook did."""

    hook: Hook
    exit_code: int | None  # None: it did not finish (timed out, or could not start)
    stdout: str
    stderr: str
    duration_ms: int
    timed_out: bool = False
    failed_to_start: str = ""


async def run_all(hooks: list[Hook], payload: bytes, env: dict[str, str], cwd: Path) -> list[Run]:
    """Every hook at once; the results in the order of `hooks`."""
    return list(await asyncio.gather(*(run_one(hook, payload, env, cwd) for hook in hooks)))


async def run_one(hook: Hook, payload: bytes, env: dict[str, str], cwd: Path) -> Run:
    started = time.monotonic()
    own_env = dict(env)
    if hook.plugin_root is not None:
        own_env["CLAUDE_PLUGIN_ROOT"] = str(hook.plugin_root)
    try:
        process = await asyncio.create_subprocess_shell(
            hook.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=own_env,
            start_new_session=True,  # its own process group, killed as one
        )
    except OSError as exc:
        return Run(hook, None, "", "", _ms(started), failed_to_start=str(exc))
    assert process.stdout is not None and process.stderr is not None
    out, err = _Bounded(), _Bounded()
    readers = [
        asyncio.ensure_future(out.drain(process.stdout)),
        asyncio.ensure_future(err.drain(process.stderr)),
    ]
    timed_out, finished = False, False
    try:
        async with asyncio.timeout(hook.timeout_s):
            await _feed(process, payload)
            await asyncio.gather(*readers)
            await process.wait()
            finished = True
    except TimeoutError:
        timed_out = True
    finally:
        if not finished:  # timed out or cancelled: the command and all it started
            _kill_group(process.pid)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await asyncio.shield(process.wait())
        for reader in readers:
            reader.cancel()
    code = None if timed_out else process.returncode
    return Run(hook, code, out.text(), err.text(), _ms(started), timed_out=timed_out)


async def _feed(process: asyncio.subprocess.Process, payload: bytes) -> None:
    """The event on stdin; a hook that never reads it is fine."""
    assert process.stdin is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        process.stdin.write(payload)
        await process.stdin.drain()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        process.stdin.close()


class _Bounded:
    """The first `OUTPUT_MAX` bytes of a stream; the rest is read and dropped."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.dropped = 0

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(_CHUNK):
            room = OUTPUT_MAX - len(self.data)
            self.data += chunk[:room]
            self.dropped += max(0, len(chunk) - room)

    def text(self) -> str:
        text = self.data.decode("utf-8", errors="replace")
        return text + (f"\n[{self.dropped} more bytes dropped]" if self.dropped else "")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
