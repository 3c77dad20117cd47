"""Slack notifications, delivered to a loopback fake of Slack's Web API."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from pathlib import Path

import pytest

from agent import events as ev
from agent.config import Settings
from agent.core import ops as op
from agent.core.loop import Agent
from agent.core.notifier import attach_notifier
from agent.core.session import Session
from agent.tools.local.local_tools import local_tools
from agent.tools.notify import notify_tools
from agent.tools.router import ToolRouter
from tests.fakes import llm_server as llm
from tests.fakes.slack_server import FakeSlack

TOKEN = "xoxb-test-token-1234"
SECRET = "hf_" + "a1B2c3D4e5" * 4


@pytest.fixture
def slack(monkeypatch):
    """A fake Slack that ml-intern reaches through SLACK_BOT_TOKEN / SLACK_CHANNEL_ID."""
    with FakeSlack(token=TOKEN, channels=("C1",)) as fake:
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("SLACK_CHANNEL_ID", "C1")
        monkeypatch.setenv("ML_INTERN_SLACK_URL", fake.api_url)
        yield fake


def make_session(fake: llm.FakeLLM, slack_url: str, **settings: object) -> Session:
    """A session wired as the runtime wires it: notify tool and notifier when configured."""
    options = {"model_name": "openai/test-model", "api_base": fake.url, "llm_timeout_s": 20.0}
    config = Settings(**(options | {"slack_url": slack_url} | settings))
    session = Session(config, ToolRouter([*local_tools(), *notify_tools(config)]))
    attach_notifier(session)
    return session


async def drive(session: Session, *prompts: str, while_running=None) -> list[ev.Event]:
    """Requests through the agent loop one after the other, then close the session."""
    events: list[ev.Event] = []
    ended = asyncio.Event()

    def watch(event: ev.Event) -> None:
        events.append(event)
        if event.type in ("turn_complete", "error", "interrupted"):
            ended.set()

    session.subscribe(watch)
    agent = Agent(session)
    runner = asyncio.create_task(agent.run())
    for prompt in prompts:
        ended.clear()
        agent.submit(op.UserInput(text=prompt))
        if while_running is not None:
            await while_running(agent)
        await asyncio.wait_for(ended.wait(), 30)
    agent.submit(op.Shutdown())
    await runner
    await session.aclose()
    return events


def test_a_finished_turn_is_posted_without_secrets(fake_llm, slack):
    fake_llm.script(llm.text(f"Trained it. I used the token {SECRET} to push."))
    session = make_session(fake_llm, slack.api_url)

    asyncio.run(drive(session, "train"))

    (message,) = slack.wait_for_messages(1)
    assert message["channel"] == "C1"
    assert message["text"].startswith("✓ *Done*\nTrained it.")
    assert session.id in message["text"]
    assert SECRET not in message["text"] and "[REDACTED:hf_token]" in message["text"]
    (request,) = slack.requests_to("/api/chat.postMessage")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in message["text"]


def test_an_approval_request_reaches_slack_while_the_agent_waits(fake_llm, slack):
    fake_llm.script(
        llm.tool_call("bash", {"command": "rm -rf build"}, id="call_rm"),
        llm.text("I left build/ alone."),
    )
    session = make_session(fake_llm, slack.api_url)

    async def answer_from_slack(agent: Agent) -> None:
        (waiting,) = await asyncio.to_thread(slack.wait_for_messages, 1)
        assert waiting["text"].startswith("⏸ *Waiting for your approval*: bash")
        assert "rm -rf build" in waiting["text"]
        agent.submit(op.Approval(tool_call_id="call_rm", decision="deny"))

    asyncio.run(drive(session, "clean up", while_running=answer_from_slack))

    texts = [m["text"] for m in slack.wait_for_messages(2)]
    assert texts[1].startswith("✓ *Done*\nI left build/ alone.")


def test_a_stopped_run_is_posted(fake_llm, slack):
    fake_llm.script(llm.tool_call("bash", {"command": "echo 1"}))
    session = make_session(fake_llm, slack.api_url, max_iterations=1)

    asyncio.run(drive(session, "loop"))

    (message,) = slack.wait_for_messages(1)
    assert message["text"].startswith("✗ *Stopped* (max_iterations): Stopped after 1 iterations")


def test_the_agent_can_send_a_message(fake_llm, slack):
    fake_llm.script(
        llm.tool_call(
            "notify",
            {"title": "Training finished", "message": f"accuracy 0.91, pushed with {SECRET}"},
        ),
        llm.text("Told you on Slack."),
    )
    session = make_session(fake_llm, slack.api_url, max_iterations=5)

    asyncio.run(drive(session, "train and tell me"))

    first, done = slack.wait_for_messages(2)
    assert first["text"] == "*Training finished*\naccuracy 0.91, pushed with [REDACTED:hf_token]"
    result = next(m for m in fake_llm.requests[1]["messages"] if m["role"] == "tool")
    assert result["content"] == "Sent to slack.default."
    assert done["text"].startswith("✓ *Done*")


def test_without_a_destination_there_is_no_tool_and_no_notifier(fake_llm):
    settings = Settings(model_name="openai/test-model", api_base=fake_llm.url)
    session = Session(settings, ToolRouter(notify_tools(settings)))
    assert session.router.names == []
    assert attach_notifier(session) is None


def unreachable_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


@pytest.mark.parametrize("failure", ["refused", "unreachable"])
def test_a_failing_slack_does_not_disturb_the_run(fake_llm, slack, caplog, failure):
    slack.token = "xoxb-another-token"  # ours is refused with invalid_auth
    url = slack.api_url if failure == "refused" else unreachable_url()
    fake_llm.script(
        llm.tool_call("notify", {"message": "hello"}),
        llm.tool_call("bash", {"command": "echo still going"}),
        llm.text("All done."),
    )
    session = make_session(fake_llm, url)
    fake_llm.script(llm.text("Again."))

    with caplog.at_level(logging.WARNING, logger="agent.core.notifier"):
        events = asyncio.run(drive(session, "work", "again"))

    finals = [e.final_text for e in events if isinstance(e, ev.TurnComplete)]
    assert finals == ["All done.", "Again."]
    refused = next(e for e in events if isinstance(e, ev.ToolOutput) and e.name == "notify")
    assert refused.is_error and "Not delivered" in refused.content
    assert TOKEN not in refused.content
    warnings = [r.getMessage() for r in caplog.records if r.name == "agent.core.notifier"]
    assert len(warnings) == 1  # two turns failed to go out; said once
    assert all("failed" in w and TOKEN not in w for w in warnings)
    assert slack.messages == []
    fake_llm.assert_done()


def test_headless_run_posts_its_result(cli, fake_llm, slack):
    """Needs the notify tool and the notifier wired into the runtime."""
    fake_llm.script(llm.text("Forty-two."))
    result = cli("-o", "stream-json", "answer")
    assert result.exit_code == 0, result.stderr
    assert "notify" in result.lines()[0]["tools"]
    (message,) = slack.wait_for_messages(1)
    assert message["text"].startswith("✓ *Done*\nForty-two.")


def test_messaging_config_block_chooses_destinations_and_events(cli, fake_llm, slack, monkeypatch):
    """Needs `messaging` in Settings (and the wiring above)."""
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    slack.channels.add("C-team")
    config = {
        "messaging": {
            "auto_event_types": ["error"],
            "destinations": {
                "slack.team": {"token": TOKEN, "channel": "C-team", "allow_auto_events": True}
            },
        }
    }
    Path("messaging.json").write_text(json.dumps(config))
    monkeypatch.setenv("ML_INTERN_CLI_CONFIG", "messaging.json")

    fake_llm.script(llm.text("fine"))
    ok = cli("-o", "stream-json", "answer")
    assert ok.exit_code == 0, ok.stderr
    assert "notify" not in ok.lines()[0]["tools"]  # the agent may not write there

    fake_llm.script(llm.tool_call("bash", {"command": "echo 1"}))
    stopped = cli("-o", "json", "--max-iterations", "1", "loop")
    assert stopped.exit_code == 4
    (message,) = slack.wait_for_messages(1)
    assert message["channel"] == "C-team" and message["text"].startswith("✗ *Stopped*")


@pytest.mark.parametrize("off", ["false", "0", "no", "off", "FALSE"])
def test_the_slack_switch_turns_off_the_environment_destination(
    cli, fake_llm, slack, monkeypatch, off
):
    monkeypatch.setenv("ML_INTERN_SLACK_NOTIFICATIONS", off)
    fake_llm.script(llm.text("Forty-two."))
    result = cli("-o", "stream-json", "answer")
    assert result.exit_code == 0, result.stderr
    assert "notify" not in result.lines()[0]["tools"]
    fake_llm.assert_done()
    assert slack.messages == []  # the run is over: nothing was or will be posted


def test_the_slack_switch_leaves_configured_destinations_alone(cli, fake_llm, slack, monkeypatch):
    monkeypatch.setenv("ML_INTERN_SLACK_NOTIFICATIONS", "false")
    slack.channels.add("C-team")
    team = {"token": TOKEN, "channel": "C-team", "allow_auto_events": True}
    Path("messaging.json").write_text(
        json.dumps({"messaging": {"destinations": {"slack.team": team}}})
    )
    monkeypatch.setenv("ML_INTERN_CLI_CONFIG", "messaging.json")
    fake_llm.script(llm.text("Forty-two."))
    assert cli("-o", "json", "answer").exit_code == 0
    (message,) = slack.wait_for_messages(1)
    assert message["channel"] == "C-team"


def test_a_slack_switch_that_is_not_a_yes_or_no_is_a_config_error(
    cli, fake_llm, slack, monkeypatch
):
    monkeypatch.setenv("ML_INTERN_SLACK_NOTIFICATIONS", "maybe")
    result = cli("-o", "json", "answer")
    assert result.exit_code == 3
    assert "slack_notifications" in result.stderr and "Traceback" not in result.stderr


def test_a_goal_is_posted_once_when_it_ends_not_after_every_turn(cli, fake_llm, slack):
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo 12 passed"}),
        llm.text("Ran the tests."),
        llm.tool_call("goal_done", {"evidence": "12 passed"}),
        llm.text("All green."),
    )
    result = cli("--goal", "the tests pass")
    assert result.exit_code == 0, result.stderr
    (message,) = slack.wait_for_messages(1)  # the run waited for its delivery on the way out
    assert message["text"].startswith("◎ *Goal met*: the tests pass\n12 passed")
