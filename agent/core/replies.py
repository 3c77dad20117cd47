"""Assembling a model's answer: streamed deltas or a whole response into one LLMReply.

Kept apart from `llm.py` so the transport (litellm, retries, errors) and the shape of
an answer (text, reasoning, tool calls, usage) can be read separately.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.context.manager import is_person_turn
from agent.errors import EmptyStream, TransientLLMError

if TYPE_CHECKING:
    from agent.config import Settings


@dataclass
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0


@dataclass
class LLMReply:
    """One assistant answer, assembled."""

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str = ""
    thinking_blocks: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float | None = None

    def message(self) -> dict[str, Any]:
        """The assistant message for the history, in OpenAI chat format."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            msg["tool_calls"] = self.tool_calls
        if self.thinking_blocks:
            msg["thinking_blocks"] = self.thinking_blocks
        if self.reasoning:
            msg["reasoning_content"] = self.reasoning
        return msg


class StreamCut(TransientLLMError):
    """The stream ended before a finish_reason; `chars` of answer had arrived by then."""

    def __init__(self, message: str, chars: int) -> None:
        super().__init__(message)
        self.chars = chars


@dataclass
class StreamCallbacks:
    """Where streamed pieces go while the answer is being assembled."""

    on_text: Callable[[str], None] = lambda text: None
    on_thinking: Callable[[str], None] = lambda text: None
    on_retry: Callable[[int, int, float, str], None] = lambda attempt, total, delay, why: None
    on_discard: Callable[[], None] = lambda: None
    on_notice: Callable[[str], None] = lambda message: None


async def assemble_stream(
    response: Any, callbacks: StreamCallbacks, deadline: Any, settings: Settings
) -> LLMReply:
    reply = LLMReply()
    text: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    heard = False  # anything the server sent itself (litellm makes up a final chunk)
    loop = asyncio.get_running_loop()
    try:
        async for chunk in response:
            deadline.reschedule(loop.time() + settings.llm_timeout_s)
            if usage := getattr(chunk, "usage", None):
                reply.usage = _usage(usage)
                heard = True
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            delta = choice.delta
            heard = heard or _said_something(delta)
            if piece := getattr(delta, "reasoning_content", None):
                reasoning.append(piece)
                callbacks.on_thinking(piece)
            if blocks := getattr(delta, "thinking_blocks", None):
                reply.thinking_blocks = _merge_thinking(reply.thinking_blocks, blocks)
            if piece := delta.content:
                text.append(piece)
                callbacks.on_text(piece)
            for tc in getattr(delta, "tool_calls", None) or []:
                _merge_tool_call(calls, tc)
            if choice.finish_reason:
                reply.finish_reason = choice.finish_reason
    except TransientLLMError as exc:
        if text or reasoning:
            callbacks.on_discard()
        raise StreamCut(exc.message, _chars(text, reasoning, calls)) from exc
    except Exception:
        if text or reasoning:
            callbacks.on_discard()
        raise
    if not heard:
        raise EmptyStream("the server answered with an empty stream (HTTP 200, no data)")
    if reply.finish_reason is None:
        if text or reasoning:
            callbacks.on_discard()
        message = "the stream ended before the model finished its answer"
        raise StreamCut(message, _chars(text, reasoning, calls))
    reply.content = "".join(text)
    reply.reasoning = "".join(reasoning)
    reply.tool_calls = with_ids([calls[i] for i in sorted(calls)])
    return reply


def _chars(text: list[str], reasoning: list[str], calls: dict[int, dict[str, Any]]) -> int:
    """How much of an answer had arrived: text, reasoning and tool-call arguments."""
    arguments = sum(len(call["function"]["arguments"]) for call in calls.values())
    return sum(map(len, text)) + sum(map(len, reasoning)) + arguments


def _said_something(delta: Any) -> bool:
    """A role, text (even empty), reasoning or a tool call: the server spoke."""
    return bool(
        getattr(delta, "role", None)
        or delta.content is not None
        or getattr(delta, "reasoning_content", None)
        or getattr(delta, "thinking_blocks", None)
        or getattr(delta, "tool_calls", None)
    )


def with_ids(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every call gets a unique id: some providers leave it out, and results pair by id."""
    seen: set[str] = set()
    for call in calls:
        if not call.get("id") or call["id"] in seen:
            call["id"] = f"call_{secrets.token_hex(6)}"
        seen.add(call["id"])
    return calls


def _merge_tool_call(calls: dict[int, dict[str, Any]], delta: Any) -> None:
    index = getattr(delta, "index", None) or 0
    call = calls.setdefault(
        index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
    )
    if delta.id:
        call["id"] = delta.id
    fn = delta.function
    if fn is not None:
        if fn.name:
            call["function"]["name"] += fn.name
        if fn.arguments:
            call["function"]["arguments"] += fn.arguments


def _merge_thinking(
    existing: list[dict[str, Any]] | None, blocks: list[Any]
) -> list[dict[str, Any]]:
    """Anthropic thinking blocks arrive in pieces; keep them whole, signature included."""
    merged = list(existing or [])
    for block in blocks:
        block = dict(block)
        if (
            merged
            and not merged[-1].get("signature")
            and block.get("type") == merged[-1].get("type")
        ):
            last = merged[-1]
            last["thinking"] = (last.get("thinking") or "") + (block.get("thinking") or "")
            if block.get("signature"):
                last["signature"] = block["signature"]
        else:
            merged.append(block)
    return merged


def from_response(response: Any) -> LLMReply:
    choice = response.choices[0]
    msg = choice.message
    reply = LLMReply(
        content=msg.content or "",
        reasoning=getattr(msg, "reasoning_content", None) or "",
        finish_reason=choice.finish_reason,
    )
    if blocks := getattr(msg, "thinking_blocks", None):
        reply.thinking_blocks = [dict(b) for b in blocks]
    for tc in msg.tool_calls or []:
        reply.tool_calls.append(
            {
                "id": tc.id,
                "type": "function",
                "function": {"name": tc.function.name, "arguments": tc.function.arguments or ""},
            }
        )
    if usage := getattr(response, "usage", None):
        reply.usage = _usage(usage)
    reply.tool_calls = with_ids(reply.tool_calls)
    return reply


def _usage(usage: Any) -> TokenUsage:
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details else None
    cached = cached or getattr(usage, "cache_read_input_tokens", 0) or 0
    return TokenUsage(
        input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        output_tokens=getattr(usage, "completion_tokens", 0) or 0,
        cached_tokens=cached,
    )


# litellm keeps a Gemini thought signature in the tool-call id, after this mark.
_THOUGHT_MARK = "__thought__"
_REASONING_FIELDS = ("thinking_blocks", "reasoning_content", "provider_specific_fields")


def without_reasoning(messages: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The history without replayed reasoning metadata (thinking blocks, reasoning text,
    thought signatures), or None when it held none. The words of every answer stay."""
    stripped: list[dict[str, Any]] = []
    for message in messages:
        clean = {k: v for k, v in message.items() if k not in _REASONING_FIELDS}
        if message.get("tool_calls"):
            clean["tool_calls"] = [
                {**call, "id": _unsigned(call["id"])} for call in message["tool_calls"]
            ]
        if isinstance(message.get("tool_call_id"), str):
            clean["tool_call_id"] = _unsigned(message["tool_call_id"])
        stripped.append(clean)
    return stripped if stripped != messages else None


def _unsigned(call_id: str) -> str:
    return call_id.split(_THOUGHT_MARK, 1)[0]


def unsigned_tool_turn(messages: list[dict[str, Any]]) -> bool:
    """True while the history ends in a tool-using answer that has no thinking blocks.

    Anthropic accepts thinking in a tool-using turn only when the answer that asked
    for the tools began with its signed thinking; after the reasoning was stripped,
    thinking stays off until the person's next message.
    """
    for message in reversed(messages):
        if message["role"] == "assistant":
            return bool(message.get("tool_calls")) and not message.get("thinking_blocks")
        if is_person_turn(message):
            return False
    return False
