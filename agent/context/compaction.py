"""Compaction: summarise the middle of a long conversation so it never overflows.

The system prompt, the first user message and the most recent messages stay as
they are; an assistant's tool calls are never separated from their results. The
middle is summarised by the active model with a dedicated prompt, in chunks when
it is too big for one call. Over-long single messages are cut (head and tail
kept) first.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from agent.context.manager import SUMMARY_PREFIX, Message, estimate_tokens
from agent.tools.router import cap_output

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

SUMMARY_HEADER = f"{SUMMARY_PREFIX}, written when it was compacted:"
TAIL_SHARE = 0.3  # of the threshold, kept verbatim at the end
CHUNK_SHARE = 0.5  # of the threshold, the most one summary call reads
MESSAGE_SHARE = 0.1  # of the threshold, the most one message may keep


def split_for_compaction(
    messages: list[Message], threshold: int
) -> tuple[list[Message], list[Message], list[Message]]:
    """(head, middle, tail). The tail never starts with a tool result.

    The tail keeps at most a share of the threshold and at most half of what follows
    the head, so a compaction always has something to summarise.
    """
    first_user = next((i for i, m in enumerate(messages) if m["role"] == "user"), 0)
    head_end = first_user + 1
    movable = sum(estimate_tokens(m) for m in messages[head_end:])
    budget = min(int(threshold * TAIL_SHARE), movable // 2)
    start, used = len(messages), 0
    while start > head_end and used + estimate_tokens(messages[start - 1]) <= budget:
        start -= 1
        used += estimate_tokens(messages[start])
    while start > head_end and start < len(messages) and messages[start]["role"] == "tool":
        start -= 1  # keep an assistant's calls with their results
    return messages[:head_end], messages[head_end:start], messages[start:]


def shrink_message(message: Message, max_tokens: int) -> Message:
    """A copy with over-long text cut in the middle and over-long tool-call arguments
    replaced by a valid stub (a 400 KB `write` must not survive a compaction)."""
    if estimate_tokens(message) <= max_tokens:
        return message
    shrunk = dict(message)
    content = message.get("content")
    if isinstance(content, str):
        shrunk["content"] = cap_output(content, max_tokens * 4)
    if calls := message.get("tool_calls"):
        shrunk["tool_calls"] = [_shrink_call(call, max_tokens * 4) for call in calls]
    return shrunk


def _shrink_call(call: dict[str, Any], max_chars: int) -> dict[str, Any]:
    arguments = call["function"].get("arguments") or ""
    if len(arguments) <= max_chars:
        return call
    stub = json.dumps(
        {"note": f"arguments cut when the history was compacted ({len(arguments)} characters)"}
    )
    return {**call, "function": {**call["function"], "arguments": stub}}


def shrink_all(messages: list[Message], threshold: int) -> list[Message]:
    """Every message cut to its share of the threshold (the system prompt is left alone)."""
    limit = int(threshold * MESSAGE_SHARE)
    return [m if m["role"] == "system" else shrink_message(m, limit) for m in messages]


def transcript(messages: list[Message]) -> str:
    """The messages as plain text for the summariser."""
    lines = []
    for m in messages:
        content = m.get("content")
        text = content if isinstance(content, str) else json.dumps(content or "")
        if m["role"] == "tool":
            lines.append(f"TOOL RESULT ({m.get('name', 'tool')}):\n{text}")
            continue
        if text:
            lines.append(f"{m['role'].upper()}:\n{text}")
        for call in m.get("tool_calls") or []:
            fn = call["function"]
            lines.append(f"ASSISTANT CALLED {fn['name']}({fn['arguments']})")
    return "\n\n".join(lines)


def chunks(messages: list[Message], max_tokens: int) -> list[list[Message]]:
    """Consecutive groups of messages, each small enough for one summary call."""
    groups: list[list[Message]] = [[]]
    used = 0
    for m in messages:
        cost = estimate_tokens(m)
        if groups[-1] and used + cost > max_tokens:
            groups.append([])
            used = 0
        groups[-1].append(m)
        used += cost
    return groups


async def summarise(
    middle: list[Message], settings: Settings, threshold: int, instructions: str = ""
) -> tuple[str, list[Any]]:
    """The summary text, and the replies (for usage accounting)."""
    from agent.core import llm

    quiet = settings.model_copy(update={"stream": False})
    shrunk = shrink_all(middle, threshold)
    summary, replies = "", []
    for group in chunks(shrunk, int(threshold * CHUNK_SHARE)):
        request = transcript(group)
        if summary:
            request = f"Summary so far:\n{summary}\n\nContinuation of the conversation:\n{request}"
        system = SUMMARY_PROMPT + (f"\n\nAlso: {instructions}" if instructions else "")
        reply = await llm.complete(
            [{"role": "system", "content": system}, {"role": "user", "content": request}],
            [],
            quiet,
        )
        replies.append(reply)
        summary = reply.content.strip()
    return summary, replies


def rebuilt(head: list[Message], summary: str, tail: list[Message]) -> list[Message]:
    return [*head, {"role": "user", "content": f"{SUMMARY_HEADER}\n\n{summary}"}, *tail]
