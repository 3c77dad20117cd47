"""Whether an HTTP MCP server can be reached at all, asked before the MCP SDK loads.

The SDK takes about a second to import, in a thread that competes with the model
library's import and first call for the interpreter; a server that cannot be reached
(no route to it, no such name: a cluster node, a firewall) must not cost that. One
name lookup and one TCP connect, within a short deadline, tell; nothing is sent.
Through a proxy (`HTTPS_PROXY` and the like, which the SDK's client honours) it is the
proxy that must answer.
"""

from __future__ import annotations

import asyncio
import os
import socket
import urllib.parse
import urllib.request

REACH_S = 5.0  # far more than a TCP handshake takes across the world
_PORTS = {"http": 80, "https": 443}


def endpoint(url: str) -> tuple[str, int] | None:
    """The host and port a connection to `url` goes to first: its proxy's, if one applies;
    None for a URL the client will refuse anyway (it says why better)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        proxy = _proxy_for(parts.scheme, host) if host else None
        if proxy is not None:
            parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            host = parts.hostname
        port = parts.port or _PORTS.get(parts.scheme)
    except ValueError:  # a port that is not a number, a malformed address
        return None
    return (host, port) if host and port else None


def _proxy_for(scheme: str, host: str) -> str | None:
    if urllib.request.proxy_bypass(host):
        return None
    proxies = urllib.request.getproxies_environment()
    return proxies.get(scheme) or proxies.get("all")


async def unreachable(url: str, deadline_s: float = REACH_S) -> str | None:
    """Why nothing accepts a connection where `url` points (for a person), or None."""
    target = endpoint(url)
    if target is None:
        return None
    host, port = target
    try:
        async with asyncio.timeout(deadline_s):
            _, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return f"{host}:{port} did not answer within {deadline_s:g} s"
    except socket.gaierror:
        return f"no address found for {host}"
    except OSError as exc:
        return f"{host}:{port}: {os.strerror(exc.errno) if exc.errno else exc}"
    writer.transport.abort()  # only the handshake was wanted
    return None
