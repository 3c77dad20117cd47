"""How a headless run ends when its reader goes away or a signal tells it to stop:
promptly, with the documented exit code, and with a session log the next `--continue`
can carry on from."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
from collections import Counter

import pytest

from agent.tools.local.bash import group_alive
from tests.cli import llm_env, start
from tests.fakes import llm_server as llm

# Each test spawns ml-intern (a litellm import), which takes long on a busy machine.
pytestmark = pytest.mark.timeout(180)


def endless() -> llm.Step:
    """A model that never finishes: each answer says a line and asks for one more command."""
    steps = itertools.count(1)

    def serve(reply: llm.Reply) -> None:
        n = next(steps)
        call = llm.tool_call("bash", {"command": f"echo {n}"}, id=f"call_{n}", content=f"Step {n}.")
        call.serve(reply)

    return llm.Step("endless()", serve)


def every_call_answered(body: dict) -> None:
    """Each tool call of the history has exactly one answer, and nothing answers no call."""
    messages = body["messages"]
    calls = [
        c["id"] for m in messages if m["role"] == "assistant" for c in m.get("tool_calls") or []
    ]
    answers = Counter(m["tool_call_id"] for m in messages if m["role"] == "tool")
    assert calls, "the resumed history has no tool calls"
    assert answers == Counter(calls), (calls, answers)
    assert messages[-1] == {"role": "user", "content": "next"}


def continue_after(fake: llm.FakeLLM, cli) -> None:
    """`--continue "next"` works, and its request answers every earlier tool call."""
    fake.script(llm.text("Carrying on.", expect=every_call_answered))
    result = cli("--continue", "-o", "json", "next")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["final_text"] == "Carrying on."


@pytest.fixture
def endless_llm(monkeypatch):
    """The fake model, answering `endless()` to every request nobody scripted."""
    with llm.FakeLLM(repeat=endless()) as fake:
        for key, value in llm_env(fake.url).items():
            monkeypatch.setenv(key, value)
        yield fake


@pytest.mark.parametrize("output", ["stream-json", "text"])
def test_a_reader_that_goes_away_ends_the_run_with_141(cli, endless_llm, tmp_path, output):
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        proc = start("-o", output, "count for ever", stderr=stderr)
        first = proc.stdout.readline()  # as `| head -1` does, once a few calls have run
        endless_llm.wait_for_requests(3, timeout=60)
        proc.stdout.close()
        code = proc.wait(timeout=90)

    assert first.strip(), errors.read_text()
    assert code == 141, errors.read_text()
    assert "Traceback" not in errors.read_text()
    continue_after(endless_llm, cli)
    endless_llm.assert_done()


def test_json_output_closed_before_the_end_exits_141(fake_llm, tmp_path):
    fake_llm.script(llm.tool_call("bash", {"command": "echo one"}), llm.text("Done."))
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        proc = start("-o", "json", "run one command", stderr=stderr)
        proc.stdout.close()  # the reader is gone before the result is written
        code = proc.wait(timeout=90)

    assert code == 141, errors.read_text()
    assert "Traceback" not in errors.read_text()
    fake_llm.assert_done()


def wait_for_tool_start(proc) -> int:
    """Read stream-json events until the bash command says it started; its pid."""
    for line in proc.stdout:
        event = json.loads(line)
        if event["type"] == "tool_log" and event["line"].startswith("started"):
            return int(event["line"].split()[1])
    raise AssertionError("the command never started")


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)],
    ids=["SIGTERM", "SIGHUP", "SIGINT"],
)
def test_a_stop_signal_mid_tool_ends_the_run_and_leaves_a_log_to_continue(
    cli, fake_llm, signum, code
):
    fake_llm.script(
        llm.tool_calls(
            [
                ("bash", {"command": "echo started $$; sleep 60"}),
                ("bash", {"command": "echo never"}),
            ]
        )
    )
    proc = start("-o", "stream-json", "wait a minute")
    shell = wait_for_tool_start(proc)
    proc.send_signal(signum)
    rest, errors = proc.communicate(timeout=60)

    assert proc.returncode == code, errors
    assert json.loads(rest.strip().splitlines()[-1])["exit_reason"] == "interrupted"
    with pytest.raises(ProcessLookupError):
        os.killpg(shell, 0)  # the command's whole process group is gone
    continue_after(fake_llm, cli)
    fake_llm.assert_done()


def test_a_second_signal_exits_at_once(cli, fake_llm):
    # The command ignores SIGTERM, so the first signal's clean stop has to wait for it.
    command = "trap '' TERM; echo started $$; sleep 60"
    fake_llm.script(llm.tool_call("bash", {"command": command}))
    proc = start("-o", "stream-json", "wait a minute")
    shell = wait_for_tool_start(proc)
    try:
        proc.send_signal(signal.SIGTERM)
        assert "SIGTERM: stopping the turn" in proc.stderr.readline()
        proc.send_signal(signal.SIGTERM)  # the first is handled: this one is not merged into it
        rest, errors = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell, signal.SIGKILL)

    assert proc.returncode == 143, errors
    assert "SIGTERM: stopped at once" in errors
    assert '"type": "result"' not in rest  # it did not wait to write the result
    continue_after(fake_llm, cli)  # the log is whole up to the call, which resume answers
    fake_llm.assert_done()


def test_signals_arriving_together_leave_no_command_running(cli, fake_llm):
    """A second signal handled before the first one's stop reached the command (a closing
    terminal's SIGHUP right behind a SIGTERM) exits at once, and takes the command along."""
    fake_llm.script(llm.tool_call("bash", {"command": "trap '' TERM; echo started $$; sleep 60"}))
    proc = start("-o", "stream-json", "wait a minute")
    shell = wait_for_tool_start(proc)
    try:
        os.kill(proc.pid, signal.SIGSTOP)  # both are pending when it next runs
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGHUP)
        os.kill(proc.pid, signal.SIGCONT)
        _, errors = proc.communicate(timeout=60)
        assert "stopped at once" in errors
        assert not group_alive(shell), "the command outlived the run"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell, signal.SIGKILL)
    fake_llm.assert_done()
