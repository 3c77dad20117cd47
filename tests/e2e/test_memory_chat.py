"""Memory and @-mentions in the chat as a person uses them: /memory, Tab after `@`."""

from __future__ import annotations

import pytest

from agent.paths import config_home
from tests.e2e.test_interactive import FIRST_ANSWER_S, user_texts
from tests.fakes import llm_server as llm


@pytest.mark.timeout(240)
def test_memory_is_listed_and_a_completed_mention_is_sent(terminal, fake_llm, isolated_env):
    (config_home() / "AGENTS.md").write_text("Prefer bf16. See @style.md and @gone.md\n")
    (config_home() / "style.md").write_text("Short answers.\n")
    (isolated_env / "notes").mkdir()
    (isolated_env / "notes" / "run-42.md").write_text("eval loss 1.87\n")
    fake_llm.script(llm.text("The loss is fine."))
    term = terminal()
    term.expect("›")

    term.enter("/memory")
    term.expect("loaded   ~/config/ml-intern/AGENTS.md (user)")
    term.expect(
        "loaded   ~/config/ml-intern/style.md (user, imported by ~/config/ml-intern/AGENTS.md)"
    )
    term.expect("skipped  ~/config/ml-intern/gone.md: no such file (imported by")

    term.type("how is @no")
    term.expect("@notes/  folder")  # offered while typing
    term.type("\t")  # Tab takes it
    term.type("r")
    term.expect("@notes/run-42.md  file")
    term.type("\t")
    term.type(" ?\r")
    term.expect("The loss is fine.", timeout=FIRST_ANSWER_S)

    (sent,) = user_texts(fake_llm.requests[0])
    assert sent.startswith("how is @notes/run-42.md ?")
    assert "eval loss 1.87" in sent
    system = fake_llm.requests[0]["messages"][0]["content"]
    assert "Prefer bf16." in system and "Short answers." in system

    term.enter("/undo")
    term.expect("removed the last turn")
    term.expect("› how is @notes/run-42.md ?")  # what was typed, without the file
    assert "eval loss" not in term.text
    term.type("\x03")
    term.enter("/quit")
    assert term.exit_code() == 0
