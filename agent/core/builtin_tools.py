"""The built-in tools: the one list the router registers.

To add a tool, write a `ToolSpec` (name, description, JSON-schema parameters and an
async handler `(args, ctx) -> ToolResult | str`) and append it in
`create_builtin_tools`. Nothing else needs editing.
"""

from __future__ import annotations

from agent.core.subagent import research_tool
from agent.tools.hub.hub_tools import hub_tools
from agent.tools.jobs.tool import hf_jobs_tools
from agent.tools.local.local_tools import local_tools
from agent.tools.monitor import run_tools
from agent.tools.plan import plan_tools
from agent.tools.sources.research_tools import research_tools
from agent.tools.spec import ToolSpec


def create_builtin_tools() -> list[ToolSpec]:
    """Every built-in tool, in the order the model sees them."""
    return [
        *local_tools(),
        *hub_tools(),
        *research_tools(),
        *hf_jobs_tools(),
        *plan_tools(),
        *run_tools(),
        research_tool(),
    ]
