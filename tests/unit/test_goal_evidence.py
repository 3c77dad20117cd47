"""What counts as evidence that a goal is met: a quote of what a tool printed."""

from __future__ import annotations

import pytest

from agent.tools.goal import evidence_seen

OUTPUTS = [
    "{'loss': 0.412, 'grad_norm': 1.3, 'epoch': 2.0}\n{'eval_accuracy': 0.9134}",
    "============ 42 passed, 1 skipped in 3.20s ============",
]


@pytest.mark.parametrize(
    "evidence",
    [
        "eval_accuracy 0.9134",  # a metric's value
        "42 passed",  # a number as printed
        "loss went down to 0.412",
        "42 PASSED, 1 skipped",  # four words as printed, case aside
    ],
)
def test_a_quote_of_tool_output_is_evidence(evidence):
    assert evidence_seen(evidence, OUTPUTS)


@pytest.mark.parametrize(
    "evidence",
    [
        "the accuracy is above 0.9",  # 0.9 is only the start of 0.9134
        "all tests pass",  # a restatement of the goal
        "eval_accuracy 0.95",  # a number nobody printed
        "2",  # one digit proves nothing
        "eval_accuracy",  # a name without its value
    ],
)
def test_what_no_tool_printed_is_not_evidence(evidence):
    assert not evidence_seen(evidence, OUTPUTS)
