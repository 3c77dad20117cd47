"""The Hugging Face token, found by one rule wherever it is used.

Hub tools, Jobs, the remote sandbox, trace uploads, `/share-traces` and the HF MCP
server all ask `find_hf_token`: the settings first (a config file's `hf_token`, or
HF_TOKEN / HUGGING_FACE_HUB_TOKEN as read at start-up), then the environment as it is
now (a token pasted in the chat lands there), then the token `hf auth login` saved.
The saved token is read from huggingface_hub's own file, without importing it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from agent.config import McpServer, Settings

HF_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
CHECK_TIMEOUT_S = 15.0
HF_MCP_SERVER = "hf-mcp-server"
_AUTH = "authorization"


def saved_login_path() -> Path:
    """Where `hf auth login` keeps the token: $HF_TOKEN_PATH, else $HF_HOME/token."""
    if explicit := os.environ.get("HF_TOKEN_PATH"):
        return Path(explicit).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = Path(os.environ["HF_HOME"]) if os.environ.get("HF_HOME") else cache / "huggingface"
    return home.expanduser() / "token"


def saved_login_token() -> str | None:
    try:
        token = saved_login_path().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


def find_hf_token(settings: Settings) -> str | None:
    """The token to use: settings, then environment, then the saved login; None without."""
    if settings.hf_token:
        return settings.hf_token
    for name in HF_TOKEN_VARS:
        if value := os.environ.get(name, "").strip():
            return value
    return saved_login_token()


def with_hf_token(servers: dict[str, McpServer], settings: Settings) -> dict[str, McpServer]:
    """The MCP servers, the Hugging Face one given the token by the same rule.

    The shipped config asks for `Bearer ${HF_TOKEN}`, which only sees the environment;
    where that came out empty (no HF_TOKEN set), the token found here fills it. Without
    any token the empty header is dropped when connecting, never sent.
    """
    token = find_hf_token(settings)
    if not token:
        return servers
    hub_host = urlsplit(settings.hf_endpoint).hostname
    updated = dict(servers)
    for name, server in servers.items():
        host = urlsplit(server.url or "").hostname
        if name != HF_MCP_SERVER and (host is None or host not in (hub_host, "huggingface.co")):
            continue
        headers = dict(server.headers)
        for key, value in headers.items():
            if key.lower() == _AUTH and value.strip().lower() == "bearer":
                headers[key] = f"Bearer {token}"
        updated[name] = server.model_copy(update={"headers": headers})
    return updated


async def check_hf_token(token: str, endpoint: str) -> tuple[str | None, str | None]:
    """(account name, None) when the Hub at `endpoint` accepts `token`, else (None, what
    went wrong in words a person can act on). The token itself is never in the words."""
    import httpx

    url = endpoint.rstrip("/") + "/api/whoami-v2"
    try:
        async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S) as client:
            response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        return None, f"could not reach {endpoint} to check it ({type(exc).__name__})"
    if response.status_code == 401:
        return None, f"{endpoint} does not accept it (invalid or expired token)"
    if response.status_code != 200:
        return None, f"{endpoint} answered HTTP {response.status_code} when asked who it is"
    try:
        name = response.json()["name"]
    except (ValueError, KeyError, TypeError):
        return None, f"{endpoint} gave an answer that names no account"
    return str(name), None
