"""A strict, scripted OpenAI-compatible chat-completions server on loopback.

Tests point litellm at it exactly as at a real provider (model ``openai/<name>`` with
``api_base=fake.url``, or ``OPENAI_BASE_URL``), so the agent's own client code runs over a real
socket. Each request consumes one scripted step. The fake is strict on purpose: a request that
finds the script exhausted, a step never requested, or a failed ``expect`` check fails the test
in ``assert_done`` instead of passing silently. Standard library only, so a CLI subprocess can be
pointed at it as easily as in-process code.
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.scripted import LoopbackServer, ScriptedServer

Expect = Callable[[dict], None]
Usage = tuple[int, int]
Call = tuple[str, "dict | str"]
_call_ids = itertools.count(1)


@dataclass(frozen=True)
class Step:
    """One scripted answer: ``serve`` writes the response, ``expect`` checks the request body."""

    name: str
    serve: Callable[[Reply], None]
    expect: Expect | None = None


class Reply(BaseHTTPRequestHandler):
    """One HTTP exchange; steps write their answer through it (JSON, or SSE over chunked HTTP)."""

    protocol_version = "HTTP/1.1"
    server: LoopbackServer
    body: dict
    streamed: bool
    model: str
    include_usage: bool

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean; FakeLLM records what matters."""

    def do_GET(self) -> None:
        fake = self.server.fake
        if (found := fake.window_report(f"GET {self.path.rstrip('/')}")) is not None:
            self.send_json(200, found)
        elif self.path.rstrip("/").endswith("/models"):
            model = {"id": "fake", "object": "model", "created": 0, "owned_by": "fake"}
            self.send_json(200, {"object": "list", "data": [model]})
        else:
            self.send_json(404, _error_body(f"fake LLM: no route GET {self.path}"))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server.fake
        if (found := fake.window_report(f"POST {self.path.rstrip('/')}")) is not None:
            self.send_json(200, found)
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            fake._record_stray(f"POST {self.path}")
            self.send_json(404, _error_body(f"fake LLM: no route POST {self.path}"))
            return
        try:
            self.body = json.loads(raw)
        except ValueError:
            self.body = {"invalid_json": raw.decode(errors="replace")}
        self.streamed = bool(self.body.get("stream"))
        self.model = str(self.body.get("model") or "fake")
        self.include_usage = bool((self.body.get("stream_options") or {}).get("include_usage"))
        number, step = fake._take(self.body, {k.lower(): v for k, v in self.headers.items()})
        self._id, self._created = f"chatcmpl-fake-{number}", int(time.time())
        if step is None:
            message = f"fake LLM: unexpected request #{number} (script exhausted)"
            self.send_json(500, _error_body(message))
        else:
            step.serve(self)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def completion(self, message: dict, finish_reason: str | None, usage: dict) -> None:
        choice = {"index": 0, "message": message, "finish_reason": finish_reason}
        self.send_json(200, self._envelope("chat.completion", [choice], usage))

    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, delta: dict, finish_reason: str | None = None) -> None:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        self.event(self._envelope("chat.completion.chunk", [choice]))

    def usage_chunk(self, usage: dict) -> None:
        self.event(self._envelope("chat.completion.chunk", [], usage))

    def event(self, payload: dict) -> None:
        self.send_raw(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def send_raw(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_stream(self, *, done: bool = True) -> None:
        if done:
            self.send_raw(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def drop(self) -> None:
        """Cut the connection mid-response, as a dying provider or proxy would."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def pause(self, seconds: float) -> bool:
        """Wait, but give up at once when the server stops; False means it is stopping."""
        return seconds <= 0 or not self.server.fake._stopping.wait(seconds)

    def _envelope(self, kind: str, choices: list, usage: dict | None = None) -> dict:
        payload = {"id": self._id, "object": kind, "created": self._created, "model": self.model}
        payload |= {"system_fingerprint": "fp_fake", "choices": choices}
        return payload if usage is None else payload | {"usage": usage}


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class _Answer:
    content: str | None = None
    reasoning: str | None = None
    calls: tuple[tuple[str, str, str], ...] = ()  # (id, name, arguments)
    finish: str | None = "stop"
    usage: Usage | None = None
    cached_tokens: int = 0
    chunk_size: int = 4
    delay_s: float = 0.0

    def usage_for(self, body: dict) -> dict:
        if self.usage is not None:
            prompt, completion = self.usage
        else:
            prompt = len(json.dumps(body.get("messages", []))) // 4
            produced = (self.content or "") + "".join(args for _, _, args in self.calls)
            completion = len(produced) // 4 + 1
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        }

    def serve(self, reply: Reply) -> None:
        if not reply.streamed:
            reply.pause(self.delay_s)
            reply.completion(self.message(), self.finish, self.usage_for(reply.body))
            return
        reply.start_stream()
        reply.chunk({"role": "assistant", "content": ""})
        for delta in self.deltas():
            if not reply.pause(self.delay_s):
                reply.drop()
                return
            reply.chunk(delta)
        if self.finish is not None:
            reply.chunk({}, self.finish)
        if reply.include_usage:
            reply.usage_chunk(self.usage_for(reply.body))
        reply.end_stream()

    def message(self) -> dict:
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        if self.calls:
            message["tool_calls"] = [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                for cid, name, args in self.calls
            ]
        return message

    def deltas(self) -> Iterator[dict]:
        for piece in _pieces(self.reasoning or "", self.chunk_size):
            yield {"reasoning_content": piece}
        for piece in _pieces(self.content or "", self.chunk_size):
            yield {"content": piece}
        for index, (cid, name, args) in enumerate(self.calls):
            head = {"name": name, "arguments": ""}
            first = {"index": index, "id": cid, "type": "function", "function": head}
            yield {"tool_calls": [first]}
            for piece in _pieces(args, max(1, -(-len(args) // 3))):
                yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}


def _pieces(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _call(name: str, arguments: dict | str, call_id: str | None) -> tuple[str, str, str]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return (call_id or f"call_{next(_call_ids)}", name, args)


def text(
    content: str,
    *,
    chunk_size: int = 4,
    usage: Usage | None = None,
    reasoning: str | None = None,
    cached_tokens: int = 0,
    delay_s: float = 0.0,
    expect: Expect | None = None,
) -> Step:
    """A plain assistant answer, optionally preceded by streamed reasoning."""
    answer = _Answer(content, reasoning, (), "stop", usage, cached_tokens, chunk_size, delay_s)
    return Step(f"text({content[:20]!r})", answer.serve, expect)


def tool_call(
    name: str,
    arguments: dict | str,
    *,
    id: str | None = None,
    content: str = "",
    usage: Usage | None = None,
    reasoning: str | None = None,
    expect: Expect | None = None,
) -> Step:
    """One tool call; a str ``arguments`` is sent verbatim, so it may be broken JSON."""
    made = (_call(name, arguments, id),)
    answer = _Answer(content or None, reasoning, made, finish="tool_calls", usage=usage)
    return Step(f"tool_call({name})", answer.serve, expect)


def tool_calls(
    calls: list[Call],
    *,
    content: str = "",
    usage: Usage | None = None,
    expect: Expect | None = None,
) -> Step:
    """Several parallel tool calls in one assistant message."""
    made = tuple(_call(name, args, None) for name, args in calls)
    answer = _Answer(content or None, calls=made, finish="tool_calls", usage=usage)
    return Step(f"tool_calls({', '.join(name for name, _ in calls)})", answer.serve, expect)


def empty(*, expect: Expect | None = None) -> Step:
    """An assistant message with neither content nor tool calls."""
    return Step("empty()", _Answer(None).serve, expect)


def cut_off(content: str, *, expect: Expect | None = None) -> Step:
    """An answer stopped by the output limit (finish_reason "length")."""
    return Step(f"cut_off({content[:20]!r})", _Answer(content, finish="length").serve, expect)


def no_finish(content: str, *, expect: Expect | None = None) -> Step:
    """A complete stream (with [DONE]) that never states a finish_reason."""
    return Step("no_finish()", _Answer(content, finish=None).serve, expect)


# ---------------------------------------------------------------- local servers


def prompt_tokens(body: dict) -> int:
    """The fake's tokenizer: four characters of the messages and tool schemas a token."""
    return len(json.dumps(body.get("messages", [])) + json.dumps(body.get("tools", []))) // 4


def _serve_empty(reply: Reply) -> None:
    if reply.streamed:
        reply.start_stream()
        reply.end_stream(done=False)
    else:
        reply.send_json(200, b"")


def empty_stream(*, expect: Expect | None = None) -> Step:
    """200 and a stream that ends with no data at all: how llama.cpp's OpenAI-compatible
    servers answer a prompt larger than their context window."""
    return Step("empty_stream()", _serve_empty, expect)


def within_window(step: Step, window: int) -> Step:
    """`step`, served as a local server with a `window`-token context would: a prompt
    larger than the window gets an empty stream instead."""

    def serve(reply: Reply) -> None:
        if prompt_tokens(reply.body) > window:
            _serve_empty(reply)
        else:
            step.serve(reply)

    return Step(f"within_window({step.name}, {window})", serve, step.expect)


def tools_need_choice(step: Step, invented: str) -> Step:
    """`step` when the request names a `tool_choice`; without one, the tools are left out
    of the prompt (as llama.cpp's chat templates do) and the model answers `invented`."""

    def serve(reply: Reply) -> None:
        if reply.body.get("tool_choice"):
            step.serve(reply)
        else:
            text(invented).serve(reply)

    return Step(f"tools_need_choice({step.name})", serve, step.expect)


def fills_window(
    window: int, *, obeys_max_tokens: bool = True, expect: Expect | None = None
) -> Step:
    """A model that never stops on its own: it writes until `max_tokens` (finish "length")
    or, without one (or ignoring it), until the window is full, where the stream ends
    without a finish_reason."""

    def serve(reply: Reply) -> None:
        prompt = prompt_tokens(reply.body)
        room = window - prompt
        limit = reply.body.get("max_tokens") if obeys_max_tokens else None
        words = "la " * max(0, min(room, limit or room))  # a token per word, as "la " is
        if limit is not None and limit <= room:
            _Answer(words, finish="length", usage=(prompt, limit), chunk_size=400).serve(reply)
        elif reply.streamed:
            reply.start_stream()
            reply.chunk({"role": "assistant", "content": ""})
            for piece in _pieces(words, 400):
                reply.chunk({"content": piece})
            reply.end_stream(done=False)  # full: the server ends the stream, finish unsaid
        else:
            reply.send_json(500, _error_body("context window full"))

    return Step(f"fills_window({window})", serve, expect)


# ---------------------------------------------------------------- faults

_DEFAULT_ERRORS = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("invalid_request_error", "Incorrect API key provided."),
    404: ("invalid_request_error", "The model does not exist or you do not have access to it."),
    429: ("requests", "Rate limit reached for requests. Please try again shortly."),
}
_SERVER_ERROR = ("server_error", "The server had an error while processing your request.")


def error(
    status: int,
    message: str | None = None,
    *,
    retry_after: float | None = None,
    code: str | None = None,
    err_type: str | None = None,
    headers: dict[str, str] | None = None,
    expect: Expect | None = None,
) -> Step:
    """An HTTP error with the body OpenAI sends, so litellm maps it like the real thing."""
    default_type, default_message = _DEFAULT_ERRORS.get(status, _SERVER_ERROR)
    body = _error_body(message or default_message, err_type or default_type, code)
    headers = dict(headers or {})
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    return Step(f"error({status})", lambda r: r.send_json(status, body, headers), expect)


def rate_limit(retry_after: float = 0.01, *, expect: Expect | None = None) -> Step:
    return error(429, retry_after=retry_after, code="rate_limit_exceeded", expect=expect)


def server_error(status: int = 500, *, expect: Expect | None = None) -> Step:
    return error(status, expect=expect)


def context_overflow(*, expect: Expect | None = None) -> Step:
    message = (
        "This model's maximum context length is 8192 tokens. However, your messages resulted "
        "in 9000 tokens. Please reduce the length of the messages."
    )
    return error(400, message, code="context_length_exceeded", expect=expect)


def auth_error(*, expect: Expect | None = None) -> Step:
    message = (
        "Incorrect API key provided: test. You can find your API key at "
        "https://platform.openai.com/account/api-keys."
    )
    return error(401, message, code="invalid_api_key", expect=expect)


def dropped_stream(partial: str = "Partial ans", *, expect: Expect | None = None) -> Step:
    """Stream part of an answer, then cut the connection (no finish_reason, no [DONE])."""

    def serve(reply: Reply) -> None:
        if reply.streamed:
            reply.start_stream()
            reply.chunk({"role": "assistant", "content": ""})
            for piece in _pieces(partial, max(1, -(-len(partial) // 2))):
                reply.chunk({"content": piece})
        reply.drop()

    return Step("dropped_stream()", serve, expect)


def disconnect(*, expect: Expect | None = None) -> Step:
    """Read the request, then close the socket without a word, as a dead proxy would."""
    return Step("disconnect()", lambda reply: reply.drop(), expect)


def malformed_chunk(*, expect: Expect | None = None) -> Step:
    """One valid chunk, then a line that is not JSON, then the end of the body."""

    def serve(reply: Reply) -> None:
        reply.close_connection = True
        if not reply.streamed:
            reply.send_json(200, b"{not json")
            return
        reply.start_stream()
        reply.chunk({"role": "assistant", "content": "ok"})
        reply.send_raw(b"data: {not json\n\n")
        reply.end_stream(done=False)

    return Step("malformed_chunk()", serve, expect)


def held(step: Step, release: threading.Event, timeout: float = 60) -> Step:
    """`step`, answered only once the test sets `release`: holds a client mid-turn."""

    def serve(reply: Reply) -> None:
        release.wait(timeout)
        step.serve(reply)

    return Step(f"held({step.name})", serve, step.expect)


def hang(seconds: float, *, expect: Expect | None = None) -> Step:
    """Accept the request and send nothing, then close; ends early when the server stops."""

    def serve(reply: Reply) -> None:
        reply.pause(seconds)
        reply.drop()

    return Step(f"hang({seconds})", serve, expect)


# ---------------------------------------------------------------- server


def _error_body(message: str, err_type: str = "server_error", code: str | None = None) -> dict:
    return {"error": {"message": message, "type": err_type, "param": None, "code": code}}


class FakeLLM(ScriptedServer[Step]):
    """The scripted OpenAI-compatible server. Use as a context manager or call start()/stop().

    `repeat` answers every request once the script is used up, instead of failing.
    """

    label = "fake LLM"
    url_path = "/v1"

    def __init__(self, *steps: Step, repeat: Step | None = None, port: int = 0) -> None:
        super().__init__(Reply, steps, port)
        self._repeat = repeat

    _report: tuple[str, dict] | None = None

    def report_window(
        self, kind: str, tokens: int, model: str = "test-model", **extra: Any
    ) -> None:
        """Answer on the endpoint where a server of `kind` tells its context window:
        llamacpp `GET /props`, vllm `GET /v1/models`, ollama `POST /api/show` (`num_ctx`
        in `extra` adds that parameter), lm_studio `GET /api/v0/models`."""
        if kind == "llamacpp":
            route = "GET /props"
            body: dict = {"default_generation_settings": {"n_ctx": tokens}, "total_slots": 1}
        elif kind == "vllm":
            route = "GET /v1/models"
            entry = {"id": model, "object": "model", "owned_by": "vllm", "max_model_len": tokens}
            body = {"object": "list", "data": [entry]}
        elif kind == "ollama":
            route = "POST /api/show"
            info = {"general.architecture": "llama", "llama.context_length": tokens}
            params = f"num_ctx {extra['num_ctx']}" if "num_ctx" in extra else ""
            body = {"model_info": info, "parameters": params, "details": {"family": "llama"}}
        elif kind == "lm_studio":
            route = "GET /api/v0/models"
            entry = {"id": model, "type": "llm", "state": "loaded", "max_context_length": tokens}
            body = {"object": "list", "data": [entry]}
        else:
            raise ValueError(f"no such server kind: {kind}")
        self._report = (route, body)

    def window_report(self, route: str) -> dict | None:
        """The body reported at `route` (method and path), if that is where it is told."""
        if self._report is not None and self._report[0] == route:
            return self._report[1]
        return None

    def _take(self, body: dict, headers: dict) -> tuple[int, Step | None]:
        number, step = self._record(body, headers, self._repeat)
        if step is not None:
            self._check(body, step.expect)
        return number, step


def main(argv: list[str] | None = None) -> None:
    """Serve the same answer to every request, for trying the agent by hand."""
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible fake LLM server.")
    parser.add_argument("--reply", default="hi", help="text answered to every request")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args(argv)
    try:
        with FakeLLM(repeat=text(args.reply), port=args.port) as fake:
            print(fake.url, flush=True)
            threading.Event().wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
