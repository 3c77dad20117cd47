"""Habits people bring from Claude Code and Codex, in a real terminal."""

from __future__ import annotations

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S
from tests.fakes import llm_server as llm


@pytest.mark.timeout(180)
def test_a_resumed_one_turn_session_says_one_turn(terminal, fake_llm):
    fake_llm.script(llm.text("Hello."))
    term = terminal()
    term.expect("›")
    term.enter("hi")
    term.expect("Hello.", timeout=FIRST_ANSWER_S)
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0

    again = terminal("--continue")
    again.expect("(1 turn)")
    again.expect("Hello.")  # the replayed turn, then the prompt
    again.expect("›")
    again.type("\x04")
    assert again.exit_code() == 0
    fake_llm.assert_done()
