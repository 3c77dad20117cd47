"""Commands run in the editor's terminal (`terminal/*`), when the editor offers it.

A foreground `bash` call, once approved, is started with `terminal/create`; its card
carries the terminal, so the editor shows the command running live. We wait with
`terminal/wait_for_exit`, kill it with `terminal/kill` at the timeout or when the turn
is cancelled, read what the model gets with `terminal/output`, and always end with
`terminal/release`.

What stays local (see agent/tools/local/terminal.py): everything with `--sandbox`, whose
confinement the editor's terminal would escape, and background jobs, which outlive the
call and feed the run watcher.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from acp.interfaces import Client
from acp.schema import ClientCapabilities, EnvVariable

from agent.acp.live import LiveSession
from agent.tools.spec import TerminalRun, ToolError

log = logging.getLogger(__name__)
RELEASE_S = 5.0  # an editor that does not answer a kill or a release does not hold the turn


class EditorTerminal:
    """The `CommandTerminal` of one ACP session."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live

    @property
    def client(self) -> Client:
        return self.live.client

    async def run(
        self,
        tool_call_id: str,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        timeout_s: float,
        output_bytes: int,
    ) -> TerminalRun:
        sid = self.live.id
        try:
            created = await self.client.create_terminal(
                session_id=sid,
                command=argv[0],
                args=argv[1:],
                env=[EnvVariable(name=k, value=v) for k, v in env.items()],
                cwd=str(cwd),
                output_byte_limit=output_bytes,
            )
        except Exception as exc:
            raise ToolError(
                f"the editor could not start the command in its terminal: {exc}"
            ) from None
        tid = created.terminal_id
        self.live.show_terminal(tool_call_id, tid)
        try:
            timed_out = False
            try:
                async with asyncio.timeout(timeout_s):
                    await self.client.wait_for_terminal_exit(session_id=sid, terminal_id=tid)
            except TimeoutError:
                timed_out = True
                await self._quietly(
                    "kill", self.client.kill_terminal(session_id=sid, terminal_id=tid)
                )
            except asyncio.CancelledError:
                await self._quietly(
                    "kill", self.client.kill_terminal(session_id=sid, terminal_id=tid)
                )
                raise
            out = await self.client.terminal_output(session_id=sid, terminal_id=tid)
        finally:
            await self._quietly(
                "release", self.client.release_terminal(session_id=sid, terminal_id=tid)
            )
        status = out.exit_status
        return TerminalRun(
            output=out.output,
            truncated=out.truncated,
            exit_code=status.exit_code if status else None,
            signal=status.signal if status else None,
            timed_out=timed_out,
        )

    async def _quietly(self, what: str, request: Coroutine[Any, Any, Any]) -> None:
        """Sent even while the turn is being cancelled (the request goes on beside it); a
        failure is logged, not raised."""
        task = self.live.spawn(request)
        try:
            await asyncio.wait_for(asyncio.shield(task), RELEASE_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("terminal %s failed: %s", what, exc)


def use_editor_terminal(live: LiveSession, caps: ClientCapabilities) -> None:
    """Run foreground commands in the editor's terminal when it offers `terminal/*`."""
    if caps.terminal:
        live.session.terminal = EditorTerminal(live)
