"""Keeping a goal going between turns: the continuation request, the limits, the endings.

A goal (`/goal CONDITION`, `--goal`) keeps the agent working turn after turn until the
model ends it with evidence (`goal_done`), the person stops it (Ctrl-C, `/goal stop`),
or a limit is reached: the turns and minutes it may take, the spend budget, or turns
in a row that produce nothing new. Each ending is one `goal` event saying why.
The loop (`core/loop.py`) asks `after_turn` what comes next and arms `deadline`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from agent import events as ev
from agent.context.manager import AGENT_NOTE_PREFIX
from agent.core.session import Session
from agent.errors import AgentStop, GoalTimeLimit
from agent.runs.registry import runs_watching
from agent.tools.goal import (
    GOAL_STATE,
    TOOL_NAME,
    Goal,
    active_goal,
    current_goal,
    goal_tool,
)

NO_PROGRESS_TURNS = 3  # turns in a row with nothing new before the goal stops
SEEDED_OUTPUTS = 50  # tool results already in the history the evidence may quote
RECHECK_S = 5.0  # how often a goal waiting for runs looks again without being woken
WAKEUP = "goal_wakeup"
FINAL_CODES = ("goal_stopped", "interrupted", "goal_no_progress")  # not carried on by a resume
WATCHING = "goal_watching"


def pending_runs(session: Session) -> bool:
    """True while background runs the agent waits on are still going and none has asked
    for a look yet: no model call is made for the goal then (waiting costs nothing). The
    runs call `wake(session)` (through the engine) when one ends or needs a look."""
    return runs_watching(session.tool_state)


def wake(session: Session) -> None:
    """A watched run ended or needs a look: a goal waiting for runs checks again now."""
    wakeup = session.tool_state.get(WAKEUP)
    if isinstance(wakeup, asyncio.Event):
        wakeup.set()


async def wait_for_runs(session: Session) -> None:
    """Before a goal's next model call: wait, calling nothing, while runs are pending;
    the goal's time limit still applies."""
    while pending_runs(session):
        goal = active_goal(session.tool_state)
        if goal is not None and (left := seconds_left(session, goal)) is not None and left <= 0:
            raise GoalTimeLimit(time_limit_reason(session))
        wakeup = session.tool_state.setdefault(WAKEUP, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), RECHECK_S)
        wakeup.clear()


def start_goal(session: Session, condition: str, request: str = "") -> str:
    """Set the goal (replacing any other) and return the request that starts the work."""
    goal = Goal(condition=condition.strip())
    old = current_goal(session.tool_state)
    if old is not None:
        goal.seen, goal.outputs = old.seen, old.outputs
    else:
        for message in session.context.messages[-SEEDED_OUTPUTS * 2 :]:
            if message.get("role") == "tool" and isinstance(message.get("content"), str):
                goal.record_output(message["content"])
    goal.fresh = False
    _activate(session, goal)
    opening = request.strip() or f"Work toward this goal: {goal.condition}"
    return (
        f"{opening}\n\n{AGENT_NOTE_PREFIX} Goal set: {goal.condition}\n"
        f"Keep working across turns until it holds. Check it with a tool (run the tests, read "
        f"the metric), then call {TOOL_NAME} quoting the output that shows it. {limits(session)}"
    )


def restore_goal(session: Session, saved: dict[str, Any] | None) -> None:
    """A resumed session takes back a goal that was still being worked toward, or that a
    limit or a failure of its last run ended (not one met, stopped by the person or stuck):
    with this run's limits, counted from now."""
    if not saved or saved.get("status") == "met" or saved.get("code") in FINAL_CODES:
        return
    condition = str(saved.get("condition") or "").strip()
    if not condition:
        return
    start_goal(session, condition)
    session.notify(f"Goal carried on from the saved session: {condition}")


def _activate(session: Session, goal: Goal) -> None:
    session.tool_state[GOAL_STATE] = goal
    session.router.register(goal_tool())
    if not session.tool_state.get(WATCHING):
        session.tool_state[WATCHING] = True
        session.subscribe(lambda event: _watch(session, event))
        session.on_fresh.append(lambda: _end_on_fresh(session))


def _watch(session: Session, event: ev.Event) -> None:
    """Every tool output while a goal is active: the evidence it may quote, and progress."""
    if isinstance(event, ev.ToolOutput) and event.name != TOOL_NAME:
        if goal := active_goal(session.tool_state):
            goal.record_output(event.content)


def _end_on_fresh(session: Session) -> None:
    if active_goal(session.tool_state) is not None:
        finish(session, "stopped", "goal_stopped", "a new conversation was started", 0)
    session.tool_state.pop(GOAL_STATE, None)


def announce(session: Session) -> None:
    """Say where the active goal stands (shown live in the chat, kept in the session log)."""
    if goal := active_goal(session.tool_state):
        session.emit(goal_event(session, goal))


def goal_event(session: Session, goal: Goal) -> ev.GoalUpdate:
    settings = session.settings
    return ev.GoalUpdate(
        condition=goal.condition,
        status=goal.status,
        code=goal.code,
        reason=goal.reason,
        evidence=goal.evidence,
        turns=goal.turns,
        max_turns=settings.goal_max_turns,
        spent_usd=session.usage.total_cost_usd,
        budget_usd=settings.max_budget_usd,
        seconds_left=seconds_left(session, goal),
        exit_code=goal.exit_code,
    )


def finish(session: Session, status: str, code: str, reason: str, exit_code: int) -> Goal | None:
    """End the active goal, saying why; the goal stays as the session's last one."""
    goal = active_goal(session.tool_state)
    if goal is None:
        return None
    goal.status = status  # type: ignore[assignment]  # one of Status, by every caller
    goal.code, goal.reason, goal.exit_code = code, reason, exit_code
    session.router.unregister(TOOL_NAME)
    session.emit(goal_event(session, goal))
    return goal


def stop_goal(
    session: Session, reason: str, code: str = "goal_stopped", exit_code: int = 0
) -> bool:
    """The person stopped the goal; False when none was active."""
    return finish(session, "stopped", code, reason, exit_code) is not None


def interrupted(session: Session) -> None:
    """Ctrl-C (or a signal) stopped the turn: it stops the goal too."""
    stop_goal(session, "stopped by the person (Ctrl-C)", "interrupted", 130)


def turn_failed(session: Session, stop: AgentStop) -> None:
    """A turn ended by a limit or a failure ends the goal with it, for the same reason."""
    status = "limit" if stop.exit_code in (4, 5) else "stopped"
    finish(session, status, stop.code, stop.message, stop.exit_code)


def after_turn(session: Session) -> str | None:
    """A turn ended normally: the request that continues the goal, or None when it ended
    (met, out of turns or time, or stuck)."""
    goal = active_goal(session.tool_state)
    if goal is None:
        return None
    goal.turns += 1
    goal.quiet_turns = 0 if goal.fresh else goal.quiet_turns + 1
    goal.fresh = False
    settings = session.settings
    if goal.evidence:
        finish(session, "met", "goal_met", "the model showed the condition holds", 0)
    elif goal.turns >= settings.goal_max_turns:
        reason = (
            f"Stopped the goal after {goal.turns} turns (--max-turns {settings.goal_max_turns}) "
            "without the condition met. Run again with more turns to go on."
        )
        finish(session, "limit", "goal_max_turns", reason, 4)
    elif (left := seconds_left(session, goal)) is not None and left <= 0:
        finish(session, "limit", GoalTimeLimit.code, time_limit_reason(session), 4)
    elif goal.quiet_turns >= NO_PROGRESS_TURNS:
        reason = (
            f"Stopped the goal: {goal.quiet_turns} turns in a row produced nothing new (no new "
            "tool output). Say what blocks it, or set the goal again with a different approach."
        )
        finish(session, "stopped", "goal_no_progress", reason, 1)
    else:
        return continuation(session, goal)
    return None


def continuation(session: Session, goal: Goal) -> str:
    """The request for the goal's next turn: the goal, what is left, how it goes."""
    settings = session.settings
    turn = goal.turns + 1
    lines = [
        f"{AGENT_NOTE_PREFIX} Goal, turn {turn} of {settings.goal_max_turns}: {goal.condition}",
        limits(session),
    ]
    if goal.quiet_turns == 0:
        lines.append(
            "Go on from where you are. Once a check you ran shows the condition holds, call "
            f"{TOOL_NAME} quoting that output."
        )
    elif goal.quiet_turns < NO_PROGRESS_TURNS - 1:
        lines.append(
            "Your last turn produced nothing new. Take a different step: run the check, read "
            "what it printed, or change the approach."
        )
    else:
        lines.append(
            f"{goal.quiet_turns} turns in a row produced nothing new: one more and the goal "
            "stops. Try something clearly different, or say plainly what blocks it."
        )
    return "\n".join(lines)


def limits(session: Session) -> str:
    """What is left of the goal's limits, in a sentence."""
    goal = active_goal(session.tool_state)
    settings = session.settings
    turns_left = settings.goal_max_turns - (goal.turns if goal else 0)
    parts = [f"{turns_left} turn{'s' if turns_left != 1 else ''}"]
    if settings.max_budget_usd is not None:
        spent = session.usage.spent_usd
        parts.append(f"${max(settings.max_budget_usd - spent, 0):.2f} of the budget")
    if goal is not None and (left := seconds_left(session, goal)) is not None:
        parts.append(f"{max(left, 0) / 60:.0f} min")
    return "Left: " + ", ".join(parts) + "."


def seconds_left(session: Session, goal: Goal) -> float | None:
    minutes = session.settings.goal_max_minutes
    if minutes is None:
        return None
    return minutes * 60 - (time.monotonic() - goal.started)


def time_limit_reason(session: Session) -> str:
    return (
        f"Stopped the goal after {session.settings.goal_max_minutes:g} minutes (--max-minutes) "
        "without the condition met. Run again with more time to go on."
    )


def deadline(session: Session) -> Callable[[], None]:
    """While a turn runs for an active goal with a time limit: end the turn at the limit,
    before its next model call (at once when it has passed). Returns what disarms it when
    the turn ends."""
    goal = active_goal(session.tool_state)
    left = seconds_left(session, goal) if goal is not None else None
    if left is None:
        return lambda: None
    stop = GoalTimeLimit(time_limit_reason(session))
    if left <= 0:
        raise stop
    timer = asyncio.get_running_loop().call_later(max(left, 0), session.stop_before_next_step, stop)

    def disarm() -> None:
        timer.cancel()
        if session.pending_stop is stop:
            session.pending_stop = None

    return disarm
