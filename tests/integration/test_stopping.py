"""A person stopping the agent, driven in-process through operations as the chat sends them:
a denied command never runs, and Ctrl-C keeps the answer streamed so far. (The
pseudo-terminal tests check the same through the screen, slowly.)"""

from __future__ import annotations

import asyncio

from agent import events as ev
from agent.core import ops as op
from tests.fakes import llm_server as llm
from tests.integration.test_undo_files import Engine, run_engine


async def first(engine: Engine, kind: str) -> ev.Event:
    """The first event of that type, waited for as long as litellm may take to load."""
    async with asyncio.timeout(120):
        while True:
            event = await engine.events.get()
            if event.type == kind:
                return event


def tool_results(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def test_a_denied_command_never_runs_and_the_model_hears_it_was_refused(fake_llm, isolated_env):
    (isolated_env / "build").mkdir()
    fake_llm.script(
        llm.tool_call("bash", {"command": "rm -rf ./build"}),
        llm.text("Left it alone."),
    )

    async def scenario(engine: Engine) -> None:
        engine.agent.submit(op.UserInput(text="clean"))
        asked = await first(engine, "approval_required")
        assert isinstance(asked, ev.ApprovalRequired)
        assert asked.arguments == {"command": "rm -rf ./build"}
        engine.agent.submit(op.Approval(tool_call_id=asked.tool_call_id, decision="deny"))
        await engine.next("turn_complete")

    run_engine(fake_llm, isolated_env, scenario)
    assert (isolated_env / "build").is_dir()
    assert len(fake_llm.requests) == 2
    [refused] = tool_results(fake_llm.requests[1])
    assert "refused" in refused


def test_ctrl_c_keeps_the_partial_answer_for_the_next_request(fake_llm, isolated_env):
    words = " ".join(f"w{i}" for i in range(1, 400))
    fake_llm.script(llm.text(words, delay_s=0.05), llm.text("Still here."))

    async def scenario(engine: Engine) -> None:
        engine.agent.submit(op.UserInput(text="stream something long"))
        shown = ""
        async with asyncio.timeout(120):  # the first request waits for litellm to load
            while "w40 " not in shown:
                event = await engine.events.get()
                if isinstance(event, ev.AssistantChunk):
                    shown += event.content
        engine.agent.submit(op.Interrupt())  # what Ctrl-C sends
        await engine.next("interrupted")
        await engine.turn("are you there")

    run_engine(fake_llm, isolated_env, scenario)
    messages = fake_llm.requests[1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    partial = messages[2]["content"]
    assert partial.startswith("w1 w2 w3") and "w40 " in partial
    assert len(partial) < len(words)
