"""The `hooks` settings block, in Claude Code's schema, so their settings files and plugins'
`hooks/hooks.json` are read unchanged.

`{"PreToolUse": [{"matcher": "Bash|Edit", "hooks": [{"type": "command", "command": "...",
"timeout": 60}]}]}`: event name -> matcher groups -> commands. Unknown keys are kept (their
schema grows); only the shape this agent relies on is checked, so a mistake names its field.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HookCommand(BaseModel):
    """One handler. Only `type: command` runs here; other types are listed and skipped."""

    model_config = ConfigDict(extra="allow")

    type: str = "command"
    command: str = ""
    timeout: float | None = Field(default=None, gt=0, allow_inf_nan=False)  # seconds


class HookGroup(BaseModel):
    """The handlers that run when `matcher` matches (empty or `*`: always)."""

    model_config = ConfigDict(extra="allow")

    matcher: str = ""
    hooks: list[HookCommand] = []


HooksBlock = dict[str, list[HookGroup]]
