"""One tool call the way the loop makes one: Settings -> ToolContext -> ToolRouter.call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext, ToolResult, ToolSpec


def call_tool(
    tools: Iterable[ToolSpec] | ToolRouter,
    name: str,
    args: dict[str, Any] | str,
    *,
    cwd: Path,
    settings: Settings | None = None,
    state: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
    **setting_values: Any,
) -> ToolResult:
    """Run `name` with `args`; `setting_values` build the Settings when `settings` is not given."""
    router = tools if isinstance(tools, ToolRouter) else ToolRouter(list(tools))
    ctx = ToolContext(
        settings=settings if settings is not None else Settings(**setting_values),
        cwd=cwd,
        state=state if state is not None else {},
        log=log or (lambda line: None),
    )
    return asyncio.run(router.call(name, args, ctx))
