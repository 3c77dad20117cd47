"""A goal as the person sees it in one line: the condition, the turn, what is left."""

from __future__ import annotations

from agent import events as ev

ENDINGS = {"met": "goal met", "stopped": "goal stopped", "limit": "goal stopped by a limit"}


def goal_line(event: ev.GoalUpdate) -> str:
    """`◎ goal: tests pass · turn 3/20 · $0.12 of $1.00 · 14 min left` while it is active;
    how it ended (with the evidence or the reason) once it has."""
    if event.status != "active":
        why = f": {event.evidence}" if event.status == "met" else f": {event.reason}"
        turns = f" after {event.turns} turn{'s' if event.turns != 1 else ''}"
        return f"◎ {ENDINGS[event.status]}{turns} ({event.condition}){why}"
    parts = [f"◎ goal: {event.condition}", f"turn {event.turns + 1}/{event.max_turns}"]
    if event.budget_usd is not None:
        spent = f"${event.spent_usd:.2f}" if event.spent_usd is not None else "unknown"
        parts.append(f"{spent} of ${event.budget_usd:.2f}")
    if event.seconds_left is not None:
        parts.append(f"{max(event.seconds_left, 0) / 60:.0f} min left")
    return " · ".join(parts)


def goal_status(event: ev.GoalUpdate, elapsed_s: float) -> str:
    """The active goal for /status: its condition and each limit, used against allowed:
    `tests pass · turn 3 of 20 · 4 min of 30 · $0.12 of $1.00`."""
    parts = [event.condition, f"turn {event.turns + 1} of {event.max_turns}"]
    minutes = f"{elapsed_s / 60:.0f} min"
    if event.seconds_left is not None:
        minutes += f" of {(elapsed_s + max(event.seconds_left, 0)) / 60:.0f}"
    parts.append(minutes)
    spent = f"${event.spent_usd:.2f}" if event.spent_usd is not None else "cost unknown"
    parts.append(f"{spent} of ${event.budget_usd:.2f}" if event.budget_usd is not None else spent)
    return " · ".join(parts)
