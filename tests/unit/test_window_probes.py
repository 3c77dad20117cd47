"""Asking a model server for its window sends the user's key only to that server."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import HTTPError

import pytest

from agent.core.window import Client


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_redirect_does_not_carry_the_key_to_another_host():
    seen: list[str | None] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"n_ctx": 4096}')

        def log_message(self, *args: object) -> None:
            pass

    elsewhere = serve(Elsewhere)
    target = f"http://127.0.0.1:{elsewhere.server_port}/props"

    class Redirecting(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = serve(Redirecting)
    try:
        with pytest.raises(HTTPError, match="302"):
            Client({"Authorization": "Bearer sk-local-key"}).get(
                f"http://127.0.0.1:{server.server_port}/props"
            )
        assert seen == []
    finally:
        server.shutdown()
        elsewhere.shutdown()
