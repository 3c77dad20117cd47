"""The editor's MCP servers become entries of our own MCP config."""

from __future__ import annotations

from acp.schema import EnvVariable, HttpHeader, HttpMcpServer, McpServerStdio, SseMcpServer

from agent.acp.settings_ui import mcp_servers


def test_stdio_http_and_sse_servers_keep_their_command_url_headers_and_env() -> None:
    found = mcp_servers(
        [
            McpServerStdio(
                name="time",
                command="uvx",
                args=["mcp-server-time"],
                env=[EnvVariable(name="TZ", value="UTC")],
            ),
            HttpMcpServer(
                type="http",
                name="hub",
                url="http://127.0.0.1:9/mcp",
                headers=[HttpHeader(name="Authorization", value="Bearer x")],
            ),
            SseMcpServer(type="sse", name="old", url="http://127.0.0.1:9/sse", headers=[]),
        ]
    )
    time, hub, old = found["time"], found["hub"], found["old"]
    assert (time.transport, time.command, time.args, time.env) == (
        "stdio",
        "uvx",
        ["mcp-server-time"],
        {"TZ": "UTC"},
    )
    assert (hub.transport, hub.url, hub.headers) == (
        "streamable-http",
        "http://127.0.0.1:9/mcp",
        {"Authorization": "Bearer x"},
    )
    assert (old.transport, old.url) == ("sse", "http://127.0.0.1:9/sse")
