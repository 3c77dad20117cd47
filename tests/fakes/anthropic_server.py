"""A strict, scripted fake of Anthropic's Messages API (``POST /v1/messages``) on loopback.

Tests point litellm's anthropic provider at it (model ``anthropic/<name>`` with
``api_base=fake.url``); litellm appends ``/v1/messages`` to a bare base and keeps a base that
already ends in it, so both forms land on the one route served here. Answers are lists of
Anthropic content blocks (thinking, text, tool_use), sent as the SSE event sequence the real API
streams or as one JSON message. Each request is also checked against the rules the real API
enforces on conversation history (tool results paired with tool uses, thinking blocks signed and
first in a tool-using turn, no unknown block fields), so a test fails where Anthropic would
answer 400. Standard library only.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.scripted import LoopbackServer, ScriptedServer

Expect = Callable[[dict], None]
Block = dict[str, Any]
_tool_ids = itertools.count(1)
_BLOCK_FIELDS = {
    "text": {"type", "text", "cache_control", "citations"},
    "thinking": {"type", "thinking", "signature"},
    "redacted_thinking": {"type", "data"},
    "tool_use": {"type", "id", "name", "input", "cache_control"},
    "tool_result": {"type", "tool_use_id", "content", "is_error", "cache_control"},
    "image": {"type", "source", "cache_control"},
    "document": {"type", "source", "title", "context", "citations", "cache_control"},
}


@dataclass(frozen=True)
class Step:
    """One scripted answer: ``serve`` writes the response, ``expect`` checks the request body."""

    name: str
    serve: Callable[[Reply], None]
    expect: Expect | None = None


# ---------------------------------------------------------------- content blocks


def thinking(text: str, signature: str) -> Block:
    return {"type": "thinking", "thinking": text, "signature": signature}


def text(content: str) -> Block:
    return {"type": "text", "text": content}


def tool_use(name: str, arguments: dict, *, id: str | None = None) -> Block:
    call_id = id or f"toolu_fake{next(_tool_ids):04d}"
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def answer(*blocks: Block, chunk_size: int = 5, expect: Expect | None = None) -> Step:
    """An assistant message made of ``blocks``; it stops for tools when it contains a tool_use."""
    uses_tools = any(block["type"] == "tool_use" for block in blocks)
    stop_reason = "tool_use" if uses_tools else "end_turn"
    kinds = "+".join(block["type"] for block in blocks)

    def serve(reply: Reply) -> None:
        message = reply.message(list(blocks), stop_reason)
        if reply.streamed:
            reply.stream(message, chunk_size)
        else:
            reply.send_json(200, message)

    return Step(f"answer({kinds})", serve, expect)


def error(status: int, kind: str, message: str, *, retry_after: float | None = None) -> Step:
    """An error answer in the API's own shape (``{"type": "error", "error": {...}}``)."""

    def serve(reply: Reply) -> None:
        headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        reply.send_json(
            status, {"type": "error", "error": {"type": kind, "message": message}}, headers
        )

    return Step(f"error({status} {kind})", serve)


def rate_limited(retry_after: float = 0.01) -> Step:
    return error(429, "rate_limit_error", "Number of requests exceeded", retry_after=retry_after)


def overloaded() -> Step:
    """The 529 Anthropic sends when its servers are busy; clients retry it."""
    return error(529, "overloaded_error", "Overloaded")


def broken_stream(partial: str = "Half an ans") -> Step:
    """A stream that starts an answer and then sends ``event: error``, as the API does when it
    overloads mid-answer; the partial text must never be kept as the answer."""

    def serve(reply: Reply) -> None:
        message = reply.message([text(partial)], "end_turn")
        reply.start_stream()
        start = message | {"content": [], "stop_reason": None}
        reply.event({"type": "message_start", "message": start})
        reply.event({"type": "content_block_start", "index": 0, "content_block": _empty(text(""))})
        delta = {"type": "text_delta", "text": partial}
        reply.event({"type": "content_block_delta", "index": 0, "delta": delta})
        reply.event(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )
        reply.wfile.write(b"0\r\n\r\n")

    return Step("broken_stream()", serve)


# ---------------------------------------------------------------- the HTTP exchange


class Reply(BaseHTTPRequestHandler):
    """One HTTP exchange: a JSON message, or the SSE event sequence over chunked HTTP."""

    protocol_version = "HTTP/1.1"
    server: LoopbackServer
    body: dict
    streamed: bool

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean; FakeAnthropic records what matters."""

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server.fake
        if self.path.split("?")[0].rstrip("/") != "/v1/messages":
            fake._record_stray(f"POST {self.path}")
            self.send_error_body(404, "not_found_error", f"fake Anthropic: no route {self.path}")
            return
        try:
            self.body = json.loads(raw)
        except ValueError:
            self.body = {"invalid_json": raw.decode(errors="replace")}
        self.streamed = bool(self.body.get("stream"))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.number, step, problems = fake._take(self.body, headers)
        if problems:
            self.send_error_body(400, "invalid_request_error", "; ".join(problems))
        elif step is None:
            message = f"fake Anthropic: unexpected request #{self.number} (script exhausted)"
            self.send_error_body(500, "api_error", message)
        else:
            step.serve(self)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_error_body(self, status: int, kind: str, message: str) -> None:
        self.send_json(status, {"type": "error", "error": {"type": kind, "message": message}})

    def message(self, blocks: list[Block], stop_reason: str) -> dict:
        usage = {
            "input_tokens": len(json.dumps(self.body.get("messages", []))) // 4,
            "output_tokens": len(json.dumps(blocks)) // 4,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        return {
            "id": f"msg_fake{self.number:04d}",
            "type": "message",
            "role": "assistant",
            "model": self.body.get("model", "claude-fake"),
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def stream(self, message: dict, chunk_size: int) -> None:
        """The event sequence of a streamed message, as the real API orders it."""
        self.start_stream()
        usage = message["usage"]
        start = message | {
            "content": [],
            "stop_reason": None,
            "usage": usage | {"output_tokens": 1},
        }
        self.event({"type": "message_start", "message": start})
        self.event({"type": "ping"})
        for index, block in enumerate(message["content"]):
            self.event(
                {"type": "content_block_start", "index": index, "content_block": _empty(block)}
            )
            for delta in _deltas(block, chunk_size):
                self.event({"type": "content_block_delta", "index": index, "delta": delta})
            self.event({"type": "content_block_stop", "index": index})
        delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
        self.event({"type": "message_delta", "delta": delta, "usage": usage})
        self.event({"type": "message_stop"})
        self.wfile.write(b"0\r\n\r\n")

    def event(self, payload: dict) -> None:
        data = f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


def _empty(block: Block) -> Block:
    """A block as content_block_start announces it, before any delta."""
    match block["type"]:
        case "thinking":
            return {"type": "thinking", "thinking": "", "signature": ""}
        case "text":
            return {"type": "text", "text": ""}
        case _:
            return block | {"input": {}}


def _deltas(block: Block, size: int) -> Iterator[dict]:
    match block["type"]:
        case "thinking":
            for piece in _pieces(block["thinking"], size):
                yield {"type": "thinking_delta", "thinking": piece}
            yield {"type": "signature_delta", "signature": block["signature"]}
        case "text":
            for piece in _pieces(block["text"], size):
                yield {"type": "text_delta", "text": piece}
        case "tool_use":
            for piece in _pieces(json.dumps(block["input"]), size):
                yield {"type": "input_json_delta", "partial_json": piece}


def _pieces(content: str, size: int) -> list[str]:
    size = max(1, size)
    return [content[i : i + size] for i in range(0, len(content), size)]


# ---------------------------------------------------------------- what the real API refuses


def request_problems(body: dict, headers: dict[str, str]) -> list[str]:
    """The 400s Anthropic would answer this request with (those that history mistakes cause)."""
    problems = [
        f"missing header {h}" for h in ("x-api-key", "anthropic-version") if h not in headers
    ]
    problems += [f"missing {key}" for key in ("model", "max_tokens", "messages") if key not in body]
    messages = body.get("messages") or []
    thinking_on = (body.get("thinking") or {}).get("type") in ("enabled", "adaptive")
    pending: set[str] = set()
    for i, msg in enumerate(messages):
        content = msg.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        where = f"messages.{i}"
        if msg.get("role") not in ("user", "assistant"):
            problems.append(f"{where}.role: must be user or assistant")
        for j, block in enumerate(blocks):
            extra = set(block) - _BLOCK_FIELDS.get(block.get("type"), set(block))
            if extra:
                problems.append(f"{where}.content.{j}: extra inputs not permitted: {sorted(extra)}")
            if block.get("type") == "thinking" and not block.get("signature"):
                problems.append(f"{where}.content.{j}.thinking.signature: field required")
        results = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if pending - results:
            problems.append(
                f"{where}: tool_use ids without tool_result: {sorted(pending - results)}"
            )
        if results - pending:
            problems.append(
                f"{where}: tool_result for unknown tool_use ids {sorted(results - pending)}"
            )
        pending = {b["id"] for b in blocks if b.get("type") == "tool_use"}
        if pending and thinking_on and i == _last_assistant(messages):
            if blocks[0].get("type") not in ("thinking", "redacted_thinking"):
                problems.append(
                    f"{where}: with thinking on, a tool-using turn starts with thinking"
                )
    return problems


def _last_assistant(messages: list[dict]) -> int:
    return max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)


# ---------------------------------------------------------------- server


class FakeAnthropic(ScriptedServer[Step]):
    """The scripted Messages API. `url` is the API base, as ``https://api.anthropic.com``;
    a request the real API would refuse gets a 400 and fails `assert_done()`."""

    label = "fake Anthropic"

    def __init__(self, *steps: Step) -> None:
        super().__init__(Reply, steps)

    def _take(self, body: dict, headers: dict) -> tuple[int, Step | None, list[str]]:
        if problems := request_problems(body, headers):
            number, _ = self._record(body, headers, take=False)
            self._fail(AssertionError(f"request #{number} refused: {problems}"))
            return number, None, problems
        number, step = self._record(body, headers)
        if step is not None:
            self._check(body, step.expect)
        return number, step, []
