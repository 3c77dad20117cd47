"""Request and response types shared by the fake Hub's endpoint modules."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(data).encode()
        return cls(
            status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})


@dataclass
class Call:
    """One request as a handler sees it: URL groups (still percent-encoded), query, user, body."""

    method: str
    groups: list[str | None]
    query: dict[str, list[str]]
    user: str | None
    body: bytes
    path: str

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, []) + self.query.get(f"{name}[]", [])

    def json(self) -> dict[str, Any]:
        return json.loads(self.body or b"{}") or {}


def url_prefix(repo_type: str) -> str:
    return "" if repo_type == "model" else f"{repo_type}s/"
