"""/skills: the skills this chat found, where each comes from and whether it counts.

A skill itself is typed as `/<name> [text]` (see `slash.dispatch`): the request loads it.
"""

from __future__ import annotations

from rich.text import Text

from agent.cli.slash.commands import ChatContext, Command, print_rows, register


async def _skills(ctx: ChatContext, arg: str) -> None:
    catalog = ctx.session.skills
    if not catalog.skills:
        ctx.console.print(
            Text(
                "No skills. Put a folder with a SKILL.md in ~/.agents/skills/ (or .agents/skills/ "
                "in a trusted project), or run `ml-intern skills add SOURCE`.",
                "dim",
            )
        )
        return
    rows = [
        (f"/{s.name}", f"{s.description} [{s.source}: {s.folder}]") for s in catalog.skills.values()
    ]
    rows += [(f"/{s.name}", f"overridden [{s.source}: {s.folder}]") for s in catalog.shadowed]
    print_rows(ctx, rows)
    ctx.console.print(Text("  /<name> [text] loads a skill into your request.", "dim"))


register(
    Command("skills", "List the skills: where each comes from and whether it counts.", _skills)
)
