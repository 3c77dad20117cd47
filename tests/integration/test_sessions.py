"""Sessions are logged as they happen and come back with --resume / --continue."""

from __future__ import annotations

import itertools
import json
import signal
import threading

import pytest

from agent.context.resume import load_session
from tests.cli import spawn, start
from tests.fakes import llm_server as llm


def session_id_of(result) -> str:
    return result.result()["session_id"]


def test_resume_continues_the_saved_history(cli, fake_llm):
    fake_llm.script(llm.tool_call("bash", {"command": "echo 41"}), llm.text("It printed 41."))
    first = cli("-o", "json", "print 41")
    assert first.exit_code == 0, first.stderr
    sid = session_id_of(first)

    fake_llm.script(llm.text("Plus one is 42."))
    second = cli("-o", "json", "--resume", sid, "add one")
    assert second.exit_code == 0, second.stderr
    assert session_id_of(second) == sid
    history = fake_llm.requests[-1]["messages"]
    assert [m["role"] for m in history] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert history[1]["content"] == "print 41"
    assert history[-1]["content"] == "add one"


def test_continue_picks_the_latest_session_of_this_directory(cli, fake_llm):
    fake_llm.script(llm.text("first answer"))
    sid = session_id_of(cli("-o", "json", "first"))
    fake_llm.script(llm.text("second answer"))
    again = cli("-o", "json", "--continue", "follow-up")
    assert session_id_of(again) == sid
    assert fake_llm.requests[-1]["messages"][2]["content"] == "first answer"


def test_resume_restores_the_model_unless_overridden(cli, fake_llm, monkeypatch):
    fake_llm.script(llm.text("hi"))
    sid = session_id_of(cli("-o", "json", "-m", "openai/first-model", "hi"))
    fake_llm.script(llm.text("again"), llm.text("third"))
    cli("-o", "json", "--resume", sid, "again")
    assert fake_llm.requests[-1]["model"] == "first-model"
    cli("-o", "json", "--resume", sid, "-m", "openai/other-model", "third")
    assert fake_llm.requests[-1]["model"] == "other-model"


def test_resume_without_id_lists_sessions_in_headless(cli, fake_llm):
    fake_llm.script(llm.text("hi"))
    sid = session_id_of(cli("-o", "json", "remember the milk"))
    listing = cli("--resume", "next question")
    assert listing.exit_code == 0
    assert sid in listing.stdout
    assert "remember the milk" in listing.stdout


def test_unknown_session_is_a_clear_usage_error(cli, fake_llm):
    result = cli("--resume=20250101-000000-abcdef", "x")
    assert result.exit_code == 2
    assert "20250101-000000-abcdef" in result.stderr
    assert "Traceback" not in result.stderr


def test_sessions_list_and_export(cli, fake_llm, tmp_path):
    fake_llm.script(llm.tool_call("bash", {"command": "echo 1"}), llm.text("done"))
    sid = session_id_of(cli("-o", "json", "count to one"))
    listing = cli("sessions", "list")
    assert sid in listing.stdout
    assert "count to one" in listing.stdout
    out = tmp_path / "trace.jsonl"
    assert cli("sessions", "export", sid, "-o", str(out)).exit_code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    types = [line["type"] for line in lines]
    assert types[0] == "user"
    assert "assistant" in types
    tool_use = [
        block
        for line in lines
        if line["type"] == "assistant"
        for block in line["message"]["content"]
        if block["type"] == "tool_use"
    ]
    assert tool_use[0]["name"] == "bash"
    replies = [line for line in lines if line["type"] == "assistant"]
    request_ids = [line["requestId"] for line in replies]
    assert all(i.startswith("req_") for i in request_ids)
    assert len(set(request_ids)) == len(replies) == 2


def test_kill_9_mid_turn_then_resume_with_a_consistent_history(fake_llm, cli):
    fake_llm.script(llm.tool_call("bash", {"command": "echo started; sleep 100"}))
    proc = start("-o", "stream-json", "long job")
    sid = None
    for line in proc.stdout:
        event = json.loads(line)
        sid = sid or event["session_id"]
        if event["type"] == "tool_log":
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()

    fake_llm.script(llm.text("Resumed."))
    result = cli("-o", "json", "--resume", sid, "what happened?")
    assert result.exit_code == 0, result.stderr
    history = fake_llm.requests[-1]["messages"]
    call = history[2]["tool_calls"][0]
    answer = history[3]
    assert answer["role"] == "tool"
    assert answer["tool_call_id"] == call["id"]
    assert "interrupted" in answer["content"]
    assert history[-1] == {"role": "user", "content": "what happened?"}


def well_formed(messages: list[dict]) -> bool:
    """Every tool call answered right after it, no orphan result, no two requests in a row."""
    expected: list[str] = []
    for previous, message in zip([None, *messages], messages, strict=False):
        if message["role"] == "tool":
            if message["tool_call_id"] not in expected:
                return False
            expected.remove(message["tool_call_id"])
            continue
        if expected or (previous and previous["role"] == message["role"] == "user"):
            return False
        expected = [c["id"] for c in message.get("tool_calls") or []]
    return not expected


def no_two_requests_in_a_row(messages: list[dict]) -> bool:
    roles = [m["role"] for m in messages]
    return all(not (a == b == "user") for a, b in itertools.pairwise(roles))


@pytest.mark.timeout(240)  # two real processes, each importing litellm
def test_a_second_continue_of_a_session_in_use_forks_it(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_LLM_TIMEOUT_S", "200")  # A waits on its model while B runs
    fake_llm.script(llm.text("Noted."))
    first = cli("-o", "json", "the code word is alpha")
    sid = session_id_of(first)

    release = threading.Event()
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo from-A"}),
        llm.held(llm.text("A finished."), release),
        llm.text("B finished."),
    )
    busy = start("-o", "json", "--continue", "long task")
    try:
        fake_llm.wait_for_requests(3, timeout=120)  # A is now waiting for its model, mid-turn
        other = spawn("-o", "stream-json", "--continue", "other task", timeout=120)
    finally:
        release.set()
    out, err = busy.communicate(timeout=60)
    assert busy.returncode == 0, err
    assert json.loads(out)["session_id"] == sid

    assert other.exit_code == 0, other.stderr
    fork = session_id_of(other)
    assert fork != sid
    notices = [e["message"] for e in other.lines() if e["type"] == "notice"]
    assert any(f"Session {sid} is open in another ml-intern process" in n for n in notices)
    assert any(f"new session {fork} with a copy of its history" in n for n in notices)

    original = load_session(sid).messages
    assert [m.get("content") for m in original if m["role"] == "user"] == [
        "the code word is alpha",
        "long task",
    ]
    assert original[-1] == {"role": "assistant", "content": "A finished."}
    copied = load_session(fork).messages
    # B forks from the last completed turn: A's unanswered "long task" is not B's
    assert [m.get("content") for m in copied if m["role"] == "user"] == [
        "the code word is alpha",
        "other task",
    ]
    sent_by_b = fake_llm.requests[3]["messages"]
    assert [m.get("content") for m in sent_by_b if m["role"] == "user"] == [
        "the code word is alpha",
        "other task",
    ]
    assert not any("from-A" in str(m.get("content")) for m in sent_by_b)
    assert no_two_requests_in_a_row(sent_by_b)
    assert copied[-1] == {"role": "assistant", "content": "B finished."}
    assert well_formed(original) and well_formed(copied)

    fake_llm.script(llm.text("again A"), llm.text("again B"))
    assert cli("-o", "json", "--continue", "go on").exit_code == 0
    assert cli("-o", "json", "--resume", fork, "go on").exit_code == 0
    for request, mine, not_mine in ((-2, "A finished.", "other task"), (-1, "B finished.", "")):
        sent = fake_llm.requests[request]["messages"]
        assert well_formed(sent)
        contents = [m.get("content") for m in sent]
        assert mine in contents and "the code word is alpha" in contents
        assert not_mine not in contents
    fake_llm.assert_done()


@pytest.mark.timeout(120)
def test_a_turn_stopped_before_any_answer_leaves_no_two_requests_in_a_row(fake_llm):
    release = threading.Event()
    fake_llm.script(llm.held(llm.text("too late"), release))
    busy = start("-o", "json", "first request")
    try:
        fake_llm.wait_for_requests(1, timeout=60)  # the model is thinking: no answer yet
        busy.send_signal(signal.SIGINT)
        out, _ = busy.communicate(timeout=60)
    finally:
        release.set()
    assert busy.returncode == 130
    sid = json.loads(out)["session_id"]

    fake_llm.script(llm.text("Done."))
    again = spawn("-o", "json", "--continue", "second request")
    assert again.exit_code == 0, again.stderr
    assert session_id_of(again) == sid
    sent = fake_llm.requests[-1]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == [
        "first request",
        "second request",
    ]
    assert no_two_requests_in_a_row(sent)
    fake_llm.assert_done()
