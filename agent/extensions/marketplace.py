"""Claude Code plugin marketplaces: `.claude-plugin/marketplace.json` lists plugins by name,
each with a source: a folder inside the marketplace (`./plugins/x`, or a bare name under
`metadata.pluginRoot`), or a git repository (`github`, `url`, `git-subdir`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.extensions.plugins import PluginError, inside, json_object

CATALOG = Path(".claude-plugin") / "marketplace.json"


@dataclass(frozen=True)
class Entry:
    """One plugin a marketplace offers, and where to get it."""

    name: str
    description: str
    folder: Path | None = None  # inside the marketplace
    git_url: str = ""  # elsewhere: cloned
    subdir: str = ""  # the plugin's folder inside that clone
    manifest: dict[str, Any] | None = None  # what stands in for a missing plugin.json


def is_marketplace(folder: Path) -> bool:
    return (folder / CATALOG).is_file()


def read_marketplace(root: Path) -> list[Entry]:
    """The marketplace's plugins; PluginError names the file and field at fault."""
    path = root / CATALOG
    data = json_object(path)
    plugins = data.get("plugins")
    if not isinstance(plugins, list):
        raise PluginError(f"{path}: plugins: expected a list")
    metadata = data.get("metadata")
    base = metadata.get("pluginRoot", "") if isinstance(metadata, dict) else ""
    entries = []
    for i, item in enumerate(plugins):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise PluginError(f"{path}: plugins[{i}]: expected an object with a name")
        entries.append(_entry(root, item, base, f"{path}: plugins[{i}] ({item['name']})"))
    return entries


def _entry(root: Path, item: dict[str, Any], base: str, where: str) -> Entry:
    name, source = item["name"], item.get("source")
    about = item.get("description")
    description = about if isinstance(about, str) else ""
    stand_in: dict[str, Any] = {k: item[k] for k in ("name", "description", "version") if k in item}
    if isinstance(source, str):
        relative = source if source.startswith(("./", "../")) or not base else f"{base}/{source}"
        folder = inside(root, relative, Path(where), "source")
        return Entry(name, description, folder=folder, manifest=stand_in)
    if not isinstance(source, dict):
        raise PluginError(f"{where}: source: expected a path or an object")
    kind = source.get("source")
    if kind == "github" and isinstance(source.get("repo"), str):
        url = f"https://github.com/{source['repo']}.git"
        return Entry(name, description, git_url=url, manifest=stand_in)
    if kind in ("url", "git") and isinstance(source.get("url"), str):
        return Entry(name, description, git_url=source["url"], manifest=stand_in)
    if kind == "git-subdir" and isinstance(source.get("url"), str):
        subdir = str(source.get("path", ""))
        return Entry(name, description, git_url=source["url"], subdir=subdir, manifest=stand_in)
    raise PluginError(
        f"{where}: source {kind!r}: ml-intern installs folders, `github`, `url` and "
        "`git-subdir` sources"
    )
