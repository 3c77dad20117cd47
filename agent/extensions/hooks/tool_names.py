"""Tools as Claude Code names them, so a hook written for it matches and reads ours.

`bash` is `Bash`, `read` `Read`, `write` `Write`, `edit` `Edit`, `fetch_url` `WebFetch`,
`web_search` `WebSearch`; MCP tools are `mcp__server__tool` in both. `tool_input` uses
their field names (`file_path`, `old_string`, `new_string`; a Bash `timeout` in
milliseconds, a `file_path` absolute); our other tools keep their own names and fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CLAUDE_NAMES = {
    "bash": "Bash",
    "read": "Read",
    "write": "Write",
    "edit": "Edit",
    "fetch_url": "WebFetch",
    "web_search": "WebSearch",
}
_FIELDS = {"path": "file_path", "old_str": "old_string", "new_str": "new_string"}
_OURS = {theirs: ours for ours, theirs in _FIELDS.items()}


def names(tool: str) -> tuple[str, ...]:
    """Every name a matcher may use for `tool`: Claude Code's first, then ours."""
    claude = CLAUDE_NAMES.get(tool)
    return (claude, tool) if claude else (tool,)


def claude_input(tool: str, args: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """Our arguments under Claude Code's field names; `file_path` absolute, as theirs is."""
    if tool not in CLAUDE_NAMES:
        return dict(args)
    out = {_FIELDS.get(key, key): value for key, value in args.items()}
    if isinstance(out.get("file_path"), str):
        out["file_path"] = str(cwd / Path(out["file_path"]).expanduser())
    if tool == "bash" and isinstance(out.get("timeout"), int | float):
        out["timeout"] = int(out["timeout"] * 1000)
    return out


def our_input(tool: str, updated: dict[str, Any]) -> dict[str, Any]:
    """A hook's `updatedInput` back under our field names (either spelling is taken)."""
    if tool not in CLAUDE_NAMES:
        return dict(updated)
    out = {_OURS.get(key, key): value for key, value in updated.items()}
    if tool == "bash" and isinstance(out.get("timeout"), int | float):
        out["timeout"] = max(1, round(out["timeout"] / 1000))
    return out


def claude_response(
    tool: str, args: dict[str, Any], content: str, is_error: bool
) -> dict[str, Any]:
    """`tool_response`: the text the model got, plus the fields Claude Code's scripts read
    for its own tools (Bash `stdout`, Write/Edit `filePath`/`success`)."""
    response: dict[str, Any] = {"content": content, "is_error": is_error}
    if tool == "bash":
        response.update(stdout=content, stderr="", interrupted=False)
    elif tool in ("write", "edit"):
        response.update(filePath=args.get("path"), success=not is_error)
    return response
