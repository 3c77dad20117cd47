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


def test_the_rebuilt_history_alternates_even_when_the_tail_began_with_a_request():
    from agent.context.compaction import rebuilt

    messages = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "first request"},
        {"role": "assistant", "content": "a" * 8000},
        {"role": "user", "content": "second request"},
        {"role": "assistant", "content": "c" * 4000},
        {"role": "user", "content": "third request"},
        {"role": "assistant", "content": "b" * 40},
        {"role": "user", "content": "fourth request"},
    ]
    head, middle, tail = split_for_compaction(messages, threshold=1_000)
    assert middle == messages[2:4]
    assert tail[0]["role"] == "assistant"  # the cut moved back from "third request"
    history = rebuilt(head, "what happened", tail)
    roles = [m["role"] for m in history]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert history[1]["content"].startswith("first request\n\n[ml-intern] Summary")
    assert history[-1]["content"] == "fourth request"


def test_an_earlier_summary_is_taken_off_the_first_request_to_be_summarised_again():
    from agent.context.compaction import detach_summary, kept_facts, rebuilt

    middle = [
        {"role": "user", "content": "fix the loss"},
        {"role": "assistant", "content": None, "tool_calls": [call("1", '{"path": "train.py"}')]},
    ]
    first = rebuilt(
        [{"role": "system", "content": "s"}, {"role": "user", "content": "go"}],
        "did things" + kept_facts(middle, 10_000),
        [],
    )
    head, earlier = detach_summary(first)
    assert head[1] == {"role": "user", "content": "go"}
    facts = kept_facts([*earlier, {"role": "user", "content": "now evaluate"}], 10_000)
    assert "- fix the loss\n- now evaluate" in facts
    assert "- train.py (write)" in facts


def test_kept_requests_are_the_most_recent_within_the_bound_and_say_how_many_are_not():
    from agent.context.compaction import detach_summary, kept_facts, rebuilt

    asked = [{"role": "user", "content": f"request {i:03}"} for i in range(300)]
    first = kept_facts(asked, 700)
    assert len(first) < 1000
    assert "(250 earlier ones are not listed)\n- request 250\n" in first
    assert first.endswith("- request 299")
    summary = rebuilt([{"role": "user", "content": "go"}], "did things" + first, [])
    _, earlier = detach_summary(summary)
    again = kept_facts([*earlier, *asked[:50]], 700)  # the count carries over
    assert "(300 earlier ones are not listed)\n- request 000\n" in again
    assert again.count("earlier ones are not listed") == 1
