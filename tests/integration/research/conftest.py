"""The research tools run through the router against loopback fakes of their services."""

from __future__ import annotations

import pytest

from agent.tools.sources.research_tools import research_tools
from agent.tools.spec import ToolResult
from tests.fakes.research_servers import ResearchFakes
from tests.tools import call_tool


@pytest.fixture
def fakes():
    with ResearchFakes() as running:
        yield running


@pytest.fixture
def call(fakes, tmp_path):
    """call(tool_name, args, **settings) -> ToolResult, with every URL on the fakes."""

    def run(name: str, args: dict, **settings) -> ToolResult:
        urls = fakes.settings_kwargs()
        return call_tool(research_tools(), name, args, cwd=tmp_path, **urls, **settings)

    return run
