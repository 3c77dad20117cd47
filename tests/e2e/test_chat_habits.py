"""Habits people bring from Claude Code and Codex, in a real terminal."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.bubblewrap import require_sandbox
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


@pytest.mark.timeout(180)
def test_cost_context_and_copy(terminal, fake_llm, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)  # no local clipboard tool: the escape alone
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    answer = "Use **AdamW** with lr 3e-4."
    fake_llm.script(llm.text(answer, usage=(1234, 56), cached_tokens=200))
    term = terminal()
    term.expect("›")
    term.enter("which optimizer?")
    term.expect("lr 3e-4", timeout=FIRST_ANSWER_S)
    term.expect("›")

    term.enter("/cost")
    term.expect("model calls")
    term.expect("1")
    term.expect("tokens in")
    term.expect("1,234 (200 cached)")
    term.expect("tokens out")
    term.expect("56")
    term.expect("›")

    term.enter("/context")
    for row in ("system prompt", "tools", "your messages", "the model's answers", "tool output"):
        term.expect(row)
        term.expect("tokens")
        term.expect("%")
    term.expect("free")
    term.expect("tokens of")
    term.expect("›")

    term.enter("/copy")
    term.expect("copied the last answer (27 characters) via the terminal (OSC 52)")
    encoded = base64.b64encode(answer.encode()).decode()
    assert f"\x1b]52;c;{encoded}\x07" in term.raw
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_esc_stops_the_turn_and_esc_esc_takes_the_request_back(terminal, fake_llm):
    words = " ".join(f"w{i}" for i in range(1, 400))
    fake_llm.script(llm.text(words, delay_s=0.05), llm.text("Short now."))
    term = terminal()
    term.expect("›")
    term.enter("stream something long")
    term.expect("w20 ", timeout=FIRST_ANSWER_S)
    term.type("\x1b")
    term.expect("Interrupted")
    term.expect("›")
    assert "again within a second quits" not in term.text  # Esc never counts towards quitting

    term.type("\x1b\x1b")  # on the empty prompt: the last request comes back to edit
    term.expect("removed the last turn")
    term.expect("your request is back in the input")
    term.expect("› stream something long")
    term.type(" briefly\r")
    term.expect("Short now.")
    sent = fake_llm.requests[1]["messages"]
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "stream something long briefly")
    ]
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_ctrl_o_again_steps_back_to_earlier_outputs(terminal, fake_llm):
    fake_llm.script(
        llm.tool_call("bash", {"command": "seq 1 12"}),
        llm.tool_call("bash", {"command": "seq 101 112"}),
        llm.text("Counted twice."),
    )
    term = terminal("--yolo")
    term.expect("›")
    term.enter("count twice")
    term.expect("4 lines hidden (Ctrl-O shows the newest whole; again: older)", FIRST_ANSWER_S)
    term.expect("4 lines hidden")
    term.expect("Counted twice.")
    assert "106" not in term.text
    term.expect("›")

    term.type("\x0f")
    term.expect("bash output, in full (1 of 2, newest first; Ctrl-O again: the one before)")
    term.expect("106")
    term.type("\x0f")
    term.expect("bash output, in full (2 of 2, newest first")
    term.expect("⎿ 1")
    term.expect("6")
    term.expect("12")
    term.type("\x0f")  # past the oldest: the newest again
    term.expect("(1 of 2, newest first")
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_bang_runs_a_command_without_the_model_and_tells_it_next_time(terminal, fake_llm):
    fake_llm.script(llm.text("It printed alpha and beta."))
    term = terminal()
    term.expect("›")
    term.enter("!echo alpha; echo beta >&2; exit 3")
    term.expect("bash: echo alpha; echo beta >&2; exit 3", timeout=FIRST_ANSWER_S)
    term.expect("alpha")
    term.expect("beta")
    term.expect("exit code 3")
    term.expect("›")
    assert fake_llm.requests == []

    term.enter("what did it print?")
    term.expect("It printed alpha and beta.", timeout=FIRST_ANSWER_S)
    (request,) = [m["content"] for m in fake_llm.requests[0]["messages"] if m["role"] == "user"]
    ran, _, asked = request.rpartition("\n\n")
    assert ran.startswith("I ran `echo alpha; echo beta >&2; exit 3` myself; its output:\n")
    assert "alpha" in ran and "beta" in ran and "3" in ran
    assert asked == "what did it print?"
    term.expect("›")
    term.type("\x04")
    assert term.exit_code() == 0
    fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_bang_is_confined_by_the_sandbox_like_the_models_bash(terminal, fake_llm, tmp_path):
    require_sandbox()
    outside = Path("/var/tmp") / f"ml-intern-bang-{tmp_path.name}.txt"  # not the temp dir
    term = terminal("--sandbox", "workspace-write")
    term.expect("›")
    term.enter(f"!echo in > inside.txt; echo out > {outside}")
    term.expect("exit code", timeout=FIRST_ANSWER_S)
    term.expect("›")
    written = outside.exists()
    outside.unlink(missing_ok=True)
    assert not written
    assert (Path(term.child.cwd) / "inside.txt").read_text() == "in\n"
    term.type("\x04")
    assert term.exit_code() == 0
    assert fake_llm.requests == []
