"""Token accounting: cheap per message, corrected by what the provider reports."""

from __future__ import annotations

from agent.context.manager import ContextManager


def test_reported_prompt_tokens_correct_the_estimate_by_an_offset():
    context = ContextManager("system prompt")
    context.add({"role": "user", "content": "x" * 4000})
    estimated = context.tokens
    context.calibrate(estimated + 7000)  # tool schemas the estimate never sees
    assert context.tokens == estimated + 7000
    context.add({"role": "tool", "tool_call_id": "1", "content": "y" * 40_000})
    assert context.tokens == estimated + 7000 + 10_004  # new text is not inflated


def test_undo_after_a_compaction_keeps_the_summary():
    context = ContextManager("system")
    context.add({"role": "user", "content": "train a model"})
    context.add({"role": "user", "content": "[ml-intern] Summary of the earlier conversation: ..."})
    context.add({"role": "assistant", "content": "still working"})
    assert context.undo_last_turn() == 0
    assert len(context.messages) == 4
    context.add({"role": "user", "content": "now evaluate"})
    context.add({"role": "assistant", "content": "done"})
    assert context.undo_last_turn() == 2
    assert context.messages[-1]["content"] == "still working"
