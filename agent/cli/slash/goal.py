"""/goal: keep the agent working toward a condition across turns, show it, stop it."""

from __future__ import annotations

from rich.text import Text

from agent.cli.goal_line import goal_line
from agent.cli.slash.commands import ChatContext, Command, register
from agent.core import ops as op
from agent.core.goal import goal_event
from agent.tools.goal import active_goal, current_goal

STOP_WORDS = ("stop", "off", "clear")
HOW = (
    "/goal CONDITION keeps the agent working, turn after turn, until it shows the condition "
    "holds (quoting the output that proves it), or a limit is reached; Ctrl-C or /goal stop "
    "ends it."
)


async def _goal(ctx: ChatContext, arg: str) -> None:
    session = ctx.session
    if arg.lower() in STOP_WORDS:
        if active_goal(session.tool_state) is None:
            ctx.console.print(Text("No goal is active.", "dim"))
            return
        await ctx.perform(op.SetGoal(condition=None), until=("goal",))
        return
    if arg:
        await ctx.request("", goal=arg)
        return
    goal = current_goal(session.tool_state)
    if goal is None:
        ctx.console.print(Text(f"No goal set. {HOW}", "dim"))
        return
    ctx.console.print(Text(goal_line(goal_event(session, goal))))


register(
    Command(
        "goal",
        "work toward a condition until it holds (/goal stop ends it)",
        _goal,
        usage="[CONDITION|stop]",
        complete=lambda ctx: STOP_WORDS[:1],
    )
)
