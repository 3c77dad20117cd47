"""/memory: which instruction files reach the model, and which were left out and why."""

from __future__ import annotations

from rich.text import Text

from agent.cli.slash import ChatContext, Command, print_rows, register
from agent.extensions.memory import USER_FILE
from agent.paths import config_home


async def _memory(ctx: ChatContext, arg: str) -> None:
    session = ctx.session
    if not session.settings.memory:
        ctx.console.print(Text("Memory is off (--safe-mode): no AGENTS.md is read.", "dim"))
        return
    memory = session.memory
    rows = []
    for file in memory.files:
        via = f", imported by {file.imported_by}" if file.imported_by else ""
        rows.append((str(file.path), f"loaded ({file.source}{via})"))
    rows += [(str(skipped.path), f"skipped: {skipped.why}") for skipped in memory.skipped]
    if rows:
        print_rows(ctx, rows)
    else:
        ctx.console.print(Text("No memory files are loaded.", "dim"))
    ctx.console.print(
        Text(
            f"  Memory: your {config_home() / USER_FILE}, then AGENTS.md, CLAUDE.md and "
            "ML_INTERN.md from the git root down to here (trusted projects only); "
            "@path/to/file.md inside one imports that file.",
            "dim",
        )
    )


register(Command("memory", "Show the instruction files (AGENTS.md) sent to the model.", _memory))
