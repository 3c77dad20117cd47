"""What a session has used and spent: tokens, model cost, and approved spend outside the model.

One object, shared by the loop (which adds each model call), the tools that spend money (cloud
jobs, sandboxes: through `ToolContext.usage`) and research sub-agents (whose calls count on
their parent's ledger).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.core.replies import LLMReply


@dataclass
class UsageLedger:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    calls: int = 0
    model_cost_usd: float = 0.0
    unpriced_calls: int = 0
    outside_items: dict[str, float] = field(default_factory=dict)  # "job:ID" -> USD

    def add(self, reply: LLMReply) -> None:
        """Count one model call."""
        self.calls += 1
        self.input_tokens += reply.usage.input_tokens
        self.output_tokens += reply.usage.output_tokens
        self.cached_tokens += reply.usage.cached_tokens
        if reply.cost_usd is None:
            self.unpriced_calls += 1
        else:
            self.model_cost_usd += reply.cost_usd

    def record_outside(self, key: str, usd: float) -> None:
        """Note (or correct) approved spend outside the model, e.g. `job:ID` once it ends.

        An unknown price (infinite worst case) counts as zero: it was approved by a person,
        and no budget can be checked against it.
        """
        self.outside_items[key] = 0.0 if math.isinf(usd) else usd

    @property
    def outside_cost_usd(self) -> float:
        return sum(self.outside_items.values())

    @property
    def total_cost_usd(self) -> float | None:
        """None when nothing had a known price: unknown is not zero."""
        if self.unpriced_calls and not self.model_cost_usd and not self.outside_items:
            return None
        return self.model_cost_usd + self.outside_cost_usd

    @property
    def spent_usd(self) -> float:
        """The spend that budgets are checked against (unknown prices count as zero)."""
        return self.total_cost_usd or 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "calls": self.calls,
        }
