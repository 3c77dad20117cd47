"""Whether an HTTP MCP server can be reached is asked where the connection really goes:
the server itself, or the proxy the environment names for it."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from agent.tools.mcp.reach import unreachable


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        return listener.getsockname()[1]


def test_a_server_behind_a_proxy_is_reached_through_the_proxy(monkeypatch):
    nowhere = f"http://127.0.0.1:{closed_port()}/mcp"
    with socket.create_server(("127.0.0.1", 0)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.getsockname()[1]}")
        monkeypatch.setenv("NO_PROXY", "")
        assert asyncio.run(unreachable(nowhere)) is None  # the proxy answers for it

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # this host goes direct: nothing there
        assert "Connection refused" in (asyncio.run(unreachable(nowhere)) or "")


def test_a_dead_proxy_makes_every_proxied_server_unreachable(monkeypatch):
    with socket.create_server(("127.0.0.1", 0)) as server:
        url = f"http://127.0.0.1:{server.getsockname()[1]}/mcp"
        assert asyncio.run(unreachable(url)) is None
        dead = closed_port()
        monkeypatch.setenv("http_proxy", f"127.0.0.1:{dead}")  # no scheme, as some write it
        monkeypatch.setenv("no_proxy", "")
        assert asyncio.run(unreachable(url)) == f"127.0.0.1:{dead}: Connection refused"
