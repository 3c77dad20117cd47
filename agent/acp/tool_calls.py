"""How a tool call looks in the editor: kind, title, locations and content.

The editor shows each call as a card; `kind` picks its icon, `locations` let the
person jump to the file (and line), and write/edit calls carry the change as a diff
the editor renders itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from acp.schema import (
    ContentToolCallContent,
    FileEditToolCallContent,
    TextContentBlock,
    ToolCallLocation,
)

KINDS = {
    "read": "read",
    "write": "edit",
    "edit": "edit",
    "bash": "execute",
    "bash_output": "read",
    "kill_background": "execute",
    "plan_tool": "think",
    "plan": "think",
}
SEARCHES = ("search", "find", "list", "grep")
FETCHES = ("hf_", "hub", "dataset", "paper", "docs", "github", "fetch", "web")
TITLE_CHARS = 120


def kind_of(name: str) -> str:
    """The ACP tool kind for one of our tools (or an MCP tool, by its name)."""
    if name in KINDS:
        return KINDS[name]
    lowered = name.lower()
    if any(word in lowered for word in SEARCHES):
        return "search"
    if any(word in lowered for word in FETCHES):
        return "fetch"
    return "other"


def title_of(name: str, args: dict[str, Any] | str) -> str:
    """One line saying what the call does: the command, the path, or the tool and its arguments."""
    if name in ("plan_tool", "plan"):
        return "Update the plan"
    if isinstance(args, dict):
        if name == "bash" and isinstance(args.get("command"), str):
            return _short(args["command"])
        if isinstance(args.get("path"), str):
            verb = {"read": "Read", "write": "Write", "edit": "Edit"}.get(name, name)
            return _short(f"{verb} {args['path']}")
        shown = json.dumps(args, ensure_ascii=False) if args else ""
        return _short(f"{name} {shown}".strip())
    return _short(name)


def _short(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def locations_of(args: dict[str, Any] | str, cwd: Path) -> list[ToolCallLocation] | None:
    """The file a call works on, absolute, with the line a read starts at."""
    if not isinstance(args, dict) or not isinstance(args.get("path"), str):
        return None
    line = args.get("offset") if isinstance(args.get("offset"), int) else None
    return [ToolCallLocation(path=str(absolute(args["path"], cwd)), line=line)]


def absolute(path: str, cwd: Path) -> Path:
    given = Path(path).expanduser()
    return given if given.is_absolute() else cwd / given


def proposed_change(
    name: str, args: dict[str, Any] | str, cwd: Path, current: str | None
) -> FileEditToolCallContent | None:
    """The diff a write or edit will make, from the file as it is now (`current`, None
    when it does not exist); None when the call is not a file change or cannot apply."""
    if not isinstance(args, dict) or not isinstance(args.get("path"), str):
        return None
    path = str(absolute(args["path"], cwd))
    if name == "write" and isinstance(args.get("content"), str):
        return FileEditToolCallContent(
            type="diff", path=path, old_text=current, new_text=args["content"]
        )
    if name != "edit" or current is None:
        return None
    old, new = args.get("old_str"), args.get("new_str")
    if not isinstance(old, str) or not isinstance(new, str) or not old or old not in current:
        return None
    mode = args.get("mode", "replace")
    replacement = {"append_after": old + new, "prepend_before": new + old}.get(mode, new)
    count = -1 if args.get("replace_all") else 1
    changed = current.replace(old, replacement, count)
    return FileEditToolCallContent(type="diff", path=path, old_text=current, new_text=changed)


def text_content(text: str) -> ContentToolCallContent:
    return ContentToolCallContent(type="content", content=TextContentBlock(type="text", text=text))


def fenced(text: str) -> str:
    """Tool output as a code block the editor shows verbatim, whatever backticks it holds."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}\n{text.rstrip()}\n{fence}"
