"""The `skill` tool: the model loads an installed skill's instructions when it needs them.

The system prompt lists only names and descriptions (progressive disclosure); this tool
returns the body and the paths of the skill's files. It reads and runs nothing: scripts
are run, if at all, through `bash`, with its approvals and sandbox.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.extensions.skills import Catalog, loaded_text
from agent.tools.spec import ToolContext, ToolError, ToolSpec

DESCRIPTION = """\
Load the instructions of an installed skill (the system prompt lists them under Skills). \
Returns the skill's instructions, its folder and the absolute paths of its bundled files \
(scripts, references, assets), which you can then read or run.
"""


class SkillArgs(BaseModel):
    name: str = Field(description="The skill's name, as listed under Skills.")


def skill_tool(catalog: Catalog) -> ToolSpec:
    """The tool over the skills found at launch (the same ones the system prompt lists)."""

    async def load_skill(args: SkillArgs, ctx: ToolContext) -> str:
        skill = catalog.get(args.name.strip().lstrip("/"))
        if skill is None:
            names = ", ".join(sorted(catalog.skills)) or "none are installed"
            raise ToolError(f"no skill named {args.name!r}; the skills are: {names}")
        return loaded_text(skill)

    return ToolSpec(
        "skill", DESCRIPTION, load_skill, args_model=SkillArgs, read_only=True, timeout_s=30
    )


def skill_tools(catalog: Catalog) -> list[ToolSpec]:
    """The `skill` tool when any skill is installed: without skills it would only cost
    tokens on every request."""
    return [skill_tool(catalog)] if catalog.skills else []
