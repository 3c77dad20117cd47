"""`ml-intern plugins add|list|remove`: Claude Code plugins, installed for every launch.

A plugin goes to `<config dir>/plugins/<name>/` (~/.config/ml-intern/plugins). A source is
a local folder or a git URL (cloned shallowly): a plugin (`.claude-plugin/plugin.json`) or
a marketplace (`.claude-plugin/marketplace.json`, from which one plugin is picked by name).
Installing starts nothing, but the plugin's MCP servers and hooks run at every launch after
it: so what it adds is shown first, and a terminal is asked to confirm (`--yes` skips it).
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.cli.app import make_app
from agent.cli.commands.skills import clone, is_bare_repository, looks_like_git
from agent.cli.visible import quoted
from agent.errors import UsageError
from agent.extensions.marketplace import Entry, is_marketplace, read_marketplace
from agent.extensions.plugins import (
    MANIFEST,
    Plugin,
    PluginError,
    installed_plugins,
    plugins_dir,
    read_plugin,
)

app = make_app("Add, list and remove plugins (Claude Code's format).")


@app.command("add")
def add_command(
    source: Annotated[str, typer.Argument(help="A local folder or a git URL.")],
    name: Annotated[
        str | None, typer.Argument(help="The plugin to take from a marketplace.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Install without asking.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an installed one.")] = False,
) -> None:
    """Install the plugin in SOURCE, or the one named NAME in a marketplace (without NAME,
    a marketplace's plugins are listed)."""
    with tempfile.TemporaryDirectory(prefix="ml-intern-plugin-") as tmp:
        folder = fetched(source, Path(tmp) / "source")
        itself = (folder / MANIFEST).is_file() and (name is None or _is_plugin_named(folder, name))
        if is_marketplace(folder) and not itself:
            entries = _entries(folder)
            if name is None:
                _offer(source, entries)
                return
            folder, stand_in = _from_entry(entries, name, Path(tmp))
        else:
            stand_in = None
        staged = Path(tmp) / "staged"
        shutil.copytree(folder, staged, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        plugin = _staged_plugin(staged, stand_in)
        if name is not None and plugin.name != name:
            raise UsageError(f"{source} holds the plugin '{plugin.name}', not '{name}'")
        target = plugins_dir() / plugin.name
        if target.exists() and not force:
            raise UsageError(
                f"'{plugin.name}' is already installed in {target} (--force replaces it)"
            )
        _show(plugin, target, staged)
        _confirm(yes)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), target)
    typer.echo("Done: it counts from the next launch.")


def fetched(source: str, into: Path) -> Path:
    folder = Path(source).expanduser()
    if folder.is_dir() and not is_bare_repository(folder):
        return folder
    if not looks_like_git(source):
        raise UsageError(f"{source}: not a folder, nor a git URL")
    return clone(source, into)


def _is_plugin_named(folder: Path, name: str) -> bool:
    try:
        return read_plugin(folder).name == name
    except PluginError:
        return False


def _entries(folder: Path) -> list[Entry]:
    try:
        return read_marketplace(folder)
    except PluginError as exc:
        raise UsageError(str(exc)) from None


def _offer(source: str, entries: list[Entry]) -> None:
    typer.echo(f"{quoted(source)} is a marketplace of {len(entries)} plugin(s):")
    for entry in entries:
        typer.echo(quoted(f"  {entry.name}: {entry.description}".rstrip(": ")))
    typer.echo(f"Install one with: ml-intern plugins add {shlex.quote(source)} NAME")


def _from_entry(entries: list[Entry], name: str, tmp: Path) -> tuple[Path, dict[str, Any] | None]:
    entry = next((e for e in entries if e.name == name), None)
    if entry is None:
        offered = ", ".join(e.name for e in entries) or "none"
        raise UsageError(f"the marketplace has no plugin '{name}' (it offers: {offered})")
    if entry.folder is not None:
        if not entry.folder.is_dir():
            raise UsageError(f"the marketplace's '{name}' points to {entry.folder}: no such folder")
        return entry.folder, entry.manifest
    folder = clone(entry.git_url, tmp / "plugin") / entry.subdir
    if not folder.is_dir():
        raise UsageError(f"{entry.git_url} has no folder {entry.subdir!r}")
    return folder, entry.manifest


def _staged_plugin(staged: Path, stand_in: dict[str, Any] | None) -> Plugin:
    """The plugin as it will be installed; a marketplace entry stands in for a missing
    plugin.json (as Claude Code's non-strict entries do)."""
    manifest = staged / MANIFEST
    if not manifest.exists() and stand_in is not None:
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps(stand_in, indent=2) + "\n")
    try:
        return read_plugin(staged)
    except PluginError as exc:
        raise UsageError(str(exc).replace(str(staged), "the plugin")) from None


def contents(plugin: Plugin) -> dict[str, list[str]]:
    """What a plugin adds, as a person reads it: slash commands, skills, MCP servers
    (with the command each starts), hooks, and sub-agents it would bring."""
    commands = [
        f"/{plugin.name}:" + ":".join(p.relative_to(d).with_suffix("").parts)
        for d in plugin.command_dirs
        for p in sorted(d.rglob("*.md"))
    ]
    skills = [
        f"/{plugin.name}:{p.parent.name}"
        for d in plugin.skill_dirs
        for p in sorted(d.glob("*/SKILL.md"))
    ]
    servers = [_server_line(name, entry) for name, entry in plugin.mcp.items()]
    hooks = [str(plugin.hooks_file)] if plugin.hooks_file and plugin.hooks_file.is_file() else []
    agents = [p.stem for p in plugin.agents]
    return {
        "commands": commands,
        "skills": skills,
        "mcp_servers": servers,
        "hooks": hooks,
        "agents": agents,
    }


def _server_line(name: str, entry: dict[str, Any]) -> str:
    if command := entry.get("command"):
        args = entry.get("args")
        words = [command, *(args if isinstance(args, list) else [])]
        return f"{name}: starts `{shlex.join(map(str, words))}`"
    return f"{name}: connects to {entry.get('url', '(no command or url)')}"


LABELS = {
    "commands": "slash commands",
    "skills": "skills",
    "mcp_servers": "MCP servers (started at every launch)",
    "hooks": "hooks (run on the agent's events)",
    "agents": "sub-agents (not supported yet: skipped)",
}


def _show(plugin: Plugin, target: Path, staged: Path) -> None:
    """What the plugin adds, with its paths (and `${CLAUDE_PLUGIN_ROOT}`) as installed."""
    about = f" {plugin.version}" if plugin.version else ""
    typer.echo(quoted(f"The plugin '{plugin.name}'{about}: {plugin.description}".rstrip(": ")))
    typer.echo(f"It would be installed into {quoted(str(target))} and add:")
    added = contents(plugin)
    for key, label in LABELS.items():
        if added[key]:
            typer.echo(f"  {label}:")
            for line in added[key]:
                typer.echo(quoted(f"    {line}".replace(str(staged), str(target))))
    if not any(added.values()):
        typer.echo("  nothing ml-intern uses")


def _confirm(yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("not a terminal to ask in: add --yes to install it")
    if not typer.confirm("Install it?", default=False):
        raise UsageError("not installed: you answered no")


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout.")] = False,
) -> None:
    """The installed plugins and what each adds."""
    found = installed_plugins()
    for note in found.notices:
        typer.echo(f"ml-intern: {quoted(note)}", err=True)
    rows = [
        {
            "name": p.name,
            "version": p.version,
            "description": p.description,
            "path": str(p.root),
            **contents(p),
        }
        for p in found.plugins
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"No plugins. Add one with: ml-intern plugins add SOURCE (into {plugins_dir()})")
    for row in rows:
        version = f" {row['version']}" if row["version"] else ""
        typer.echo(quoted(f"{row['name']}{version}  {row['path']}"))
        if row["description"]:
            typer.echo(quoted(f"    {row['description']}"))
        for key, label in LABELS.items():
            if row[key]:
                typer.echo(quoted(f"    {label}: {', '.join(row[key])}"))


@app.command("remove")
def remove_command(name: Annotated[str, typer.Argument(help="The plugin's name.")]) -> None:
    """Remove an installed plugin."""
    folder = plugins_dir() / name
    if "/" in name or name in ("", ".", "..") or not folder.is_dir():
        raise UsageError(
            f"no plugin named '{name}' in {plugins_dir()} (see: ml-intern plugins list)"
        )
    shutil.rmtree(folder)
    typer.echo(f"Removed the plugin '{name}' ({folder}).")
