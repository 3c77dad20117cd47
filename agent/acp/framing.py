"""Lines on stdin that are not JSON-RPC messages get an error response, never silence.

The SDK skips a line it cannot parse and says nothing to the editor; JSON-RPC asks
for a parse error (-32700) or an invalid request (-32600) with a null id. This sits
between stdin and the SDK: good lines pass through unchanged, bad ones are answered.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
LIMIT = 50 * 1024 * 1024  # one message may carry an embedded file or an image


def checked_input(raw: asyncio.StreamReader, out: asyncio.StreamWriter) -> asyncio.StreamReader:
    """A reader the SDK takes for stdin, fed only with the lines that are messages."""
    checked = asyncio.StreamReader(limit=LIMIT)

    async def feed() -> None:
        try:
            while line := await raw.readline():
                if (problem := _problem(line)) is None:
                    checked.feed_data(line if line.endswith(b"\n") else line + b"\n")
                else:
                    out.write(json.dumps(_error(*problem)).encode() + b"\n")
                    await out.drain()
        finally:
            checked.feed_eof()

    task = asyncio.get_running_loop().create_task(feed(), name="acp-stdin")
    checked._ml_intern_feeder = task  # type: ignore[attr-defined]  # kept alive with the reader
    return checked


def _problem(line: bytes) -> tuple[int, str] | None:
    if not line.strip():
        return None
    try:
        message = json.loads(line)
    except ValueError:
        return PARSE_ERROR, "Parse error: the line is not JSON"
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return INVALID_REQUEST, "Invalid request: expected a JSON-RPC 2.0 object"
    if "method" not in message and "result" not in message and "error" not in message:
        return INVALID_REQUEST, "Invalid request: no method"
    return None


def _error(code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
