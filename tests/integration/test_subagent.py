"""The research sub-agent, with the fake model serving both the main agent and the child."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from agent import events as ev
from agent.config import Settings
from agent.core import ops as op
from agent.core import subagent
from agent.core.loop import Agent, run_turn
from agent.core.session import Session
from agent.errors import BudgetExceeded
from agent.tools.hub.hub_tools import hub_tools
from agent.tools.local.local_tools import local_tools
from agent.tools.router import ToolRouter
from agent.tools.sources.research_tools import research_tools
from tests.fakes import llm_server as llm

# Among the child's tools; every tool it gets is a read-only one, and it cannot recurse.
CHILD_TOOLS = {"hf_papers", "github_read_file", "web_search", "hf_search", "hf_inspect_dataset",
               "explore_hf_docs", "read"}  # fmt: skip


def make_session(fake: llm.FakeLLM, **settings: object) -> tuple[Session, list[ev.Event]]:
    """A main session with the local tools and `research`, sharing its ledger through the tool context."""
    options = {"model_name": "openai/test-model", "api_base": fake.url, "llm_timeout_s": 20.0}
    config = Settings(**(options | {"retry_base_delay_s": 0.01} | settings))
    session = Session(config, ToolRouter([*local_tools(), subagent.research_tool()]))
    events: list[ev.Event] = []
    session.subscribe(events.append)
    return session, events


def offered(request: dict) -> set[str]:
    return {tool["function"]["name"] for tool in request.get("tools") or []}


def is_child(request: dict) -> bool:
    return request["messages"][0]["content"].startswith("You are a research sub-agent")


def tool_results(request: dict) -> dict[str, str]:
    return {m["tool_call_id"]: m["content"] for m in request["messages"] if m["role"] == "tool"}


def research_output(events: list[ev.Event]) -> ev.ToolOutput:
    return next(e for e in events if isinstance(e, ev.ToolOutput) and e.name == "research")


def research_call(task: str, call_id: str = "call_research", **fields: str) -> llm.Step:
    return llm.tool_call("research", {"task": task, **fields}, id=call_id)


def test_research_runs_a_child_with_its_own_context_and_read_only_tools(fake_llm):
    Path("notes.md").write_text("The label column of the dataset is named `sentiment`.\n")
    fake_llm.script(
        research_call("Which column holds the labels?", context="The user fine-tunes BERT."),
        llm.tool_call("read", {"path": "notes.md"}),
        llm.text("**Answer**: the labels are in `sentiment`.\n**Sources**: notes.md"),
        llm.text("The labels are in `sentiment`."),
    )
    session, events = make_session(fake_llm)

    final = asyncio.run(run_turn(session, "find the label column"))

    assert final == "The labels are in `sentiment`."
    main, child_first, child_second, main_again = fake_llm.requests
    assert not is_child(main) and "research" in offered(main)
    assert is_child(child_first)
    known = {spec.name: spec for spec in [*local_tools(), *hub_tools(), *research_tools()]}
    assert CHILD_TOOLS <= offered(child_first)
    assert all(known[name].read_only for name in offered(child_first))
    assert not offered(child_first) & {"bash_output", "research"}
    brief = child_first["messages"][1]["content"]
    assert "Which column holds the labels?" in brief and "The user fine-tunes BERT." in brief
    assert len(child_first["messages"]) == 2  # none of the main conversation
    assert "`sentiment`" in tool_results(child_second)[next(iter(tool_results(child_second)))]
    report = tool_results(main_again)["call_research"]
    assert report.startswith("**Answer**: the labels are in `sentiment`.")
    assert "notes.md" in report
    assert not any(m.get("name") == "read" for m in main_again["messages"])  # child's own
    logs = [e.line for e in events if isinstance(e, ev.ToolLog)]
    assert all(e.tool_call_id == "call_research" for e in events if isinstance(e, ev.ToolLog))
    assert "↳ read: notes.md" in logs
    assert logs[-1].startswith("↳ done: 2 steps, 1 tool calls")
    assert session.usage.calls == 4  # the child's calls count for the session
    fake_llm.assert_done()


def test_several_research_calls_in_one_message_run_at_the_same_time(fake_llm):
    both_waiting = threading.Barrier(2, timeout=10)
    answers = {"tokenizer": llm.text("Use the fast tokenizer."), "optimizer": llm.text("AdamW.")}

    def serve(reply: llm.Reply) -> None:
        brief = reply.body["messages"][1]["content"]
        topic = next(t for t in answers if t in brief)
        answers[topic].serve(reply)

    child = llm.Step("child", serve, expect=lambda body: both_waiting.wait())
    fake_llm.script(
        llm.tool_calls(
            [
                ("research", {"task": "Which tokenizer should I use?"}),
                ("research", {"task": "Which optimizer should I use?"}),
            ]
        ),
        child,
        child,
        llm.text("Fast tokenizer and AdamW."),
    )
    session, _ = make_session(fake_llm)

    assert asyncio.run(run_turn(session, "research both")) == "Fast tokenizer and AdamW."

    calls = fake_llm.requests[-1]["messages"][2]["tool_calls"]
    results = tool_results(fake_llm.requests[-1])
    by_task = {json.loads(c["function"]["arguments"])["task"]: results[c["id"]] for c in calls}
    assert by_task == {
        "Which tokenizer should I use?": "Use the fast tokenizer.",
        "Which optimizer should I use?": "AdamW.",
    }
    fake_llm.assert_done()


def test_ctrl_c_cancels_a_running_research(fake_llm):
    fake_llm.script(research_call("Read every paper on LoRA"), llm.hang(30))
    session, events = make_session(fake_llm)

    async def body() -> None:
        agent = Agent(session)
        runner = asyncio.create_task(agent.run())
        agent.submit(op.UserInput(text="research LoRA"))
        await asyncio.to_thread(fake_llm.wait_for_requests, 2)
        agent.submit(op.Interrupt())
        agent.submit(op.Shutdown())
        await asyncio.wait_for(runner, 10)

    asyncio.run(body())

    kinds = [e.type for e in events]
    assert "interrupted" in kinds and "turn_complete" not in kinds
    states = [e.state for e in events if isinstance(e, ev.ToolStateChange)]
    assert states[-1] == "cancelled"
    last = session.context.messages[-1]
    assert last["role"] == "tool" and last["tool_call_id"] == "call_research"
    assert "interrupted" in last["content"]


def test_research_spend_counts_against_the_session_budget(fake_llm):
    Path("notes.md").write_text("x\n")
    fake_llm.script(
        llm.tool_call("research", {"task": "dig"}, id="call_research", usage=(10, 10)),
        llm.tool_call("read", {"path": "notes.md"}, usage=(200_000, 1_000)),
    )
    session, events = make_session(fake_llm, model_name="openai/gpt-4o", max_budget_usd=0.10)

    with pytest.raises(BudgetExceeded):
        asyncio.run(run_turn(session, "research"))

    assert session.usage.total_cost_usd > 0.10  # the child's call is on the session's bill
    output = next(e for e in events if isinstance(e, ev.ToolOutput) and e.name == "research")
    assert output.is_error and output.content.startswith("Research stopped: ")
    assert "budget" in output.content
    fake_llm.assert_done()  # neither the child nor the main agent asked the model again


def test_a_child_at_its_step_cap_is_asked_for_its_report(fake_llm):
    Path("a.md").write_text("alpha\n")

    def asked_to_stop(body: dict) -> None:
        assert "Stop researching now (it used all 2 steps)" in body["messages"][-1]["content"]

    fake_llm.script(
        research_call("look around"),
        llm.tool_call("read", {"path": "a.md"}),
        llm.tool_call("read", {"path": "a.md", "offset": 1}),
        llm.text("a.md says alpha.", expect=asked_to_stop),
        llm.text("ok"),
    )
    session, events = make_session(fake_llm, research_max_iterations=2)

    asyncio.run(run_turn(session, "go"))

    report = tool_results(fake_llm.requests[-1])["call_research"]
    assert report.startswith("a.md says alpha.")
    assert "Research stopped early: it used all 2 steps" in report
    assert "tokens" not in report
    assert research_output(events).data["stopped_by"] == "max_iterations"
    fake_llm.assert_done()


def test_a_child_over_its_token_budget_stops_after_the_current_step(fake_llm):
    Path("a.md").write_text("alpha\n")

    def asked_to_stop(body: dict) -> None:
        assert "budget of 1,000 tokens is used up" in body["messages"][-1]["content"]
        assert body["messages"][-2]["role"] == "tool"  # the step's read still ran

    fake_llm.script(
        research_call("look around"),
        llm.tool_call("read", {"path": "a.md"}, usage=(2_000, 10)),
        llm.text("Only alpha.", expect=asked_to_stop),
        llm.text("ok"),
    )
    session, events = make_session(fake_llm, research_max_tokens=1_000)

    asyncio.run(run_turn(session, "go"))

    report = tool_results(fake_llm.requests[-1])["call_research"]
    assert report.startswith("Only alpha.") and "1,000 tokens" in report
    assert "steps" not in report
    assert research_output(events).data["stopped_by"] == "token_budget"
    assert session.settings.research_max_iterations == 30  # no limit was bent to stop it
    fake_llm.assert_done()


def test_a_token_budget_used_on_the_last_allowed_step_is_reported_as_the_budget(fake_llm):
    Path("a.md").write_text("alpha\n")

    def asked_to_stop(body: dict) -> None:
        assert "budget of 1,000 tokens is used up" in body["messages"][-1]["content"]

    fake_llm.script(
        research_call("look around"),
        llm.tool_call("read", {"path": "a.md"}, usage=(100, 10)),
        llm.tool_call("read", {"path": "a.md", "offset": 1}, usage=(2_000, 10)),
        llm.text("Alpha, twice.", expect=asked_to_stop),
        llm.text("ok"),
    )
    session, events = make_session(fake_llm, research_max_iterations=2, research_max_tokens=1_000)

    asyncio.run(run_turn(session, "go"))

    report = tool_results(fake_llm.requests[-1])["call_research"]
    assert "Research stopped early: its budget of 1,000 tokens is used up" in report
    assert research_output(events).data["stopped_by"] == "token_budget"
    fake_llm.assert_done()


def test_a_child_that_finishes_in_time_reports_no_stop(fake_llm):
    fake_llm.script(research_call("quick one"), llm.text("Found it."), llm.text("ok"))
    session, events = make_session(fake_llm)

    asyncio.run(run_turn(session, "go"))

    assert tool_results(fake_llm.requests[-1])["call_research"] == "Found it."
    assert research_output(events).data["stopped_by"] is None
    fake_llm.assert_done()


def test_research_through_the_cli_is_billed_to_the_run(cli, fake_llm, monkeypatch):
    """Needs `research` among the built-in tools and the ledger in the tool state."""
    monkeypatch.setenv("ML_INTERN_MODEL", "openai/gpt-4o")
    Path("notes.md").write_text("x\n")
    fake_llm.script(
        llm.tool_call("research", {"task": "dig"}, usage=(10, 10)),
        llm.tool_call("read", {"path": "notes.md"}, usage=(200_000, 1_000)),
    )
    result = cli("-o", "stream-json", "--max-budget-usd", "0.10", "research")

    assert result.exit_code == 5, result.stderr
    assert result.result()["total_cost_usd"] > 0.10
    logs = [e["line"] for e in result.lines() if e["type"] == "tool_log"]
    assert "↳ read: notes.md" in logs
    fake_llm.assert_done()
