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


def test_a_wake_up_while_away_shows_a_desktop_notification_in_the_terminal(fake_llm, monkeypatch):
    """In a terminal that shows notifications (iTerm2 here), the chat sends one with the
    bell when a run wakes the agent and nobody pressed a key for a while."""
    import io
    from pathlib import Path

    from agent.cli.chat.interactive import Chat
    from agent.cli.chat.render import make_console
    from agent.config import load_settings
    from agent.core.runtime import open_session

    for name in ("TMUX", "STY", "KITTY_WINDOW_ID", "WEZTERM_PANE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("TERM_PROGRAM", "iTerm.app")
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo done", "run_in_background": True}),
        llm.text("Started."),
        llm.text("The run ended.", expect=woken_with("bg1: ended")),
    )
    screen = io.StringIO()

    async def chat() -> None:
        session = await open_session(load_settings(Path.cwd()))
        turns: asyncio.Queue[str] = asyncio.Queue()
        session.subscribe(lambda e: turns.put_nowait(e.type) if e.type == "turn_complete" else None)
        front = Chat(session, make_console(screen))
        session.last_key_at = time.monotonic() - 3600  # then no key for an hour
        front.agent.submit(ops.UserInput(text="run it"))
        for _ in range(2):  # the request, then the wake-up's turn
            await asyncio.wait_for(turns.get(), timeout=30)
        await front._detach()

    asyncio.run(chat())
    shown = screen.getvalue()
    assert "\x1b]9;ml-intern: bg1 ended: exited 0\x07" in shown
    assert shown.count("\x1b]9;") == 1
