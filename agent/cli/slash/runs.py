"""/runs and /monitors: the session's background runs and the conditions watching them.

`/runs` lists every run of the session (also those from before a --continue) with its
outcome, duration, cost and main metric; `/runs ID` shows one in full with its curve.
`/monitors` lists the conditions the model added; `/monitors remove ID` drops one.
"""

from __future__ import annotations

from rich.text import Text

from agent.cli.run_views import entry_details, entry_line
from agent.cli.slash.commands import ChatContext, Command, register
from agent.runs.registry import read_ledger, runs_of


async def _runs(ctx: ChatContext, arg: str) -> None:
    entries = read_ledger(ctx.session.tool_state)
    if not entries:
        ctx.console.print(Text("  no background runs in this session", "dim"))
        return
    if not arg.strip():
        for entry in reversed(entries):
            ctx.console.print(Text(f"  {entry_line(entry)}"), no_wrap=True, overflow="ellipsis")
        ctx.console.print(Text("  /runs ID shows one run's curve and output", "dim"))
        return
    match = [e for e in entries if e["id"] == arg.strip()]
    if not match:
        known = ", ".join(e["id"] for e in entries)
        ctx.console.print(Text(f"  no run '{arg.strip()}' (runs: {known})", "yellow"))
        return
    width = max(20, min(ctx.console.width - 14, 100))
    for line in entry_details(match[-1], width):
        ctx.console.print(Text(f"  {line}"), no_wrap=True, overflow="ellipsis")


async def _monitors(ctx: ChatContext, arg: str) -> None:
    from agent.tools.monitor import condition_lines

    session = ctx.session
    registry = runs_of(session.tool_state, session.id, session.cwd)
    words = arg.split()
    if words[:1] == ["remove"] and len(words) == 2:
        removed = registry.remove_condition(words[1])
        said = f"  removed {words[1]}" if removed else f"  no condition '{words[1]}'"
        ctx.console.print(Text(said, "dim" if removed else "yellow"))
        return
    lines = condition_lines(registry)
    for line in lines or ["no conditions (every run is still watched for its end and failures)"]:
        ctx.console.print(Text(f"  {line}", "" if lines else "dim"))


for _command in (
    Command("runs", "background runs: status, metrics, cost; /runs ID for one", _runs, "[ID]"),
    Command(
        "monitors",
        "conditions that wake the agent about runs; /monitors remove ID",
        _monitors,
        "[remove ID]",
    ),
):
    register(_command)
