"""The chat as a person uses it: a real pseudo-terminal, typing, reading the screen, Ctrl-C.

Each test spawns `python -m agent` once (importing litellm costs seconds) and walks
through several things a person would do in that one session.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import time
from pathlib import Path

import pexpect
import pytest

from tests.fakes import llm_server as llm

FIRST_ANSWER_S = 60  # the first request waits for litellm to finish loading
ANSWER_S = 20
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>()][0-9A-Za-z]?|[\r\x08]")
_FORWARD = re.compile(r"\x1b\[(\d*)C")


class Terminal:
    """A pseudo-terminal running ml-intern, read as text with the escape codes taken out."""

    def __init__(self, cwd: Path, *args: str, answer_cpr: bool = False) -> None:
        """`answer_cpr`: reply to cursor-position queries as a real terminal does, late
        (when the screen is next read); otherwise the chat is told not to ask."""
        env = dict(os.environ)
        if not answer_cpr:
            env["PROMPT_TOOLKIT_NO_CPR"] = "1"
        self.answer_cpr = answer_cpr
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "agent", *args],
            cwd=str(cwd),
            env=env,
            dimensions=(40, 100),
            encoding="utf-8",
            codec_errors="replace",
        )
        self.raw = ""
        self._pos = 0

    @property
    def text(self) -> str:
        spaced = _FORWARD.sub(lambda m: " " * int(m.group(1) or 1), self.raw)
        return _CONTROL.sub("", spaced)

    def expect(self, wanted: str, timeout: float = ANSWER_S) -> None:
        """Wait until `wanted` shows up after everything matched so far."""
        deadline = time.monotonic() + timeout
        while (found := self.text.find(wanted, self._pos)) < 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"{wanted!r} not on screen; screen so far:\n{self.text}")
            try:
                self._read()
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                raise AssertionError(
                    f"ml-intern exited before showing {wanted!r}:\n{self.text}"
                ) from None
        self._pos = found + len(wanted)

    def _read(self) -> None:
        data = self.child.read_nonblocking(65536, timeout=0.2)
        self.raw += data
        if self.answer_cpr:
            for _ in range(data.count("\x1b[6n")):
                self.child.send("\x1b[1;1R")

    def type(self, keys: str) -> None:
        self.child.send(keys)

    def enter(self, line: str) -> None:
        self.child.send(line + "\r")

    def exit_code(self, timeout: float = ANSWER_S) -> int:
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.raw += self.child.before or ""
        self.child.close()
        return self.child.exitstatus

    def stop(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


def user_texts(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


def tool_results(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


@pytest.mark.timeout(240)
def test_a_chat_session(terminal, fake_llm, isolated_env):
    fake_llm.script(
        llm.text("# Greeting\n\nHello from **the fake model**.\n\n```python\nprint('hi')\n```\n"),
        llm.tool_call("bash", {"command": "rm -rf build"}),
        llm.text("Build removed."),
        llm.tool_call("bash", {"command": "rm -rf data"}),
        llm.text("Kept the data."),
        llm.text("OK"),  # /model asks the new model for one token first
        llm.text("Switched models."),
        llm.text("After the undo."),
    )
    (isolated_env / "build").mkdir()
    (isolated_env / "data").mkdir()
    term = terminal()
    term.expect("ml-intern · openai/test-model")
    term.expect("›")

    term.enter("/help")
    for command in ("/help", "/model [id]", "/status", "/compact", "/undo", "/new", "/clear"):
        term.expect(command)
    term.expect("/yolo")
    term.expect("/tools")
    term.expect("/quit, /exit")
    term.enter("/mdoel")
    term.expect("Unknown command /mdoel. Did you mean /model?")

    term.type("say\x1b\rhello\r")  # Esc-Enter: a new line inside the request
    term.expect("Greeting", timeout=FIRST_ANSWER_S)
    term.expect("Hello from the fake model.")
    term.expect("print('hi')")
    term.expect("✓")
    assert user_texts(fake_llm.requests[0]) == ["say\nhello"]

    term.enter("clean the build")
    term.expect("Approve bash?")
    term.expect("rm -rf build")
    term.expect("[a]lways")
    term.type("y")
    term.expect("Build removed.")
    assert not (isolated_env / "build").exists()

    term.enter("clean the data")
    term.expect("Approve bash?")
    term.expect("rm -rf data")
    term.expect("[f]eedback")
    term.type("f")
    term.expect("What should it do instead?")
    term.enter("keep it, it is the only copy")
    term.expect("Kept the data.")
    assert (isolated_env / "data").is_dir()
    refusal = tool_results(fake_llm.requests[4])[-1]
    assert "refused" in refusal
    assert "keep it, it is the only copy" in refusal

    term.enter("/model openai/other-model")
    term.expect("Model set to openai/other-model")
    term.enter("which model now")
    term.expect("Switched models.")
    assert fake_llm.requests[6]["model"] == "other-model"
    assert fake_llm.requests[4]["model"] == "test-model"

    term.enter("/undo")
    term.expect("removed the last turn")
    term.expect("› which model now")  # the request is back in the input: clear it
    term.type("\x03")
    term.type("\x1b[200~go on\nwith this\x1b[201~\r")  # a bracketed paste keeps its newline
    term.expect("After the undo.")
    after_undo = user_texts(fake_llm.requests[7])
    assert "which model now" not in after_undo
    assert after_undo[-1] == "go on\nwith this"
    assert after_undo[0] == "say\nhello"

    term.expect("✓")
    term.expect("›")  # the prompt: keys typed before it would wait as typed-ahead text
    term.type("/sta")
    term.expect("/status")  # offered while typing
    term.type("\t\r")  # Tab takes it
    term.expect("session")
    term.expect("turns")
    term.expect("context")

    term.type("\x03")
    term.expect("Press Ctrl-C again to quit")
    term.type("\x03")
    assert term.exit_code() == 0
    fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_ctrl_c_stops_the_turn_and_keeps_history_consistent(terminal, fake_llm):
    words = " ".join(f"w{i}" for i in range(1, 400))
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo warming up; sleep 30"}),
        llm.text(words, delay_s=0.05),
        llm.text("Still here."),
    )
    term = terminal()
    term.expect("›")

    term.enter("wait a while")
    term.expect("bash: echo warming up; sleep 30", timeout=FIRST_ANSWER_S)
    term.expect("warming up")
    term.type("\x03")
    term.expect("Output so far:")  # what the model gets is what the screen shows
    term.expect("warming up")
    term.expect("Interrupted")
    term.expect("›")

    term.enter("stream something long")
    term.expect("w40 ")  # well over a second after the first Ctrl-C: this one is not a double
    term.type("\x03")
    term.expect("Interrupted")
    term.expect("›")

    term.enter("are you there")
    term.expect("Still here.")
    messages = fake_llm.requests[2]["messages"]
    roles = [m["role"] for m in messages]
    assert roles == ["system", "user", "assistant", "tool", "user", "assistant", "user"]
    call = messages[2]["tool_calls"][0]
    assert messages[3]["tool_call_id"] == call["id"]
    assert messages[3]["content"].endswith("Output so far:\nwarming up")
    partial = messages[5]["content"]
    assert partial.startswith("w1 w2 w3")
    assert len(partial) < len(words)
    assert "w40 " in term.text

    term.expect("›")  # keys typed before the prompt is back may be swallowed
    term.type("\x04")  # Ctrl-D on an empty line
    assert term.exit_code() == 0
    fake_llm.assert_done()


@pytest.mark.timeout(180)
def test_a_missing_key_is_asked_for_saved_privately_and_history_persists(terminal, monkeypatch):
    from tests.fakes import anthropic_server as anthropic

    secret = "sk-ant-pasted-0123456789"
    steps = (
        anthropic.answer(anthropic.text("OK")),
        anthropic.answer(anthropic.text("Answered with the pasted key.")),
    )
    with anthropic.FakeAnthropic(*steps) as server:
        monkeypatch.setenv("ML_INTERN_MODEL", "anthropic/claude-sonnet-4-5")
        monkeypatch.setenv("ML_INTERN_API_BASE", server.url)
        term = terminal()
        term.expect("›")
        term.enter("hello there")
        term.expect("ANTHROPIC_API_KEY", timeout=FIRST_ANSWER_S)
        term.expect("Paste your ANTHROPIC_API_KEY")
        term.enter(secret)
        term.expect("Saved ANTHROPIC_API_KEY")
        term.expect("Answered with the pasted key.")
        assert secret not in term.text
        assert server.requests[0]["max_tokens"] == 1  # the key was tried before it was kept
        assert [h["x-api-key"] for h in server.headers] == [secret] * 2
        env_file = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / ".env"
        assert f"ANTHROPIC_API_KEY={secret}" in env_file.read_text().splitlines()
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        term.enter("/quit")
        assert term.exit_code() == 0

        again = terminal()
        again.expect("›")
        again.type("\x1b[A")  # up arrow: what was typed in the last launch, newest first
        again.expect("/quit")
        again.type("\x1b[A")
        again.expect("hello there")
        again.type("\x03\x04")
        assert again.exit_code() == 0
    server.assert_done()


@pytest.mark.timeout(180)
def test_a_key_the_model_refuses_is_not_saved_and_can_be_pasted_again(terminal, monkeypatch):
    from tests.fakes import anthropic_server as anthropic

    wrong, right = "sk-ant-wrong-0123456789", "sk-ant-right-0123456789"
    refused = anthropic.error(401, "authentication_error", "invalid x-api-key")
    steps = (
        refused,
        anthropic.answer(anthropic.text("OK")),
        anthropic.answer(anthropic.text("Hi.")),
    )
    with anthropic.FakeAnthropic(*steps) as server:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.setenv("ML_INTERN_MODEL", "anthropic/claude-sonnet-4-5")
        monkeypatch.setenv("ML_INTERN_API_BASE", server.url)
        term = terminal()
        term.expect("›")
        term.enter("hello there")
        term.expect("Paste your ANTHROPIC_API_KEY", timeout=FIRST_ANSWER_S)
        term.enter(wrong)
        term.expect("did not work with that key")
        term.expect("Paste it again, or press Enter to skip.")
        env_file = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / ".env"
        assert not env_file.exists()
        term.expect("Paste your ANTHROPIC_API_KEY")
        term.enter(right)
        term.expect("Saved ANTHROPIC_API_KEY")
        term.expect("Hi.")
        assert wrong not in term.text and right not in term.text
        assert [h["x-api-key"] for h in server.headers] == [wrong, right, right]
        assert env_file.read_text().splitlines() == [f"ANTHROPIC_API_KEY={right}"]
        term.enter("/quit")
        assert term.exit_code() == 0
    server.assert_done()


@pytest.mark.timeout(180)
def test_a_chat_line_typed_into_the_hidden_key_question_is_not_saved(terminal, monkeypatch):
    from tests.fakes import anthropic_server as anthropic

    with anthropic.FakeAnthropic() as server:
        monkeypatch.setenv("ML_INTERN_MODEL", "anthropic/claude-sonnet-4-5")
        monkeypatch.setenv("ML_INTERN_API_BASE", server.url)
        term = terminal()
        term.expect("›")
        term.enter("hello there")
        term.expect("Paste your ANTHROPIC_API_KEY", timeout=FIRST_ANSWER_S)
        term.enter("/status")
        term.expect("That is not a key (it has spaces or starts with /): not saved.")
        term.expect("No key given, so nothing was sent.")
        term.expect("› hello there")  # the message waits in the input for another try
        term.type("\x03\x04")
        assert term.exit_code() == 0
        assert not (Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern" / ".env").exists()
        assert "ANTHROPIC_API_KEY" not in os.environ
        assert server.requests == []
