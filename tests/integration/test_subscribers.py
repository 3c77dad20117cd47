"""One failing consumer of the event stream never breaks the turn or the other consumers,
and our own failures are never taken for the provider's."""

from __future__ import annotations

import asyncio
import logging

import pytest

from agent import events as ev
from agent.config import Settings
from agent.core import llm as core_llm
from agent.core.loop import run_turn
from agent.core.replies import StreamCallbacks
from agent.core.session import Session
from agent.tools.local.local_tools import local_tools
from agent.tools.router import ToolRouter
from tests.fakes import llm_server as llm

ANSWER = "The dataset has three splits: train, validation and test."


def settings_for(fake: llm.FakeLLM) -> Settings:
    return Settings(
        model_name="openai/test-model",
        api_base=fake.url,
        llm_timeout_s=20.0,
        retry_base_delay_s=0.01,
    )


class Broken:
    """A subscriber with a bug: it raises on every streamed piece of the answer."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.AssistantChunk):
            self.calls += 1
            raise self.error


@pytest.mark.parametrize(
    "error",
    [KeyError("content"), BrokenPipeError(32, "Broken pipe"), ConnectionError("gone")],
    ids=["key-error", "broken-pipe", "connection-error"],
)
def test_a_subscriber_that_raises_while_streaming_breaks_nothing(fake_llm, caplog, error):
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo listed"}),
        llm.text(ANSWER, chunk_size=5),
    )
    session = Session(settings_for(fake_llm), ToolRouter(local_tools()))
    before: list[ev.Event] = []
    after: list[ev.Event] = []
    broken = Broken(error)
    session.subscribe(before.append)
    session.subscribe(broken)
    session.subscribe(after.append)

    with caplog.at_level(logging.WARNING, logger="agent.core.session"):
        final = asyncio.run(run_turn(session, "how many splits?"))

    assert final == ANSWER
    chunks = [e.content for e in after if isinstance(e, ev.AssistantChunk)]
    assert "".join(chunks) == ANSWER and broken.calls == len(chunks) > 1
    assert [e.type for e in before] == [e.type for e in after]
    assert any(isinstance(e, ev.ToolOutput) and "listed" in e.content for e in after)
    assert not any(isinstance(e, ev.Error | ev.Retrying) for e in after)
    assert len(fake_llm.requests) == 2  # one per step: nothing was retried
    failures = [r for r in caplog.records if "event subscriber" in r.getMessage()]
    assert len(failures) == 1  # logged once, not once per chunk
    fake_llm.assert_done()


def test_the_failure_handler_hears_of_the_failure(fake_llm):
    fake_llm.script(llm.text("hi"))
    session = Session(settings_for(fake_llm), ToolRouter([]))
    heard: list[Exception] = []
    session.subscribe(Broken(BrokenPipeError(32, "Broken pipe")), on_failure=heard.append)

    assert asyncio.run(run_turn(session, "hello")) == "hi"
    assert heard and all(isinstance(exc, BrokenPipeError) for exc in heard)
    fake_llm.assert_done()


@pytest.mark.parametrize("error", [KeyError("x"), ConnectionResetError(104, "reset")])
@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_a_bug_in_our_callbacks_is_not_a_provider_error(fake_llm, error, stream):
    fake_llm.script(llm.text("Fine.", reasoning="Let me think."))

    def fail(piece: str) -> None:
        raise error

    callbacks = StreamCallbacks(on_thinking=fail)
    settings = settings_for(fake_llm).model_copy(update={"stream": stream})
    messages = [{"role": "user", "content": "hi"}]

    with pytest.raises(type(error)):
        asyncio.run(core_llm.complete(messages, [], settings, callbacks))

    assert len(fake_llm.requests) == 1  # raised as itself, never retried as a failed call
    fake_llm.assert_done()
