"""Compaction through the real CLI: the summary request and the shrunk history."""

from __future__ import annotations

from tests.fakes import llm_server as llm

BIG = "python3 -c \"print('x' * 12000)\""  # about 3,000 tokens of output


def test_history_over_the_threshold_is_summarised_before_the_next_call(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "5000")
    fake_llm.script(
        llm.tool_call("bash", {"command": BIG}),
        llm.tool_call("bash", {"command": BIG}),
        llm.text("## Goal\nprint many x\n## Next steps\nreport"),
        llm.text("Printed them all."),
    )
    result = cli("-o", "stream-json", "print lots of x")
    assert result.exit_code == 0, result.stderr
    compacted = [e for e in result.lines() if e["type"] == "compacted"]
    assert len(compacted) == 1
    assert compacted[0]["tokens_after"] < compacted[0]["tokens_before"]

    summary_request = fake_llm.requests[2]
    assert "## Goal" in summary_request["messages"][0]["content"]
    assert "ASSISTANT CALLED bash" in summary_request["messages"][1]["content"]

    after = fake_llm.requests[3]["messages"]
    assert after[0]["role"] == "system"
    assert after[1] == {"role": "user", "content": "print lots of x"}
    assert after[2]["content"].startswith("[ml-intern] Summary of the earlier conversation")
    assert "print many x" in after[2]["content"]
    assert len(after) < len(fake_llm.requests[1]["messages"]) + 2
    tool_ids = {m["tool_call_id"] for m in after if m["role"] == "tool"}
    call_ids = {c["id"] for m in after for c in m.get("tool_calls") or []}
    assert tool_ids == call_ids
    assert result.result()["final_text"] == "Printed them all."
    fake_llm.assert_done()


def test_compacting_a_short_conversation_says_there_is_nothing_to_compact(fake_llm):
    import asyncio
    from pathlib import Path

    from agent.config import load_settings
    from agent.core import ops
    from agent.core.loop import Agent
    from agent.core.runtime import open_session

    fake_llm.script(llm.text("Hello."))  # no summary request: nothing is worth one

    async def chat() -> tuple[list, list]:
        session = await open_session(load_settings(Path.cwd()))
        agent = Agent(session)
        seen: list = []
        ended = asyncio.Event()

        def watch(event) -> None:
            seen.append(event)
            if event.type in ("turn_complete", "notice", "compacted"):
                ended.set()

        session.subscribe(watch)
        runner = asyncio.create_task(agent.run())
        agent.submit(ops.UserInput(text="hi"))
        await ended.wait()
        ended.clear()
        before = list(session.context.messages)
        agent.submit(ops.Compact())
        await ended.wait()
        after = list(session.context.messages)
        agent.submit(ops.Shutdown())
        await runner
        await session.aclose()
        assert after == before
        return seen, after

    seen, _ = asyncio.run(chat())
    assert not [e for e in seen if e.type == "compacted"]
    notices = [e.message for e in seen if e.type == "notice"]
    assert notices[-1] == "Nothing to compact yet: the conversation is short."
    fake_llm.assert_done()
