"""`ml-intern mcp list|add|remove`: MCP servers in the user config file."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.cli.app import make_app
from agent.cli.user_config import add_server, describe_server, list_servers, remove_server
from agent.cli.visible import quoted
from agent.config import user_config_path
from agent.core.errors import UsageError

app = make_app(
    "Manage the MCP servers in your user config (~/.config/ml-intern/cli_agent_config.json)."
)


@app.command("list")
def list_command() -> None:
    """The MCP servers of the user config file."""
    path = user_config_path()
    servers = list_servers(path)
    if not servers:
        typer.echo(f"No MCP servers in {path}.")
    for name, entry in servers.items():
        typer.echo(quoted(describe_server(name, entry)))


@app.command(
    "add",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Server name (tools appear as mcp__NAME__tool).")],
    url: Annotated[str | None, typer.Option("--url", help="Streamable HTTP/SSE URL.")] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="HTTP header K=V (repeatable).")
    ] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="Environment K=V for stdio servers.")
    ] = None,
    transport: Annotated[
        str | None, typer.Option("--transport", help="stdio, http or sse (default: guessed).")
    ] = None,
) -> None:
    """Add a server: `add NAME -- command args...` or `add NAME --url URL [--header K=V]`."""
    command = list(ctx.args) or None
    try:
        add_server(
            user_config_path(),
            name,
            command=command,
            url=url,
            headers=_pairs(header, "--header"),
            env=_pairs(env, "--env"),
            transport=transport,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    typer.echo(f"Added MCP server '{name}' to {user_config_path()}.")


@app.command("remove")
def remove_command(name: Annotated[str, typer.Argument(help="Server name.")]) -> None:
    """Remove a server from the user config file."""
    if not remove_server(user_config_path(), name):
        raise UsageError(f"No MCP server named '{name}' in {user_config_path()}.")
    typer.echo(f"Removed MCP server '{name}'.")


def _pairs(items: list[str] | None, flag: str) -> dict[str, str] | None:
    if not items:
        return None
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} takes KEY=VALUE, got '{item}'")
        pairs[key] = value
    return pairs
