"""One-line summaries of tool calls, shared by every front end."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from agent.cli.visible import visible

if TYPE_CHECKING:
    from agent import events as ev

# The argument that says the most about a call, per tool.
_KEY_ARGUMENT = {
    "bash": "command",
    "read": "path",
    "write": "path",
    "edit": "path",
}


def first_line(text: str, width: int = 120) -> str:
    """The first line, control characters spelled out: a `\r` or an escape code in a
    command must not hide the rest of it."""
    line = visible(text.strip().split("\n", 1)[0])
    return line if len(line) <= width else line[: width - 1] + "…"


def summarize_call(name: str, arguments: dict[str, Any] | str, width: int = 100) -> str:
    """`bash: ls -la`, `read: src/train.py`, or the arguments as compact JSON."""
    if isinstance(arguments, str):
        return f"{name}: {first_line(arguments, width)}"
    key = _KEY_ARGUMENT.get(name)
    if key and isinstance(arguments.get(key), str):
        detail = arguments[key]
    else:
        detail = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
    return f"{name}: {first_line(detail, width)}"


HOOK_COMMAND_SHOWN = 40


def hook_line(event: ev.HookRun) -> str:
    """One line for a hook that blocked, stopped or failed (nothing for the others): its
    event, its command and its reason."""
    reason = " ".join(event.reason.split())
    command = " ".join(event.command.split())
    if len(command) > HOOK_COMMAND_SHOWN:  # the end names the script
        command = "…" + command[-HOOK_COMMAND_SHOWN + 1 :]
    if event.decision in ("block", "deny"):
        return f"⊘ {event.event} hook `{command}` blocked it: {reason}"
    if event.decision == "stop":
        return f"⊘ {event.event} hook `{command}` stopped the agent: {reason}"
    if event.decision == "error":
        return f"⚠ {event.event} hook `{command}` {reason}"
    return ""
