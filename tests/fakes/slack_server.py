"""Slack's Web API `chat.postMessage` on loopback, enough for ml-intern's notifications.

It answers like Slack: HTTP 200 with `{"ok": true, "ts": ...}`, or `{"ok": false,
"error": ...}` for a wrong token or an unknown channel. Point ml-intern at it with
`ML_INTERN_SLACK_URL=<fake.api_url>`. Standard library only.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.fakes.http_fake import FakeService, Reply, Request


class FakeSlack(FakeService):
    """Accepts messages for `token` in `channels`; `messages` holds what it accepted."""

    def __init__(self, token: str = "xoxb-test-token-1234", channels: tuple[str, ...] = ("C1",)):
        super().__init__()
        self.token = token
        self.channels = set(channels)
        self.messages: list[dict[str, Any]] = []
        self._arrived = threading.Condition()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def route(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/api/chat.postMessage":
            return Reply(404, {"ok": False, "error": "unknown_method"})
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return Reply(200, {"ok": False, "error": "invalid_json"})
        if body.get("channel") not in self.channels:
            return Reply(200, {"ok": False, "error": "channel_not_found"})
        if not body.get("text"):
            return Reply(200, {"ok": False, "error": "no_text"})
        with self._arrived:
            self.messages.append(body)
            ts = f"1700000000.{len(self.messages):06d}"
            self._arrived.notify_all()
        return Reply(200, {"ok": True, "channel": body["channel"], "ts": ts})

    def wait_for_messages(self, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        """Block until `n` messages were accepted; fails the test after `timeout`."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= n, timeout):
                got = len(self.messages)
                raise AssertionError(f"fake Slack: wanted {n} message(s) in {timeout}s, got {got}")
            return list(self.messages)
