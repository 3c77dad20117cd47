"""Leaving the chat is bounded, whatever the network or the terminal does."""

from __future__ import annotations

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S
from tests.fakes import llm_server as llm
from tests.fakes.hub_uploads import HubUploads

TOKEN = "hf_" + "Leaving0Token" * 3


@pytest.mark.timeout(180)
def test_ctrl_d_leaves_while_the_hub_never_answers_an_upload(terminal, fake_llm, monkeypatch):
    with HubUploads(token=TOKEN, stall_commits=True) as hub:
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("ML_INTERN_UPLOAD_GRACE_S", "1")
        fake_llm.script(llm.text("Answered."))
        term = terminal()
        term.expect("›")
        term.enter("hello")
        term.expect("Answered.", timeout=FIRST_ANSWER_S)
        assert hub.commit_started.wait(60)  # the upload is stuck in the Hub
        term.expect("›")
        term.type("\x04")
        term.expect("Trace upload skipped")
        # The grace (1 s) plus a second, and room for a busy machine; the Hub still
        # holds the commit, so only a chat that stops waiting for it gets here.
        assert term.exit_code(timeout=10) == 0
        fake_llm.assert_done()
