"""Whether a call that spends money (a cloud job) may go ahead when served over MCP.

The client's own user is asked through MCP elicitation when the client offers it. A client
that cannot ask gets the spend only within a cap the person gave (`--max-budget-usd`); with
no cap, such calls are refused. The cap holds either way: what is spent is recorded on the
server's ledger and checked before every launch, as in our own runs.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from agent.core.budget import spend_covered
from agent.tools.spec import ToolContext, ToolSpec

# Asks the client's user to approve `message`; True only for an explicit yes.
Ask = Callable[[str], Awaitable[bool]]


async def spend_refusal(
    spec: ToolSpec, args: dict[str, object], ctx: ToolContext, ask: Ask | None
) -> str | None:
    """None when the call may run; otherwise why it was not run, for the client's model."""
    if spec.estimate_spend is None:
        return None
    spend = await spec.estimate_spend(args, ctx.settings)
    if spend is None:
        return None
    reason, cost = spend
    budget, spent = ctx.settings.max_budget_usd, ctx.usage.spent_usd
    if budget is not None and not spend_covered(cost, spent, budget):
        worst = "an unknown amount" if math.isinf(cost) else f"up to ${cost:.2f}"
        return (
            f"Not run: this call {reason}. It could cost {worst}, and with ${spent:.2f} already "
            f"spent that would pass the server's cap of ${budget:.2f} (--max-budget-usd). Ask "
            "the user to raise the cap, or use cheaper hardware or a shorter timeout."
        )
    if ask is not None:
        if await ask(f"ml-intern {reason}. Approve?"):
            return None
        return "Not run: the user declined this call. Do not retry it unless they ask."
    if budget is not None:
        return None
    return (
        f"Not run: this call {reason}, and this client cannot ask its user to approve spending "
        "(no MCP elicitation). Ask the user to start the server with a spend cap "
        "(ml-intern mcp serve --max-budget-usd AMOUNT), or to launch it themselves."
    )
