"""A saved conversation drawn as the chat drew it: requests, answers, tool calls.

Resuming shows the last few turns (tool calls as their header lines only) under a
count of the earlier ones; `/transcript` shows every turn with tool output in full.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.text import Text

from agent.cli.chat.markdown_view import markdown_block
from agent.cli.chat.tool_output import numbered, output_lines
from agent.cli.summary import summarize_call
from agent.context.manager import is_person_turn
from agent.context.resume import message_text
from agent.core.mentions import typed_text
from agent.tools.router import read_arguments

Message = dict[str, Any]
REPLAYED_TURNS = 3


def person_turns(messages: list[Message]) -> list[list[Message]]:
    """The history cut at each request the person wrote; what came before the first is dropped."""
    turns: list[list[Message]] = []
    for message in messages:
        if is_person_turn(message):
            turns.append([message])
        elif turns and message.get("role") != "system":
            turns[-1].append(message)
    return turns


def replay(console: Console, messages: list[Message], last: int | None = REPLAYED_TURNS) -> None:
    """Print the last `last` turns (all when None); tool output only when printing all."""
    turns = person_turns(messages)
    shown = turns if last is None else turns[-last:] if last else []
    earlier = len(turns) - len(shown)
    if earlier:
        noun = "turn" if earlier == 1 else "turns"
        console.print(Text(f"· {earlier} earlier {noun} (/transcript shows all)", "dim"))
    for turn in shown:
        for message in turn:
            _message(console, message, full=last is None)


def _message(console: Console, message: Message, full: bool) -> None:
    from agent.cli.chat.render import Trimmed

    role = message.get("role")
    text = message_text(message).strip()
    if role == "user":
        text = typed_text(message.get("content")).strip()
        console.print()
        console.print(Text.assemble(("› ", "bold cyan"), (text, "bold")))
    elif role == "assistant":
        if text:
            console.print(Group(Text(), Trimmed(markdown_block(text))))
        for call in message.get("tool_calls") or []:
            console.print()
            console.print(_call_header(call, console.width), no_wrap=True, overflow="ellipsis")
    elif role == "tool" and full:
        for line in numbered(output_lines(text, False, None, full=True)):
            console.print(line, overflow="fold")


def _call_header(call: dict[str, Any], width: int) -> Text:
    function = call.get("function") or {}
    raw = function.get("arguments") or ""
    try:
        arguments: dict[str, Any] | str = read_arguments(raw) if raw else {}
    except ValueError:
        arguments = raw
    if not isinstance(arguments, dict | str):
        arguments = raw
    summary = summarize_call(function.get("name", "?"), arguments, width=max(20, width))
    name, _, detail = summary.partition(": ")
    return Text.assemble(("● ", "cyan"), (name, "bold"), f": {detail}" if detail else "")
