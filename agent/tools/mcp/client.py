"""One MCP server connection, held open by one long-lived task.

The SDK's transports and ClientSession are anyio context managers that must be
entered and exited by the same task. So each connection gets its own task: it
opens the transport, initialises the session, lists the tools, reports ready,
and holds everything open until told to close. Calls run in the caller's task
on the shared session, so cancelling one call (Ctrl-C) cancels only that request.

A server that stops mid-session is started again on the next call, once; if
that fails, the server stays failed for the rest of the session.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from agent.tools.spec import ToolError

if TYPE_CHECKING:
    from agent.config import McpServer

log = logging.getLogger(__name__)

_CLOSE_GRACE_S = 5.0
_MAX_TOOL_PAGES = 100
_AUTH_SCHEMES = {"bearer", "basic", "token"}
_TRANSPORTS = ("stdio", "http", "streamable-http", "sse")


Progress = Callable[[float, float | None, str | None], Awaitable[None]]


async def _ignore(progress: float, total: float | None, message: str | None) -> None:
    """A caller with nowhere to show progress still asks for it: the server may pace by it."""


def client_info() -> Any:
    """How ml-intern introduces itself to a server: its own name and version."""
    from importlib.metadata import PackageNotFoundError, version

    from mcp.types import Implementation

    try:
        own = version("ml-intern")
    except PackageNotFoundError:
        own = "0"
    return Implementation(name="ml-intern", version=own)


class McpConnectError(Exception):
    """A server could not be started or reached; the message says why, for a person."""


def transport_kind(server: McpServer) -> str:
    """`stdio`, `http` or `sse`: the configured transport, or the one its fields imply.

    Claude Code's files name the transport `type`; it is honoured the same way.
    """
    declared = server.transport or (server.model_extra or {}).get("type")
    if declared is not None and declared not in _TRANSPORTS:
        raise McpConnectError(
            f"unknown transport {declared!r}; use one of {', '.join(_TRANSPORTS)}"
        )
    kind = declared or ("stdio" if server.command else "http" if server.url else None)
    if kind is None:
        raise McpConnectError("the configuration needs either a command or a url")
    if kind == "stdio" and not server.command:
        raise McpConnectError("a stdio server needs a command")
    if kind != "stdio" and not server.url:
        raise McpConnectError(f"a {kind} server needs a url")
    return "http" if kind == "streamable-http" else kind


def clean_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers minus those left empty by an unset variable.

    `"Authorization": "Bearer ${HF_TOKEN}"` without HF_TOKEN becomes `"Bearer "`;
    sending that would be refused, while no header at all gets anonymous access.
    """
    kept = {}
    for key, value in headers.items():
        value = value.strip()
        if not value:
            continue
        if key.lower().endswith("authorization") and value.lower() in _AUTH_SCHEMES:
            continue
        kept[key] = value
    return kept


def transport_contexts(server: McpServer, errlog: TextIO) -> list[Any]:
    """The async context managers that open the server's transport, outermost first;
    the last one yields the (read, write) streams."""
    kind = transport_kind(server)
    if kind == "stdio":
        from mcp import StdioServerParameters, stdio_client

        params = StdioServerParameters(
            command=server.command or "",
            args=server.args,
            env=server.env or None,
            cwd=Path(server.cwd).expanduser() if server.cwd else None,
        )
        return [stdio_client(params, errlog=errlog)]
    headers = clean_headers(server.headers)
    if kind == "sse":
        from mcp.client.sse import sse_client

        return [sse_client(server.url or "", headers=headers, timeout=server.timeout_s)]
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(server.timeout_s, read=300))
    return [http, streamable_http_client(server.url or "", http_client=http)]


def import_sdk() -> None:
    """Import the SDK's client modules; slow (about half a second), so run it in a thread."""
    for module in ("httpx2", "mcp", "mcp.client.sse", "mcp.client.streamable_http"):
        importlib.import_module(module)


def describe_failure(exc: BaseException, server: McpServer) -> str:
    """One line saying why a server could not be reached, without secrets."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, McpConnectError):
        return str(exc)
    if isinstance(exc, FileNotFoundError) and server.command:
        return f"command not found: {server.command}"
    if isinstance(exc, PermissionError) and server.command:
        return f"command is not executable: {server.command}"
    import httpx2
    from mcp.shared.exceptions import MCPError
    from mcp.types import CONNECTION_CLOSED

    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {server.url}"
    if isinstance(exc, httpx2.TransportError):
        return f"cannot connect to {server.url}: {exc or type(exc).__name__}"
    if isinstance(exc, MCPError):
        if exc.code == CONNECTION_CLOSED and server.command:
            return f"the server exited before it answered (see the session log): {server.command}"
        return f"the server answered with an error: {exc.message}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _WatchedStream:
    """The transport's read stream, noting when the server side ends it."""

    def __init__(self, stream: Any, on_end: Any) -> None:
        self._stream = stream
        self._on_end = on_end

    @property
    def last_context(self) -> Any:
        return getattr(self._stream, "last_context", None)

    async def receive(self) -> Any:
        import anyio

        try:
            return await self._stream.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._on_end()
            raise

    def __aiter__(self) -> _WatchedStream:
        return self

    async def __anext__(self) -> Any:
        import anyio

        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def __aenter__(self) -> _WatchedStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def _list_all_tools(session: Any, capabilities: Any) -> list[Any]:
    from mcp.types import PaginatedRequestParams

    if capabilities is None or capabilities.tools is None:
        return []
    tools: list[Any] = []
    cursor = None
    for _ in range(_MAX_TOOL_PAGES):
        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


class _Live:
    """A running session and the task that holds it open."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.session: Any = None
        self.tools: list[Any] = []
        self.lost = False
        self._closing = asyncio.Event()
        self._scope: Any = None
        self._task: asyncio.Task[None] | None = None

    async def open(self, server: McpServer, errlog: TextIO) -> None:
        """Start the owning task and wait until the session is ready or has failed."""
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._hold(server, errlog, ready), name=f"mcp:{self.name}")
        try:
            await asyncio.shield(ready)
        except asyncio.CancelledError:
            await self.aclose()
            raise

    async def _hold(self, server: McpServer, errlog: TextIO, ready: asyncio.Future[None]) -> None:
        import anyio
        from mcp import ClientSession

        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                scope.deadline = anyio.current_time() + server.timeout_s
                if self._closing.is_set():
                    scope.cancel()
                async with AsyncExitStack() as stack:
                    for context in transport_contexts(server, errlog):
                        streams = await stack.enter_async_context(context)
                    read, write = streams
                    watched = _WatchedStream(read, self._mark_lost)
                    session = await stack.enter_async_context(
                        ClientSession(watched, write, client_info=client_info())
                    )
                    init = await session.initialize()
                    self.tools = await _list_all_tools(session, init.capabilities)
                    self.session = session
                    scope.deadline = math.inf
                    ready.set_result(None)
                    await self._closing.wait()
            if scope.cancelled_caught and not ready.done():
                if self._closing.is_set():
                    raise McpConnectError("shut down before it connected")
                raise McpConnectError(f"no answer within {server.timeout_s:g} s")
        except Exception as exc:
            if not ready.done():
                ready.set_exception(McpConnectError(describe_failure(exc, server)))
            else:
                log.info("MCP server %s stopped: %s", self.name, describe_failure(exc, server))
        finally:
            self.lost = True
            if not ready.done():
                ready.set_exception(McpConnectError("the connection was closed"))

    def _mark_lost(self) -> None:
        self.lost = True

    async def aclose(self) -> None:
        """Let the owning task leave its contexts; cut it short only if it hangs."""
        self._closing.set()
        task = self._task
        if task is None:
            return
        if self.session is None and self._scope is not None:
            self._scope.cancel()
        _, pending = await asyncio.wait({task}, timeout=_CLOSE_GRACE_S)
        if pending:
            if self._scope is not None:
                self._scope.cancel()
            else:
                task.cancel()
            await asyncio.wait({task})


class McpConnection:
    """One configured server: its state for `/mcp`, its tools, and calls to it."""

    def __init__(self, name: str, server: McpServer, errlog: TextIO) -> None:
        self.name = name
        self.server = server
        self.tools: list[Any] = []
        self._state = "connecting"
        self._reason = ""
        self._errlog = errlog
        self._live: _Live | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def state(self) -> str:
        if self._state == "connected" and self._live is not None and self._live.lost:
            return "failed"
        return self._state

    @property
    def reason(self) -> str:
        if self.state != self._state:
            return "the server stopped; it will be started again on the next call"
        return self._reason

    async def connect(self) -> list[Any]:
        """Open the session, bounded by the server's timeout; raises McpConnectError."""
        live = await self._open()
        return live.tools

    async def _open(self) -> _Live:
        if self._closed:
            raise McpConnectError("shut down before it connected")
        self._state, self._reason = "connecting", ""
        self._live = live = _Live(self.name)
        try:
            await live.open(self.server, self._errlog)
        except McpConnectError as exc:
            self._state, self._reason = "failed", str(exc)
            raise
        self.tools = live.tools
        self._state = "connected"
        return live

    async def call(self, tool: str, args: dict[str, Any], progress: Progress | None = None) -> Any:
        """Call a tool; the SDK's CallToolResult, or ToolError with a message for the model.

        Every call carries a progress token (the SDK adds one with a callback), so a
        long-running tool can say how far it has got.
        """
        from mcp.shared.exceptions import MCPError
        from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        live = await self._usable()
        timeout = self.server.timeout_s
        try:
            return await live.session.call_tool(
                tool, args, read_timeout_seconds=timeout, progress_callback=progress or _ignore
            )
        except MCPError as exc:
            if exc.code == REQUEST_TIMEOUT:
                raise ToolError(
                    f"'{tool}' on MCP server '{self.name}' did not answer within {timeout:g} s"
                ) from None
            if exc.code != CONNECTION_CLOSED and not live.lost:
                raise ToolError(
                    f"MCP server '{self.name}' refused '{tool}': {exc.message}"
                ) from None
            live.lost = True
            raise ToolError(
                f"the connection to MCP server '{self.name}' was lost during '{tool}'; "
                "the server will be started again on the next call"
            ) from None

    async def session(self) -> Any:
        """The SDK's ClientSession, started again if the server stopped; ToolError when
        the server is not available."""
        return (await self._usable()).session

    async def read_resource(self, uri: str) -> Any:
        """The SDK's ReadResourceResult for `uri`; ToolError with a message when the
        server refuses, does not answer in time or is gone."""
        from mcp.shared.exceptions import MCPError

        live = await self._usable()
        timeout = self.server.timeout_s
        try:
            return await asyncio.wait_for(live.session.read_resource(uri), timeout)
        except TimeoutError:
            raise ToolError(
                f"MCP server '{self.name}' did not send {uri} within {timeout:g} s"
            ) from None
        except MCPError as exc:
            raise ToolError(f"MCP server '{self.name}' cannot read {uri}: {exc.message}") from None

    async def _usable(self) -> _Live:
        async with self._lock:
            live = self._live
            if live is not None and not live.lost:
                return live
            if self._closed or live is None or self._state == "failed":
                why = "it was shut down" if self._closed else self._reason
                raise ToolError(f"MCP server '{self.name}' is not available: {why}")
            await live.aclose()
            try:
                live = await self._open()
            except McpConnectError as exc:
                self._reason = f"stopped, and starting it again failed: {exc}"
                raise ToolError(f"MCP server '{self.name}' {self._reason}") from None
            log.info("MCP server %s started again", self.name)
            return live

    async def aclose(self) -> None:
        self._closed = True
        if self._live is not None:
            await self._live.aclose()
