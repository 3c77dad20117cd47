"""Typing into the chat in a real terminal: pastes the terminal does not mark, queued
lines taken back to edit, terminal replies that must never show, and SIGTERM.
"""

from __future__ import annotations

import os
import signal
import termios
import time

import pexpect
import pyte
import pytest

from tests.e2e.test_interactive import FIRST_ANSWER_S, user_texts
from tests.fakes import llm_server as llm
from tests.reflow_terminal import ReflowTerminal

KEY_GAP_S = 0.005  # a paste through a slow link: the lines come a few milliseconds apart
# The chat's paste gap, widened far past the key gap: a loaded machine that stretches
# the test's short sleeps cannot split the paste (by default the gap is 30 ms).
PASTE_GAP_S = "0.5"


def slow_paste(term, lines: list[str]) -> None:
    for line in lines:
        os.write(term.child.child_fd, f"{line}\r".encode())  # pexpect's send waits 50 ms first
        time.sleep(KEY_GAP_S)


@pytest.mark.timeout(240)
def test_pastes_queued_edits_and_terminal_replies(terminal, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_PASTE_GAP_S", PASTE_GAP_S)
    words = " ".join(f"w{i}" for i in range(1, 60))
    fake_llm.script(
        llm.text("Got the pasted lines."),
        llm.text(words, delay_s=0.05),
        llm.text("Answer to the paste typed ahead."),
        llm.text("Answer to the edited line."),
    )
    term = terminal(answer_cpr=True)
    term.expect("›")

    # at the prompt: lines a few milliseconds apart are one message, not three
    slow_paste(term, ["alpha", "beta", "gamma"])
    term.expect("Got the pasted lines.", timeout=FIRST_ANSWER_S)
    assert user_texts(fake_llm.requests[0])[-1] == "alpha\nbeta\ngamma"
    term.expect("›")

    # during a turn: the same, then a line queued by hand, taken back with Up and edited
    term.enter("stream something")
    term.expect("w3 ")
    slow_paste(term, ["one", "two"])
    term.expect("queued: one … [2 lines]")
    term.type("fix the typo\r")
    term.expect("queued: fix the typo  (↑ to edit)")
    term.type("\x1b[A")
    term.expect("› fix the typo▏")
    term.type("\x17model\r")  # Ctrl-W: the last word goes; then the right one
    term.expect("queued: fix the model")
    term.type("\x0c\x1b[9;9R")  # Ctrl-L, and a terminal reply nobody asked for
    term.expect("Answer to the paste typed ahead.")
    term.expect("Answer to the edited line.")
    assert user_texts(fake_llm.requests[2])[-1] == "one\ntwo"
    assert user_texts(fake_llm.requests[3])[-1] == "fix the model"
    term.type("\x1b[7;7R")  # a late reply right as the turn ends
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()
    assert "9;9R" not in term.raw and "7;7R" not in term.raw
    assert "1;1R" not in term.raw  # the answers to the chat's own cursor queries


@pytest.mark.timeout(120)
def test_sigterm_ends_the_chat_and_puts_the_terminal_back(terminal, fake_llm):
    words = " ".join(f"w{i}" for i in range(1, 200))
    fake_llm.script(llm.text(words, delay_s=0.05))
    term = terminal()
    term.expect("›")
    term.enter("stream something long")
    term.expect("w3 ", timeout=FIRST_ANSWER_S)
    term.child.kill(signal.SIGTERM)
    term.expect("resume with: ml-intern --continue")
    term.child.expect(pexpect.EOF, timeout=20)
    modes = termios.tcgetattr(term.child.child_fd)[3]
    assert term.exit_code() == 128 + signal.SIGTERM
    assert modes & termios.ECHO and modes & termios.ICANON  # typing shows again
    assert "w199" not in term.text
    assert "Interrupted." in term.text and "Ctrl-C again" not in term.text  # it is leaving


def streaming_paragraphs(terminal, fake_llm, count: int, words: int, until: str):
    """A chat whose answer, "Paragraph i: wi_0 wi_1 ...", is streaming and has shown `until`."""
    text = "\n\n".join(
        f"Paragraph {i}: " + " ".join(f"w{i}_{j}" for j in range(words)) for i in range(count)
    )
    fake_llm.script(llm.text(text, delay_s=0.01))
    term = terminal()
    term.expect("›")
    term.enter("go")
    term.expect(until, timeout=FIRST_ANSWER_S)
    return term


@pytest.mark.timeout(180)
def test_ctrl_l_during_a_turn_clears_the_screen_and_the_answer_goes_on(terminal, fake_llm):
    term = streaming_paragraphs(terminal, fake_llm, count=12, words=12, until="Paragraph 3:")
    term.type("\x0c")
    term.expect("w11_11")
    term.expect("›")

    screen = pyte.Screen(100, 40)
    pyte.Stream(screen).feed(term.raw)
    shown = "\n".join(line.rstrip() for line in screen.display)
    assert "› go" not in shown and "Paragraph 0:" not in shown  # cleared mid-answer
    assert "Paragraph 11: w11_0" in shown  # and the answer went on below
    assert shown.count("Paragraph 11:") == 1
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_narrowing_the_window_mid_answer_leaves_every_paragraph_once(terminal, fake_llm):
    term = streaming_paragraphs(terminal, fake_llm, count=14, words=20, until="Paragraph 4:")
    resized_at = len(term.raw)
    term.child.setwinsize(40, 60)  # the open paragraph is on screen at 100 columns
    term.expect("w13_19")
    term.expect("›")

    screen = ReflowTerminal(100, 40)  # as tmux, GNOME Terminal or iTerm2 would show it
    screen.feed(term.raw[:resized_at])
    screen.resize(60)
    screen.feed(term.raw[resized_at:])
    starts = [line.split(":")[0] for line in screen.lines() if line.startswith("Paragraph ")]
    assert starts == [f"Paragraph {i}" for i in range(14)]
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()


def last_said(text: str):
    """A check of a request: its last user message is `text` (the fake fails the test if not)."""

    def check(body: dict) -> None:
        assert user_texts(body)[-1] == text, user_texts(body)

    return check


@pytest.mark.timeout(180)
def test_ctrl_c_sends_nothing_that_waits_and_gives_it_all_back_in_order(terminal, fake_llm):
    words = " ".join(f"w{i}" for i in range(1, 200))
    fake_llm.script(
        llm.text("Both read.", expect=last_said("first\nsecond")),
        llm.text(words, delay_s=0.05),
        llm.text("Queued one read.", expect=last_said("later")),
    )
    term = terminal()
    term.expect("›")
    term.enter("first")
    term.expect("Loading the model library")
    term.enter("second")  # queued behind the first
    term.expect("queued: second")
    term.type("\x03")  # stop the wait: neither is sent, both come back, in order
    term.expect("second")
    term.type("\r")  # the script's checks fail the test had Ctrl-C sent one of them
    term.expect("Both read.", timeout=FIRST_ANSWER_S)
    term.expect("›")

    term.enter("stream")
    term.expect("w5 ")
    term.enter("later")
    term.expect("queued: later")
    term.type("\x03")
    term.expect("Interrupted")
    term.type("\r")  # sends the line Ctrl-C gave back; had Ctrl-C sent it, this is one too many
    term.expect("Queued one read.")
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()
