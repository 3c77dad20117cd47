"""`ml-intern mcp serve`: our Hub, research and jobs tools as an MCP server, over stdio or
streamable HTTP on loopback.

Calls go through the same `ToolRouter` as in our own runs (validation, timeouts, errors the
model can read), with one ledger for the server's life so a spend cap holds across calls.
Results are scrubbed of secrets before they leave. On stdio, stdout carries only protocol
messages: anything else printed goes to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.context.redact import redact
from agent.errors import UsageError
from agent.mcp_server import asking
from agent.mcp_server.served import as_mcp_tool, served_tools
from agent.mcp_server.spending import Ask, Bookings, spend_refusal
from agent.tools.router import ToolRouter
from agent.tools.spec import LogSink, ToolContext, ToolResult, no_log
from agent.usage import UsageLedger

if TYPE_CHECKING:
    import mcp.types as mcp_types
    from mcp.server.context import ServerRequestContext
    from mcp.server.lowlevel import Server

    from agent.config import Settings

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
HTTP_PATH = "/mcp"


@dataclass
class ServedTools:
    """The tools and what they share for the server's life: settings, ledger, scratch state.
    Tools in the config's `approval.deny_tools` are not served."""

    settings: Settings
    cwd: Path
    router: ToolRouter = field(init=False)
    usage: UsageLedger = field(default_factory=UsageLedger)
    state: dict[str, Any] = field(default_factory=dict)
    bookings: Bookings = field(init=False)

    def __post_init__(self) -> None:
        denied = set(self.settings.approval.deny_tools)  # the person's config forbids them
        self.router = ToolRouter([s for s in served_tools() if s.name not in denied])
        self.bookings = Bookings(self.usage)

    async def call(
        self, name: str, args: dict[str, Any], ask: Ask | None, log: LogSink = no_log
    ) -> ToolResult:
        """Run one call as our own runs do, asking before spending; never raises."""
        ctx = ToolContext(self.settings, self.cwd, state=self.state, usage=self.usage, log=log)
        if refused := await self.router.refusal(name, args, ctx):
            return refused
        spec = self.router.get(name)
        assert spec is not None  # `refusal` answers unknown tools
        why, held = await spend_refusal(spec, args, ctx, self.bookings, ask)
        if why:
            return ToolResult(why, True)
        if held is not None:
            ctx.usage = self.bookings.ledger_for(held)
        try:
            return await self.router.call(name, args, ctx)
        finally:
            self.bookings.release(held)

    def secrets(self) -> list[str]:
        """The tokens in use, scrubbed whatever their shape (a saved login's as well)."""
        from agent.hf_token import find_hf_token

        tokens = (self.settings.hf_token, find_hf_token(self.settings), self.settings.github_token)
        return [token for token in tokens if token]


def build_server(tools: ServedTools) -> Server[Any]:
    """The MCP server: tools/list and tools/call over `tools`."""
    import mcp.types as mcp_types
    from mcp.server.lowlevel import Server

    from agent.context.store import app_version

    async def list_tools(
        ctx: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        return mcp_types.ListToolsResult(tools=[as_mcp_tool(s) for s in tools.router.specs])

    async def call_tool(
        ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
    ) -> mcp_types.CallToolResult | mcp_types.InputRequiredResult:
        progress = _Progress(ctx, tools.secrets())
        try:
            ask = asking.asker(ctx, params)
            result = await tools.call(params.name, dict(params.arguments or {}), ask, progress.log)
        except asking.NeedsAnswer as need:
            return asking.question(need)
        finally:
            await progress.sent()
        text = redact(result.content, tools.secrets())
        return mcp_types.CallToolResult(
            content=[mcp_types.TextContent(type="text", text=text)], is_error=result.is_error
        )

    return Server(
        "ml-intern",
        version=app_version(),
        title="ml-intern",
        instructions=(
            "Hugging Face Hub, docs, datasets, papers, GitHub and Jobs tools from ml-intern. "
            "Launching a job costs the user money: it is approved by them or covered by a cap."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


class _Progress:
    """A tool's progress lines (a followed job's log, ...) as MCP progress notifications, when
    the client asked for progress; scrubbed of secrets like the result."""

    def __init__(self, ctx: ServerRequestContext[Any], secrets: list[str]) -> None:
        self._ctx, self._secrets = ctx, secrets
        self._lines = 0
        self._sending: list[asyncio.Task[None]] = []

    def log(self, text: str, omitted_lines: int = 0) -> None:
        self._lines += omitted_lines + text.count("\n") + 1
        report = self._ctx.session.report_progress(self._lines, None, redact(text, self._secrets))
        self._sending.append(asyncio.ensure_future(report))

    async def sent(self) -> None:
        """Wait until every line went out, so none arrives after the result."""
        for failure in await asyncio.gather(*self._sending, return_exceptions=True):
            if isinstance(failure, Exception):
                log.debug("progress not sent: %s", failure)


async def serve_stdio(tools: ServedTools) -> None:
    """Serve over stdin/stdout until the client closes stdin. Whatever else would print
    goes to stderr, so stdout carries only protocol messages."""
    import anyio
    from mcp.server.stdio import stdio_server

    protocol_out = anyio.wrap_file(sys.stdout)
    sys.stdout = sys.stderr
    server = build_server(tools)
    async with stdio_server(stdout=protocol_out) as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def serve_http(tools: ServedTools, port: int) -> None:
    """Serve streamable HTTP at http://127.0.0.1:PORT/mcp (port 0: any free one), saying
    where on stderr once it listens."""
    import socket

    import uvicorn

    app = build_server(tools).streamable_http_app(streamable_http_path=HTTP_PATH, host=HOST)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {HOST}:{port} ({exc.strerror}): pick another --http port, "
            "or 0 for any free one"
        ) from None
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    bound = sock.getsockname()[1]
    print(f"ml-intern MCP server on http://{HOST}:{bound}{HTTP_PATH}", file=sys.stderr, flush=True)
    await server.serve(sockets=[sock])
