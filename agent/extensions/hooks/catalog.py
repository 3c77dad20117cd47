"""Which hooks count at this launch, where each comes from, and which ones an event runs.

Sources, in order: the settings files (the user's config, the file named by
ML_INTERN_CLI_CONFIG, the project's configs/ when the folder is trusted), the `hooks` of
a trusted project's `.claude/settings.json` and `.claude/settings.local.json` (Claude
Code's project settings, read as Claude Code reads them), then installed
plugins' hooks files (agent/extensions/plugins.py finds them; run with CLAUDE_PLUGIN_ROOT). All of them run; none overrides another, as in Claude Code. An
untrusted project's hooks are named in a notice and never run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from agent import trust
from agent.extensions.hooks.schema import HookGroup, HooksBlock

if TYPE_CHECKING:
    from agent.config import Settings

DEFAULT_TIMEOUT_S = 60.0
EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "PostToolUseFailure",
    "Notification",
    "Stop",
    "SubagentStop",
    "PreCompact",
    "PostCompact",
    "SessionEnd",
    "JobSubmitted",
    "JobFinished",
)
# Events whose matcher is ignored (Claude Code: they match every time).
UNMATCHED = frozenset({"UserPromptSubmit", "Stop"})
_SIMPLE = re.compile(r"[\w|]*")


@dataclass(frozen=True)
class Source:
    """A hooks block and where it came from (shown by /hooks and in notices)."""

    label: str
    hooks: dict[str, Any]
    plugin_root: Path | None = None


@dataclass(frozen=True)
class Hook:
    event: str
    matcher: str
    command: str
    timeout_s: float
    source: str
    plugin_root: Path | None = None


@dataclass
class HookSet:
    """Every hook that counts, by event, and what to tell the person about the rest."""

    by_event: dict[str, list[Hook]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.by_event)

    def all(self) -> list[Hook]:
        return [hook for hooks in self.by_event.values() for hook in hooks]

    def matching(self, event: str, *names: str) -> list[Hook]:
        """The hooks `event` runs for a subject known by any of `names` (a tool's two
        names, a compaction's trigger...); an identical command runs once."""
        hooks = self.by_event.get(event)
        if not hooks:
            return []
        chosen: dict[tuple[str, Path | None], Hook] = {}
        for hook in hooks:
            if event in UNMATCHED or matches(hook.matcher, names):
                chosen.setdefault((hook.command, hook.plugin_root), hook)
        return list(chosen.values())


def matches(matcher: str, names: tuple[str, ...]) -> bool:
    """Claude Code's rule: empty or `*` matches everything; letters, digits, `_` and `|`
    are an exact name or a list of them; anything else is a regular expression."""
    if matcher in ("", "*"):
        return True
    if _SIMPLE.fullmatch(matcher):
        wanted = set(matcher.split("|"))
        return any(name in wanted for name in names)
    try:
        pattern = re.compile(matcher)
    except re.error:
        return False
    return any(pattern.search(name) for name in names)


def build(sources: list[Source]) -> HookSet:
    """The hooks of every source, checked; a source with a mistake is left out with one
    notice naming it. This is the one call plugins' hooks go through too."""
    hookset = HookSet()
    adapter = TypeAdapter(HooksBlock)
    for source in sources:
        try:
            block = adapter.validate_python(source.hooks)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            hookset.notices.append(f"skipped the hooks of {source.label}: {where}: {first['msg']}")
            continue
        for event, groups in block.items():
            if event not in EVENTS:
                hookset.notices.append(
                    f"the {event} hooks of {source.label} are not run: ml-intern has no {event} "
                    "event"
                )
                continue
            _add(hookset, event, groups, source)
    return hookset


def _add(hookset: HookSet, event: str, groups: list[HookGroup], source: Source) -> None:
    for group in groups:
        if group.matcher not in ("", "*") and not _SIMPLE.fullmatch(group.matcher):
            try:
                re.compile(group.matcher)
            except re.error as exc:
                hookset.notices.append(
                    f"a {event} matcher of {source.label} is not a valid pattern "
                    f"({group.matcher!r}: {exc}): its hooks never run"
                )
                continue
        for entry in group.hooks:
            if entry.type != "command" or not entry.command.strip():
                hookset.notices.append(
                    f"skipped a {event} hook of {source.label}: only hooks of type 'command' "
                    "with a command run here"
                )
                continue
            hook = Hook(
                event=event,
                matcher=group.matcher,
                command=entry.command,
                timeout_s=entry.timeout or DEFAULT_TIMEOUT_S,
                source=source.label,
                plugin_root=source.plugin_root,
            )
            hookset.by_event.setdefault(event, []).append(hook)


def load_hooks(settings: Settings, cwd: Path) -> HookSet:
    """Every hook that counts for a session in `cwd`: none under --safe-mode or
    `disableAllHooks`."""
    if settings.disable_all_hooks:
        return HookSet()
    plugins, problems = plugin_sources(settings)
    claude, unread = claude_project_sources(cwd)
    hookset = build(settings_sources(settings) + claude + plugins)
    hookset.notices += unread + problems
    if note := untrusted_notice(cwd):
        hookset.notices.append(note)
    return hookset


def settings_sources(settings: Settings) -> list[Source]:
    """The hooks blocks of the settings files that were read, each labelled by its file."""
    files = settings.hook_files
    if not files and settings.hooks:  # built without files (a program's own Settings)
        return [Source("the settings", _raw(settings.hooks))]
    return [Source(str(path), hooks) for path, hooks in files]


def _raw(block: dict[str, Any]) -> dict[str, Any]:
    return {
        event: [g.model_dump() if isinstance(g, HookGroup) else g for g in groups]
        for event, groups in block.items()
    }


def claude_project_sources(cwd: Path) -> tuple[list[Source], list[str]]:
    """The `hooks` of a trusted project's `.claude/settings.json` and
    `.claude/settings.local.json` (nothing else of those files is read), and a line for
    each that cannot be read."""
    honoured, _ = trust.split_by_trust(trust.project_files(cwd))
    sources, problems = [], []
    for item in honoured:
        if not item.is_claude_settings:
            continue
        label = f"{item.path} (Claude Code project settings)"
        hooks = _claude_hooks(item)
        if isinstance(hooks, str):
            problems.append(f"skipped the hooks of {label}: {hooks}")
        elif hooks:
            sources.append(Source(label, hooks))
    return sources, problems


def _claude_hooks(item: trust.ProjectFile) -> dict[str, Any] | str:
    """The file's hooks block ({} without one), or what is wrong with the file."""
    if item.inside_project() is None:
        return "it links outside the project"
    try:
        data = json.loads(item.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"cannot read it ({exc})"
    hooks = data.get("hooks") if isinstance(data, dict) else None
    return hooks if isinstance(hooks, dict) else {}


def plugin_sources(settings: Settings) -> tuple[list[Source], list[str]]:
    """Each installed plugin's hooks file (Claude Code's layout: `hooks/hooks.json`, or the
    one its plugin.json names, holding {"hooks": {...}}), with the plugin's folder as
    CLAUDE_PLUGIN_ROOT; and a line for each file that cannot be read."""
    from agent.extensions.plugins import plugin_hook_files

    sources, problems = [], []
    for name, path, root in plugin_hook_files(settings):
        label = f"plugin {name} ({path})"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"skipped the hooks of {label}: cannot read it ({exc})")
            continue
        hooks = data.get("hooks", {}) if isinstance(data, dict) else data
        sources.append(Source(label, hooks, root.resolve()))
    return sources, problems


def untrusted_notice(cwd: Path) -> str | None:
    """One line naming the hooks of an untrusted project's config files, which never run."""
    _, ignored = trust.split_by_trust(trust.project_files(cwd))
    named: list[str] = []
    for item in ignored:
        if not (item.is_config or item.is_claude_settings):
            continue
        try:
            text = trust.small_text(item.path)
            data = json.loads(text) if text else {}
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        hooks = data.get("hooks") if isinstance(data, dict) else None
        if isinstance(hooks, dict):
            named += [f"{event}: {cmd}" for event, cmd in hook_commands(hooks)]
    if not named:
        return None
    shown = "; ".join(named[:5]) + (f"; and {len(named) - 5} more" if named[5:] else "")
    root = trust.project_root(cwd)
    return (
        f"this folder is not trusted: its hooks were not run ({shown}). "
        f"To use them: ml-intern trust {root}"
    )


def hook_commands(hooks: Any) -> list[tuple[str, str]]:
    """(event, command) for each command of a hooks block as written, read loosely: for
    telling a person what a file would run, before anything is checked."""
    if not isinstance(hooks, dict):
        return []
    found = []
    for event, groups in hooks.items():
        for group in groups if isinstance(groups, list) else []:
            entries = group.get("hooks", []) if isinstance(group, dict) else []
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("command"), str):
                    found.append((str(event), entry["command"]))
    return found
