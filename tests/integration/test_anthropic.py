"""Claude through the real CLI: extended thinking, its signatures, and prompt caching.

Anthropic refuses a tool-using turn replayed without its signed thinking block, so the thinking
must survive assembly (streamed or whole) exactly, and go back on the next request ahead of the
tool use. The fake checks every request against those rules as the real API would.
"""

from __future__ import annotations

import json

import pytest

from tests.fakes import anthropic_server as claude
from tests.fakes.anthropic_server import FakeAnthropic

THOUGHT = "I should list files."
SECOND_THOUGHT = "The command printed hi."


@pytest.fixture
def fake_anthropic(monkeypatch):
    """A strict fake Messages API; ml-intern reaches it as `anthropic/claude-sonnet-4-5`."""
    with FakeAnthropic() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ML_INTERN_MODEL", "anthropic/claude-sonnet-4-5")
        monkeypatch.setenv("ML_INTERN_API_BASE", server.url)
        monkeypatch.setenv("ML_INTERN_RETRY_BASE_DELAY_S", "0.01")
        monkeypatch.setenv("ML_INTERN_LLM_TIMEOUT_S", "20")
        yield server
    server.assert_done()


def text_of(content: str | list[dict]) -> str:
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content)


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_signed_thinking_is_shown_and_replayed_exactly(cli, fake_anthropic, stream):
    call = claude.tool_use("bash", {"command": "echo hi"})
    fake_anthropic.script(
        claude.answer(claude.thinking(THOUGHT, "sig-123"), call),
        claude.answer(claude.thinking(SECOND_THOUGHT, "sig-456"), claude.text("Done.")),
    )
    flags = [] if stream else ["--no-stream"]
    result = cli(*flags, "--effort", "medium", "-o", "stream-json", "list the files")

    assert result.exit_code == 0, result.result().get("error")
    fake_anthropic.assert_done()
    assert result.result()["final_text"] == "Done."
    chunks = [e["content"] for e in result.lines() if e["type"] == "thinking_chunk"]
    assert "".join(chunks) == THOUGHT + SECOND_THOUGHT
    if stream:
        assert len(chunks) > 2, "thinking should arrive as it streams, not in one piece"

    first, second = fake_anthropic.requests
    assert first["thinking"]["type"] == "enabled"
    assert first["max_tokens"] == 64_000  # the model's own output limit, not litellm's 6k cap
    assert bool(first.get("stream")) is stream
    messages = second["messages"]
    turn = next(i for i, m in enumerate(messages) if m["role"] == "assistant")
    assert messages[turn]["content"] == [
        {"type": "thinking", "thinking": THOUGHT, "signature": "sig-123"},
        {"type": "tool_use", "id": call["id"], "name": "bash", "input": {"command": "echo hi"}},
    ]
    answer = messages[turn + 1]
    assert answer["role"] == "user"
    assert answer["content"][0]["type"] == "tool_result"
    assert answer["content"][0]["tool_use_id"] == call["id"]
    assert text_of(answer["content"][0]["content"]).strip() == "hi"


def test_prompt_caching_marks_the_system_prompt_and_the_newest_message(cli, fake_anthropic):
    fake_anthropic.script(claude.answer(claude.text("Hello.")))
    result = cli("say hello")

    assert result.exit_code == 0, result.stderr
    fake_anthropic.assert_done()
    request = fake_anthropic.requests[0]
    assert fake_anthropic.headers[0]["x-api-key"] == "sk-ant-test"
    assert request["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert request["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}


def test_the_fake_refuses_history_the_real_api_refuses():
    """Guards the checks the tests above rely on: a wrong replay must not pass silently."""
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    use = {"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "hi"}

    def problems(*assistant: dict) -> list[str]:
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 100,
            "thinking": {"type": "enabled", "budget_tokens": 50},
            "messages": [
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": list(assistant)},
                {"role": "user", "content": [result]},
            ],
        }
        return claude.request_problems(body, headers)

    signed = {"type": "thinking", "thinking": "t", "signature": "s"}
    assert problems(signed, use) == []
    assert problems(use)  # thinking dropped
    assert problems({"type": "thinking", "thinking": "t"}, use)  # signature lost
    assert problems(signed | {"index": 0}, use)  # a stream-only field leaked into the replay


def thinking_blocks_in(request: dict) -> list[dict]:
    return [
        block
        for message in request["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block["type"] == "thinking"
    ]


@pytest.fixture
def stale_anthropic(monkeypatch):
    """The fake API refusing `sig-stale` as the real one refuses a signature it did not mint."""
    with FakeAnthropic(invalid_signatures=("sig-stale",)) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ML_INTERN_MODEL", "anthropic/claude-sonnet-4-5")
        monkeypatch.setenv("ML_INTERN_API_BASE", server.url)
        monkeypatch.setenv("ML_INTERN_RETRY_BASE_DELAY_S", "0.01")
        yield server
    server.assert_done()


def test_a_refused_signature_mid_turn_is_dropped_and_the_turn_goes_on(cli, stale_anthropic):
    call = claude.tool_use("bash", {"command": "echo hi"})

    def unsigned_and_without_thinking(body: dict) -> None:
        assert thinking_blocks_in(body) == []
        assert "thinking" not in body  # the answer that asked for bash is no longer signed

    stale_anthropic.script(
        claude.answer(claude.thinking(THOUGHT, "sig-stale"), call),
        claude.answer(claude.text("Done."), expect=unsigned_and_without_thinking),
    )
    result = cli("--effort", "medium", "-o", "stream-json", "list the files")

    assert result.exit_code == 0, result.result().get("error")
    stale_anthropic.assert_done()
    assert result.result()["final_text"] == "Done."
    notices = [e["message"] for e in result.lines() if e["type"] == "notice"]
    assert any("refused the reasoning saved from earlier answers" in n for n in notices)
    [refused] = stale_anthropic.refused
    assert [b["signature"] for b in thinking_blocks_in(refused)] == ["sig-stale"]
    retried = stale_anthropic.requests[1]["messages"]
    assert retried[-1]["content"][0]["tool_use_id"] == call["id"]  # the result is still there


def test_a_refused_signature_from_an_earlier_turn_keeps_thinking_on(cli, stale_anthropic):
    def thinking_on_without_old_blocks(body: dict) -> None:
        assert thinking_blocks_in(body) == []
        assert body["thinking"]["type"] == "enabled"

    stale_anthropic.script(
        claude.answer(claude.thinking(THOUGHT, "sig-stale"), claude.text("Hello.")),
        claude.answer(
            claude.thinking(SECOND_THOUGHT, "sig-new"),
            claude.text("Still here."),
            expect=thinking_on_without_old_blocks,
        ),
    )
    assert cli("--effort", "low", "say hello").exit_code == 0
    result = cli("--effort", "low", "--continue", "are you there")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "Still here."
    assert "refused the reasoning saved from earlier answers" in result.stderr
    stale_anthropic.assert_done()
    assert len(stale_anthropic.refused) == 1
    again = [m["content"] for m in stale_anthropic.requests[1]["messages"]]
    assert again[0] == "say hello" or text_of(again[0]) == "say hello"


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_rate_limits_and_overload_are_retried_and_shown(cli, fake_anthropic, stream):
    fake_anthropic.script(
        claude.rate_limited(), claude.overloaded(), claude.answer(claude.text("Hello."))
    )
    flags = [] if stream else ["--no-stream"]
    result = cli(*flags, "-o", "stream-json", "say hello")

    assert result.exit_code == 0, result.stderr
    assert result.result()["final_text"] == "Hello."
    retries = [e for e in result.lines() if e["type"] == "retrying"]
    assert len(retries) == 2
    assert len(fake_anthropic.requests) == 3


def test_an_error_event_mid_stream_discards_the_partial_answer(cli, fake_anthropic):
    fake_anthropic.script(
        claude.broken_stream("Half an ans"), claude.answer(claude.text("The whole answer."))
    )
    result = cli("-o", "stream-json", "answer me")

    assert result.exit_code == 0, result.stderr
    events = result.lines()
    assert result.result()["final_text"] == "The whole answer."
    assert any(e["type"] == "retrying" for e in events)
    assert any(e["type"] == "assistant_stream_end" and e.get("discarded") for e in events)
    assert "Half an ans" not in json.dumps(fake_anthropic.requests[1]["messages"])


def test_a_refused_request_leaves_the_script_untouched():
    """The fake's own strictness: a request the API would refuse takes no scripted step."""
    import httpx

    fake = FakeAnthropic(claude.answer(claude.text("unused"))).start()
    try:
        bad = {"model": "claude", "max_tokens": 5, "messages": [{"role": "tool"}]}
        headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
        reply = httpx.post(f"{fake.url}/v1/messages", json=bad, headers=headers)
        assert reply.status_code == 400
        good = bad | {"messages": [{"role": "user", "content": "hi"}]}
        reply = httpx.post(f"{fake.url}/v1/messages", json=good, headers=headers)
        assert reply.json()["content"] == [{"type": "text", "text": "unused"}]
        with pytest.raises(AssertionError, match="refused"):
            fake.assert_done()
    finally:
        fake.stop()  # not `with`: its exit would raise the refusal checked above
