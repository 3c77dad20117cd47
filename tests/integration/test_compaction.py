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
