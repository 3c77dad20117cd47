"""A goal the agent works toward across turns, and `goal_done`, the tool that ends it.

The goal is tool state, not history: it lives in `ctx.state["goal"]`, so a compaction
cannot summarise it away (`goal_note` restates it in the summary) and the loop in
`core/goal.py` reads it between turns. The model ends a goal only by citing evidence
that a tool printed in this session: a claim without a quote of what it saw is
refused, with a message it reads, so "done" means something was checked.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

GOAL_STATE = "goal"
TOOL_NAME = "goal_done"
KEPT_OUTPUTS = 200  # tool outputs the evidence is checked against, newest kept
KEPT_OUTPUT_CHARS = 50_000  # of each
Status = Literal["active", "met", "stopped", "limit"]

DESCRIPTION = """\
Say that the goal the user set is met, citing the evidence. Call it only once you have \
checked the condition with a tool in this session (tests run, a metric read from a log or \
an evaluation) and the output shows it holds. `evidence` quotes what the output showed: \
the metric with its value (`eval_accuracy: 0.912`), the test summary line (`42 passed`). \
Evidence that quotes nothing a tool printed in this session is refused. Afterwards, give \
your final answer: what was done and the evidence.
"""


class GoalDoneArgs(BaseModel):
    evidence: str


@dataclass
class Goal:
    """One goal and how the work toward it stands; `outputs` are what tools printed since
    (and just before) it was set, which the evidence must quote."""

    condition: str
    status: Status = "active"
    code: str = ""  # why it ended, for programs: goal_met, goal_max_turns, budget_exceeded...
    reason: str = ""  # why it ended, for people
    exit_code: int = 0  # the headless exit code of that ending
    evidence: str = ""  # accepted by goal_done
    turns: int = 0  # turns finished while it was active
    quiet_turns: int = 0  # turns in a row that produced nothing new
    started: float = field(default_factory=time.monotonic)
    outputs: deque[str] = field(default_factory=lambda: deque(maxlen=KEPT_OUTPUTS))
    seen: set[int] = field(default_factory=set)  # hashes of outputs, to tell new from repeated
    fresh: bool = False  # a new output came during the current turn

    def record_output(self, content: str) -> None:
        """Remember a tool's output; one never seen before is progress."""
        content = content[-KEPT_OUTPUT_CHARS:]
        key = hash(content)
        if key not in self.seen:
            self.seen.add(key)
            self.fresh = True
        self.outputs.append(content)


def current_goal(state: dict[str, Any]) -> Goal | None:
    """The session's goal, active or ended (None when none was set)."""
    goal = state.get(GOAL_STATE)
    return goal if isinstance(goal, Goal) else None


def active_goal(state: dict[str, Any]) -> Goal | None:
    """The goal still being worked toward, if any."""
    goal = current_goal(state)
    return goal if goal is not None and goal.status == "active" else None


def goal_note(state: dict[str, Any]) -> str:
    """The active goal, to append to a compaction summary ("" when there is none)."""
    goal = active_goal(state)
    if goal is None:
        return ""
    return (
        f"\n\n## Goal (set by the user, still to reach)\n{goal.condition}\n"
        f"When it holds, call {TOOL_NAME} quoting the output that shows it."
    )


_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,_]*(?:\.\d+)?(?:[eE][-+]?\d+)?%?")
_PHRASE_WORDS = 4


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def evidence_seen(evidence: str, outputs: list[str] | deque[str]) -> bool:
    """True when the evidence quotes something a tool printed: one of its numbers
    (two characters or more: `0.91`, `42`, `3e-4`) or four words in a row of it (all of
    it when shorter, two words at least) appear in an output. A claim that merely restates the goal quotes neither."""
    texts = [_normal(text) for text in outputs]
    numbers = {n for n in _NUMBER.findall(evidence) if len(n.strip("+-%")) >= 2}
    for number in numbers:
        pattern = re.compile(rf"(?<![\w.]){re.escape(number.lower())}(?![\d])")
        if any(pattern.search(text) for text in texts):
            return True
    words = _normal(evidence).split()
    if len(words) < 2:
        return False  # a bare name (`eval_accuracy`) says nothing of its value
    size = min(_PHRASE_WORDS, len(words))
    phrases = {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}
    return any(phrase in text for phrase in phrases if len(phrase) >= 8 for text in texts)


EMPTY_EVIDENCE = (
    "Refused: the evidence is empty. The goal is met only when a check you ran in this "
    "session shows it: run it, then call goal_done again quoting its output (the metric "
    "with its value, the test summary line)."
)
UNSEEN_EVIDENCE = (
    "Refused: none of this evidence appears in what the tools printed in this session, so "
    "it does not show that the goal is met. Run the check (the tests, the evaluation, read "
    "the metric from the log), then call goal_done again quoting a number or a line of its "
    "output as it was printed."
)


async def goal_done(args: GoalDoneArgs, ctx: ToolContext) -> ToolResult:
    goal = active_goal(ctx.state)
    if goal is None:
        raise ToolError("No goal is set, so there is nothing to mark as met.")
    evidence = args.evidence.strip()
    if not evidence:
        raise ToolError(EMPTY_EVIDENCE)
    if not evidence_seen(evidence, goal.outputs):
        raise ToolError(UNSEEN_EVIDENCE)
    goal.evidence = evidence
    return ToolResult(
        "Recorded: the goal is met. Give your final answer now (what was done and the "
        "evidence); start no new work."
    )


def goal_tool() -> ToolSpec:
    """goal_done: changes nothing outside the session, so it never asks for approval."""
    return ToolSpec(
        TOOL_NAME, DESCRIPTION, goal_done, args_model=GoalDoneArgs, read_only=True, timeout_s=10.0
    )
