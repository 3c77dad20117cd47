"""A scripted editor: the official ACP SDK's client side, recording what the agent sends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from acp.schema import (
    AllowedOutcome,
    CreateTerminalResponse,
    DeniedOutcome,
    ReadTextFileResponse,
    RequestPermissionResponse,
    TerminalExitStatus,
    TerminalOutputResponse,
    WaitForTerminalExitResponse,
    WriteTextFileResponse,
)

DEADLINE_S = 90


class Editor:
    """Answers permission requests from a list of option ids; keeps every update;
    holds an in-memory buffer per path for the fs methods."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.answers = list(answers or [])
        self.updates: list[tuple[str, Any]] = []
        self.permission_requests: list[Any] = []
        self.buffers: dict[str, str] = {}
        self.written: dict[str, str] = {}
        self.reads: list[str] = []
        self._changed = asyncio.Event()
        self.released = asyncio.Event()
        self.terminals: dict[str, Terminal] = {}
        self.terminal_calls: list[tuple[str, str]] = []  # (method, terminal id) in order

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append((session_id, update))
        self._changed.set()

    async def request_permission(
        self, session_id: str, tool_call: Any, options: list[Any], **kwargs: Any
    ) -> RequestPermissionResponse:
        self.permission_requests.append((tool_call, options))
        self._changed.set()
        answer = self.answers.pop(0) if self.answers else "cancelled"
        if answer == "hold":  # no answer until the test cancels the turn, as a person might
            await self.released.wait()
            answer = "cancelled"
        if answer == "cancelled":
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=answer)
        )

    async def read_text_file(
        self, session_id: str, path: str, **kwargs: Any
    ) -> ReadTextFileResponse:
        self.reads.append(path)
        return ReadTextFileResponse(content=self.buffers[path])

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse:
        self.written[path] = content
        return WriteTextFileResponse()

    async def create_terminal(
        self,
        session_id: str,
        command: str,
        args: list[str] | None = None,
        env: list[Any] | None = None,
        cwd: str | None = None,
        output_byte_limit: int | None = None,
        **kwargs: Any,
    ) -> CreateTerminalResponse:
        tid = f"term-{len(self.terminals) + 1}"
        variables = {**os.environ, **{e.name: e.value for e in env or []}}
        proc = await asyncio.create_subprocess_exec(
            command,
            *(args or []),
            cwd=cwd,
            env=variables,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        self.terminals[tid] = Terminal(proc, output_byte_limit, command, args or [], env or [])
        self.terminal_calls.append(("create", tid))
        self._changed.set()
        return CreateTerminalResponse(terminal_id=tid)

    async def wait_for_terminal_exit(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> WaitForTerminalExitResponse:
        self.terminal_calls.append(("wait_for_exit", terminal_id))
        status = await self.terminals[terminal_id].exited()
        return WaitForTerminalExitResponse(exit_code=status.exit_code, signal=status.signal)

    async def terminal_output(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> TerminalOutputResponse:
        self.terminal_calls.append(("output", terminal_id))
        return self.terminals[terminal_id].output()

    async def kill_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        self.terminal_calls.append(("kill", terminal_id))
        await self.terminals[terminal_id].kill()

    async def release_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        self.terminal_calls.append(("release", terminal_id))
        await self.terminals[terminal_id].kill()
        self._changed.set()

    def on_connect(self, conn: Any) -> None:
        pass

    def kinds(self) -> list[str]:
        return [u.session_update for _, u in self.updates]

    def of(self, kind: str) -> list[Any]:
        return [u for _, u in self.updates if u.session_update == kind]

    def text(self, kind: str = "agent_message_chunk") -> str:
        return "".join(u.content.text for u in self.of(kind))

    async def wait_for(self, check: Callable[[], Any]) -> Any:
        """Wait until `check()` is truthy, up to the deadline."""
        async with asyncio.timeout(DEADLINE_S):
            while not (found := check()):
                self._changed.clear()
                await self._changed.wait()
        return found


def agent_command() -> tuple[str, ...]:
    return (sys.executable, "-m", "agent", "acp")


def agent_env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


class Terminal:
    """A command the editor really runs, its output kept within the agent's byte limit
    (the oldest bytes dropped first, as the protocol asks)."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        limit: int | None,
        command: str,
        args: list[str],
        env: list[Any],
    ) -> None:
        self.proc, self.limit = proc, limit
        self.command, self.args, self.env = command, args, {e.name: e.value for e in env}
        self.data = b""
        self.truncated = False
        self._reading = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := await self.proc.stdout.read(65536):
            self.data += chunk
            if self.limit is not None and len(self.data) > self.limit:
                self.data, self.truncated = self.data[-self.limit :], True

    async def exited(self) -> TerminalExitStatus:
        code = await self.proc.wait()
        await self._reading
        if code < 0:
            return TerminalExitStatus(signal=signal.Signals(-code).name)
        return TerminalExitStatus(exit_code=code)

    def output(self) -> TerminalOutputResponse:
        code = self.proc.returncode
        status = None
        if code is not None:
            status = TerminalExitStatus(
                exit_code=code if code >= 0 else None,
                signal=signal.Signals(-code).name if code < 0 else None,
            )
        text = self.data.decode(errors="replace")
        return TerminalOutputResponse(output=text, truncated=self.truncated, exit_status=status)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()
        await self._reading
