"""Compaction's pure parts: the split and the shrinking of over-long messages."""

from __future__ import annotations

import json

from agent.context.compaction import shrink_all, split_for_compaction


def call(call_id: str, arguments: str) -> dict:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": "write", "arguments": arguments},
    }


def test_huge_tool_arguments_become_a_valid_stub_and_huge_text_is_cut():
    big_write = {"role": "assistant", "content": None, "tool_calls": [call("1", "x" * 400_000)]}
    big_prompt = {"role": "user", "content": "why?\n" + "log line\n" * 50_000}
    shrunk = shrink_all(
        [{"role": "system", "content": "s" * 100_000}, big_prompt, big_write], 10_000
    )
    assert shrunk[0]["content"] == "s" * 100_000
    assert len(shrunk[1]["content"]) < 5_000
    assert shrunk[1]["content"].startswith("why?")
    stub = json.loads(shrunk[2]["tool_calls"][0]["function"]["arguments"])
    assert "400000 characters" in stub["note"]


def test_the_tail_never_starts_with_a_tool_result():
    messages = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [call("a", "{}"), call("b", "{}")]},
        {"role": "tool", "tool_call_id": "a", "content": "x" * 4000},
        {"role": "tool", "tool_call_id": "b", "content": "y" * 40},
    ]
    head, middle, tail = split_for_compaction(messages, threshold=1_000)
    assert head == messages[:2]
    assert tail[0]["role"] == "assistant" or tail == []
    assert middle + tail == messages[2:]
