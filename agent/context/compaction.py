"""Compaction: summarise the middle of a long conversation so it never overflows.

The system prompt, the first user message and the most recent messages stay as
they are; an assistant's tool calls are never separated from their results. The
middle is summarised by the active model with a dedicated prompt, in one call over
a bounded selection: however long the history grew (a resumed session that was never
compacted), the work is one request of at most half the threshold, never one call per
slice. What does not fit is its opening and its most recent part, with a line saying
how much was left out between. Over-long single messages are cut (head and tail kept)
first.

A summary can only replace history it actually covers: one that comes back empty,
cut off by the output limit or far too short is asked for once more, then refused
(`SummaryRejected`), and the caller keeps the history as it was. What must never be
lost to a careless summary (the person's requests, the files touched) is carried
over verbatim beside it, the most recent of it within a share of the threshold. The
rebuilt history keeps roles alternating: the summary joins the first request, and the
kept tail starts with an assistant message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agent.context.manager import (
    SUMMARY_PREFIX,
    Message,
    estimate_tokens,
    is_person_turn,
    plain_content,
)
from agent.tools.router import cap_output, read_arguments

SUMMARY_HEADER = f"{SUMMARY_PREFIX}, written when it was compacted:"
TAIL_SHARE = 0.3  # of the threshold, kept verbatim at the end
SELECTION_SHARE = 0.5  # of the threshold, the most one summary call reads
OPENING_SHARE = 0.25  # of a selection, taken from the start of what is summarised
MESSAGE_SHARE = 0.1  # of the threshold, the most one message may keep
REQUEST_CHARS = 2000  # the most of one earlier request carried over verbatim
FACTS_SHARE = 0.05  # of the threshold, the most each list of kept facts may take
FILE_ARGUMENTS = ("path", "file_path", "notebook_path")
REQUESTS_HEADING = "## Requests from the user in the summarised part (verbatim)"
FILES_HEADING = "## Files touched in the summarised part"
LEFT_OUT = re.compile(r"\((\d+) earlier ones are not listed\)$")


def split_for_compaction(
    messages: list[Message], threshold: int
) -> tuple[list[Message], list[Message], list[Message]]:
    """(head, middle, tail). The tail is empty or starts with an assistant message.

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
    while start > head_end and start < len(messages) and messages[start]["role"] != "assistant":
        start -= 1  # calls stay with their results; the summary is followed by an answer
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
        text = plain_content(content)
        if m["role"] == "tool":
            lines.append(f"TOOL RESULT ({m.get('name', 'tool')}):\n{text}")
            continue
        if text:
            lines.append(f"{m['role'].upper()}:\n{text}")
        for call in m.get("tool_calls") or []:
            fn = call["function"]
            lines.append(f"ASSISTANT CALLED {fn['name']}({fn['arguments']})")
    return "\n\n".join(lines)


def selection(messages: list[Message], max_tokens: int) -> str:
    """The transcript one summary call reads: all of `messages` when they fit in
    `max_tokens`; else their opening (where an earlier summary sits) and their most
    recent part, with a line saying how many messages were left out between."""
    costs = [estimate_tokens(m) for m in messages]
    if sum(costs) <= max_tokens:
        return transcript(messages)
    opening = _fitting(costs, int(max_tokens * OPENING_SHARE))
    rest = costs[opening:]
    recent = _fitting(rest[::-1], max_tokens - sum(costs[:opening]))
    left_out = len(rest) - recent
    gap = (
        f"[{left_out} messages (about {sum(rest[: len(rest) - recent])} tokens) left out "
        "here: too long to read in one go. The latest requests and files touched among "
        "them are kept beside the summary.]"
    )
    parts = [transcript(messages[:opening]), gap, transcript(messages[len(messages) - recent :])]
    return "\n\n".join(part for part in parts if part)


def _fitting(costs: list[int], budget: int) -> int:
    """How many of `costs`, from the first, fit in `budget` together."""
    used = 0
    for taken, cost in enumerate(costs):
        used += cost
        if used > budget:
            return taken
    return len(costs)


def kept_facts(middle: list[Message], max_chars: int) -> str:
    """The person's requests and the files touched in `middle` (also those an earlier
    summary carried), to keep verbatim beside a new summary: the most recent of each
    within `max_chars`."""
    requests: list[str] = []
    files: dict[str, list[str]] = {}
    earlier_files: list[str] = []
    for m in middle:
        text = _text(m)
        if text.startswith(SUMMARY_PREFIX):
            requests.extend(_section(text, REQUESTS_HEADING))
            earlier_files.extend(_section(text, FILES_HEADING))
            continue
        if is_person_turn(m) and text.strip():
            requests.append("- " + cap_output(text.strip(), REQUEST_CHARS).replace("\n", "\n  "))
        for call in m.get("tool_calls") or []:
            name, args = call["function"]["name"], _arguments(call)
            for key in FILE_ARGUMENTS:
                if isinstance(args.get(key), str) and name not in files.setdefault(args[key], []):
                    files[args[key]].append(name)
    listed_files = [*earlier_files, *(f"- {p} ({', '.join(n)})" for p, n in files.items())]
    out = ""
    if requests:
        out += f"\n\n{REQUESTS_HEADING}\n" + "\n".join(_recent(requests, max_chars))
    if listed_files:
        unique = list(dict.fromkeys(listed_files))
        out += f"\n\n{FILES_HEADING}\n" + "\n".join(_recent(unique, max_chars))
    return out


def _recent(items: list[str], max_chars: int) -> list[str]:
    """The last `items` that fit in `max_chars`, after a line counting the ones left out
    (with those an earlier summary had already left out)."""
    left_out = 0
    listed: list[str] = []
    for item in items:
        if counted := LEFT_OUT.match(item):
            left_out += int(counted[1])
        else:
            listed.append(item)
    kept = _fitting([len(item) + 1 for item in reversed(listed)], max_chars)
    left_out += len(listed) - kept
    recent = listed[len(listed) - kept :]
    return [f"({left_out} earlier ones are not listed)", *recent] if left_out else recent


def _section(text: str, heading: str) -> list[str]:
    """The items ("- ..." lines and their indented continuations) under `heading`."""
    start = text.find(heading + "\n")
    if start < 0:
        return []
    body = text[start + len(heading) + 1 :].split("\n## ", 1)[0]
    items: list[str] = []
    for line in body.splitlines():
        if line.startswith("- ") or not items:
            items.append(line)
        else:
            items[-1] += "\n" + line
    return [item for item in items if item.strip()]


def detach_summary(head: list[Message]) -> tuple[list[Message], list[Message]]:
    """An earlier summary joined to the first request, taken off again so that the next
    summary covers it: (head without it, [the earlier summary as its own message])."""
    if not head or head[-1]["role"] != "user":
        return head, []
    last = head[-1]
    content = last.get("content")
    if isinstance(content, list):
        notes = [p for p in content if isinstance(p, dict) and _is_note(p.get("text"))]
        if not notes:
            return head, []
        rest = [p for p in content if p not in notes]
        earlier = [{"role": "user", "content": n["text"]} for n in notes]
        return [*head[:-1], {**last, "content": rest}], earlier
    if not isinstance(content, str) or (at := content.find(SUMMARY_HEADER)) <= 0:
        return head, []
    request = content[:at].removesuffix("\n\n")
    return [*head[:-1], {**last, "content": request}], [{"role": "user", "content": content[at:]}]


def _is_note(text: Any) -> bool:
    return isinstance(text, str) and text.startswith(SUMMARY_HEADER)


def _text(message: Message) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _arguments(call: dict[str, Any]) -> dict[str, Any]:
    raw = call["function"].get("arguments")
    try:
        args = read_arguments(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return args if isinstance(args, dict) else {}


def rebuilt(head: list[Message], summary: str, tail: list[Message]) -> list[Message]:
    """head + summary + tail, with the summary joined to the first request when there is
    one, so no two user messages follow each other (chat templates refuse that)."""
    note = f"{SUMMARY_HEADER}\n\n{summary}"
    last = head[-1] if head else None
    if last is None or last["role"] != "user":
        return [*head, {"role": "user", "content": note}, *tail]
    content = last.get("content")
    if isinstance(content, list):
        joined: Any = [*content, {"type": "text", "text": note}]
    else:
        joined = f"{content or ''}\n\n{note}"
    return [*head[:-1], {**last, "content": joined}, *tail]
