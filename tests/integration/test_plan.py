"""The agent's plan: updates, their events, and the plan after compaction and resume."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from agent import events as ev
from agent.config import Settings
from agent.context.resume import load_session
from agent.context.store import SessionLog
from agent.core.loop import run_turn
from agent.core.session import Session
from agent.tools.plan import PLAN_STATE, format_plan, plan_tools, restore_plan
from agent.tools.router import ToolRouter
from tests.fakes import llm_server as llm

THREE_STEPS = [
    {"id": "1", "content": "Inspect the dataset", "status": "in_progress"},
    {"id": "2", "content": "Write the training script", "status": "pending"},
    {"id": "3", "content": "Run a small test", "status": "pending"},
]


def make_session(fake: llm.FakeLLM) -> tuple[Session, list[ev.Event]]:
    settings = Settings(model_name="openai/test-model", api_base=fake.url, llm_timeout_s=20.0)
    session = Session(settings, ToolRouter(plan_tools()))
    events: list[ev.Event] = []
    session.subscribe(events.append)
    return session, events


def tool_results(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def test_each_update_is_an_event_and_the_model_sees_the_whole_plan(fake_llm):
    fake_llm.script(
        llm.tool_call("plan_tool", {"todos": THREE_STEPS}),
        llm.tool_call(
            "plan_tool",
            {
                "merge": True,
                "todos": [{"id": "1", "status": "completed"}, {"id": 2, "status": "in_progress"}],
            },
        ),
        llm.text("Planned."),
    )
    session, events = make_session(fake_llm)

    asyncio.run(run_turn(session, "fine-tune a model"))

    updates = [e.todos for e in events if isinstance(e, ev.PlanUpdate)]
    assert updates[0] == THREE_STEPS
    assert [t["status"] for t in updates[1]] == ["completed", "in_progress", "pending"]
    assert [t["content"] for t in updates[1]] == [t["content"] for t in THREE_STEPS]
    first, second = tool_results(fake_llm.requests[2])
    assert first.startswith("Plan updated (0/3 completed):")
    assert second.endswith(
        "[x] 1. Inspect the dataset\n[>] 2. Write the training script\n[ ] 3. Run a small test"
    )
    assert session.tool_state[PLAN_STATE] == updates[1]
    fake_llm.assert_done()


def test_an_invalid_plan_is_refused_and_the_old_one_kept(fake_llm):
    two_running = [{**t, "status": "in_progress"} for t in THREE_STEPS[:2]]
    fake_llm.script(
        llm.tool_call("plan_tool", {"todos": THREE_STEPS}),
        llm.tool_call("plan_tool", {"todos": two_running}),
        llm.tool_call("plan_tool", {"merge": True, "todos": [{"id": "9", "status": "pending"}]}),
        llm.text("ok"),
    )
    session, events = make_session(fake_llm)

    asyncio.run(run_turn(session, "plan"))

    refused = [e for e in events if isinstance(e, ev.ToolOutput) and e.is_error]
    assert "at most one item may be in_progress, got 1, 2" in refused[0].content
    assert "item '9' needs a content" in refused[1].content
    assert len([e for e in events if isinstance(e, ev.PlanUpdate)]) == 1
    assert session.tool_state[PLAN_STATE] == THREE_STEPS


def test_the_plan_is_rebuilt_from_the_log_also_after_a_compaction(tmp_path):
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "plan_tool", "arguments": json.dumps({"todos": THREE_STEPS})},
    }
    update = {**call, "id": "c2"}
    update["function"] = {
        "name": "plan_tool",
        "arguments": json.dumps({"merge": True, "todos": [{"id": "1", "status": "completed"}]}),
    }
    history = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "train"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "name": "plan_tool", "content": "Plan updated"},
        {"role": "assistant", "content": None, "tool_calls": [update]},
        {"role": "tool", "tool_call_id": "c2", "name": "plan_tool", "content": "Plan updated"},
    ]
    with SessionLog.create("s-plan", tmp_path, "m") as log:
        for message in history:
            log.append_message(message)
        log.replace_messages([*history[:2], {"role": "user", "content": "[Summary] ..."}])

    state: dict = {}
    restore_plan(state, load_session("s-plan"))

    assert [t["status"] for t in state[PLAN_STATE]] == ["completed", "pending", "pending"]


def test_plan_in_stream_json_and_after_resume(cli, fake_llm):
    """Needs plan_tool among the built-in tools and `restore_plan` when resuming."""
    fake_llm.script(llm.tool_call("plan_tool", {"todos": THREE_STEPS}), llm.text("Planned."))
    first = cli("-o", "stream-json", "fine-tune a model")
    assert first.exit_code == 0, first.stderr
    (update,) = [e for e in first.lines() if e["type"] == "plan_update"]
    assert update["todos"] == THREE_STEPS
    assert update["session_id"] == first.result()["session_id"]

    fake_llm.script(
        llm.tool_call("plan_tool", {"merge": True, "todos": [{"id": "1", "status": "completed"}]}),
        llm.text("Step one done."),
    )
    again = cli("-o", "stream-json", "--resume", first.result()["session_id"], "go on")
    assert again.exit_code == 0, again.stderr
    (resumed,) = [e for e in again.lines() if e["type"] == "plan_update"]
    assert [t["content"] for t in resumed["todos"]] == [t["content"] for t in THREE_STEPS]
    assert [t["status"] for t in resumed["todos"]] == ["completed", "pending", "pending"]
    fake_llm.assert_done()


def test_the_plan_is_in_the_compaction_summary(cli, fake_llm, monkeypatch):
    """Needs plan_tool among the built-in tools and `plan_note` in the compaction summary."""
    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "2500")
    big = "python3 -c \"print('x' * 12000)\""  # alone over the threshold: compaction follows
    fake_llm.script(
        llm.tool_call("plan_tool", {"todos": THREE_STEPS}),
        llm.tool_call("bash", {"command": big}),
        llm.text(
            "## Goal\nprint many x\n## Commands and outcomes\n"
            "printed 12000 x with python3, exit 0\n## Next steps\nreport the count"
        ),
        llm.text("Done."),
    )
    result = cli("-o", "stream-json", "print lots of x")
    assert result.exit_code == 0, result.stderr
    assert any(e["type"] == "compacted" for e in result.lines())
    after = fake_llm.requests[-1]["messages"]
    assert not any(m.get("tool_calls") for m in after)  # the plan_tool call was summarised
    summary = next(m["content"] for m in after if "print many x" in str(m.get("content")))
    assert format_plan(THREE_STEPS) in summary
    fake_llm.assert_done()


def test_a_fresh_conversation_starts_a_new_session_without_the_old_plan(fake_llm):
    import asyncio as _asyncio

    from agent.config import load_settings
    from agent.context.resume import load_session
    from agent.core import ops
    from agent.core.loop import Agent
    from agent.core.runtime import open_session

    fake_llm.script(
        llm.tool_call("plan_tool", {"todos": [{"id": "1", "content": "old", "status": "pending"}]}),
        llm.text("planned"),
        llm.text("fresh answer"),
    )

    async def chat() -> tuple[str, str, object]:
        session = await open_session(load_settings(Path.cwd()))
        agent = Agent(session)
        ended = _asyncio.Event()
        session.subscribe(lambda e: e.type == "turn_complete" and ended.set())
        runner = _asyncio.create_task(agent.run())
        agent.submit(ops.UserInput(text="make a plan"))
        await ended.wait()
        first = session.id
        ended.clear()
        agent.submit(ops.NewSession())
        agent.submit(ops.UserInput(text="something else"))
        await ended.wait()
        second, plan = session.id, session.tool_state.get("plan")
        agent.submit(ops.Shutdown())
        await runner
        await session.aclose()
        return first, second, plan

    first, second, plan = _asyncio.run(chat())
    assert first != second
    assert not plan
    assert [m["role"] for m in fake_llm.requests[-1]["messages"]] == ["system", "user"]
    assert load_session(first).turns == 1
    assert load_session(second).first_prompt == "something else"
