"""The compaction summary's model call: one request over the selected middle of the
history, asked once more when the answer cannot stand in for it (what to summarise and
how the history is rebuilt around the summary is in context/compaction)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from agent.context.compaction import SELECTION_SHARE, selection, shrink_all
from agent.context.manager import (
    Message,
)

if TYPE_CHECKING:
    from agent.config import Settings


SUMMARY_PROMPT = """You are compacting the history of a coding and ML-engineering session \
so the work can continue with a shorter context. Write a faithful, dense summary for the \
agent that will continue the work. Use these headings:
## Goal - what the user wants, in their words where it matters
## Decisions - choices made and why
## Files - files created, read or changed, with what changed
## Commands and outcomes - commands run, jobs launched, their results (numbers, errors)
## Open problems - what failed or is unresolved
## Next steps - what was about to happen
Keep exact names, paths, ids, URLs, hyperparameters and metrics. Omit pleasantries."""
MIN_SUMMARY_CHARS = 100  # a summary shorter than this (or a 20th of its source) is refused


class SummaryRejected(Exception):
    """The model gave no usable summary, twice."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CallHooks(Protocol):
    """What the caller does around each summary call: `before` may stop it by raising
    (the iteration limit, the spend budget); `after` counts its usage."""

    def before(self, messages: list[Message]) -> None: ...

    def after(self, reply: Any) -> None: ...


async def summarise(
    middle: list[Message],
    settings: Settings,
    threshold: int,
    hooks: CallHooks,
    instructions: str = "",
) -> str:
    """The summary text. Raises SummaryRejected when the model gave no usable summary."""
    quiet = settings.model_copy(update={"stream": False})
    request = selection(shrink_all(middle, threshold), int(threshold * SELECTION_SHARE))
    system = SUMMARY_PROMPT + (f"\n\nAlso: {instructions}" if instructions else "")
    return await _summary_of(request, system, quiet, hooks)


async def _summary_of(request: str, system: str, settings: Settings, hooks: CallHooks) -> str:
    """One summary call, asked once more when its answer is unusable."""
    from agent.core import llm

    messages = [{"role": "system", "content": system}, {"role": "user", "content": request}]
    reason = ""
    for _attempt in range(2):
        hooks.before(messages)
        reply = await llm.complete(messages, [], settings)
        hooks.after(reply)
        text = (reply.content or "").strip()
        reason = summary_problem(text, reply.finish_reason, len(request))
        if not reason:
            return text
        retry_note = (
            f"\n\nA previous attempt {reason}. Write the whole summary now, "
            "shorter if needed, and finish it."
        )
        messages[0] = {"role": "system", "content": system + retry_note}
    raise SummaryRejected(reason)


def summary_problem(text: str, finish_reason: str | None, source_chars: int) -> str:
    """Why a summary cannot stand in for the history, or "" when it can."""
    if not text:
        return "came back empty"
    if finish_reason == "length":
        return "was cut off by the output limit"
    floor = min(MIN_SUMMARY_CHARS, source_chars // 20)
    if len(text) < floor:
        return f"was only {len(text)} characters long for {source_chars} characters of history"
    return ""
