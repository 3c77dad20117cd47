"""/copy: the last answer to the clipboard.

The terminal's own clipboard escape (OSC 52) reaches the clipboard of the machine the
person sits at, also over SSH; a local clipboard tool (wl-copy, xclip, xsel, pbcopy)
is used as well when one is there, for terminals that ignore the escape.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys

from rich.text import Text

from agent.cli.slash.commands import ChatContext, Command, register
from agent.wording import counted

LOCAL_TOOLS = (
    ("WAYLAND_DISPLAY", ["wl-copy"]),
    ("DISPLAY", ["xclip", "-selection", "clipboard"]),
    ("DISPLAY", ["xsel", "--clipboard", "--input"]),
    ("", ["pbcopy"]),
)
TOOL_TIMEOUT_S = 3


def osc52(text: str) -> str:
    """The escape that asks the terminal to put `text` on the system clipboard."""
    return "\x1b]52;c;" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "\x07"


def last_answer(messages: list[dict]) -> str:
    """The text of the model's last answer with words in it (not a bare tool call)."""
    for message in reversed(messages):
        content = message.get("content")
        if message["role"] == "assistant" and isinstance(content, str) and content.strip():
            return content
    return ""


def _local_copy(text: str) -> str | None:
    """The name of the local clipboard tool that took `text`, if any did."""
    for needs, command in LOCAL_TOOLS:
        if (needs and not os.environ.get(needs)) or not shutil.which(command[0]):
            continue
        try:
            done = subprocess.run(
                command, input=text.encode(), timeout=TOOL_TIMEOUT_S, capture_output=True
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return command[0]
    return None


async def _copy(ctx: ChatContext, arg: str) -> None:
    text = last_answer(ctx.session.context.messages)
    if not text:
        ctx.console.print(Text("No answer to copy yet.", "yellow"))
        return
    out = sys.__stdout__
    if out is not None and out.isatty():
        out.write(osc52(text))
        out.flush()
    tool = _local_copy(text)
    how = f"the terminal (OSC 52){' and ' + tool if tool else ''}"
    ctx.console.print(
        Text(f"· copied the last answer ({counted(len(text), 'character')}) via {how}", "dim")
    )


register(Command("copy", "copy the last answer to the clipboard", _copy))
