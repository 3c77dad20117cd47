"""A project's custom command in the chat: the trust question names it, then /help,
Tab completion and `/<name> args` use it."""

from __future__ import annotations

import pytest

from agent.trust import trusted_folders
from tests.e2e.test_interactive import FIRST_ANSWER_S, Terminal, user_texts
from tests.fakes import llm_server as llm
from tests.integration.test_commands import write_command
from tests.integration.test_skills import write_skill


@pytest.mark.timeout(240)
def test_the_trust_question_names_the_commands_then_one_is_completed_and_sent(fake_llm, repo):
    write_command(
        repo / ".agents" / "commands", "ml/sweep", "---\nargument-hint: PARAM\n---\nSweep $1 now.\n"
    )
    write_skill(repo / ".claude" / "skills", "card-check", "Check a model card.", "body")
    fake_llm.script(llm.text("Swept."))
    term = Terminal(repo / "src")
    try:
        term.expect("ignored until you trust it")
        term.expect("gives the model 1 skill: card-check")
        term.expect("adds 1 slash command, sent to the model when typed: /ml:sweep")
        term.expect(f"Trust {repo}? [t]rust  [n]ot now")
        term.type("t")
        term.expect(f"Trusted {repo}.")
        term.expect("›")

        term.enter("/help")
        term.expect("/ml:sweep PARAM")
        term.type("/ml:sw")
        term.expect("/ml:sweep")  # offered while typing
        term.type("\t")
        term.type(" learning_rate\r")
        term.expect("Swept.", timeout=FIRST_ANSWER_S)

        (sent,) = user_texts(fake_llm.requests[0])
        assert sent == "Sweep learning_rate now."
        assert trusted_folders() == [repo]
        term.enter("/quit")
        assert term.exit_code() == 0
    finally:
        term.stop()
