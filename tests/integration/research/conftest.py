"""The research tools run through the router against loopback fakes of their services."""

from __future__ import annotations

import asyncio

import pytest

from agent.config import Settings
from agent.tools.router import ToolRouter
from agent.tools.sources.tools import research_tools
from agent.tools.spec import ToolContext, ToolResult
from tests.fakes.research_servers import ResearchFakes


@pytest.fixture
def fakes():
    with ResearchFakes() as running:
        yield running


@pytest.fixture
def call(fakes, tmp_path):
    """call(tool_name, args, **settings) -> ToolResult, with every URL on the fakes."""

    def run(name: str, args: dict, **settings) -> ToolResult:
        ctx = ToolContext(settings=Settings(**fakes.settings_kwargs(), **settings), cwd=tmp_path)
        return asyncio.run(ToolRouter(research_tools()).call(name, args, ctx))

    return run
