"""Second chances for answers that end a turn too early.

A model that says what it will do ("I'll now run the training script") but makes
no tool call gets one nudge to carry on; an empty answer is asked for again once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from agent.context.manager import AGENT_NOTE_PREFIX
from agent.core.llm import LLMReply

CONTINUE_NUDGE = (
    f"{AGENT_NOTE_PREFIX} You described a next action but made no tool call. If work remains, do it "
    "now with a tool call; if you are finished, give your final answer."
)
_ANNOUNCES_ACTION = re.compile(
    r"(?:\b(?:I'll|I will|I'm going to|I am going to|let me|let's|now I'll|next,? I'll)\b"
    r"[^.!?\n]*[.:]?\s*$)|:\s*$",
    re.IGNORECASE,
)


def announces_action(text: str) -> bool:
    """True when the answer ends by announcing something it has not done."""
    paragraphs = [p for p in text.strip().split("\n\n") if p.strip()]
    return bool(paragraphs) and bool(_ANNOUNCES_ACTION.search(paragraphs[-1]))


@dataclass
class FollowUps:
    """Per turn: at most one retry of an empty answer and one continuation nudge."""

    retried_empty: bool = False
    nudged: bool = False

    def after_answer(self, reply: LLMReply) -> Literal["retry", "nudge", "done"]:
        if not reply.content.strip():
            if self.retried_empty:
                return "done"
            self.retried_empty = True
            return "retry"
        if not self.nudged and announces_action(reply.content):
            self.nudged = True
            return "nudge"
        return "done"


@dataclass
class ArgumentStreak:
    """Per turn: consecutive calls to one tool with arguments it could not take."""

    name: str = ""
    count: int = 0
    instructed: bool = False

    def observe(self, name: str, broken: bool) -> bool:
        """Count one call; True when it is the second broken call in a row to the same
        tool (once per streak: a good call or another tool starts a new one)."""
        if not broken or name != self.name:
            self.name, self.count, self.instructed = name, 0, False
        if not broken:
            return False
        self.count += 1
        due = self.count >= 2 and not self.instructed
        self.instructed = self.instructed or due
        return due


def broken_arguments_note(name: str, problem: str, required: list[str], size: int) -> str:
    """The firmer instruction after repeated broken arguments: what was wrong, what the
    tool needs, and the usual cure for arguments cut off by the output limit."""
    fields = ", ".join(f"`{field}`" for field in required) or "none"
    return (
        f"{AGENT_NOTE_PREFIX} Your last two calls to `{name}` could not run: their arguments "
        f"were unusable. The last problem: {problem} (the arguments were {size:,} characters "
        f"long). `{name}` takes one JSON object; its required fields are {fields}. Long "
        "arguments get cut off before they are complete, so do not resend the same call: send "
        "smaller arguments, e.g. write the file in parts (write the first part, then add the "
        "rest with further calls)."
    )
