"""Saved messages checked before they go back to a provider.

A session log can be damaged (a crash, an edit by hand, a bug of an older version).
Every message read back passes through `clean_message`: what can be repaired is
(a tool call's arguments given as an object), what cannot is dropped, and each
problem is named so that resuming can say what it skipped. Nothing malformed is
ever sent to the model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

Message = dict[str, Any]
ROLES = frozenset({"system", "user", "assistant", "tool"})
MAX_DEPTH = 32  # deeper than any real message: a sign of damage, and a recursion hazard


def clean_message(raw: Any) -> tuple[Message | None, str]:
    """(the message, repaired if needed, or None to drop it; what was wrong, or "")."""
    if not isinstance(raw, dict):
        return None, "a message that is not an object"
    if _depth(raw) > MAX_DEPTH:
        return None, "a message nested too deeply"
    role = raw.get("role")
    if role not in ROLES:
        return None, f"a message with an unknown role ({str(role)[:20]!r})"
    content = raw.get("content")
    if not _valid_content(content, may_be_empty=role == "assistant"):
        return None, f"a {role} message whose content is of the wrong type"
    if role == "tool":
        call_id = raw.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            return None, "a tool result without a call id"
        return raw, ""
    if role == "assistant" and "tool_calls" in raw:
        return _clean_calls(raw)
    return raw, ""


def _clean_calls(message: Message) -> tuple[Message | None, str]:
    raw_calls = message["tool_calls"]
    if raw_calls is None:
        return message, ""
    problem = ""
    calls = []
    if not isinstance(raw_calls, list):
        problem = "tool calls that are not a list"
    else:
        for raw in raw_calls:
            call, why = _clean_call(raw)
            if call is not None:
                calls.append(call)
            problem = problem or why
    cleaned = {k: v for k, v in message.items() if k != "tool_calls"}
    if calls:
        cleaned["tool_calls"] = calls
    elif not cleaned.get("content"):
        return None, problem or "an assistant message with nothing in it"
    return cleaned, problem


def _clean_call(raw: Any) -> tuple[dict[str, Any] | None, str]:
    if not isinstance(raw, dict):
        return None, "a tool call that is not an object"
    call_id, function = raw.get("id"), raw.get("function")
    if not isinstance(call_id, str) or not call_id:
        return None, "a tool call without an id"
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        return None, "a tool call without a function name"
    arguments = function.get("arguments")
    if isinstance(arguments, dict):
        return {**raw, "function": {**function, "arguments": json.dumps(arguments)}}, ""
    if arguments is not None and not isinstance(arguments, str):
        return None, "a tool call whose arguments are of the wrong type"
    return {**raw, "type": raw.get("type") or "function"}, ""


def _valid_content(content: Any, may_be_empty: bool) -> bool:
    if isinstance(content, str):
        return True
    if content is None:
        return may_be_empty
    if not isinstance(content, list):
        return False
    return all(
        isinstance(part, dict)
        and isinstance(part.get("type"), str)
        and isinstance(part.get("text", ""), str)
        for part in content
    )


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value`, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            items: Iterable[Any] = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in items)
    return deepest
