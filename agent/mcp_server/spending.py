"""Whether a call that spends money (a cloud job) may go ahead when served over MCP.

The client's own user is asked through MCP elicitation when the client offers it. A client
that cannot ask gets the spend only within a cap the person gave (`--max-budget-usd`); with
no cap, such calls are refused. The cap holds either way: what is spent is recorded on the
server's ledger and checked before every launch, as in our own runs; and a launch approved
but not yet recorded holds its worst case, so calls that run at once cannot pass the cap
together.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Awaitable, Callable
from typing import Any

from agent.core.budget import spend_covered
from agent.tools.spec import ToolContext, ToolSpec
from agent.usage import UsageLedger

# Asks the client's user to approve `message`; True only for an explicit yes.
Ask = Callable[[str], Awaitable[bool]]


class Bookings:
    """The server's ledger plus the worst cases held for launches still on their way."""

    def __init__(self, ledger: UsageLedger) -> None:
        self.ledger = ledger
        self._held: dict[int, float] = {}
        self._keys = itertools.count()

    @property
    def spent_usd(self) -> float:
        return self.ledger.spent_usd + sum(self._held.values())

    def hold(self, usd: float) -> int:
        key = next(self._keys)
        self._held[key] = usd
        return key

    def release(self, key: int | None) -> None:
        if key is not None:
            self._held.pop(key, None)

    def ledger_for(self, key: int) -> UsageLedger:
        """The ledger a call records on: the server's, letting go of the call's hold as soon
        as the call records what it spends."""
        return _Recording(self, key)


class _Recording(UsageLedger):
    """A view of the server's ledger for one call (tools only read `spent_usd` and call
    `record_outside`)."""

    def __init__(self, bookings: Bookings, key: int) -> None:
        super().__init__()
        self._bookings, self._key = bookings, key

    def record_outside(self, key: str, usd: float) -> None:
        self._bookings.ledger.record_outside(key, usd)
        self._bookings.release(self._key)

    @property
    def spent_usd(self) -> float:
        return self._bookings.ledger.spent_usd


async def spend_refusal(
    spec: ToolSpec, args: dict[str, Any], ctx: ToolContext, bookings: Bookings, ask: Ask | None
) -> tuple[str | None, int | None]:
    """(why the call was not run, or None when it may run; the key of the worst case held
    for it, to release when it ends)."""
    if spec.estimate_spend is None:
        return None, None
    spend = await spec.estimate_spend(args, ctx.settings)
    if spend is None:
        return None, None
    reason, cost = spend
    budget, spent = ctx.settings.max_budget_usd, bookings.spent_usd
    if budget is not None and not spend_covered(cost, spent, budget):
        worst = "an unknown amount" if math.isinf(cost) else f"up to ${cost:.2f}"
        return (
            f"Not run: this call {reason}. It could cost {worst}, and with ${spent:.2f} already "
            f"spent or on its way that would pass the server's cap of ${budget:.2f} "
            "(--max-budget-usd). Ask the user to raise the cap, or use cheaper hardware or a "
            "shorter timeout.",
            None,
        )
    if ask is None and budget is None:
        return (
            f"Not run: this call {reason}, and this client cannot ask its user to approve "
            "spending (no MCP elicitation). Ask the user to start the server with a spend cap "
            "(ml-intern mcp serve --max-budget-usd AMOUNT), or to launch it themselves.",
            None,
        )
    key = bookings.hold(cost) if budget is not None else None
    try:
        approved = ask is None or await ask(f"ml-intern {reason}. Approve?")
    except BaseException:  # asked again later (the call comes back with the answer)
        bookings.release(key)
        raise
    if not approved:
        bookings.release(key)
        return "Not run: the user declined this call. Do not retry it unless they ask.", None
    return None, key
