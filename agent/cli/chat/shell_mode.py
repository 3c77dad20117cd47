"""`!cmd` at the prompt: a command the person runs themselves, without the model.

It goes through the same `bash` tool the model uses, so `--sandbox` confines it as it
confines the model's commands (and after `sandbox_create` it runs in the remote sandbox),
and it shows like any tool call. As in Claude Code's bash mode the model hears of it:
the command and its output go in front of the person's next request, so "why did that
fail?" needs no copying.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import TYPE_CHECKING

from agent import events as ev

if TYPE_CHECKING:
    from agent.core.session import Session

_ids = itertools.count(1)


def is_shell(line: str) -> bool:
    return line.startswith("!") and bool(line[1:].strip())


async def run_shell(session: Session, command: str, stop: asyncio.Event) -> str | None:
    """Run `command` as the bash tool would; the note for the model, or None when Esc or
    Ctrl-C (`stop`) ended it first."""
    call_id, args = f"shell_{next(_ids)}", {"command": command}
    session.emit(ev.ToolCall(tool_call_id=call_id, name="bash", arguments=args))
    ctx = session.tool_context(call_id, "bash")
    result = await session.router.refusal("bash", args, ctx)
    if result is None:
        session.emit(ev.ToolStateChange(tool_call_id=call_id, name="bash", state="running"))
        task = asyncio.ensure_future(session.router.call("bash", args, ctx))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            session.output_so_far.pop(call_id, None)
            session.emit(ev.ToolStateChange(tool_call_id=call_id, name="bash", state="cancelled"))
            return None
        result = task.result()
    session.output_so_far.pop(call_id, None)
    session.emit(
        ev.ToolOutput(
            tool_call_id=call_id,
            name="bash",
            content=result.content,
            is_error=result.is_error,
            data=result.data,
        )
    )
    return f"I ran `{command}` myself; its output:\n{result.content.rstrip()}"
