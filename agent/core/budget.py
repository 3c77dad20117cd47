"""The spend budget: stop before the call that would go over it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.core.errors import BudgetExceeded

if TYPE_CHECKING:
    from agent.core.session import Session


def stop_if_next_call_over_budget(session: Session) -> None:
    """Raise BudgetExceeded when the spend so far plus the next prompt would pass the budget."""
    budget = session.settings.max_budget_usd
    if budget is None:
        return
    spent = session.usage.spent_usd
    projected = spent + next_prompt_cost(session)
    if projected > budget:
        raise BudgetExceeded(
            f"Stopped: the next model call would bring the spend to about ${projected:.4f}, "
            f"over the budget of ${budget:.2f} (--max-budget-usd). Raise the budget to go on."
        )


def next_prompt_cost(session: Session) -> float:
    """What reading the current history once more costs, by the bundled price map."""
    from agent.core.llm import litellm, resolve_model

    target = resolve_model(session.settings.model_name, session.settings)
    try:
        prompt_cost, _ = litellm().cost_per_token(
            model=target.model, prompt_tokens=session.context.tokens, completion_tokens=0
        )
    except Exception:
        return 0.0
    return prompt_cost


def spend_covered(cost: float | None, spent_usd: float, budget_usd: float | None) -> bool:
    """Whether a call's spend may go ahead without a person's yes: it spends nothing, or
    the budget covers what is spent plus the call's worst case."""
    if cost is None or cost == 0:
        return True
    return budget_usd is not None and spent_usd + cost <= budget_usd
