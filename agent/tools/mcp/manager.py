"""MCP servers as tools.

Configured servers (stdio, streamable HTTP, SSE) connect concurrently in the
background; each one that answers adds its tools to the ToolRouter as
`mcp__<server>__<tool>`, the same door built-in tools use. A server that fails
is reported once and the session goes on without it. Server stderr goes to the
session's log file, never to the terminal.

Nothing here imports the mcp SDK at module import: it loads when `start` runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from agent.events import ToolProgress
from agent.tools.mcp.prompts import list_prompts
from agent.tools.mcp.results import to_tool_result
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec
from agent.wording import counted

if TYPE_CHECKING:
    from agent.config import McpServer
    from agent.tools.mcp.client import McpConnection
    from agent.tools.router import ToolRouter

MAX_TOOL_NAME = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_HASH_LEN = 8


def exposed_name(server: str, tool: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """The name the model sees: `mcp__<server>__<tool>` in what providers accept.

    Providers take [a-zA-Z0-9_-] and at most 64 characters. A name that had to be
    cut, or that collides with one already taken, ends in a short hash of the
    original so it stays unique and stable across runs.
    """
    full = f"mcp__{server}__{tool}"
    name = _UNSAFE.sub("_", full)
    if len(name) <= MAX_TOOL_NAME and name not in taken:
        return name
    digest = hashlib.sha1(full.encode()).hexdigest()[:_HASH_LEN]
    return f"{name[: MAX_TOOL_NAME - _HASH_LEN - 1]}_{digest}"


@dataclass
class ServerStatus:
    """What `/mcp` shows for one server. `tools` are the names the model sees."""

    name: str
    state: str  # "connecting" | "connected" | "failed" | "disabled"
    reason: str = ""
    tools: list[str] = field(default_factory=list)


class McpManager:
    """Owns every MCP connection of a session, from start-up to shutdown."""

    def __init__(
        self,
        servers: dict[str, McpServer],
        *,
        stderr_path: Path | None = None,
        on_status: Callable[[str, str], None] | None = None,
    ) -> None:
        self._servers = dict(servers)
        self._stderr_path = stderr_path
        self._on_status = on_status or (lambda name, message: None)
        self._connections: dict[str, McpConnection] = {}
        self._exposed: dict[str, list[str]] = {}
        self._unreached: dict[str, str] = {}
        self._sdk_lock = asyncio.Lock()
        self._sdk_loaded = False
        self._errlog: ServerLog | None = None
        self._prompts: dict[str, list[tuple[str, str]]] = {}
        # set once a server has connected (its prompts listed) or failed
        self._settled = {name: asyncio.Event() for name in self._servers}
        self._started = False
        self._closed = False

    async def start(self, router: ToolRouter) -> None:
        """Connect every enabled server concurrently; returns when each is connected or failed.

        Run it as a background task so the prompt does not wait. A server's failure
        is reported through `on_status`, never raised. The SDK is imported only once a
        server can be reached: an HTTP server with no route to it costs no import.
        """
        if self._started or self._closed:
            return
        self._started = True
        try:
            await self._start(router)
        finally:
            self._settle_all()

    def _settle_all(self) -> None:
        for event in self._settled.values():
            event.set()

    async def _start(self, router: ToolRouter) -> None:
        enabled = {name: server for name, server in self._servers.items() if server.enabled}
        if not enabled:
            return
        configured = (
            v for srv in enabled.values() for v in (*srv.env.values(), *srv.headers.values())
        )
        secrets = [value for value in configured if len(value) >= 8]
        self._errlog = ServerLog(self._stderr_path, secrets)
        async with asyncio.TaskGroup() as group:
            for name, server in enabled.items():
                group.create_task(self._open(name, server, router))

    async def _open(self, name: str, server: McpServer, router: ToolRouter) -> None:
        from agent.tools.mcp.client import McpConnection

        if problem := await _unreachable(server):
            self._unreached[name] = f"could not be reached ({problem})"
            if not self._closed:
                self._on_status(name, f"failed: {self._unreached[name]}")
            self._settled[name].set()
            return
        async with self._sdk_lock:
            if not self._sdk_loaded:
                await asyncio.to_thread(_import_sdk)  # keeps the prompt responsive meanwhile
                self._sdk_loaded = True
        if self._closed or self._errlog is None:
            return
        self._connections[name] = McpConnection(name, server, self._errlog.stream)
        await self._connect(self._connections[name], router)

    async def _connect(self, connection: McpConnection, router: ToolRouter) -> None:
        """Connect one server and register its tools; a failure is reported, not raised."""
        from agent.tools.mcp.client import McpConnectError

        try:
            await self._connected(connection, router)
        except McpConnectError as exc:
            if not self._closed:
                self._on_status(connection.name, f"failed: {exc}")
        finally:
            self._settled[connection.name].set()

    async def _connected(self, connection: McpConnection, router: ToolRouter) -> None:
        tools = await connection.connect()
        taken = set(router.names)
        specs = []
        for tool in tools:
            spec = _tool_spec(connection, tool, exposed_name(connection.name, tool.name, taken))
            taken.add(spec.name)
            specs.append(spec)
        kept = [spec.name for spec in specs if router.register(spec)]
        self._exposed[connection.name] = kept
        self._prompts[connection.name] = await list_prompts(connection)
        if left_out := [spec.name for spec in specs if spec.name not in kept]:
            self._on_status(
                connection.name,
                f"connected, but {counted(len(left_out), 'tool')} left out "
                f"({', '.join(sorted(left_out))}): {router.narrowed_by}",
            )
        else:
            self._on_status(connection.name, f"connected: {counted(len(specs), 'tool')}")

    def prompt_names(self) -> list[tuple[str, str]]:
        """(`mcp__<server>__<prompt>`, description) of the connected servers' prompts."""
        return [
            (f"mcp__{server}__{name}", about)
            for server, prompts in self._prompts.items()
            for name, about in prompts
        ]

    async def prompt_target(self, name: str) -> tuple[McpConnection | None, str]:
        """The connection and prompt `<server>__<prompt>` names, once that server has
        connected or failed (the others are not waited for); (None, "") when it does not
        offer that prompt."""
        for server in sorted(self._settled, key=len, reverse=True):  # the longest name first
            prompt = name.removeprefix(f"{server}__")
            if prompt == name or not prompt:
                continue
            await self._settled[server].wait()
            if any(p == prompt for p, _ in self._prompts.get(server, [])):
                return self._connections[server], prompt
            return None, ""
        return None, ""

    def configured(self, name: str) -> bool:
        """Whether `name` is an enabled server of this session (connected or not)."""
        server = self._servers.get(name)
        return server is not None and server.enabled

    async def read_resource(self, name: str, uri: str) -> Any:
        """A resource of server `name` (resources/read): the SDK's ReadResourceResult;
        ToolError when the server is not connected or cannot send it."""
        settled, server = self._settled.get(name), self._servers.get(name)
        if settled is None or server is None or not server.enabled:
            raise ToolError(f"there is no MCP server '{name}' in this session")
        try:
            await asyncio.wait_for(settled.wait(), server.timeout_s)
        except TimeoutError:
            raise ToolError(
                f"MCP server '{name}' did not connect within {server.timeout_s:g} s"
            ) from None
        if name in self._unreached:
            raise ToolError(f"MCP server '{name}' {self._unreached[name]}")
        connection = self._connections.get(name)
        if connection is None:
            raise ToolError(f"MCP server '{name}' is not available: the session is closing")
        return await connection.read_resource(uri)

    def status(self) -> list[ServerStatus]:
        """Every configured server, in configuration order."""
        statuses = []
        for name, server in self._servers.items():
            connection = self._connections.get(name)
            if not server.enabled:
                statuses.append(ServerStatus(name, "disabled"))
            elif name in self._unreached:
                statuses.append(ServerStatus(name, "failed", self._unreached[name]))
            elif connection is None:
                statuses.append(ServerStatus(name, "connecting"))
            else:
                tools = list(self._exposed.get(name, []))
                statuses.append(ServerStatus(name, connection.state, connection.reason, tools))
        return statuses

    async def aclose(self) -> None:
        """Close every session and stop every server process; safe to call during `start`."""
        self._closed = True
        self._settle_all()
        await asyncio.gather(*(c.aclose() for c in self._connections.values()))
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None


def _tool_spec(connection: McpConnection, tool: Any, name: str) -> ToolSpec:
    async def handler(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        async def progress(done: float, total: float | None, message: str | None) -> None:
            ctx.emit(
                ToolProgress(
                    tool_call_id=ctx.tool_call_id,
                    name=name,
                    progress=done,
                    total=total,
                    message=message or "",
                )
            )

        return to_tool_result(await connection.call(tool.name, args, progress))

    annotations = tool.annotations
    timeout = connection.server.timeout_s
    return ToolSpec(
        name=name,
        description=tool.description
        or f"Tool '{tool.name}' of the MCP server '{connection.name}'.",
        parameters=_parameters(tool.input_schema),
        handler=handler,
        read_only=bool(annotations and annotations.read_only_hint),
        # One restart plus one call, each bounded by the server's own timeout.
        timeout_s=2 * timeout + 10,
    )


def _parameters(schema: dict[str, Any] | None) -> dict[str, Any]:
    """The tool's input schema, with the object shape every provider expects."""
    parameters = {k: v for k, v in (schema or {}).items() if k not in ("title", "$schema")}
    parameters["type"] = "object"
    parameters.setdefault("properties", {})
    return parameters


class ServerLog:
    """Where server stderr goes: never the terminal.

    With a path, servers write into a pipe and a thread copies each line to the
    private log file with secrets scrubbed (servers print tokens more often than one
    would hope); without one, into /dev/null.
    """

    def __init__(self, path: Path | None, secrets: list[str]) -> None:
        self._thread: threading.Thread | None = None
        self.stream: TextIO = open(os.devnull, "w", encoding="utf-8")
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            log = os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a")
        except OSError:
            logging.getLogger(__name__).warning("cannot open %s for MCP server stderr", path)
            return
        read_fd, write_fd = os.pipe()
        self.stream.close()
        self.stream = os.fdopen(write_fd, "w", encoding="utf-8")
        self._thread = threading.Thread(
            target=_copy_scrubbed, args=(read_fd, log, secrets), name="mcp-stderr", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop taking output; what the servers wrote is on disk when this returns."""
        self.stream.close()
        if self._thread is not None:
            self._thread.join(timeout=2)


def _copy_scrubbed(read_fd: int, log: TextIO, secrets: list[str]) -> None:
    from agent.context.redact import LineScrubber

    scrubber = LineScrubber(secrets)  # a private key printed over many lines goes whole
    with log, os.fdopen(read_fd, encoding="utf-8", errors="replace") as source:
        for line in source:
            log.writelines(scrubber.feed(line))
            log.flush()
        log.writelines(scrubber.flush())


async def _unreachable(server: McpServer) -> str | None:
    """Why an HTTP or SSE server cannot be reached, found without the SDK; None when it
    can, or when it is not one (a stdio server, a configuration the client refuses)."""
    from agent.tools.mcp.client import McpConnectError, transport_kind
    from agent.tools.mcp.reach import REACH_S, unreachable

    try:
        remote = transport_kind(server) != "stdio"
    except McpConnectError:
        return None
    if not remote or not server.url:
        return None
    return await unreachable(server.url, min(REACH_S, server.timeout_s))


def _import_sdk() -> None:
    from agent.tools.mcp.client import import_sdk

    import_sdk()
    _keep_sdk_logs_off_the_terminal()


def _keep_sdk_logs_off_the_terminal() -> None:
    """Without any handler, Python prints SDK warnings to stderr, i.e. over the chat."""
    sdk = logging.getLogger("mcp")
    if not any(isinstance(h, logging.NullHandler) for h in sdk.handlers):
        sdk.addHandler(logging.NullHandler())
