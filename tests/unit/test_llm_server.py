"""The fake LLM speaks OpenAI's wire protocol well enough that real litellm reads it correctly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fakes.llm_server import (
    FakeLLM,
    auth_error,
    context_overflow,
    dropped_stream,
    empty,
    hang,
    malformed_chunk,
    no_finish,
    rate_limit,
    server_error,
    text,
    tool_call,
    tool_calls,
)

MESSAGES = [{"role": "user", "content": "hello"}]
NO_RETRY = {"model": "openai/fake", "api_key": "test", "num_retries": 0, "max_retries": 0}


@pytest.fixture(scope="module")
def litellm():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


@pytest.fixture
def fake():
    with FakeLLM() as server:
        yield server


@pytest.fixture
def unchecked_fake():
    """A fake left unchecked at the end, for the tests of its own strictness."""
    server = FakeLLM().start()
    yield server
    server.stop()


def complete(litellm, fake, **kw):
    return litellm.completion(messages=MESSAGES, api_base=fake.url, **NO_RETRY, **kw)


def stream(litellm, fake, **kw) -> list:
    """All chunks of a streamed call, with usage requested as the agent does."""
    opts = {"include_usage": True}
    return list(complete(litellm, fake, stream=True, stream_options=opts, **kw))


def drain(chunks, *, into: list) -> None:
    """Collect chunks one by one, so the ones before a mid-stream error are kept."""
    for chunk in chunks:
        into.append(chunk)


def joined(chunks, field: str) -> str:
    return "".join(getattr(c.choices[0].delta, field, None) or "" for c in chunks if c.choices)


def streamed_tool_calls(chunks) -> dict[int, dict]:
    """Assemble tool calls from deltas by index, the way a client must."""
    calls: dict[int, dict] = {}
    for chunk in chunks:
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
            call["id"] = call["id"] or delta.id
            call["name"] += delta.function.name or ""
            call["arguments"] += delta.function.arguments or ""
    return calls


def test_text_not_streamed_has_content_reasoning_usage_and_model(litellm, fake):
    fake.script(text("Hello world!", reasoning="Think first.", usage=(12, 3), cached_tokens=5))
    response = complete(litellm, fake)
    message = response.choices[0].message
    assert message.content == "Hello world!"
    assert message.reasoning_content == "Think first."
    assert response.choices[0].finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (12, 3)
    assert response.usage.prompt_tokens_details.cached_tokens == 5
    assert response.model == "fake"
    fake.assert_done()


def test_text_streamed_in_chunks_with_reasoning_first_and_usage_last(litellm, fake):
    fake.script(text("Hello streaming world", chunk_size=5, reasoning="Hmm, let me see."))
    chunks = stream(litellm, fake)
    assert joined(chunks, "content") == "Hello streaming world"
    assert joined(chunks, "reasoning_content") == "Hmm, let me see."
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert pieces[0] == "Hello"
    assert len(pieces) == 5
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].usage.total_tokens > 0
    assert fake.requests[0]["stream"] is True
    fake.assert_done()


def test_acompletion_streams_slow_chunks(litellm, fake):
    fake.script(text("slow but steady", delay_s=0.01))

    async def run() -> str:
        response = await litellm.acompletion(
            messages=MESSAGES, api_base=fake.url, stream=True, **NO_RETRY
        )
        return "".join([c.choices[0].delta.content or "" async for c in response if c.choices])

    assert asyncio.run(run()) == "slow but steady"
    fake.assert_done()


def test_tool_calls_not_streamed(litellm, fake):
    fake.script(tool_calls([("read", {"path": "a.py"}), ("bash", "{broken")]))
    message = complete(litellm, fake).choices[0].message
    calls = message.tool_calls
    assert [c.function.name for c in calls] == ["read", "bash"]
    assert json.loads(calls[0].function.arguments) == {"path": "a.py"}
    assert calls[1].function.arguments == "{broken"
    assert calls[0].id != calls[1].id
    fake.assert_done()


def test_tool_calls_streamed_assemble_from_argument_pieces(litellm, fake):
    args = {"command": "python train.py --epochs 3", "timeout": 60}
    fake.script(tool_calls([("bash", args), ("read", {"path": "x"})]))
    chunks = stream(litellm, fake)
    calls = streamed_tool_calls(chunks)
    assert [calls[0]["name"], calls[1]["name"]] == ["bash", "read"]
    assert json.loads(calls[0]["arguments"]) == args
    assert json.loads(calls[1]["arguments"]) == {"path": "x"}
    argument_deltas = [c for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert len(argument_deltas) > 4
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    fake.assert_done()


def test_tool_call_with_explicit_id_and_broken_json_streamed(litellm, fake):
    fake.script(tool_call("write", '{"path": "a', id="call_fixed"))
    calls = streamed_tool_calls(stream(litellm, fake))
    assert calls[0]["id"] == "call_fixed"
    assert calls[0]["arguments"] == '{"path": "a'
    fake.assert_done()


@pytest.mark.parametrize("streamed", [False, True])
def test_empty_answer_has_no_content_and_no_tool_calls(litellm, fake, streamed):
    fake.script(empty())
    if streamed:
        chunks = stream(litellm, fake)
        assert joined(chunks, "content") == ""
        assert streamed_tool_calls(chunks) == {}
    else:
        message = complete(litellm, fake).choices[0].message
        assert not message.content
        assert not message.tool_calls
    fake.assert_done()


@pytest.mark.parametrize("streamed", [False, True])
def test_provider_errors_map_to_litellm_types(litellm, fake, streamed):
    cases = [
        (rate_limit(), litellm.RateLimitError),
        (context_overflow(), litellm.ContextWindowExceededError),
        (auth_error(), litellm.AuthenticationError),
        (server_error(), litellm.InternalServerError),
        (server_error(503), litellm.ServiceUnavailableError),
    ]
    for step, expected in cases:
        fake.script(step)
        with pytest.raises(expected):
            stream(litellm, fake) if streamed else complete(litellm, fake)
    assert len(fake.requests) == len(cases)
    fake.assert_done()


def test_rate_limit_sends_retry_after(litellm, fake):
    fake.script(rate_limit(retry_after=2))
    with pytest.raises(litellm.RateLimitError) as caught:
        complete(litellm, fake)
    assert caught.value.response.headers["retry-after"] == "2"
    fake.assert_done()


def test_dropped_stream_raises_after_partial_content(litellm, fake):
    """litellm raises (MidStreamFallbackError, an APIConnectionError underneath) after the
    partial chunks, rather than ending quietly."""
    fake.script(dropped_stream("Partial answer"))
    received: list = []
    with pytest.raises(litellm.ServiceUnavailableError, match="Connection error"):
        drain(complete(litellm, fake, stream=True), into=received)
    assert joined(received, "content") == "Partial answer"
    fake.assert_done()


def test_dropped_connection_without_stream_raises(litellm, fake):
    fake.script(dropped_stream())
    with pytest.raises(litellm.InternalServerError, match="Connection error"):
        complete(litellm, fake)
    fake.assert_done()


def test_stream_without_finish_reason_raises(litellm, fake):
    """litellm itself rejects a stream that reaches [DONE] without any finish_reason."""
    fake.script(no_finish("abc def"))
    with pytest.raises(litellm.ServiceUnavailableError, match="finish_reason"):
        stream(litellm, fake)
    fake.assert_done()


def test_malformed_chunk_raises(litellm, fake):
    fake.script(malformed_chunk(), malformed_chunk())
    with pytest.raises(litellm.ServiceUnavailableError, match="Expecting property name"):
        stream(litellm, fake)
    with pytest.raises(litellm.InternalServerError, match="Expecting property name"):
        complete(litellm, fake)
    fake.assert_done()


def test_hang_times_out_the_client_and_stop_returns(litellm, fake):
    fake.script(hang(300))
    with pytest.raises(litellm.Timeout):
        complete(litellm, fake, timeout=0.3)
    fake.stop()
    fake.assert_done()


def test_extra_request_fails_with_500_and_assert_done(litellm, unchecked_fake):
    unchecked_fake.script(text("one"))
    complete(litellm, unchecked_fake)
    with pytest.raises(litellm.InternalServerError, match="script exhausted"):
        complete(litellm, unchecked_fake)
    with pytest.raises(AssertionError, match=r"unexpected request.*#2"):
        unchecked_fake.assert_done()


def test_unused_steps_fail_assert_done(litellm, unchecked_fake):
    unchecked_fake.script(text("used"), tool_call("bash", {"command": "ls"}))
    complete(litellm, unchecked_fake)
    with pytest.raises(
        AssertionError, match=r"1 scripted step\(s\) never requested: tool_call\(bash\)"
    ):
        unchecked_fake.assert_done()


def test_expect_sees_the_request_and_its_failure_surfaces_in_assert_done(litellm, unchecked_fake):
    def wants_tools(body: dict) -> None:
        assert "tools" in body, "the agent should offer tools"

    seen = []
    unchecked_fake.script(text("a", expect=seen.append), text("b", expect=wants_tools))
    complete(litellm, unchecked_fake)
    assert complete(litellm, unchecked_fake).choices[0].message.content == "b"
    assert seen[0]["messages"] == MESSAGES
    with pytest.raises(AssertionError, match="should offer tools"):
        unchecked_fake.assert_done()


def test_headers_and_wait_for_requests(litellm, fake):
    fake.script(text("x"))
    complete(litellm, fake)
    fake.wait_for_requests(1, timeout=1)
    assert fake.headers[0]["authorization"] == "Bearer test"
    with pytest.raises(AssertionError, match="wanted 2 request"):
        fake.wait_for_requests(2, timeout=0.05)


def test_openai_base_url_env_reaches_the_fake(litellm, fake, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    fake.script(text("via env"))
    response = litellm.completion(model="openai/fake", messages=MESSAGES, num_retries=0)
    assert response.choices[0].message.content == "via env"
    fake.assert_done()


def test_repeat_answers_every_request_and_models_lists_one():
    body = {"model": "m", "messages": MESSAGES}
    with FakeLLM(text("first"), repeat=text("again")) as fake, httpx.Client() as client:
        replies = []
        for _ in range(3):
            r = client.post(f"{fake.url}/chat/completions", json=body)
            replies.append(r.json()["choices"][0]["message"]["content"])
        models = client.get(f"{fake.url}/models").json()
        fake.assert_done()
    assert replies == ["first", "again", "again"]
    assert [m["id"] for m in models["data"]] == ["fake"]


def test_cli_serves_the_reply_it_was_given():
    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "tests.fakes.llm_server", "--reply", "pong"]
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        body = {"model": "m", "messages": MESSAGES, "stream": False}
        reply = httpx.post(f"{url}/chat/completions", json=body, timeout=10).json()
        assert reply["choices"][0]["message"]["content"] == "pong"
    finally:
        proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
