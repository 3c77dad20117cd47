"""Headless one-shot runs through the real CLI against the fake model server."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.cli import FIRST_REQUEST_S, start
from tests.fakes import llm_server as llm


def tool_messages(request: dict) -> list[dict]:
    return [m for m in request["messages"] if m["role"] == "tool"]


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_writes_and_runs_a_file(cli, fake_llm, stream):
    fake_llm.script(
        llm.tool_call("write", {"path": "hello.py", "content": "print('hi')\n"}),
        llm.tool_call("bash", {"command": "python3 hello.py"}),
        llm.text("Created hello.py; running it printed hi."),
    )
    flags = [] if stream else ["--no-stream"]
    result = cli(*flags, "create hello.py that prints hi, then run it")

    assert result.exit_code == 0, result.stderr
    assert Path("hello.py").read_text() == "print('hi')\n"
    assert "running it printed hi" in result.stdout
    assert "bash: python3 hello.py" in result.stderr
    run_result = tool_messages(fake_llm.requests[2])[-1]
    assert run_result["content"].strip() == "hi"
    assert all(bool(r.get("stream")) is stream for r in fake_llm.requests)
    fake_llm.assert_done()


def test_every_tool_call_is_answered_before_the_next_request(cli, fake_llm, stream_flags):
    fake_llm.script(
        llm.tool_calls([("bash", {"command": "echo one"}), ("bash", {"command": "echo two"})]),
        llm.text("done"),
    )
    assert cli(*stream_flags, "run two commands").exit_code == 0
    second = fake_llm.requests[1]["messages"]
    calls = second[-3]["tool_calls"]
    answers = tool_messages(fake_llm.requests[1])
    assert [a["tool_call_id"] for a in answers] == [c["id"] for c in calls]
    assert [a["content"].strip() for a in answers] == ["one", "two"]


def test_retries_rate_limits_and_server_errors(cli, fake_llm, stream_flags):
    fake_llm.script(llm.rate_limit(retry_after=0.01), llm.server_error(500), llm.text("recovered"))
    result = cli(*stream_flags, "-o", "stream-json", "hello")
    assert result.exit_code == 0, result.stderr
    events = result.lines()
    retries = [e for e in events if e["type"] == "retrying"]
    assert [r["attempt"] for r in retries] == [1, 2]
    assert "rate limited" in retries[0]["reason"]
    assert result.result()["final_text"] == "recovered"
    fake_llm.assert_done()


def test_the_wait_a_provider_asks_for_is_the_wait_taken(cli, fake_llm):
    fake_llm.script(
        llm.error(429, code="rate_limit_exceeded", headers={"retry-after-ms": "300"}),
        llm.text("after the wait"),
    )
    result = cli("-o", "stream-json", "hello")
    assert result.exit_code == 0, result.stderr
    retries = [e for e in result.lines() if e["type"] == "retrying"]
    assert [r["delay_s"] for r in retries] == [0.3]


def test_broken_tool_json_becomes_an_error_the_model_fixes(cli, fake_llm, stream_flags):
    fake_llm.script(
        llm.tool_call("write", '{"path": "a.txt", "content": '),
        llm.tool_call("write", {"path": "a.txt", "content": "ok"}),
        llm.text("fixed"),
    )
    result = cli(*stream_flags, "write a.txt")
    assert result.exit_code == 0, result.stderr
    error = tool_messages(fake_llm.requests[1])[-1]
    assert "not valid JSON (Expecting value: line 1 column 30 (char 29))" in error["content"]
    assert Path("a.txt").read_text() == "ok"


def test_arguments_that_do_not_match_the_schema_are_reported(cli, fake_llm, stream_flags):
    fake_llm.script(llm.tool_call("read", {"offset": 3}), llm.text("sorry"))
    assert cli(*stream_flags, "read something").exit_code == 0
    error = tool_messages(fake_llm.requests[1])[-1]["content"]
    assert "Invalid arguments for read" in error
    assert "path" in error


def test_unknown_tool_is_reported_to_the_model(cli, fake_llm, stream_flags):
    fake_llm.script(llm.tool_call("teleport", {}), llm.text("ok"))
    assert cli(*stream_flags, "go").exit_code == 0
    assert "Unknown tool 'teleport'" in tool_messages(fake_llm.requests[1])[-1]["content"]


def test_stream_json_events_in_order(cli, fake_llm):
    fake_llm.script(llm.tool_call("bash", {"command": "echo hi"}), llm.text("All done."))
    result = cli("--output-format", "stream-json", "say hi")
    assert result.exit_code == 0, result.stderr
    events = result.lines()
    types = [e["type"] for e in events]
    assert types[0] == "ready"
    assert "bash" in events[0]["tools"] and events[0]["model"] == "openai/test-model"
    assert types[-1] == "result"
    order = ["processing", "assistant_message", "tool_call", "tool_output", "turn_complete"]
    positions = [types.index(t) for t in order]
    assert positions == sorted(positions)
    output = next(e for e in events if e["type"] == "tool_output")
    assert output["name"] == "bash" and output["content"].strip() == "hi"
    assert output["tool_call_id"] and output["is_error"] is False
    assert "".join(e["content"] for e in events if e["type"] == "assistant_chunk") == "All done."
    assert all(e["session_id"] == events[0]["session_id"] for e in events[:-1])
    final = events[-1]
    assert final["is_error"] is False and final["exit_reason"] == "completed"
    assert final["num_turns"] == 1 and final["final_text"] == "All done."
    assert final["usage"]["input_tokens"] > 0 and final["duration_ms"] >= 0


def test_json_output_is_one_result_object(cli, fake_llm, stream_flags):
    fake_llm.script(llm.text("forty-two"))
    result = cli(*stream_flags, "-o", "json", "answer")
    (line,) = result.stdout.strip().splitlines()
    assert json.loads(line)["final_text"] == "forty-two"


def test_iteration_limit_exits_4(fake_llm):
    from tests.cli import spawn

    fake_llm.script(
        llm.tool_call("bash", {"command": "echo 1"}),
        llm.tool_call("bash", {"command": "echo 2"}),
    )
    result = spawn("--max-iterations", "2", "loop forever")
    assert result.exit_code == 4, result.stderr
    assert "--max-iterations" in result.stderr
    fake_llm.assert_done()


def test_missing_key_exits_3_and_names_the_variable(fake_llm, monkeypatch):
    from tests.cli import spawn

    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("ML_INTERN_API_BASE")  # OpenAI itself: a custom endpoint may need none
    result = spawn("hello")
    assert result.exit_code == 3
    assert "OPENAI_API_KEY" in result.stderr and ".env" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_llm.requests == []


def test_refused_key_exits_3(cli, fake_llm):
    fake_llm.script(llm.auth_error())
    result = cli("hello")
    assert result.exit_code == 3
    assert "refused the API key" in result.stderr


@pytest.mark.timeout(FIRST_REQUEST_S + 60)
def test_ctrl_c_exits_130(fake_llm):
    fake_llm.script(llm.hang(30))
    proc = start("-o", "stream-json", "wait")
    fake_llm.wait_for_requests(1, timeout=FIRST_REQUEST_S)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130
    result = json.loads(out.strip().splitlines()[-1])
    assert result["exit_reason"] == "interrupted"


def test_configured_deny_wins_over_the_headless_default(cli, fake_llm, monkeypatch):
    Path("build").mkdir()
    monkeypatch.setenv("ML_INTERN_APPROVAL_MODE", "deny")
    fake_llm.script(llm.tool_call("bash", {"command": "rm -rf build"}), llm.text("Left it."))
    assert cli("clean up").exit_code == 0
    assert Path("build").is_dir()
    assert "approvals are set to deny" in fake_llm.requests[1]["messages"][-1]["content"]


def test_deny_listed_commands_never_run_even_with_yolo(cli, fake_llm, trusted_work):
    Path("configs").mkdir()
    Path("configs/cli_agent_config.json").write_text(
        json.dumps({"approval": {"deny_commands": ["touch forbidden"]}})
    )
    fake_llm.script(llm.tool_call("bash", {"command": "touch forbidden"}), llm.text("ok"))
    assert cli("--yolo", "make it").exit_code == 0
    assert not Path("forbidden").exists()
    assert "forbids it" in fake_llm.requests[1]["messages"][-1]["content"]


def test_a_path_that_cannot_resolve_is_an_error_the_model_reads(cli, fake_llm):
    fake_llm.script(
        llm.tool_call("write", {"path": "~no_such_user_xyz/a.txt", "content": "x"}),
        llm.text("ok"),
    )
    assert cli("write it").exit_code == 0
    assert fake_llm.requests[1]["messages"][-1]["role"] == "tool"


def test_a_failed_command_shows_its_exit_code_and_last_lines(cli, fake_llm):
    """The line under a failure says how the command ended and why, not what it began with."""
    script = "echo 'loading shard 0/12'; seq 1 20; echo 'CUDA out of memory' >&2; exit 3"
    fake_llm.script(llm.tool_call("bash", {"command": script}), llm.text("It ran out of memory."))
    result = cli("train it")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    failure = lines.index("✗ bash: exit code 3")
    # the live view just above ends with the last lines, so they are not printed twice
    assert lines[failure - 2 : failure] == ["  20", "  CUDA out of memory"]
    assert lines.count("  CUDA out of memory") == 1


def test_a_failed_tool_without_exit_code_shows_its_error(cli, fake_llm):
    fake_llm.script(llm.tool_call("read", {"path": "missing.txt"}), llm.text("No such file."))
    result = cli("read it")
    assert result.exit_code == 0, result.stderr
    failures = [line for line in result.stderr.splitlines() if line.startswith("✗ read: ")]
    assert len(failures) == 1 and "missing.txt" in failures[0]


def test_ctrl_c_during_a_progress_bar_prints_its_last_state_once(fake_llm):
    command = "printf 'loading\\n\\rstep 1/3\\rstep 2/3\\rstep 3/3'; sleep 60"
    fake_llm.script(llm.tool_call("bash", {"command": command}))
    proc = start("load the shards")
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # ends at the process's end at the latest
        seen.append(line.rstrip("\n"))
        if seen[-1] == "  step 3/3":
            proc.send_signal(signal.SIGINT)
            break
    _, rest = proc.communicate(timeout=30)
    assert proc.returncode == 130, "\n".join(seen) + rest
    lines = seen + rest.splitlines()
    assert lines.count("  step 3/3") == 1, lines
    assert "✗ bash: [interrupted: the user stopped this call before it finished]" in lines
