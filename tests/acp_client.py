"""A scripted editor: the official ACP SDK's client side, recording what the agent sends."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any

from acp.schema import (
    AllowedOutcome,
    DeniedOutcome,
    ReadTextFileResponse,
    RequestPermissionResponse,
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
