"""/memory: which instruction files reach the model, and which were left out and why."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from agent.cli.slash.commands import ChatContext, Command, print_rows, register
from agent.extensions.memory import USER_FILE
from agent.paths import config_home


async def _memory(ctx: ChatContext, arg: str) -> None:
    session = ctx.session
    if not session.settings.memory.enabled:
        ctx.console.print(Text("Memory is off (--safe-mode): no AGENTS.md is read.", "dim"))
        return
    memory, cwd = session.memory, session.cwd
    rows = []
    for file in memory.files:
        via = f", imported by {_short(file.imported_by, cwd)}" if file.imported_by else ""
        rows.append(("loaded", f"{_short(file.path, cwd)} ({file.source}{via})"))
    for skipped in memory.skipped:
        via = f" (imported by {_short(skipped.imported_by, cwd)})" if skipped.imported_by else ""
        rows.append(("skipped", f"{_short(skipped.path, cwd)}: {skipped.why}{via}"))
    if rows:
        print_rows(ctx, rows)
    else:
        ctx.console.print(Text("No memory files are loaded.", "dim"))
    ctx.console.print(
        Text(
            f"  Memory: your {_short(config_home() / USER_FILE, cwd)}, then AGENTS.md, CLAUDE.md and "
            "ML_INTERN.md from the git root down to here (trusted projects only); "
            "@path/to/file.md inside one imports that file.",
            "dim",
        )
    )


def _short(path: Path, cwd: Path) -> str:
    """Below the working directory: relative to it; in the home folder: from ~."""
    for base, prefix in ((cwd, ""), (Path.home(), "~/")):
        if base in path.parents:
            return prefix + str(path.relative_to(base))
    return str(path)


register(Command("memory", "Show the instruction files (AGENTS.md) sent to the model.", _memory))
