"""The chat's slash commands that make sense in an editor, run from a prompt's `/name args`.

They are the chat's own implementations (agent/cli/slash/): what they print goes to a
console kept in memory and reaches the editor as one message; what they change goes to
the engine through the same operations. Offered: /status, /cost, /context, /compact,
/effort, /budget, /goal, /runs, /monitors, /plan, /tools, /skills, /memory, /hooks,
/plugins. Left out, with the protocol's way instead: /model (the model picker and
`session/set_model`), /new and /clear (`session/new`), /resume (`session/load`), /yolo
(the session modes), /help (the editor lists the commands). Left out as well: /undo (the
editor cannot take back what it already shows), /copy (the editor copies), /transcript
(a terminal pager), /mcp (it asks questions on the terminal), /quit.
"""

from __future__ import annotations

import importlib
import io
from typing import TYPE_CHECKING, Any

from acp import RequestError

from agent.acp import tool_calls as tc
from agent.acp.live import LiveSession, TurnEnd
from agent.core import ops as op

if TYPE_CHECKING:
    from agent.cli.slash.commands import Command

OFFERED = (
    "status",
    "cost",
    "context",
    "compact",
    "effort",
    "budget",
    "goal",
    "runs",
    "monitors",
    "plan",
    "tools",
    "skills",
    "memory",
    "hooks",
    "plugins",
)
MODULES = ("cost", "settings", "goal", "runs", "skills", "memory", "hooks", "plugins")
WIDTH = 100


def commands() -> dict[str, Command]:
    """The offered commands, from the chat's table."""
    for name in MODULES:
        importlib.import_module(f"agent.cli.slash.{name}")
    from agent.cli.slash.commands import COMMANDS

    return {name: COMMANDS[name] for name in OFFERED if name in COMMANDS}


def wanted(text: str) -> Command | None:
    """The offered command a prompt starts with, if any."""
    word = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    if not word.startswith("/"):
        return None
    return commands().get(word[1:].lower())


class EditorChat:
    """The `ChatContext` the chat's commands get: a console in memory, the engine through
    the session's operations, no person to ask on a terminal."""

    def __init__(self, live: LiveSession) -> None:
        from rich.console import Console

        self.live = live
        self.session = live.session
        self.out = io.StringIO()
        self.console = Console(
            file=self.out, width=WIDTH, color_system=None, force_terminal=False, highlight=False
        )
        self.unsent = ""
        self.end = TurnEnd()

    async def perform(
        self, operation: op.Operation, until: tuple[str, ...], busy: str = ""
    ) -> bool:
        await self.live.perform(operation, until)
        return True

    def quit(self) -> None:
        """Not offered: the editor ends the session."""

    async def switch_session(self, resume: str | None) -> None:
        raise RequestError.invalid_request({"message": "use the editor's session list"})

    async def ask(self, message: str) -> str | None:
        return None  # as if the person pressed Ctrl-C: the command keeps things as they are

    async def request(self, text: str, goal: str | None = None) -> None:
        operation: Any = op.UserInput(text=text) if goal is None else None
        if goal is not None:
            operation = op.SetGoal(condition=goal, request=text)
        self.live.commanding = False  # the turn is the prompt's now
        self.end = await self.live.run_turn(operation)


async def run(live: LiveSession, command: Command, text: str) -> TurnEnd:
    """Run one command; what it printed goes to the editor as a message."""
    live.claim()
    chat = EditorChat(live)
    live.commanding = True
    try:
        _, _, arg = text.strip().partition(" ")
        await command.handler(chat, arg.strip())
    finally:
        live.commanding = False
    shown = chat.out.getvalue().rstrip()
    if shown:
        await live.say(tc.fenced(shown) + "\n")
    return chat.end
