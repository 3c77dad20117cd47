"""The approval question: the whole call (and for write/edit the diff), then one key.

Shows exactly what will run, never a summary, and turns the key into the decision the
engine takes; saving an "always" answer to the project happens here too.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from prompt_toolkit import PromptSession
from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from agent.cli.prompts import choice_keys
from agent.cli.saved_approvals import project_config, save_always
from agent.cli.summary import first_line
from agent.cli.tool_output import DIFF_LINES, diff_lines, proposed_diff
from agent.core import events as ev
from agent.core import ops as op
from agent.core.session import Session

Ask = Callable[[PromptSession[str], str], Awaitable[str | None]]
CHOICES: dict[str, Literal["approve", "deny", "always"]] = {
    "y": "approve",
    "n": "deny",
    "a": "always",
    "s": "always",
    "f": "deny",
}


async def ask_approval(
    console: Console, session: Session, event: ev.ApprovalRequired, ask: Ask
) -> op.Approval | None:
    """The person's decision on the call, or None when they pressed Ctrl-C."""
    reason = f"  {event.reason}" if event.reason else ""
    console.print()
    console.print(Text(f"⚠ Approve {event.name}?{reason}", "yellow"))
    console.print(Padding(Text(call_details(event.arguments)), (0, 0, 0, 4)))
    if diff := proposed_diff(event.name, event.arguments, session.cwd):
        for line in diff_lines(diff, DIFF_LINES):
            console.print(Padding(line, (0, 0, 0, 4)), overflow="fold")
    scope = event.always_scope.replace("bash: ", ": ", 1).removeprefix("tool: ")
    savable = project_config(session.cwd) is not None
    question = (
        f"  [y]es  [n]o  [a]lways allow{'' if scope[:1] == ':' else ' '}{scope}"
        f"{'  [s]ave for the project' if savable else ''}  [f]eedback › "
    )
    choice = await ask(PromptSession(key_bindings=choice_keys(savable)), question)
    feedback: str | None = ""
    if choice == "f":
        feedback = await ask(PromptSession(), "  What should it do instead? ")
    if choice is None or feedback is None:
        return None
    if choice == "s":
        console.print(save_always(session, event.always_scope))
    return op.Approval(tool_call_id=event.tool_call_id, decision=CHOICES[choice], feedback=feedback)


def call_details(arguments: dict[str, Any], width: int = 200) -> str:
    """A command or path exactly as it is, then each other argument on a shortened line."""
    key = next((k for k in ("command", "path") if isinstance(arguments.get(k), str)), "")
    lines = [arguments[key]] if key else []
    for name, value in arguments.items():
        if name != key:
            lines.append(f"{name}={first_line(json.dumps(value, ensure_ascii=False), width)}")
    return "\n".join(lines)
