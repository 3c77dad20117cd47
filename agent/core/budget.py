"""The limits on a turn's model calls: stop before the call that would pass
--max-iterations or the spend budget. Every call counts, the ones that summarise the
history as well as the ones that answer. A budget that cannot be enforced (no price is known
for the model) is said at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.errors import BudgetExceeded, IterationLimit

if TYPE_CHECKING:
    from agent.config import Settings
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
    projected = spent + (prompt_cost(session.settings, prompt_tokens) or 0.0)
    if projected > budget:
        raise BudgetExceeded(
            f"Stopped: the next model call would bring the spend to about ${projected:.4f}, "
            f"over the budget of ${budget:.2f} (--max-budget-usd). Raise the budget to go on."
        )


def prompt_cost(settings: Settings, prompt_tokens: int) -> float | None:
    """What reading `prompt_tokens` costs; None when no price is known for the model."""
    from agent.core.llm import resolve_model, token_cost
    from agent.core.replies import TokenUsage

    target = resolve_model(settings.model_name, settings)
    return token_cost(settings, target.model, TokenUsage(prompt_tokens))


def unenforced_budget(settings: Settings) -> str:
    """Why the budget cannot be enforced for the current model, or "" when it can (or when
    there is none)."""
    if settings.max_budget_usd is None or settings.price_per_mtok is not None:
        return ""
    if prompt_cost(settings, 1) is not None:
        return ""
    return (
        f"The budget of ${settings.max_budget_usd:.2f} (--max-budget-usd) is not enforced: no "
        f"price is known for {settings.model_name}. Give its price with --price-per-mtok IN,OUT "
        '(USD per million input,output tokens) or `"price_per_mtok": {"input": .., "output": ..}` '
        "in the config."
    )


def unenforced_budget_once(session: Session) -> str:
    """`unenforced_budget`, said once per session and model: before its first call only."""
    key = f"unenforced budget: {session.settings.model_name}"
    if key in session.told:
        return ""
    problem = unenforced_budget(session.settings)
    if problem:
        session.told.add(key)
    return problem


def spend_covered(cost: float | None, spent_usd: float, budget_usd: float | None) -> bool:
    """Whether a call's spend may go ahead without a person's yes: it spends nothing, or
    the budget covers what is spent plus the call's worst case."""
    if cost is None or cost == 0:
        return True
    return budget_usd is not None and spent_usd + cost <= budget_usd
