"""The session log is a consumer of the event stream: every history change reaches it,
model switches included, and what it reads back is exactly what the model was sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from agent import events as ev
from agent.config import load_settings
from agent.context.resume import load_session
from agent.core import ops
from agent.core.loop import Agent
from agent.core.runtime import open_session
from tests.fakes import llm_server as llm

LONG_MODEL = "openai/" + "m" * 400


class Driver:
    """An engine session over the fake model, driven by operations as a front end does."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self._seen: asyncio.Queue[ev.Event] = asyncio.Queue()

    async def start(self, **kwargs) -> None:
        self.session = await open_session(load_settings(Path.cwd()), **kwargs)
        self.session.subscribe(self.events.append)
        self.session.subscribe(self._seen.put_nowait)
        self.agent = Agent(self.session)
        self.runner = asyncio.create_task(self.agent.run())

    async def perform(self, operation: ops.Operation, *until: str) -> ev.Event:
        self.agent.submit(operation)
        while True:
            event = await asyncio.wait_for(self._seen.get(), timeout=30)
            if event.type in until:
                return event

    async def stop(self) -> None:
        self.agent.submit(ops.Shutdown())
        await self.runner
        await self.session.aclose()


def log_kinds(session_id: str) -> list[str]:
    from agent.context.store import find_session_file, sessions_dir

    path = find_session_file(session_id, sessions_dir())
    return [json.loads(line)["kind"] for line in path.read_text().splitlines()]


def test_a_model_switch_renews_the_system_prompt_through_the_log(fake_llm):
    # the switch asks the new model for one token before it is made
    fake_llm.script(llm.text("hello"), llm.text("OK"), llm.text("still here"))

    async def chat() -> tuple[str, int, int, list[dict]]:
        driver = Driver()
        await driver.start()
        await driver.perform(ops.UserInput(text="hi"), "turn_complete")
        before = driver.session.context.tokens
        await driver.perform(ops.SetModel(model=LONG_MODEL), "notice")
        after = driver.session.context.tokens
        await driver.perform(ops.UserInput(text="and now?"), "turn_complete")
        history = list(driver.session.context.messages)
        await driver.stop()
        return driver.session.id, before, after, history

    sid, before, after, history = asyncio.run(chat())
    sent = fake_llm.requests[-1]
    assert sent["model"] == LONG_MODEL.removeprefix("openai/")
    assert f"Model: {LONG_MODEL}" in sent["messages"][0]["content"]
    assert f"Model: {LONG_MODEL}" not in fake_llm.requests[0]["messages"][0]["content"]
    assert 95 <= after - before <= 105  # 400 more characters of prompt: about 100 tokens

    loaded = load_session(sid)
    assert loaded.model == LONG_MODEL
    assert loaded.messages == history
    assert loaded.messages[0]["content"] == sent["messages"][0]["content"]
    kinds = log_kinds(sid)
    assert kinds.index("model") < kinds.index("system") < len(kinds) - kinds[::-1].index("message")
    fake_llm.assert_done()


def test_the_log_holds_every_message_across_undo_and_a_fresh_start(fake_llm):
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo one"}),
        llm.text("ran one"),
        llm.text("second answer"),
        llm.text("third answer"),
        llm.text("fresh answer"),
    )

    async def chat() -> tuple[str, list[dict], str, list[dict]]:
        driver = Driver()
        await driver.start()
        for text in ("first", "second", "third"):
            await driver.perform(ops.UserInput(text=text), "turn_complete")
        await driver.perform(ops.Undo(), "undo_complete")
        old_id, old_history = driver.session.id, list(driver.session.context.messages)
        await driver.perform(ops.NewSession(), "notice")
        await driver.perform(ops.UserInput(text="fresh"), "turn_complete")
        new_history = list(driver.session.context.messages)
        await driver.stop()
        return old_id, old_history, driver.session.id, new_history

    old_id, old_history, new_id, new_history = asyncio.run(chat())
    assert [m["role"] for m in old_history] == [
        "system",
        *("user", "assistant", "tool", "assistant"),
        *("user", "assistant"),
    ]
    assert load_session(old_id).messages == old_history
    assert load_session(new_id).messages == new_history
    assert [m.get("content") for m in new_history[1:]] == ["fresh", "fresh answer"]
    assert [m["content"] for m in old_history[-2:]] == ["second", "second answer"]
    fake_llm.assert_done()
