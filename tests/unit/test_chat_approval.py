"""The chat hears of an approval question even when drawing it fails."""

from __future__ import annotations

import asyncio
import io

from agent import events as ev
from agent.cli.chat.interactive import Chat
from agent.cli.chat.render import make_console
from agent.config import Settings
from agent.core.session import Session
from agent.tools.router import ToolRouter


def test_an_approval_reaches_the_chat_even_when_drawing_it_fails():
    async def main() -> ev.Event | None:
        session = Session(Settings(model_name="openai/test"), ToolRouter([]))
        chat = Chat(session, make_console(io.StringIO()))

        def broken(event: ev.Event) -> None:
            raise RuntimeError("the terminal went away")

        chat.renderer._handlers["approval_required"] = broken
        asked = ev.ApprovalRequired(
            tool_call_id="c1", name="bash", arguments={"command": "rm x"}, reason="deletes"
        )
        session.emit(asked)
        try:
            return await asyncio.wait_for(chat._next_event(idle_ends=False), timeout=5)
        finally:
            await chat._detach()

    received = asyncio.run(main())
    assert isinstance(received, ev.ApprovalRequired)
    assert received.tool_call_id == "c1"  # the question is asked: the turn does not wait forever
