"""The approval question: the whole call (and for write/edit the diff), then one key.

Shows exactly what will run, never a summary, and turns the key into the decision the
engine takes; saving an "always" answer to the project happens here too. Nothing in
the call can hide part of it: runs of blank lines or spaces are folded into a line that
counts them, invisible and direction-changing characters are spelled out, and the
reason is part of the question itself, on the row above the options, however long the
command.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from prompt_toolkit import PromptSession
from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from agent import events as ev
from agent.cli.chat.always_allow import project_config, save_always
from agent.cli.chat.input_prompts import choice_keys
from agent.cli.chat.tool_output import DIFF_LINES, diff_lines, proposed_diff
from agent.cli.summary import first_line
from agent.cli.visible import quoted
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
_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){2,}")  # two or more blank lines
_SPACE_RUN = re.compile(r"[ \t]{40,}")


async def ask_approval(
    console: Console, session: Session, event: ev.ApprovalRequired, ask: Ask
) -> op.Approval | None:
    """The person's decision on the call, or None when they pressed Ctrl-C."""
    console.print()
    console.print(Text(f"⚠ Approve {event.name}?", "yellow"))
    console.print(Padding(Text(shown(call_details(event.arguments))), (0, 0, 0, 4)))
    if diff := proposed_diff(event.name, event.arguments, session.cwd):
        for line in diff_lines(diff, DIFF_LINES):
            console.print(Padding(line, (0, 0, 0, 4)), overflow="fold")
    scope = shown(event.always_scope.replace("bash: ", ": ", 1).removeprefix("tool: "))
    savable = bool(scope) and project_config(session.cwd) is not None
    options = ["[y]es", "[n]o"]
    if scope:  # none is offered where no scope would mean only what this call does
        options.append(f"[a]lways allow{'' if scope[:1] == ':' else ' '}{scope}")
    if savable:
        options.append("[s]ave for the project")
    why = f"  ⚠ {shown(event.reason)}\n" if event.reason else ""  # drawn with the options
    question = f"{why}  {'  '.join(options)}  [f]eedback › "
    choice = await ask(PromptSession(key_bindings=choice_keys(bool(scope), savable)), question)
    feedback: str | None = ""
    if choice == "f":
        feedback = await ask(PromptSession(), "  What should it do instead? ")
    if choice is None or feedback is None:
        return None
    if choice == "s":
        console.print(save_always(session, event.always_scope))
    return op.Approval(tool_call_id=event.tool_call_id, decision=CHOICES[choice], feedback=feedback)


def shown(text: str) -> str:
    """`text` as the question shows it: runs of blank lines and of spaces folded into a
    count, and every character that is not printable but a newline or tab spelled out
    (`\\u202e`), so nothing in a command is pushed off the screen or shown reordered."""
    text = quoted(text, keep="\n\t")
    text = _BLANK_RUN.sub(lambda m: f"\n… {m[0].count(chr(10)) - 1} blank lines …\n", text)
    return _SPACE_RUN.sub(lambda m: f" … {len(m[0])} spaces … ", text)


def call_details(arguments: dict[str, Any], width: int = 200) -> str:
    """A command or path exactly as it is, then each other argument on a shortened line."""
    key = next((k for k in ("command", "path") if isinstance(arguments.get(k), str)), "")
    lines = [arguments[key]] if key else []
    for name, value in arguments.items():
        if name != key:
            lines.append(f"{name}={first_line(json.dumps(value, ensure_ascii=False), width)}")
    return "\n".join(lines)
