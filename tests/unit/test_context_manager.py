"""Token accounting: cheap per message, corrected by what the provider reports."""

from __future__ import annotations

from agent.context.manager import ContextManager


def test_reported_prompt_tokens_correct_the_estimate_by_an_offset():
    context = ContextManager("system prompt")
    context.add({"role": "user", "content": "x" * 4000})
    estimated = context.tokens
    context.calibrate(estimated + 7000)  # tool schemas the estimate never sees
    assert context.tokens == estimated + 7000
    before = context.tokens
    tool_result = {"role": "tool", "tool_call_id": "1", "content": "y" * 40_000}
    context.add(tool_result)
    uncalibrated = ContextManager("system prompt")
    start = uncalibrated.tokens
    uncalibrated.add(dict(tool_result))
    # New text costs what it costs without the correction: the offset is not a ratio.
    assert context.tokens - before == uncalibrated.tokens - start
    assert 9_000 < context.tokens - before < 11_000  # about 4 characters a token


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


def test_the_tool_schemas_count_until_the_provider_counts_the_prompt():
    context = ContextManager("system prompt")
    messages_only = context.tokens
    context.set_fixed(7500)
    assert context.tokens == messages_only + 7500  # before any call: the tools are counted
    context.calibrate(9000)  # the provider's count covers messages and tools
    assert context.tokens == 9000
    context.set_fixed(1200)  # fewer tools offered from now on
    assert context.tokens == 9000 - 7500 + 1200
