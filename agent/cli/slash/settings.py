"""Chat commands that change a setting for the rest of the session: /effort, /budget.

Like /yolo, they write to the Settings object the engine reads before every call,
so the next request uses the new value.
"""

from __future__ import annotations

import asyncio

from rich.text import Text

from agent import events as ev
from agent.cli.slash.commands import ChatContext, Command, register
from agent.core.budget import unenforced_budget
from agent.core.llm import effort_ignored

EFFORTS = ("low", "medium", "high", "off")


async def _effort(ctx: ChatContext, arg: str) -> None:
    settings = ctx.session.settings
    if not arg:
        current = settings.effort or "off (the model's default)"
        ctx.console.print(
            Text(f"Reasoning effort: {current}. Set with /effort low|medium|high|off.")
        )
        return
    if arg not in EFFORTS:
        ctx.console.print(Text("Usage: /effort low|medium|high|off", "yellow"))
        return
    settings.effort = None if arg == "off" else arg  # type: ignore[assignment]
    ctx.console.print(Text(f"· reasoning effort {arg}", "dim"))
    if arg != "off" and await asyncio.to_thread(effort_ignored, settings.model_name, settings):
        ctx.console.print(
            Text(
                f"{settings.model_name} has no reasoning setting, so /effort {arg} does not "
                "change its answers; it applies once you switch to a model that has one.",
                "yellow",
            )
        )


def parse_usd(text: str) -> float | None:
    """'$2.50', '2.5' -> 2.5; None for anything that is not a positive amount."""
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        return None
    return value if value > 0 else None


def budget_line(ctx: ChatContext) -> str:
    settings = ctx.session.settings
    spent = ctx.session.usage.total_cost_usd
    spent_text = "unknown" if spent is None else f"${spent:.4f}"
    limit = "none" if settings.max_budget_usd is None else f"${settings.max_budget_usd:.2f}"
    return f"Spent so far: {spent_text} · budget: {limit}"


async def _budget(ctx: ChatContext, arg: str) -> None:
    settings = ctx.session.settings
    if not arg:
        ctx.console.print(Text(f"{budget_line(ctx)}. Set with /budget USD or /budget off."))
        await _say_if_unenforced(ctx)
        return
    if arg == "off":
        settings.max_budget_usd = None
        ctx.console.print(Text("· no spend budget", "dim"))
        return
    if (amount := parse_usd(arg)) is None:
        ctx.console.print(Text("Usage: /budget USD (e.g. /budget 5) or /budget off", "yellow"))
        return
    settings.max_budget_usd = amount
    ctx.console.print(Text(f"· budget ${amount:.2f}", "dim"))
    await _say_if_unenforced(ctx)


async def _say_if_unenforced(ctx: ChatContext) -> None:
    """A budget the model's unknown price keeps from being enforced is said, not implied."""
    if problem := await asyncio.to_thread(unenforced_budget, ctx.session.settings):
        ctx.console.print(Text(problem, "yellow"))


async def offer_budget_raise(ctx: ChatContext, ended: ev.Event | None) -> None:
    """After the budget stopped a turn, offer to raise it so the person can say 'go on'."""
    if not isinstance(ended, ev.Error) or ended.code != "budget_exceeded":
        return
    answer = await ctx.ask(f"{budget_line(ctx)}. New budget in USD (Enter keeps it): ")
    if not answer or not answer.strip():
        return
    if (amount := parse_usd(answer)) is None:
        ctx.console.print(Text(f"'{answer.strip()}' is not an amount; budget unchanged.", "yellow"))
        return
    ctx.session.settings.max_budget_usd = amount
    ctx.console.print(Text(f"· budget ${amount:.2f}: send your next message to go on", "dim"))


register(
    Command(
        "effort",
        "show or set the reasoning effort",
        _effort,
        "[low|medium|high|off]",
        lambda ctx: list(EFFORTS),
    )
)
register(Command("budget", "show or set the spend budget", _budget, "[USD|off]"))
