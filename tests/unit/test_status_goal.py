"""/status names the goal being worked toward, with each limit used against allowed."""

from __future__ import annotations

import time
from types import SimpleNamespace

from agent.config import Settings
from agent.tools.goal import GOAL_STATE, Goal
from agent.usage import UsageLedger
from tests.unit.test_slash_commands import FakeChat


def test_status_shows_the_active_goal_and_its_limits():
    chat = FakeChat(Settings(max_budget_usd=2.0, goal_max_turns=12, goal_max_minutes=30))
    session = chat.session
    session.usage, session.turns, session.context = UsageLedger(), 3, SimpleNamespace(tokens=0)
    session.standing_approvals = set
    assert "goal" not in chat.run("/status")

    session.tool_state[GOAL_STATE] = Goal(
        "eval accuracy above 0.9", turns=2, started=time.monotonic() - 5 * 60
    )
    out = " ".join(chat.run("/status").split())

    assert "goal eval accuracy above 0.9 · turn 3 of 12 · 5 min of 30 · $0.00 of $2.00" in out
