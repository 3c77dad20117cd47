"""Compaction through the real CLI: the summary request, the shrunk history, and a
summary that cannot be trusted (empty, cut off) never costing the history."""

from __future__ import annotations

from itertools import pairwise

from agent.context.resume import load_session
from tests.fakes import llm_server as llm

BIG = "python3 -c \"print('x' * 12000)\""  # about 3,000 tokens of output
SUMMARY = (
    "## Goal\nprint many x\n## Decisions\nuse python3 -c to print\n"
    "## Files\nnone\n## Commands and outcomes\ntwo runs of the print command, 12000 x each\n"
    "## Open problems\nnone\n## Next steps\nreport"
)


def roles_alternate(messages: list[dict]) -> bool:
    """No two user (or two assistant) messages in a row."""
    roles = [m["role"] for m in messages]
    return all(not (a == b and a in ("user", "assistant")) for a, b in pairwise(roles))


def test_history_over_the_threshold_is_summarised_before_the_next_call(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "6500")
    fake_llm.script(
        llm.tool_call("bash", {"command": BIG}),
        llm.tool_call("bash", {"command": BIG}),
        llm.text(SUMMARY),
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
    assert after[1]["content"].startswith("print lots of x\n\n")
    assert "[ml-intern] Summary of the earlier conversation" in after[1]["content"]
    assert "print many x" in after[1]["content"]
    assert roles_alternate(after)
    assert len(after) < len(fake_llm.requests[1]["messages"]) + 2
    tool_ids = {m["tool_call_id"] for m in after if m["role"] == "tool"}
    call_ids = {c["id"] for m in after for c in m.get("tool_calls") or []}
    assert tool_ids == call_ids
    assert result.result()["final_text"] == "Printed them all."
    fake_llm.assert_done()


def test_an_empty_then_cut_off_summary_keeps_the_whole_history(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "6500")
    fake_llm.script(
        llm.tool_call("bash", {"command": "echo the-answer-is-1234"}),
        llm.tool_call("bash", {"command": BIG}),
        llm.tool_call("bash", {"command": BIG}),
        llm.text(""),  # the summary comes back empty...
        llm.cut_off("## Goal\nprint many"),  # ...and, asked again, cut off
        llm.text("The answer was 1234."),
    )
    result = cli("print lots of x")
    assert result.exit_code == 0, result.stderr
    assert "Compaction failed: the summary was cut off by the output limit" in result.stderr
    assert "The history was kept as it was" in result.stderr
    assert "compacted the conversation" not in result.stderr

    retry = fake_llm.requests[4]["messages"]
    assert "A previous attempt came back empty" in retry[0]["content"]
    before, after = fake_llm.requests[2]["messages"], fake_llm.requests[5]["messages"]
    assert after[: len(before)] == before  # nothing dropped, nothing rewritten
    assert [m["role"] for m in after[len(before) :]] == ["assistant", "tool"]
    assert any("the-answer-is-1234" in str(m.get("content")) for m in after if m["role"] == "tool")
    assert not any("Summary of the earlier" in str(m.get("content")) for m in after)
    fake_llm.assert_done()


def test_a_summary_asked_again_after_an_empty_one_is_used(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "6500")
    fake_llm.script(
        llm.tool_call("write", {"path": "notes.txt", "content": "lr=3e-4\n"}),
        llm.tool_call("bash", {"command": BIG}),
        llm.tool_call("bash", {"command": BIG}),
        llm.text("   "),
        llm.text(SUMMARY),
        llm.text("Done."),
    )
    result = cli("-o", "stream-json", "print lots of x")
    assert result.exit_code == 0, result.stderr
    assert [e["type"] for e in result.lines()].count("compacted") == 1
    after = fake_llm.requests[5]["messages"]
    assert roles_alternate(after)
    first = after[1]["content"]
    assert first.startswith("print lots of x") and SUMMARY in first
    assert "- notes.txt (write)" in first  # the files touched survive whatever the model wrote
    fake_llm.assert_done()


def test_a_second_compaction_keeps_the_requests_of_the_first(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_COMPACTION_THRESHOLD_TOKENS", "6500")
    fake_llm.script(
        llm.tool_call("bash", {"command": BIG}),
        llm.tool_call("bash", {"command": BIG}),
        llm.text(SUMMARY),
        llm.text("First done."),
    )
    first = cli("-o", "json", "print lots of x")
    assert first.exit_code == 0, first.stderr
    sid = first.result()["session_id"]
    fake_llm.script(
        llm.tool_call("bash", {"command": BIG}),
        llm.tool_call("bash", {"command": BIG}),
        llm.text(SUMMARY.replace("print many x", "print many x, twice")),
        llm.text("Second done."),
    )
    second = cli("-o", "json", "--resume", sid, "use the seed 77 this time")
    assert second.exit_code == 0, second.stderr
    after = fake_llm.requests[-1]["messages"]
    assert roles_alternate(after)
    first_message = after[1]["content"]
    assert first_message.count("Summary of the earlier conversation") == 1
    assert "print many x, twice" in first_message
    assert "- use the seed 77 this time" in first_message
    fake_llm.assert_done()


def test_overflow_with_no_usable_summary_ends_with_a_clear_error(cli, fake_llm):
    fake_llm.script(
        llm.tool_call("bash", {"command": BIG}),
        llm.context_overflow(),
        llm.text(""),
        llm.text(""),
    )
    result = cli("-o", "json", "do the thing")
    assert result.exit_code == 1
    outcome = result.result()
    assert outcome["exit_reason"] == "compaction_failed"
    assert "Compaction failed: the summary came back empty" in outcome["error"]
    assert "no longer fits" in outcome["error"] and "/new" in outcome["error"]
    assert "Traceback" not in result.stderr
    saved = load_session(outcome["session_id"]).messages
    assert [m["role"] for m in saved] == ["system", "user", "assistant", "tool"]
    assert "x" * 12000 in saved[-1]["content"]


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
