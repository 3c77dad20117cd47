"""The repetition guard: notice when the model repeats itself without progress.

A call's signature is its tool name, its arguments as canonical JSON (key order
and spacing do not matter) and a hash of its result. The same call whose result
changes (polling a job, tailing a log) has a new signature each time and is
never flagged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from agent.context.manager import AGENT_NOTE_PREFIX
from agent.tools.router import read_arguments

WINDOW_MESSAGES = 30
MAX_CYCLE = 5


@dataclass(frozen=True)
class Signature:
    name: str
    arguments: str
    result: str


def canonical_arguments(raw: str | dict[str, Any]) -> str:
    try:
        value = read_arguments(raw) if isinstance(raw, str) else raw
    except ValueError:
        return raw.strip() if isinstance(raw, str) else ""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def signatures(messages: list[dict[str, Any]], window: int = WINDOW_MESSAGES) -> list[Signature]:
    """Signatures of the answered tool calls among the last `window` messages, in order."""
    recent = messages[-window:]
    results = {
        m.get("tool_call_id"): hashlib.sha1((m.get("content") or "").encode()).hexdigest()
        for m in recent
        if m["role"] == "tool"
    }
    found = []
    for message in recent:
        for call in message.get("tool_calls") or []:
            if call["id"] in results:
                fn = call["function"]
                found.append(
                    Signature(fn["name"], canonical_arguments(fn["arguments"]), results[call["id"]])
                )
    return found


def detect_repetition(sigs: list[Signature]) -> str | None:
    """A calm description of the repetition at the end of `sigs`, or None."""
    if len(sigs) >= 3 and sigs[-1] == sigs[-2] == sigs[-3]:
        return f"Repeated the same `{sigs[-1].name}` call 3 times with the same result"
    for size in range(2, MAX_CYCLE + 1):
        cycle = sigs[-size:]
        if len(sigs) >= 2 * size and cycle == sigs[-2 * size : -size] and len(set(cycle)) > 1:
            names = ", ".join(f"`{s.name}`" for s in cycle)
            return f"Repeated a cycle of {size} calls ({names}) twice with the same results"
    return None


def corrective_message(description: str) -> str:
    return (
        f"{AGENT_NOTE_PREFIX} {description}. This approach is not making progress. Do not repeat "
        "it: try something different (another command, another source, a smaller step), "
        "or stop and ask the user how to proceed."
    )


@dataclass
class RepetitionGuard:
    """Per turn: the first detection asks the model to change course; more end the turn."""

    extra_detections_allowed: int = 2
    detections: int = 0

    def check(self, messages: list[dict[str, Any]]) -> tuple[str, str] | None:
        """None, ("warn", description) or ("stop", description)."""
        description = detect_repetition(signatures(messages))
        if description is None:
            return None
        self.detections += 1
        if self.detections > self.extra_detections_allowed:
            return "stop", description
        return "warn", description
