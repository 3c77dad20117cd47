"""`ml-intern mcp list|add|remove`: the MCP servers a launch uses (edits the user config file);
`ml-intern mcp serve`: our own tools served to other agents over MCP."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.cli.app import make_app
from agent.cli.commands.user_config import add_server, describe_server, list_servers, remove_server
from agent.cli.visible import quoted
from agent.config import user_config_path
from agent.errors import UsageError
from agent.paths import CONFIG_NAMES, home_relative, shipped_config_dir
from agent.trust import project_files, split_by_trust

_app = make_app()


def __getattr__(name: str) -> Any:
    """`app`, its help naming the user config file where it is at this launch
    (XDG_CONFIG_HOME moves it)."""
    if name != "app":
        raise AttributeError(name)
    _app.info.help = (
        "List the MCP servers in effect here; add or remove them in your user config "
        f"({home_relative(user_config_path())}). `serve` offers ml-intern's own tools to "
        "other agents over MCP."
    )
    return _app


@_app.command("list")
def list_command() -> None:
    """The MCP servers a launch here uses, where each comes from, and whether it is on."""
    effective, ignored = effective_servers(Path.cwd())
    if not effective and not ignored:
        typer.echo("No MCP servers. Add one with: ml-intern mcp add NAME -- COMMAND (or --url URL)")
    for name, (entry, source) in effective.items():
        entry = _shown(entry)
        state = "disabled" if entry.get("enabled") is False else "enabled"
        typer.echo(quoted(f"{describe_server(name, entry)}  ({source}, {state})"))
    for name, entry, folder in ignored:
        typer.echo(
            quoted(
                f"{describe_server(name, _shown(entry))}  (project {folder}, ignored: folder "
                f"not trusted; to use it: ml-intern trust {shlex.quote(str(folder))})"
            )
        )


Servers = dict[str, tuple[dict[str, Any], str]]


def effective_servers(cwd: Path) -> tuple[Servers, list[tuple[str, dict[str, Any], Path]]]:
    """(name -> (entry, source)) as the settings layers merge them, later files winning by
    name; and the servers of project files that do not count because their folder is not
    trusted. Mirrors `agent.config.config_files` without connecting to anything."""
    honoured, untrusted = split_by_trust(project_files(cwd))
    layers = [(shipped_config_dir() / name, "shipped") for name in CONFIG_NAMES]
    layers += [(f.path, f"project {f.folder}, trusted") for f in honoured if f.is_config]
    layers.append((user_config_path(), f"user {user_config_path()}"))
    if explicit := os.environ.get("ML_INTERN_CLI_CONFIG"):
        layers.append((Path(explicit).expanduser(), f"ML_INTERN_CLI_CONFIG {explicit}"))
    effective: Servers = {}
    for path, source in layers:
        for name, entry in list_servers(path).items():
            effective[name] = (entry, source)
    ignored = [
        (name, entry, f.folder)
        for f in untrusted
        if f.is_config
        for name, entry in list_servers(f.path).items()
    ]
    return effective, ignored


def _shown(entry: Any) -> dict[str, Any]:
    """An entry a hand-edited file may have left in any shape, as describe_server reads it."""
    return entry if isinstance(entry, dict) else {"command": repr(entry)}


@_app.command(
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


@_app.command("remove")
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


@_app.command("serve")
def serve_command(
    http: Annotated[
        int | None,
        typer.Option(
            "--http",
            metavar="PORT",
            min=0,
            max=65535,
            help="Serve streamable HTTP on 127.0.0.1:PORT/mcp instead of stdio (0: any free port).",
        ),
    ] = None,
    max_budget_usd: Annotated[
        float | None,
        typer.Option(
            "--max-budget-usd",
            metavar="USD",
            min=0.01,
            help="Let clients that cannot ask their user (no MCP elicitation) launch paid jobs "
            "up to this many USD in all; the cap holds for every client.",
        ),
    ] = None,
) -> None:
    """Serve ml-intern's Hub, docs, datasets, papers, GitHub and Jobs tools over MCP, e.g.
    `claude mcp add ml-intern -- ml-intern mcp serve`. Local tools are not served."""
    import anyio

    from agent.cli.logs import log_to_file
    from agent.config import load_settings
    from agent.mcp_server.server import ServedTools, serve_http, serve_stdio

    log_to_file()
    settings = load_settings(Path.cwd(), {"max_budget_usd": max_budget_usd}, warn=_warn)
    tools = ServedTools(settings, Path.cwd())
    if http is None:
        anyio.run(serve_stdio, tools)
    else:
        anyio.run(serve_http, tools, http)


def _warn(line: str) -> None:
    typer.echo(f"ml-intern: {quoted(line)}", err=True)
