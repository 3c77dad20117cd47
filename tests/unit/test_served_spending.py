"""The spend gate of `ml-intern mcp serve`: launches on their way hold their worst case, so
two that run at once cannot pass the cap together, and nothing is counted twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.config import Settings
from agent.mcp_server.spending import Bookings, spend_refusal
from agent.tools.spec import ToolContext, ToolSpec
from agent.usage import UsageLedger


async def _estimate(args: dict, settings: Settings) -> tuple[str, float]:
    return "starts a job worth $3.60 at worst", 3.6


async def _handler(args: dict, ctx: ToolContext) -> str:
    return "started"


SPEC = ToolSpec("launch", "Start a job.", _handler, estimate_spend=_estimate)


def test_a_launch_on_its_way_holds_its_worst_case_against_the_cap(tmp_path: Path):
    ledger = UsageLedger()
    bookings = Bookings(ledger)
    ctx = ToolContext(Settings(max_budget_usd=8), tmp_path, usage=ledger)

    def gate() -> tuple[str | None, int | None]:
        return asyncio.run(spend_refusal(SPEC, {}, ctx, bookings, ask=None))

    why, first = gate()
    assert why is None and first is not None
    why, second = gate()
    assert why is None and second is not None  # $7.20 held: within $8
    why, third = gate()  # both still on their way: a third would pass the cap
    assert third is None and why is not None
    assert "$7.20 already spent or on its way" in why and "cap of $8.00" in why

    bookings.ledger_for(first).record_outside("job:1", 3.6)  # what the tool itself records
    bookings.release(first)  # the call ended
    bookings.release(second)  # refused further on, or failed: it spent nothing
    assert ledger.spent_usd == 3.6 and bookings.spent_usd == 3.6
    why, fourth = gate()
    assert why is None and fourth is not None


def test_without_a_cap_or_a_way_to_ask_spending_is_refused(tmp_path: Path):
    ctx = ToolContext(Settings(), tmp_path)
    why, held = asyncio.run(spend_refusal(SPEC, {}, ctx, Bookings(ctx.usage), ask=None))
    assert held is None and why is not None and "cannot ask its user" in why
