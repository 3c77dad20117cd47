"""Which of our tools an MCP client gets, and how each is described to it.

The Hub, docs, datasets, papers, GitHub, web and jobs tools are served. Local tools (bash,
read, write, edit, background processes), the plan and the research sub-agent are not: the
client has its own, and they act on a working copy and a model this server does not own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.tools.spec import ToolSpec

if TYPE_CHECKING:
    import mcp.types as mcp_types


def served_tools() -> list[ToolSpec]:
    """Every tool this server offers, in the order the chat offers them to the model."""
    from agent.tools.hub.hub_tools import hub_tools
    from agent.tools.jobs.tool import hf_jobs_tools
    from agent.tools.sources.research_tools import research_tools

    return [*hub_tools(), *research_tools(), *hf_jobs_tools()]


def as_mcp_tool(spec: ToolSpec) -> mcp_types.Tool:
    """The MCP listing of a tool: its name, description and JSON schema as our model sees
    them, with hints that let the client decide what to ask its user about."""
    import mcp.types as mcp_types

    spends = spec.estimate_spend is not None
    changes = spec.needs_approval is not None
    return mcp_types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=spec.parameters,
        annotations=mcp_types.ToolAnnotations(
            read_only_hint=spec.read_only,
            destructive_hint=None if spec.read_only else (spends or changes),
            open_world_hint=True,
        ),
    )
