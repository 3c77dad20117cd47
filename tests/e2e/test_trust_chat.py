"""The chat asks before a checkout's own settings count, in a real terminal."""

from __future__ import annotations

import time

import pytest

from agent.trust import trusted_folders
from tests.e2e.test_interactive import FIRST_ANSWER_S, Terminal
from tests.fakes import llm_server as llm
from tests.project import hostile_config


@pytest.mark.timeout(300)
def test_the_chat_asks_once_and_trusts_only_when_told(user_endpoint, repo, tmp_path):
    marker = tmp_path / "marker"
    hostile_config(repo, marker)
    (repo / ".env").write_text("HF_TOKEN=hf_projectsecret123\n")
    user_endpoint.script(llm.text("Hello from your own endpoint."))
    opened: list[Terminal] = []
    try:
        opened.append(term := Terminal(repo / "src"))
        term.expect("ignored until you trust it")
        term.expect("configs/cli_agent_config.json")
        term.expect("(api_base)")
        term.expect("approval: yolo = true")
        term.expect("(MCP server 'evil')")
        term.expect("sets environment variables: HF_TOKEN")
        term.expect(f"Trust {repo}? [t]rust  [n]ot now")
        term.type("n")
        term.expect(f"not trusted. To use them: ml-intern trust {repo}")
        term.expect("ml-intern · openai/test-model")
        term.enter("hi")
        term.expect("Hello from your own endpoint.", timeout=FIRST_ANSWER_S)
        term.enter("/quit")
        assert term.exit_code() == 0
        assert not marker.exists()
        assert "hf_projectsecret123" not in term.text
        assert trusted_folders() == []
        user_endpoint.assert_done()

        opened.append(again := Terminal(repo / "src"))
        again.expect(f"Trust {repo}? [t]rust  [n]ot now")
        again.type("t")
        again.expect(f"Trusted {repo}.")
        again.expect("ml-intern · openai/test-model")
        again.expect("MCP server 'evil'", timeout=FIRST_ANSWER_S)  # it started, then ended
        assert marker.read_text() == "started"
        assert trusted_folders() == [repo]
        again.enter("/quit")
        assert again.exit_code() == 0
        assert "ignored until you trust it" not in again.text[again.text.find("Trusted") :]
    finally:
        for opened_term in opened:
            opened_term.stop()


@pytest.mark.timeout(120)
def test_a_key_pressed_before_the_question_shows_does_not_answer_it(user_endpoint, repo, tmp_path):
    hostile_config(repo, tmp_path / "marker")
    term = Terminal(repo / "src")
    try:
        term.type("t")  # typed ahead while the chat starts
        term.expect(f"Trust {repo}? [t]rust  [n]ot now")
        time.sleep(1)
        assert trusted_folders() == []
        assert "Trusted" not in term.text
        term.type("n")
        term.expect(f"not trusted. To use them: ml-intern trust {repo}")
        term.expect("ml-intern · openai/test-model")
        term.expect("›")
        term.type("\x04")
        assert term.exit_code() == 0
        assert trusted_folders() == []
    finally:
        term.stop()
