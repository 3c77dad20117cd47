"""A loopback HTTP server to build fakes of web services on.

A fake subclasses FakeService and answers `route(request)` with a Reply. The base
runs a real ThreadingHTTPServer on 127.0.0.1 with an ephemeral port in a daemon
thread, logs every request (`.requests`) and can fail the next request under a
path (`fail_next(prefix, status, headers)`). Standard library only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def html(body: str, status: int = 200, **headers: str) -> Reply:
    return Reply(status, body, headers, "text/html; charset=utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    service: FakeService

    def do_GET(self) -> None:
        self.service._dispatch(self)

    do_POST = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeService:
    """Base of every fake: server lifecycle, request log, injected failures."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._failures: list[tuple[str, Reply]] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeService:
        handler = type("Handler", (_Handler,), {"service": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        # A short poll interval keeps stop() quick: shutdown waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.stop()
        if exc_type is None:
            self.assert_faults_consumed()

    def assert_faults_consumed(self) -> None:
        """An injected failure nobody requested means the path under test never ran."""
        with self._lock:
            left = [f"{reply.status} on {prefix}" for prefix, reply in self._failures]
        assert not left, (
            f"{type(self).__name__}: injected failure(s) never requested: {', '.join(left)}"
        )

    def fail_next(
        self, path_prefix: str, status: int, headers: dict[str, str] | None = None, body: Any = None
    ) -> None:
        """The next request whose path starts with `path_prefix` gets this response instead."""
        reply = Reply(status, body if body is not None else {"message": f"fake error {status}"})
        reply.headers = dict(headers or {})
        with self._lock:
            self._failures.append((path_prefix, reply))

    def requests_to(self, path_prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def _dispatch(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=handler.command,
            path=unquote(parts.path),
            query={k: v[-1] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(request)
            failure = next((f for f in self._failures if request.path.startswith(f[0])), None)
            if failure:
                self._failures.remove(failure)
        reply = failure[1] if failure else self.route(request)
        body = reply.encoded()
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in reply.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)
