"""`/model` in a real terminal: ids that cannot work, a missing key and a model that does
not answer all keep the current model; only a model that answers is switched to."""

from __future__ import annotations

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S, Terminal
from tests.fakes import llm_server as llm


@pytest.mark.timeout(240)
def test_model_switch_checks_the_new_model_before_switching(fake_llm, isolated_env):
    fake_llm.script(
        llm.error(404, "The model no-such-model does not exist."),
        llm.text("OK"),
        llm.text("Answered by the other model."),
    )
    term = Terminal(isolated_env)
    try:
        walk_through(term, fake_llm)
    finally:
        term.stop()
    fake_llm.assert_done()


def walk_through(term: Terminal, fake_llm) -> None:
    term.expect("›")

    term.enter("/model ollama/")
    term.expect("Kept openai/test-model")
    term.expect("names a provider but no model")
    term.enter("/model ollama/llama 3.1")
    term.expect("Kept openai/test-model")
    term.expect("has no spaces")
    term.enter("/model openai-compat/x")
    term.expect("Kept openai/test-model")
    term.expect("unknown provider 'openai-compat/'")

    term.enter("/model anthropic/claude-sonnet-4-5")
    term.expect("No API key for anthropic/claude-sonnet-4-5", timeout=FIRST_ANSWER_S)
    term.expect("Paste your ANTHROPIC_API_KEY")
    term.enter("")  # skipped: nothing is sent, the model stays
    term.expect("Kept openai/test-model.")
    assert fake_llm.requests == []

    term.enter("/model openai/no-such-model")
    term.expect("Kept openai/test-model")
    term.expect("does not exist")

    term.enter("/model openai/other-model")
    term.expect("Model set to openai/other-model")
    probe = fake_llm.requests[1]
    assert probe["model"] == "other-model"
    assert 1 in (probe.get("max_tokens"), probe.get("max_completion_tokens"))
    assert "tools" not in probe

    term.enter("/status")
    term.expect("in this conversation")  # the rows are drawn: the next line is a message of its own
    assert "openai/other-model" in term.text.split("/status")[-1]
    term.enter("who answers")
    term.expect("Answered by the other model.")
    assert fake_llm.requests[2]["model"] == "other-model"
    assert fake_llm.requests[0]["model"] == "no-such-model"

    term.expect("›")  # keys typed before the prompt is back may be swallowed
    term.type("\x04")
    assert term.exit_code() == 0
