"""stdio MCP servers under the sandbox: with `--sandbox workspace-write`, a server's
command runs inside bubblewrap like bash does, with the same writable roots, the
same read-only `.git/`, `.env*` and `configs/`, no unix sockets, and no network
unless allowed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from agent.config import McpServer
from agent.tools.local.sandbox import launcher_argv
from agent.tools.mcp.client import McpConnectError, transport_kind


def _cannot_start(server: McpServer) -> bool:
    """A bare command name the server's PATH does not have: it fails as `command not found`."""
    command = server.command or ""
    if "/" in command:
        return False
    path = server.env.get("PATH", os.environ.get("PATH", os.defpath))
    return shutil.which(command, path=path) is None


def confine_stdio_servers(
    servers: dict[str, McpServer], workspace: Path, allow_network: bool
) -> dict[str, McpServer]:
    """The servers, each stdio one's command wrapped in bubblewrap."""
    confined = {}
    for name, server in servers.items():
        try:
            stdio = server.enabled and transport_kind(server) == "stdio"
        except McpConnectError:
            stdio = False  # misconfigured: it fails to connect with its own message
        if stdio and not _cannot_start(server):
            argv = launcher_argv([server.command or "", *server.args], workspace, allow_network)
            server = server.model_copy(update={"command": argv[0], "args": argv[1:]})
        confined[name] = server
    return confined
