"""A call stopped by Ctrl-C hands the model what it had printed so far, and the front
ends show that result as they show any other."""

from __future__ import annotations

import asyncio

from agent.core import ops as op
from tests.fakes import llm_server as llm
from tests.integration.test_undo_files import Engine, run_engine


def test_the_output_so_far_is_the_stopped_calls_result(fake_llm, isolated_env):
    command = "for i in 1 2 3; do echo line $i; done; echo ready; sleep 60"
    fake_llm.script(llm.tool_call("bash", {"command": command}))

    async def scenario(engine: Engine) -> None:
        engine.agent.submit(op.UserInput(text="run the long job"))
        async with asyncio.timeout(120):  # the first request waits for litellm to load
            while True:  # lines may come one per event or several in one
                event = await engine.events.get()
                if event.type == "tool_log" and "ready" in event.line.splitlines():
                    break
        engine.agent.submit(op.Interrupt())
        shown = await engine.next("tool_output")  # the front ends show what the model gets
        await engine.next("interrupted")
        result = engine.session.context.messages[-1]
        assert result["role"] == "tool"
        assert result["content"].startswith("[interrupted")
        assert result["content"].endswith("Output so far:\nline 1\nline 2\nline 3\nready")
        assert (shown.tool_call_id, shown.content) == (result["tool_call_id"], result["content"])
        assert engine.session.output_so_far == {}

    run_engine(fake_llm, isolated_env, scenario)


BAR_COMMAND = "printf 'loading\\n\\rstep 1/3\\rstep 2/3\\rstep 3/3'; sleep 60"


def test_a_progress_bar_stopped_mid_line_is_in_the_result_once(fake_llm, isolated_env):
    """The bar's last state, shown live, is the last line the model gets, not two lines."""
    fake_llm.script(llm.tool_call("bash", {"command": BAR_COMMAND}))

    async def scenario(engine: Engine) -> None:
        engine.agent.submit(op.UserInput(text="load the shards"))
        async with asyncio.timeout(120):
            while True:
                event = await engine.events.get()
                if event.type == "tool_log" and "\rstep 3/3" in event.line.split("\n"):
                    break
        engine.agent.submit(op.Interrupt())
        shown = await engine.next("tool_output")
        await engine.next("interrupted")
        result = engine.session.context.messages[-1]
        assert result["content"].endswith("Output so far:\nloading\nstep 3/3")
        assert shown.content == result["content"]

    run_engine(fake_llm, isolated_env, scenario)
