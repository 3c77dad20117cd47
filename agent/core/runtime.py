"""Assembling a ready Session from Settings: tools, history, logs."""

from __future__ import annotations

from pathlib import Path

from agent.config import Settings
from agent.core.session import Session
from agent.core.tools import create_builtin_tools
from agent.tools.router import ToolRouter


async def open_session(settings: Settings, cwd: Path | None = None) -> Session:
    """A Session with the built-in tools registered."""
    router = ToolRouter(create_builtin_tools())
    return Session(settings, router, cwd=cwd)
