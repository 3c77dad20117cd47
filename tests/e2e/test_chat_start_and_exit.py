"""The chat's first and last moments: nothing typed is lost, leaving is bounded."""

from __future__ import annotations

import os
import time

import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S, Terminal, user_texts
from tests.fakes import llm_server as llm
from tests.fakes.hub_uploads import HubUploads
from tests.slow_import import litellm_never_loads

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


@pytest.mark.timeout(180)
def test_a_line_typed_as_the_chat_starts_is_sent(terminal, fake_llm):
    fake_llm.script(llm.text("Hello back."))
    term = terminal(answer_cpr=True)  # the terminal's replies come in behind the keys
    term.expect("ml-intern · openai/test-model")
    term.enter("hello")  # the banner is there; the prompt may not be yet
    term.expect("Hello back.", timeout=FIRST_ANSWER_S)
    assert user_texts(fake_llm.requests[0]) == ["hello"]
    assert "hello" not in term.text.splitlines()  # never echoed raw by the terminal
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_an_enter_with_a_terminal_reply_right_behind_it_sends(terminal, fake_llm):
    fake_llm.script(llm.text("Hello back."))
    term = terminal()
    term.expect("›")
    os.write(term.child.child_fd, b"hello\r\x1b[5;1R")  # in one read: the line, then a reply
    term.expect("Hello back.", timeout=FIRST_ANSWER_S)
    assert user_texts(fake_llm.requests[0]) == ["hello"]
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()
    assert "5;1R" not in term.raw


def ended(term: Terminal, timeout: float) -> bool:
    """Whether the process has ended by the deadline (pexpect reaps it)."""
    deadline = time.monotonic() + timeout
    while term.child.isalive():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.timeout(180)
def test_closing_the_terminal_while_the_model_library_loads_ends_the_chat(
    terminal, fake_llm, tmp_path, monkeypatch
):
    loading = litellm_never_loads(tmp_path, monkeypatch)
    term = terminal()
    term.expect("›")
    term.enter("hello")
    term.expect("Loading the model library")
    assert loading.exists()
    os.close(term.child.child_fd)  # the window is closed: SIGHUP, then EIO on every read
    term.child.child_fd = -1
    assert ended(term, timeout=60), "ml-intern kept running after its terminal went away"
