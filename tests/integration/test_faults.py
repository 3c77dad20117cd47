"""Faults end in a finished answer or a clear error with the documented exit code."""

from __future__ import annotations

import json
import os
import signal

import pytest

from tests.cli import start
from tests.fakes import llm_server as llm


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_server_errors_are_retried(cli, fake_llm, status, stream_flags):
    fake_llm.script(llm.server_error(status), llm.text("fine"))
    result = cli(*stream_flags, "hi")
    assert result.exit_code == 0, result.stderr
    assert "retry 1/" in result.stderr
    assert result.stdout.strip() == "fine"


def test_persistent_failure_ends_with_exit_1_after_five_tries(cli, fake_llm, stream_flags):
    fake_llm.script(*[llm.server_error(503) for _ in range(5)])
    result = cli(*stream_flags, "hi")
    assert result.exit_code == 1
    assert "model provider failed" in result.stderr
    fake_llm.assert_done()


@pytest.mark.parametrize(
    "fault",
    [llm.dropped_stream, llm.malformed_chunk, lambda: llm.no_finish("half an ans")],
    ids=["dropped", "malformed", "no-finish"],
)
def test_broken_streams_are_regenerated_never_half_accepted(cli, fake_llm, fault):
    fake_llm.script(fault(), llm.text("The whole answer."))
    result = cli("-o", "stream-json", "hi")
    assert result.exit_code == 0, result.stderr
    assert result.result()["final_text"] == "The whole answer."
    events = result.lines()
    assert any(e["type"] == "retrying" for e in events)
    assert any(e["type"] == "assistant_stream_end" and e["discarded"] for e in events)
    history = fake_llm.requests[1]["messages"]
    assert [m["role"] for m in history] == ["system", "user"]


def test_a_pipe_gets_only_the_answer_that_was_accepted(cli, fake_llm):
    fake_llm.script(llm.dropped_stream("Partial ans"), llm.text("The whole answer."))
    result = cli("-o", "text", "hi")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "The whole answer.\n"


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_a_connection_the_server_drops_is_retried_as_a_connection_failure(cli, fake_llm, stream):
    fake_llm.script(llm.disconnect(), llm.disconnect(), llm.text("back"))
    result = cli("-o", "stream-json", *([] if stream else ["--no-stream"]), "hi")
    assert result.exit_code == 0, result.stderr
    reasons = [e["reason"] for e in result.lines() if e["type"] == "retrying"]
    assert len(reasons) == 2
    assert all(r.startswith("connection to the model failed") for r in reasons), reasons
    assert result.result()["final_text"] == "back"
    fake_llm.assert_done()


def test_a_model_that_keeps_dropping_the_connection_ends_with_exit_1(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_LLM_MAX_ATTEMPTS", "2")
    fake_llm.script(llm.disconnect(), llm.disconnect())
    result = cli("-o", "json", "hi")
    assert result.exit_code == 1
    outcome = json.loads(result.stdout)
    assert outcome["exit_reason"] == "llm_unavailable"
    assert outcome["error"].startswith("connection to the model failed")
    fake_llm.assert_done()


def test_a_stalled_stream_is_bounded_by_the_request_timeout(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_LLM_TIMEOUT_S", "0.5")
    fake_llm.script(llm.hang(30), llm.text("back"))
    result = cli("hi")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "back"


def test_bad_request_shows_the_provider_message(cli, fake_llm, stream_flags):
    fake_llm.script(llm.error(400, "Invalid schema for function 'bash': frobs are not allowed"))
    result = cli(*stream_flags, "hi")
    assert result.exit_code == 1
    assert "frobs are not allowed" in result.stderr


def test_empty_answer_is_asked_again_once(cli, fake_llm, stream_flags):
    fake_llm.script(llm.empty(), llm.text("here it is"))
    result = cli(*stream_flags, "hi")
    assert result.exit_code == 0
    assert result.stdout.strip() == "here it is"
    assert [m["role"] for m in fake_llm.requests[1]["messages"]] == ["system", "user"]


def test_an_answer_that_is_not_finished_says_so(cli, fake_llm, stream_flags):
    fake_llm.script(
        llm.empty(),
        llm.empty(),
        llm.empty(),
        llm.text("Here."),
        llm.cut_off("The three steps are: first"),
    )
    empty = cli(*stream_flags, "hi")
    assert empty.exit_code == 0
    assert "The model sent an empty answer, twice." in empty.stderr
    turn = cli("-o", "stream-json", "again")
    [done] = [line for line in turn.lines() if line["type"] == "turn_complete"]
    assert (done["final_text"], done["iterations"]) == ("Here.", 2)  # empty, then asked again
    cut = cli(*stream_flags, "list the steps")
    assert cut.stdout.strip() == "The three steps are: first"
    assert "stopped at the model's output limit" in cut.stderr
    assert "output limit" not in empty.stderr


def test_announced_action_without_tool_call_gets_one_nudge(cli, fake_llm, stream_flags):
    fake_llm.script(
        llm.text("The data is ready. I'll now run the training script."),
        llm.tool_call("bash", {"command": "echo trained"}),
        llm.text("Training done."),
    )
    result = cli(*stream_flags, "train")
    assert result.exit_code == 0
    nudge = fake_llm.requests[1]["messages"][-1]
    assert nudge["role"] == "user" and "no tool call" in nudge["content"]
    assert result.stdout.strip().endswith("Training done.")


def test_context_overflow_compacts_once_and_retries(cli, fake_llm, stream_flags):
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo first"}),
        llm.tool_call("bash", {"command": "echo second"}),
        llm.context_overflow(),
        llm.text("## Goal\nsummary of the work"),
        llm.text("finished after compaction"),
    )
    result = cli(*stream_flags, "-o", "stream-json", "work")
    assert result.exit_code == 0, result.stderr
    events = result.lines()
    assert any(e["type"] == "compacted" for e in events)
    summary_request = fake_llm.requests[3]
    assert "compacting" in summary_request["messages"][0]["content"]
    assert "tools" not in summary_request
    final_request = fake_llm.requests[4]["messages"]
    assert any("summary of the work" in (m.get("content") or "") for m in final_request)
    assert result.result()["final_text"] == "finished after compaction"


def test_second_overflow_ends_the_turn_with_a_clear_error(cli, fake_llm):
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo one"}),
        llm.tool_call("bash", {"command": "echo two"}),
        llm.context_overflow(),
        llm.text("summary"),
        llm.context_overflow(),
    )
    result = cli("work")
    assert result.exit_code == 1
    assert "still does not fit after compaction" in result.stderr
    fake_llm.assert_done()


def test_guard_warns_then_stops_a_repeating_model(cli, fake_llm, stream_flags):
    same = {"command": "cat missing.txt"}
    fake_llm.script(*[llm.tool_call("bash", same) for _ in range(5)])
    result = cli(*stream_flags, "-o", "stream-json", "read it")
    assert result.exit_code == 1
    doom = [e for e in result.lines() if e["type"] == "doom_loop"]
    assert doom[0]["message"].startswith("Repeated the same `bash` call 3 times")
    assert doom[-1]["stopped"] is True
    warning = fake_llm.requests[3]["messages"][-1]
    assert warning["role"] == "user" and "not making progress" in warning["content"]
    fake_llm.assert_done()


def test_polling_with_changing_output_is_left_alone(cli, fake_llm):
    poll = {"command": "date +%s%N"}
    fake_llm.script(*[llm.tool_call("bash", poll) for _ in range(5)], llm.text("done polling"))
    result = cli("-o", "stream-json", "poll")
    assert result.exit_code == 0
    assert not [e for e in result.lines() if e["type"] == "doom_loop"]


def test_reasoning_is_streamed_as_thinking(cli, fake_llm, stream_flags):
    fake_llm.script(llm.text("42", reasoning="Let me think about this."))
    result = cli(*stream_flags, "-o", "stream-json", "answer")
    thinking = "".join(e["content"] for e in result.lines() if e["type"] == "thinking_chunk")
    assert thinking == "Let me think about this."
    assert result.result()["final_text"] == "42"


def test_budget_stops_the_run_with_exit_5(cli, fake_llm, monkeypatch, stream_flags):
    monkeypatch.setenv("ML_INTERN_MODEL", "openai/gpt-4o")
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo 1"}, usage=(200_000, 1_000)),
    )
    result = cli(*stream_flags, "-o", "json", "--max-budget-usd", "0.10", "work")
    assert result.exit_code == 5
    summary = json.loads(result.stdout)
    assert summary["exit_reason"] == "budget_exceeded"
    assert summary["total_cost_usd"] > 0.10  # the first call alone went over the budget
    assert len(fake_llm.requests) == 1  # so no second call was made
    fake_llm.assert_done()


def test_unknown_price_is_reported_as_unknown(cli, fake_llm, stream_flags):
    fake_llm.script(llm.text("hi"))
    result = cli(*stream_flags, "-o", "json", "hi")
    assert json.loads(result.stdout)["total_cost_usd"] is None


def test_ctrl_c_during_a_long_bash_call_kills_it_at_once(fake_llm, tmp_path):
    fake_llm.script(llm.tool_call("bash", {"command": "echo started $$; sleep 100"}))
    proc = start("-o", "stream-json", "sleep")
    shell_pid = None
    for line in proc.stdout:
        event = json.loads(line)
        if event["type"] == "tool_log" and event["line"].startswith("started"):
            shell_pid = int(event["line"].split()[1])
            break
    assert shell_pid is not None
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=15)
    assert proc.returncode == 130
    with pytest.raises(ProcessLookupError):
        os.kill(shell_pid, 0)
    assert json.loads(rest.strip().splitlines()[-1])["exit_reason"] == "interrupted"


def test_reasoning_is_kept_in_history_for_the_next_call(cli, fake_llm, stream_flags):
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo hi"}, reasoning="I should echo first."),
        llm.text("ok"),
    )
    assert cli(*stream_flags, "x").exit_code == 0
    assistant = fake_llm.requests[1]["messages"][2]
    assert assistant["role"] == "assistant"
    assert assistant["reasoning_content"] == "I should echo first."


def test_text_output_puts_the_regenerated_answer_on_its_own_line(cli, fake_llm):
    fake_llm.script(llm.dropped_stream("Here is the pl"), llm.text("Here is the plan."))
    result = cli("plan")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "Here is the plan."


def test_cached_prompt_tokens_are_priced_as_cache_reads(cli, fake_llm, monkeypatch, stream_flags):
    monkeypatch.setenv("ML_INTERN_MODEL", "openai/gpt-4o")
    fake_llm.script(llm.text("hi", usage=(100_000, 0), cached_tokens=90_000))
    result = cli(*stream_flags, "-o", "json", "hi")
    summary = json.loads(result.stdout)
    assert summary["usage"]["cached_tokens"] == 90_000
    assert summary["total_cost_usd"] == pytest.approx(0.1375, rel=0.01)
