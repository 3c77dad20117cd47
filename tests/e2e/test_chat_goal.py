"""/goal in a real terminal: the goal line each turn, the turns going on by themselves
until the model shows the condition holds, and Ctrl-C stopping a goal."""

from __future__ import annotations

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S, user_texts
from tests.fakes import llm_server as llm


@pytest.mark.timeout(180)
def test_a_goal_in_the_chat_goes_on_until_met_and_ctrl_c_stops_one(terminal, fake_llm):
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo 3 passed"}),
        llm.text("Ran the tests."),
        llm.tool_call("goal_done", {"evidence": "3 passed"}),
        llm.text("All tests pass."),
        llm.tool_call("bash", {"command": "echo training; sleep 30"}),
    )
    term = terminal()
    term.expect("›")
    term.enter("/goal stop")
    term.expect("No goal is active.")

    term.enter("/goal the tests pass")
    term.expect("◎ goal: the tests pass · turn 1/20", timeout=FIRST_ANSWER_S)
    term.expect("Ran the tests.")
    term.expect("◎ goal: the tests pass · turn 2/20")  # no key pressed: it goes on
    term.expect("All tests pass.")
    term.expect("◎ goal met after 2 turns (the tests pass): 3 passed")
    term.expect("›")
    assert user_texts(fake_llm.requests[2])[-1].startswith(
        "[ml-intern] Goal, turn 2 of 20: the tests pass"
    )
    term.enter("/goal")
    term.expect("◎ goal met after 2 turns")

    term.enter("/goal the model is trained")
    term.expect("training")
    term.type("\x03")
    term.expect("◎ goal stopped after 0 turns (the model is trained): stopped by the person")
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
