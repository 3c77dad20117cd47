"""A small MCP server of our own, for tests: stdio or streamable HTTP on loopback.

    python -m tests.fakes.mcp_server --transport stdio
    python -m tests.fakes.mcp_server --transport http --port 8123   # /mcp
    python -m tests.fakes.mcp_server --transport sse --port 8123    # /sse

Built on the SDK's high-level server (`MCPServer`, the 2.x name of FastMCP).
It writes a line to stderr at start-up so tests can check where a server's
stderr ends up.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import struct
import sys
import threading
import zlib

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image
from mcp.types import (
    BlobResourceContents,
    ContentBlock,
    EmbeddedResource,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

STARTUP_LINE = "fake-mcp-server: starting"


def png(width: int, height: int) -> bytes:
    """A valid solid-red RGB PNG, so an image result has real bytes and a real size."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def build_server() -> MCPServer:
    server = MCPServer("ml-intern-fake", log_level="WARNING")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    @server.tool()
    def write_file(path: str, text: str) -> str:
        """Write text to a file; says what happened (used to test confinement)."""
        try:
            with open(path, "w") as file:
                file.write(text)
        except OSError as exc:
            return f"not written: {exc}"
        return "written"

    @server.tool()
    def fail(message: str) -> str:
        """Always fail with the given message."""
        raise ToolError(message)

    @server.tool()
    async def slow(seconds: float) -> str:
        """Sleep, then answer."""
        await asyncio.sleep(seconds)
        return f"slept {seconds:g} s"

    @server.tool()
    def image() -> Image:
        """Return a small red PNG image."""
        return Image(data=png(3, 2), format="png")

    @server.tool()
    async def steps(count: int, ctx: Context) -> str:
        """Work through `count` steps, reporting progress after each."""
        for step in range(1, count + 1):
            await ctx.report_progress(step, count, f"step {step}/{count}")
        return f"done {count} steps"

    @server.tool()
    def whoami(ctx: Context) -> str:
        """Tell which client name and version this connection introduced itself with."""
        params = ctx.session.client_params
        info = params.client_info if params is not None else None
        return f"{info.name} {info.version}" if info is not None else "(unknown)"

    @server.tool()
    def auth(ctx: Context) -> str:
        """Tell which Authorization header the request carried (HTTP only)."""
        headers = ctx.headers or {}
        return headers.get("authorization", "(none)")

    @server.tool()
    def report() -> list[ContentBlock]:
        """Return text, an embedded text file, an embedded binary file and a link."""
        return [
            TextContent(type="text", text="see the attachments"),
            EmbeddedResource(
                type="resource",
                resource=TextResourceContents(uri="file:///notes.txt", text="line one"),
            ),
            EmbeddedResource(
                type="resource",
                resource=BlobResourceContents(
                    uri="file:///weights.bin",
                    mime_type="application/octet-stream",
                    blob=base64.b64encode(bytes(2048)).decode(),
                ),
            ),
            ResourceLink(type="resource_link", name="readme", uri="https://example.org/readme"),
        ]

    @server.resource("notes://runs/latest", name="latest-run", mime_type="text/markdown")
    def latest_run() -> str:
        """The notes of the latest training run."""
        return "Run 42: eval loss 1.87 after 3 epochs; lr 3e-4 was too high."

    @server.tool()
    def crash() -> str:
        """Exit the server process at once, as a crash would."""
        os._exit(1)

    @server.tool()
    def exit_soon() -> str:
        """Answer, then exit the process a moment later, while the client is idle."""
        threading.Timer(0.2, os._exit, (1,)).start()
        return "bye"

    @server.prompt()
    def review_run(run: str, metric: str = "loss") -> str:
        """Ask for a review of a training run."""
        return f"Review the training run {run}, watching its {metric}."

    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transport", choices=["stdio", "http", "sse"], default="stdio")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    print(STARTUP_LINE, file=sys.stderr, flush=True)
    server = build_server()
    if args.transport == "stdio":
        server.run("stdio")
    elif args.transport == "sse":
        server.run("sse", host="127.0.0.1", port=args.port)
    else:
        server.run("streamable-http", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
