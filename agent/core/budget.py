"""The limits on a turn's model calls: stop before the call that would pass
--max-iterations or the spend budget. Every call counts, the ones that summarise the
history as well as the ones that answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.core.errors import BudgetExceeded, IterationLimit

if TYPE_CHECKING:
    from agent.core.session import Session


def count_model_call(session: Session, prompt_tokens: int) -> None:
    """Count one more model call of the turn, reading `prompt_tokens`; raise
    IterationLimit or BudgetExceeded instead when it would pass either limit."""
    check_iteration_limit(session, session.turn_iterations + 1)
    stop_if_call_over_budget(session, prompt_tokens)
    session.turn_iterations += 1


def check_iteration_limit(session: Session, iteration: int) -> None:
    limit = session.settings.max_iterations
    if 0 <= limit < iteration:
        raise IterationLimit(
            f"Stopped after {limit} iterations (the --max-iterations limit). "
            "Run again with a higher --max-iterations (or -1 for no limit) to let it go on."
        )


def stop_if_next_call_over_budget(session: Session) -> None:
    """Raise BudgetExceeded when the spend so far plus the next prompt would pass the budget."""
    stop_if_call_over_budget(session, session.context.tokens)


def stop_if_call_over_budget(session: Session, prompt_tokens: int) -> None:
    """Raise BudgetExceeded when the spend so far plus reading `prompt_tokens` would pass
    the budget."""
    budget = session.settings.max_budget_usd
    if budget is None:
        return
    spent = session.usage.spent_usd
    projected = spent + prompt_cost(session, prompt_tokens)
    if projected > budget:
        raise BudgetExceeded(
            f"Stopped: the next model call would bring the spend to about ${projected:.4f}, "
            f"over the budget of ${budget:.2f} (--max-budget-usd). Raise the budget to go on."
        )


def prompt_cost(session: Session, prompt_tokens: int) -> float:
    """What reading `prompt_tokens` costs, by the bundled price map."""
    from agent.core.llm import litellm, resolve_model

    target = resolve_model(session.settings.model_name, session.settings)
    try:
        prompt_cost, _ = litellm().cost_per_token(
            model=target.model, prompt_tokens=prompt_tokens, completion_tokens=0
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
