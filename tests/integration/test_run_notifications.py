"""A run's wake-up calls the person (Slack, the terminal bell) only when they have been
away from the chat: no key pressed for `notify_away_after_s`."""

from __future__ import annotations

import asyncio
import time

import pytest

from agent.core import ops
from tests.fakes import llm_server as llm
from tests.fakes.slack_server import FakeSlack
from tests.integration.test_runs import woken_with
from tests.integration.test_runs_continued import (
    model_library_loaded,  # noqa: F401
    turns_completed,
)
from tests.integration.test_session_log import Driver

pytestmark = pytest.mark.timeout(150)


def test_a_wake_up_reaches_slack_only_when_nobody_pressed_a_key_for_a_while(fake_llm, monkeypatch):
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo first", "run_in_background": True}),
        llm.text("Started."),
        llm.text("The first run ended.", expect=woken_with("bg1: ended")),
        llm.tool_call("bash", {"command": "echo second", "run_in_background": True}),
        llm.text("Started."),
        llm.text("The second run ended.", expect=woken_with("bg2: ended")),
    )
    with FakeSlack(token="xoxb-test-token-1234", channels=("C1",)) as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token-1234")
        monkeypatch.setenv("SLACK_CHANNEL_ID", "C1")
        monkeypatch.setenv("ML_INTERN_SLACK_URL", slack.api_url)

        async def chat() -> None:
            driver = Driver()
            await driver.start()
            driver.session.last_key_at = time.monotonic()  # the person is typing in the chat
            await driver.perform(ops.UserInput(text="run one"), "turn_complete")
            await turns_completed(driver, 2)
            driver.session.last_key_at = time.monotonic() - 3600  # no key for an hour
            await driver.perform(ops.UserInput(text="run another"), "turn_complete")
            await turns_completed(driver, 4)
            await driver.stop()  # queued notifications are delivered on the way out

        asyncio.run(chat())
        texts = [m["text"] for m in slack.messages]
    updates = [text for text in texts if text.startswith("⏰ *Run update*")]
    assert len(updates) == 1, texts
    assert updates[0].startswith("⏰ *Run update*: bg2 ended: exited 0")
