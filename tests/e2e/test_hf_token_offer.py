"""The chat's first launch without a Hugging Face token offers to keep a pasted one,
after the first answer."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S
from tests.fakes import llm_server as llm
from tests.fakes.hub_uploads import HubUploads

PITCH = "No Hugging Face token found"
QUESTION = "Paste your Hugging Face token (hidden; Enter to skip)"


@pytest.fixture
def first_launch(terminal):
    """A person who has never been offered: no token anywhere, no record of the offer."""
    (Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "hf-token-offered").unlink()
    return terminal


@pytest.mark.timeout(180)
def test_enter_skips_the_offer_and_it_is_not_made_again(first_launch, fake_llm):
    fake_llm.script(llm.text("First answer."), llm.text("Second answer."))
    term = first_launch()
    term.expect("›")
    term.enter("hello")
    term.expect("First answer.", timeout=FIRST_ANSWER_S)  # never between a request and it
    term.expect(PITCH)
    term.expect("private repos")
    term.expect("trace sharing")
    term.expect(QUESTION)
    term.enter("")
    term.expect("Skipped. Later: HF_TOKEN in ~/config/ml-intern/.env")  # XDG_CONFIG_HOME's
    env_file = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / ".env"
    assert not env_file.exists() or "HF_TOKEN" not in env_file.read_text()
    term.enter("/quit")
    assert term.exit_code() == 0

    again = first_launch()
    again.expect("›")
    again.enter("hello again")
    again.expect("Second answer.", timeout=FIRST_ANSWER_S)
    assert PITCH not in again.text
    again.enter("/quit")
    assert again.exit_code() == 0
    fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_a_pasted_token_is_saved_privately_and_used_at_once(first_launch, fake_llm, monkeypatch):
    token = "hf_" + "Pasted0Token" * 3
    with HubUploads(token=token, user="alice") as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        fake_llm.script(llm.text("Answered."))
        term = first_launch()
        term.expect("›")
        term.enter("hello")
        term.expect("Answered.", timeout=FIRST_ANSWER_S)
        term.expect(QUESTION)
        term.enter(token)
        term.expect("Saved HF_TOKEN (account alice)")
        assert token not in term.text
        env_file = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / ".env"
        assert f"HF_TOKEN={token}" in env_file.read_text().splitlines()
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        term.enter("/quit")
        assert term.exit_code() == 0  # the last upload is waited for before the chat ends
        fake_llm.assert_done()
        uploaded = hub.repos["alice/ml-intern-sessions"].files
        assert any(name.startswith("sessions/") for name in uploaded)  # this session's trace


@pytest.mark.timeout(180)
def test_a_token_the_hub_refuses_is_not_saved(first_launch, fake_llm, monkeypatch):
    token = "hf_" + "Right0Token" * 3
    with HubUploads(token=token, user="alice") as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        fake_llm.script(llm.text("Answered."))
        term = first_launch()
        term.expect("›")
        term.enter("hello")
        term.expect("Answered.", timeout=FIRST_ANSWER_S)
        term.expect(QUESTION)
        term.enter("hf_" + "Wrong0Token" * 3)
        term.expect(f"The token did not work: {hub.url} does not accept it")
        term.expect("(invalid or expired token)")
        term.expect("Paste it again, or press Enter to skip.")
        term.expect(QUESTION)
        term.enter("")
        term.expect("Skipped")
        assert "Wrong0Token" not in term.text
        assert hub.requests == [("GET", "/api/whoami-v2")]
        env_file = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / ".env"
        assert not env_file.exists() or "HF_TOKEN" not in env_file.read_text()
        term.enter("/quit")
        assert term.exit_code() == 0
        fake_llm.assert_done()


def test_headless_never_asks(cli, fake_llm):
    (Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / "hf-token-offered").unlink()
    fake_llm.script(llm.text("fine"))
    result = cli("hi")
    assert result.exit_code == 0
    assert PITCH not in result.stdout + result.stderr
    fake_llm.assert_done()
