"""When and how a session's history is compacted (what to summarise is chosen in
context/compaction, the summary's model call is in core/summary)."""

from __future__ import annotations

from typing import Any

from agent import events as ev
from agent.context import compaction
from agent.context.manager import estimate_tokens
from agent.core import hooks
from agent.core.budget import count_model_call, stop_if_call_over_budget
from agent.core.run_notes import ledger_note
from agent.core.session import Session
from agent.core.summary import SummaryRejected, summarise
from agent.core.window import window_for
from agent.errors import CompactionFailed
from agent.tools.goal import goal_note
from agent.tools.plan import plan_note

WINDOW_SHARE = 0.85
REGROWTH = 1.25
MIN_SUMMARISED_TOKENS = 400  # less than a summary of it would take  # after a compaction that stayed over the threshold, wait for this much growth


def threshold(session: Session) -> int:
    """The configured threshold, lowered to 85% of a smaller context window (the one the
    model's server reported, or `context_window_tokens`, or litellm's)."""
    configured = session.settings.compaction_threshold_tokens
    window = window_for(session.settings.model_name, session.settings)
    return min(configured, int(window * WINDOW_SHARE)) if window else configured


async def compact(
    session: Session,
    *,
    force: bool = False,
    instructions: str = "",
    overflowed: bool = False,
    asked: bool = False,
) -> bool:
    """Compact when over the threshold (or when forced). True if the history changed.

    `overflowed`: the provider refused the history as too long, so keeping it as it
    is cannot work; a failed summary then ends the turn (CompactionFailed).
    `asked`: the person asked for it (/compact); a conversation too short for a summary
    to shrink it is left alone, with a notice saying so. Otherwise it happens in a turn,
    and its summary calls count against the turn's --max-iterations.
    """
    limit = threshold(session)
    before = session.context.tokens
    if not force and (before <= limit or before < session.compaction_floor * REGROWTH):
        return False  # under the threshold, or the last compaction could do no better yet
    head, middle, tail = compaction.split_for_compaction(session.context.messages, limit)
    if middle:
        head, earlier = compaction.detach_summary(head)
        middle = [*earlier, *middle]
    head, tail = compaction.shrink_all(head, limit), compaction.shrink_all(tail, limit)
    if asked and sum(map(estimate_tokens, middle)) < MIN_SUMMARISED_TOKENS:
        shrunk = sum(map(estimate_tokens, head + tail + middle))
        if shrunk >= sum(
            map(estimate_tokens, session.context.messages)
        ):  # a summary would be longer than what it replaces
            session.emit(ev.Notice(message="Nothing to compact yet: the conversation is short."))
            return False
        middle, tail = [], middle + tail
    trigger = "manual" if asked else "auto"
    await hooks.fire(
        session, "PreCompact", {"trigger": trigger, "custom_instructions": instructions}, trigger
    )
    summary = ""
    if not middle:
        if sum(map(estimate_tokens, head + tail)) >= sum(
            map(estimate_tokens, session.context.messages)
        ):
            return False  # nothing to summarise and nothing to cut: it cannot shrink
        session.context.replace(head + tail)
    else:
        try:
            calls = SummaryCalls(session, in_turn=not asked)
            summary = await summarise(middle, session.settings, limit, calls, instructions)
        except SummaryRejected as rejected:
            return _keep_history(session, rejected.reason, before, overflowed)
        facts = compaction.kept_facts(middle, int(limit * compaction.FACTS_SHARE) * 4)
        summary += (
            plan_note(session.tool_state)
            + goal_note(session.tool_state)
            + ledger_note(session.tool_state)
            + facts
        )
        session.context.replace(compaction.rebuilt(head, summary, tail))
    after = session.context.tokens
    session.compaction_floor = after if after > limit else 0
    session.emit(ev.Compacted(tokens_before=before, tokens_after=after))
    await hooks.fire(
        session, "PostCompact", {"trigger": trigger, "compact_summary": summary}, trigger
    )
    await hooks.session_start(session, "compact")
    return True


class SummaryCalls:
    """A summary call is a model call like any other: checked against the spend budget
    and, in a turn, against --max-iterations before it is made; its usage counted after."""

    def __init__(self, session: Session, *, in_turn: bool) -> None:
        self.session = session
        self.in_turn = in_turn

    def before(self, messages: list[dict[str, Any]]) -> None:
        tokens = sum(map(estimate_tokens, messages))
        if self.in_turn:
            count_model_call(self.session, tokens)
        else:
            stop_if_call_over_budget(self.session, tokens)

    def after(self, reply: Any) -> None:
        self.session.usage.add(reply)


def _keep_history(session: Session, reason: str, before: int, overflowed: bool) -> bool:
    """No usable summary: the history stays whole. The turn goes on while it still fits."""
    session.compaction_floor = before  # not again before the history has grown
    message = (
        f"Compaction failed: the summary {reason}, also when asked again. "
        "The history was kept as it was"
    )
    window = window_for(session.settings.model_name, session.settings)
    if overflowed or (window is not None and before >= window):
        raise CompactionFailed(
            f"{message}, and it no longer fits in the model's context. Start a fresh "
            "conversation (in the chat: /new) or choose a model with a larger context "
            "window (--model)."
        )
    session.emit(ev.Notice(message=f"{message}; the work goes on with it."))
    return False
