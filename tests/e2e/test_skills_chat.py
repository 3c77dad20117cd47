"""Skills in the chat as a person uses them: /skills, Tab completion, /<skill> [text]."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S, user_texts
from tests.fakes import llm_server as llm
from tests.integration.test_skills import write_skill


@pytest.mark.timeout(240)
def test_a_skill_is_listed_completed_and_loaded_into_the_request(terminal, fake_llm):
    skills = Path.home() / ".agents" / "skills"
    write_skill(skills, "tokenizer-check", "Check a tokenizer round-trips.", "Decode(encode(x)).")
    fake_llm.script(llm.text("Checked."))
    term = terminal()
    term.expect("›")

    term.enter("/skills")
    term.expect("/tokenizer-check")
    term.expect("Check a tokenizer round-trips.")
    term.expect("[user:")

    term.type("/tokeni")
    term.expect("/tokenizer-check")  # offered while typing
    term.type("\t")  # Tab takes it
    term.type(" on gpt2\r")
    term.expect("Checked.", timeout=FIRST_ANSWER_S)

    (sent,) = user_texts(fake_llm.requests[0])
    assert "Decode(encode(x))." in sent
    assert "My request: on gpt2" in sent
    assert f"Skill folder: {(skills / 'tokenizer-check').resolve()}" in sent
    term.enter("/quit")
    assert term.exit_code() == 0
