"""Editing the user's config file: MCP servers, and single settings the chat changes.

The file is shared with every other setting, so edits keep the other keys as
they are, write atomically (a crash never leaves half a file), and refuse to
touch a file that does not parse rather than replace what the person wrote.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from agent.errors import ConfigError
from agent.paths import write_json

KEY = "mcpServers"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TRANSPORTS = ("stdio", "http", "streamable-http", "sse")


def list_servers(path: Path) -> dict[str, dict[str, Any]]:
    """The servers configured in the file, by name; empty when the file does not exist."""
    return dict(_servers(_read(path), path))


def add_server(
    path: Path,
    name: str,
    *,
    command: list[str] | None = None,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    transport: str | None = None,
) -> None:
    """Add a server, or replace the one of that name. Raises ValueError for bad arguments."""
    entry = server_entry(
        name, command=command, url=url, headers=headers, env=env, transport=transport
    )
    data = _read(path)
    _servers(data, path)
    data.setdefault(KEY, {})[name] = entry
    write_json(path, data)


def remove_server(path: Path, name: str) -> bool:
    """Remove a server; False when there was none of that name (the file is left alone)."""
    data = _read(path)
    servers = _servers(data, path)
    if name not in servers:
        return False
    del servers[name]
    write_json(path, data)
    return True


def set_setting(path: Path, key: str, value: Any) -> None:
    """Set one top-level setting, keeping everything else in the file."""
    data = _read(path)
    data[key] = value
    write_json(path, data)


def server_entry(
    name: str,
    *,
    command: list[str] | None = None,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    transport: str | None = None,
) -> dict[str, Any]:
    """The JSON entry for one server, in the shape Claude Code uses."""
    if not _NAME.match(name):
        raise ValueError(
            f"invalid server name {name!r}: use letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    if bool(command) == bool(url):
        raise ValueError("give either a command (after --) or --url, not both")
    if transport is not None and transport not in _TRANSPORTS:
        raise ValueError(f"unknown transport {transport!r}: use one of {', '.join(_TRANSPORTS)}")
    if command:
        if transport not in (None, "stdio"):
            raise ValueError(f"a command runs over stdio, not {transport}")
        if headers:
            raise ValueError("headers apply to --url servers only")
        entry: dict[str, Any] = {"command": command[0], "args": list(command[1:])}
    else:
        if transport == "stdio":
            raise ValueError("a --url server cannot use the stdio transport")
        if env:
            raise ValueError("env applies to command servers only")
        entry = {"url": url}
        if headers:
            entry["headers"] = dict(headers)
    if transport is not None:
        entry["transport"] = transport
    if env:
        entry["env"] = dict(env)
    return entry


def describe_server(name: str, entry: dict[str, Any]) -> str:
    """One line for a listing; names header and env keys but never their values."""
    if "url" in entry:
        target = str(entry["url"])
        if entry.get("transport") == "sse":
            target += " (sse)"
    else:
        target = " ".join([str(entry.get("command", "?")), *map(str, entry.get("args", []))])
    extras = [
        f"{label}: {', '.join(entry[key])}"
        for key, label in (("headers", "headers"), ("env", "env"))
        if entry.get(key)
    ]
    suffix = f"  [{'; '.join(extras)}]" if extras else ""
    return f"{name}: {target}{suffix}"


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}; fix the file first, "
            "it was left unchanged"
        ) from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply; it was left unchanged") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level; it was left unchanged")
    return data


def _servers(data: dict[str, Any], path: Path) -> dict[str, Any]:
    servers = data.get(KEY, {})
    if not isinstance(servers, dict):
        raise ConfigError(f"{path}: '{KEY}' must be a JSON object; it was left unchanged")
    return servers
