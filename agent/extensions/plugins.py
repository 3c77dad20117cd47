"""Plugins in Claude Code's format: a folder with `.claude-plugin/plugin.json`.

A plugin bundles extensions: `skills/` (as `/<plugin>:<skill>`), `commands/` (custom
slash commands, as `/<plugin>:<command>`), `hooks/hooks.json`, `.mcp.json` (MCP servers)
and `agents/` (sub-agent definitions, not supported: skipped with a notice). Installed
plugins live in `<config dir>/plugins/<name>/`; installing is the user's own act, so an
installed plugin counts as theirs (trusted), and `--safe-mode` turns them all off.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.paths import config_home

if TYPE_CHECKING:
    from agent.config import McpServer, Settings

MANIFEST = Path(".claude-plugin") / "plugin.json"
NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # kebab-case, as Claude Code requires
NAME_MAX = 64
ROOT_VARIABLE = "${CLAUDE_PLUGIN_ROOT}"


class PluginError(ValueError):
    """Why a plugin cannot be used: the file or field at fault and the reason."""


@dataclass(frozen=True)
class Plugin:
    """One plugin folder and what its manifest says."""

    name: str
    root: Path
    description: str = ""
    version: str = ""
    skill_dirs: tuple[Path, ...] = ()
    command_dirs: tuple[Path, ...] = ()
    hooks_file: Path | None = None
    mcp: dict[str, Any] = field(default_factory=dict)  # server name -> entry, root expanded

    @property
    def agents(self) -> list[Path]:
        """Sub-agent definitions it brings (not supported yet)."""
        folder = self.root / "agents"
        return sorted(folder.glob("*.md")) if folder.is_dir() else []


def plugins_dir() -> Path:
    return config_home() / "plugins"


def read_plugin(root: Path) -> Plugin:
    """The plugin in `root`, its manifest checked; PluginError says what is wrong."""
    path = root / MANIFEST
    manifest = json_object(path)
    name = manifest.get("name")
    if not isinstance(name, str) or not name:
        raise PluginError(f"{path}: name: missing (a plugin needs a name)")
    if len(name) > NAME_MAX or not NAME.fullmatch(name):
        raise PluginError(
            f"{path}: name {name!r}: use lowercase letters, digits and single hyphens "
            f"(at most {NAME_MAX} characters)"
        )
    for key in ("description", "version"):
        if key in manifest and not isinstance(manifest[key], str):
            raise PluginError(f"{path}: {key}: expected text")
    root = root.absolute()
    return Plugin(
        name=name,
        root=root,
        description=manifest.get("description", ""),
        version=manifest.get("version", ""),
        skill_dirs=_folders(root, manifest, "skills", path),
        command_dirs=_folders(root, manifest, "commands", path),
        hooks_file=_hooks_file(root, manifest, path),
        mcp=_mcp_servers(root, manifest, path),
    )


def json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PluginError(f"{path}: not found (a plugin has .claude-plugin/plugin.json)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PluginError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise PluginError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise PluginError(f"{path}: expected a JSON object")
    return data


def inside(root: Path, relative: Any, path: Path, key: str) -> Path:
    """`relative` (a manifest's `./x` path) under `root`; never a path out of it."""
    if not isinstance(relative, str) or not relative:
        raise PluginError(f"{path}: {key}: expected a relative path such as ./{key}")
    target = (root / relative).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise PluginError(f"{path}: {key}: {relative!r} leads outside the plugin")
    return target


def _folders(root: Path, manifest: dict[str, Any], key: str, path: Path) -> tuple[Path, ...]:
    """The default folder, plus those the manifest names (a path or a list of them)."""
    named = manifest.get(key, [])
    named = [named] if isinstance(named, str) else named
    if not isinstance(named, list):
        raise PluginError(f"{path}: {key}: expected a path or a list of paths")
    found = [root / key, *(inside(root, p, path, key) for p in named)]
    return tuple(dict.fromkeys(p for p in found if p.is_dir()))


def _hooks_file(root: Path, manifest: dict[str, Any], path: Path) -> Path | None:
    named = manifest.get("hooks")
    if isinstance(named, str):
        return inside(root, named, path, "hooks")
    default = root / "hooks" / "hooks.json"
    return default if default.is_file() else None


def _mcp_servers(root: Path, manifest: dict[str, Any], path: Path) -> dict[str, Any]:
    """The servers of `.mcp.json` (or of the manifest's `mcpServers`), with
    `${CLAUDE_PLUGIN_ROOT}` replaced by the plugin's folder."""
    named = manifest.get("mcpServers")
    if isinstance(named, dict):
        data, source = named, path
    else:
        source = inside(root, named, path, "mcpServers") if named else root / ".mcp.json"
        if not source.is_file():
            return {}
        data = json_object(source)
    servers = data["mcpServers"] if isinstance(data.get("mcpServers"), dict) else data
    for name, entry in servers.items():
        if not isinstance(entry, dict):
            raise PluginError(f"{source}: MCP server {name!r}: expected a JSON object")
    return _expanded(servers, str(root))


def _expanded(value: Any, root: str) -> Any:
    if isinstance(value, str):
        return value.replace(ROOT_VARIABLE, root)
    if isinstance(value, dict):
        return {k: _expanded(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_expanded(v, root) for v in value]
    return value


@dataclass
class Installed:
    """The plugins that count at this launch, and what to tell the person."""

    plugins: list[Plugin] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


_read: dict[tuple[Path, int], Plugin | PluginError] = {}


def installed_plugins(settings: Settings | None = None) -> Installed:
    """Every plugin in the plugins folder (none when extensions are off); a broken one
    is left out with one line saying which file and why. Each manifest is read once."""
    found = Installed()
    if settings is not None and not settings.plugins.enabled:
        return found
    try:
        folders = sorted(p for p in plugins_dir().iterdir() if not p.name.startswith("."))
    except OSError:
        return found
    for folder in folders:
        try:
            stamp = (folder / MANIFEST).stat().st_mtime_ns
        except OSError:
            stamp = 0
        key = (folder, stamp)
        if key not in _read:
            try:
                _read[key] = read_plugin(folder)
            except PluginError as exc:
                _read[key] = exc
        plugin = _read[key]
        if isinstance(plugin, PluginError):
            found.notices.append(f"skipped the plugin in {folder}: {plugin}")
            continue
        found.plugins.append(plugin)
        if agents := plugin.agents:
            found.notices.append(
                f"the plugin '{plugin.name}' brings {len(agents)} sub-agent definition(s) "
                f"in {plugin.root / 'agents'}: sub-agents of your own are not supported yet, "
                "so they are skipped"
            )
    return found


def plugin_hook_files(settings: Settings | None = None) -> list[tuple[str, Path, Path]]:
    """(plugin name, its hooks.json, its root) for every installed plugin with hooks;
    the hook runner sets CLAUDE_PLUGIN_ROOT to the root when it runs them."""
    return [
        (p.name, p.hooks_file, p.root)
        for p in installed_plugins(settings).plugins
        if p.hooks_file is not None and p.hooks_file.is_file()
    ]


def plugin_mcp_servers(
    plugins: list[Plugin], configured: dict[str, McpServer]
) -> tuple[dict[str, McpServer], list[str]]:
    """The MCP servers the plugins bring, by name (`${VAR}` filled from the environment, as
    in a config file), and a line for each one left out: a server of the same name is
    already configured, or the entry is not a server's."""
    from pydantic import ValidationError

    from agent.config import McpServer, first_problem, substitute

    servers: dict[str, McpServer] = {}
    notices = []
    for plugin in plugins:
        for name, entry in plugin.mcp.items():
            if name in configured or name in servers:
                notices.append(
                    f"the MCP server '{name}' of the plugin '{plugin.name}' is not started: "
                    "one of that name is already configured"
                )
                continue
            try:
                servers[name] = McpServer.model_validate(substitute(entry))
            except ValidationError as exc:
                where, why = first_problem(exc)
                notices.append(
                    f"the MCP server '{name}' of the plugin '{plugin.name}' is not started: "
                    f"{where}: {why}"
                )
    return servers, notices
