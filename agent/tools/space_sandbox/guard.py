"""The remote sandbox's HTTP server: uvicorn, guarded against clients that connect and
never finish a request.

uvicorn has no deadline for a request's head: hundreds of connections that send half a
header each stay open for ever, and with them the memory and file descriptors every
other client needs (the person's own `/health` included). Here a connection gets
`header_timeout_s` to send each request's head, and past `max_connections` the oldest
connection still sending one is closed to make room; when there is none, the new one
is. A request's body has its own deadline in the app (`server._CapBody`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 200


def guarded_protocol(header_timeout_s: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a deadline for each request's head and a cap on
    connections, shared by the connections of one server."""
    waiting: dict[Guarded, None] = {}  # connections still sending a head, oldest first

    class Guarded(H11Protocol):
        _timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._await_head()
            if len(self.connections) > max_connections:
                oldest = next((c for c in waiting if c is not self), self)
                oldest._close()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.cycle is not None and not self.cycle.response_complete:
                self._stop_waiting()  # the head is in: a request is being served
            elif self._timer is None:
                self._await_head()  # the next request of a kept-alive connection

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting()
            super().connection_lost(exc)

        def _await_head(self) -> None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(header_timeout_s, self._close)
            waiting[self] = None

        def _stop_waiting(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            waiting.pop(self, None)

        def _close(self) -> None:
            self._stop_waiting()
            self.transport.close()

    return Guarded


def server_config(
    app: Any,
    *,
    header_timeout_s: float = HEADER_TIMEOUT_S,
    max_connections: int = MAX_CONNECTIONS,
    **options: Any,
) -> uvicorn.Config:
    """The uvicorn configuration the sandbox runs with; `options` go to uvicorn.Config."""
    protocol = guarded_protocol(header_timeout_s, max_connections)
    return uvicorn.Config(app, http=protocol, lifespan="off", **options)
