"""ContextManager: the message list and what it costs in tokens.

Each message is estimated once, when it is added, and a running total is kept, so
accounting grows with the new messages and not with the whole history. The
estimate is deliberately cheap (about four characters a token); the provider's
reported prompt tokens, its own tokenizer's count, recalibrate it after every call:
the difference (tool schemas, framing, tokenizer error) is kept as an offset.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

Message = dict[str, Any]
# User-role messages the agent writes itself (nudges, corrections); never a person's turn.
AGENT_NOTE_PREFIX = "[ml-intern]"
SUMMARY_PREFIX = f"{AGENT_NOTE_PREFIX} Summary of the earlier conversation"
INTERRUPTED_RESULT = "[interrupted: the user stopped this call before it finished]"


IMAGE_TOKENS = 1_600  # about what a large image costs (Anthropic: 1092x1092 px)


def plain_content(content: Any) -> str:
    """A message's content as text: a list of parts joined, an image as `[image]` (its
    base64 says nothing to a summary and would count as a megabyte of text)."""
    if isinstance(content, str) or content is None:
        return content or ""
    if not isinstance(content, list):
        return json.dumps(content)
    return "\n".join(
        "[image]" if part.get("type") == "image_url" else str(part.get("text", ""))
        for part in content
        if isinstance(part, dict)
    )


def content_chars(content: Any) -> int:
    """The content's size in characters, an image counted at IMAGE_TOKENS."""
    if not isinstance(content, list):
        return len(plain_content(content))
    images = sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url")
    return len(plain_content(content)) + images * IMAGE_TOKENS * 4


def estimate_tokens(message: Message) -> int:
    """A cheap, stable estimate: about four characters per token, plus framing."""
    size = content_chars(message.get("content"))
    for call in message.get("tool_calls") or []:
        size += len(call["function"]["name"]) + len(call["function"]["arguments"] or "")
    return size // 4 + 4


def is_person_turn(message: Message) -> bool:
    """A user message the person wrote (not a nudge, a correction or a summary)."""
    content = message.get("content")
    if message["role"] != "user":
        return False
    return not (isinstance(content, str) and content.startswith(AGENT_NOTE_PREFIX))


Change = Literal["append", "replace", "system"]
OnChange = Callable[[Change, list[Message]], None]


class ContextManager:
    """Owns the history sent to the model; every change goes through here.

    Each change is reported once to `on_change(change, messages)`: the session turns
    it into a `history` event, which is how the session log hears of it.
    """

    def __init__(self, system_prompt: str, on_change: OnChange | None = None) -> None:
        self.messages: list[Message] = []
        self._estimates: list[int] = []
        self._total = 0
        self._offset = 0
        self._fixed = 0  # what every request carries besides the messages: tool schemas
        self._on_change = on_change
        self.add({"role": "system", "content": system_prompt})

    def add(self, message: Message) -> None:
        self.messages.append(message)
        estimate = estimate_tokens(message)
        self._estimates.append(estimate)
        self._total += estimate
        self._report("append", [message])

    def replace(self, messages: list[Message]) -> None:
        """Swap in a rewritten history (undo, compaction, resume)."""
        self.messages = list(messages)
        self._estimates = [estimate_tokens(m) for m in self.messages]
        self._total = sum(self._estimates)
        self._report("replace", self.messages)

    def set_system_prompt(self, text: str) -> None:
        """Renew the system prompt (a model switch, a resume); the estimate follows."""
        message = {"role": "system", "content": text}
        if self.messages and self.messages[0]["role"] == "system":
            self._total -= self._estimates[0]
            self.messages[0] = message
            self._estimates[0] = estimate_tokens(message)
        else:
            self.messages.insert(0, message)
            self._estimates.insert(0, estimate_tokens(message))
        self._total += self._estimates[0]
        self._report("system", [message])

    @property
    def tokens(self) -> int:
        """The prompt's size: the messages and the tool schemas sent with them."""
        return max(self._total + self._fixed + self._offset, 0)

    def set_fixed(self, tokens: int) -> None:
        """What the tool schemas take (estimated; the provider's count corrects it)."""
        self._fixed = tokens

    def calibrate(self, reported_prompt_tokens: int) -> None:
        """Trust the provider's count of the prompt it just read (everything but its answer).

        Call it before the answer is added to the history.
        """
        if reported_prompt_tokens > 0:
            self._offset = reported_prompt_tokens - self._total - self._fixed

    def unanswered_calls(self) -> list[dict[str, Any]]:
        """Tool calls of the last assistant message that have no result yet."""
        for i in range(len(self.messages) - 1, -1, -1):
            msg = self.messages[i]
            if msg["role"] == "assistant":
                answered = {m.get("tool_call_id") for m in self.messages[i + 1 :]}
                return [c for c in msg.get("tool_calls") or [] if c["id"] not in answered]
            if msg["role"] == "user":
                return []
        return []

    def answer_dangling(
        self, content: str = INTERRUPTED_RESULT, so_far: dict[str, str] | None = None
    ) -> list[Message]:
        """Give every unanswered tool call a result, so the next request is valid; the
        results given.

        `so_far` holds what a stopped call had printed: the model sees how far it got.
        """
        answers: list[Message] = []
        for call in self.unanswered_calls():
            output = (so_far or {}).get(call["id"])
            answers.append(
                {
                    "role": "tool",
                    "tool_call_id": call["id"],
                    "name": call["function"]["name"],
                    "content": f"{content}\nOutput so far:\n{output}" if output else content,
                }
            )
            self.add(answers[-1])
        return answers

    def undo_last_turn(self) -> int:
        """Drop the last user message and everything after it; returns how many went."""
        for i in range(len(self.messages) - 1, 0, -1):
            message = self.messages[i]
            if message["role"] == "user" and SUMMARY_PREFIX in str(message.get("content")):
                return 0  # that turn was summarised: nothing left to take back cleanly
            if is_person_turn(message):
                removed = len(self.messages) - i
                self.replace(self.messages[:i])
                return removed
        return 0

    def _report(self, change: Change, messages: list[Message]) -> None:
        if self._on_change is not None:
            self._on_change(change, messages)
