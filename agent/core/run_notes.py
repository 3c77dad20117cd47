"""What the model is told about background runs outside a tool result: the wake-up
message, and the experiment ledger after a compaction or when a session is continued.

The ledger is structured data kept beside the history, not in it, so a compaction cannot
lose it; these notes hand it back to the model compactly.
"""

from __future__ import annotations

from typing import Any

from agent.context.manager import AGENT_NOTE_PREFIX
from agent.runs.ledger import compact_text
from agent.runs.registry import RUNS_STATE, RunRegistry


def _registry(state: dict[str, Any]) -> RunRegistry | None:
    registry = state.get(RUNS_STATE)
    return registry if isinstance(registry, RunRegistry) else None


def take_wake(state: dict[str, Any]) -> tuple[str, str] | None:
    """The queued wake-ups as (a line for the person, the message for the model)."""
    registry = _registry(state)
    if registry is None or (woken := registry.take_wakes()) is None:
        return None
    short, body = woken
    return short, f"{AGENT_NOTE_PREFIX} {body}"


def ledger_note(state: dict[str, Any]) -> str:
    """The ledger for a compaction summary (empty when no run was launched)."""
    registry = _registry(state)
    if registry is None or not (entries := registry.entries()):
        return ""
    registry.brief_due = False
    return f"\n\nExperiment ledger (runs launched so far):\n{compact_text(entries)}"


def ledger_brief(state: dict[str, Any]) -> str:
    """Once after a continued session starts: its ledger, to go before the next request."""
    registry = _registry(state)
    if registry is None or not registry.brief_due:
        return ""
    registry.brief_due = False
    entries = registry.entries()
    return (
        f"{AGENT_NOTE_PREFIX} Experiment ledger of this session so far (runs you launched "
        f"before it was continued):\n{compact_text(entries)}\n\n"
    )
