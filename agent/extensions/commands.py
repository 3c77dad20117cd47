"""Custom slash commands: Markdown files whose body, with the arguments put in, is sent as
the request (Claude Code's format). A launch only lists the files; each is read when first
listed or used.

`.agents/commands/` and `.claude/commands/` of a trusted project, the user's
`~/.agents/commands/`, `~/.claude/commands/` and `<config dir>/commands/`, folders named
in settings (`commands.paths`) and installed plugins' `commands/`. A file's name is the
command's (`sweep.md` is `/sweep`); subfolders and plugins namespace it (`ml/sweep.md` is
`/ml:sweep`, a plugin's is `/<plugin>:<name>`). Optional YAML frontmatter: `description`,
`argument-hint`, `model`, `allowed-tools`. The body may use `$ARGUMENTS` (everything typed
after the name) and `$1`..`$9` (the words, quoted ones kept whole).

One name means one thing everywhere, in the chat as in a headless prompt: a built-in
command first, then a skill, then a custom command; each clash is said once at launch.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.extensions.discovery import find_roots, skipped_notice
from agent.extensions.plugins import Plugin
from agent.extensions.skills import (
    Catalog,
    SkillError,
    invoked,
    plugin_roots,
    read_instructions,
    split_frontmatter,
)

if TYPE_CHECKING:
    from agent.config import Settings

# The chat's own commands (agent/cli/slash/commands.py; a test keeps the two in step): a skill or a
# custom command of the same name is not reached by typing it, in the chat or headless.
RESERVED = frozenset(
    (
        "budget clear compact context copy cost effort exit goal help hooks mcp memory model "
        "monitors new plan plugins quit resume runs share-traces skills status tools transcript "
        "undo yolo"
    ).split()
)
SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
POSITIONAL = re.compile(r"\$(ARGUMENTS|[1-9])")


@dataclass(frozen=True)
class CustomCommand:
    name: str  # without the slash: "sweep", "ml:sweep", "<plugin>:sweep"
    description: str
    path: Path
    source: str  # "project", "user", "settings" or "plugin <name>"
    body: str
    argument_hint: str = ""
    model: str = ""
    allowed_tools: str = ""


@dataclass(frozen=True)
class CommandFile:
    """A command found at launch, by its file's name alone: the file is read when the
    command is first listed or used, so unused commands cost a launch nothing but a look
    at the folder."""

    name: str
    path: Path
    source: str

    def load(self) -> CustomCommand:
        """The command as its file says; SkillError names what is wrong with it."""
        parsed = _cached(self.path, self.name, self.source)
        if isinstance(parsed, SkillError):
            raise parsed
        return parsed

    @property
    def description(self) -> str:
        try:
            return self.load().description
        except SkillError as exc:
            return f"(cannot be used: {exc})"

    @property
    def argument_hint(self) -> str:
        try:
            return self.load().argument_hint
        except SkillError:
            return ""


@dataclass
class Commands:
    """The custom commands that count at this launch, by name, and what to tell the person."""

    commands: dict[str, CommandFile] = field(default_factory=dict)
    shadowed: list[CommandFile] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def get(self, name: str) -> CommandFile | None:
        return self.commands.get(name)


_parsed: dict[tuple[Path, int, int], CustomCommand | SkillError] = {}


def load_commands(
    settings: Settings, cwd: Path, skills: Catalog, plugins: list[Plugin] | None = None
) -> Commands:
    """Every usable custom command; a project's wins over a user's of the same name, and
    one named like a built-in command or a skill is set aside with a notice."""
    found = Commands()
    if not settings.commands.enabled:
        return found
    extra = plugin_roots(plugins or [], "commands")
    roots = find_roots("commands", cwd, settings.commands.paths, extra)
    if note := skipped_notice(roots, "commands"):
        found.notices.append(note)
    for root in roots.honoured:
        for path in sorted(root.path.rglob("*.md")):
            relative = path.relative_to(root.path).with_suffix("").parts
            if any(part.startswith(".") for part in relative):
                continue
            if not all(SEGMENT.fullmatch(part) for part in relative):
                found.notices.append(
                    f"skipped the command {path}: use letters, digits, '-', '_' and '.' in "
                    "its file and folder names"
                )
                continue
            name = ":".join((root.namespace, *relative) if root.namespace else relative)
            _add(found, CommandFile(name, path.absolute(), root.source), skills)
    return found


def _add(found: Commands, command: CommandFile, skills: Catalog) -> None:
    name = command.name
    if name.lower() in RESERVED:  # the chat takes a built-in's name in any case
        found.shadowed.append(command)
        found.notices.append(
            f"the command /{name} in {command.path} has the name of a built-in command: "
            f"/{name} runs the built-in. Rename the file to use it"
        )
    elif skills.get(name) is not None:
        found.shadowed.append(command)
        found.notices.append(
            f"the command /{name} in {command.path} has the name of the skill '{name}': "
            f"/{name} loads the skill. Rename the file to use the command"
        )
    elif (kept := found.commands.get(name)) is not None:
        found.shadowed.append(command)
        found.notices.append(
            f"the {kept.source} command /{name} in {kept.path} is used instead of the one in "
            f"{command.path}"
        )
    else:
        found.commands[name] = command


def reserved_skill_notices(skills: Catalog) -> list[str]:
    """A line for each skill named like a built-in command: typing the name runs the
    built-in, in the chat and headless alike; the model can still load the skill."""
    return [
        f"the skill '{name}' in {skill.folder} has the name of a built-in command: /{name} "
        "runs the built-in (the model can still load the skill)"
        for name, skill in skills.skills.items()
        if name in RESERVED
    ]


def _cached(path: Path, name: str, source: str) -> CustomCommand | SkillError:
    try:
        stat = path.stat()
    except OSError as exc:
        return SkillError(f"cannot be read ({exc.strerror})")
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _parsed:
        try:
            _parsed[key] = parse_command(path, name, source)
        except SkillError as exc:
            _parsed[key] = exc
    return _parsed[key]


def parse_command(path: Path, name: str, source: str) -> CustomCommand:
    """The command in `path`: optional frontmatter, then the body to send."""
    text = read_instructions(path)
    meta: dict[str, Any] = {}
    body = text
    if text.lstrip("\ufeff").startswith("---"):
        meta, body = split_frontmatter(text)
    for key in ("description", "argument-hint", "model", "allowed-tools"):
        value = meta.get(key)
        if isinstance(value, list) and key == "allowed-tools":
            meta[key] = ", ".join(map(str, value))
        elif value is not None and not isinstance(value, str):
            raise SkillError(f"{key}: expected text")
    body = body.strip()
    if not body:
        raise SkillError("the body is empty: nothing to send")
    first_line = body.splitlines()[0].lstrip("# ").strip()
    return CustomCommand(
        name=name,
        description=" ".join(str(meta.get("description") or first_line).split())[:200],
        path=path.absolute(),
        source=source,
        body=body,
        argument_hint=meta.get("argument-hint") or "",
        model=meta.get("model") or "",
        allowed_tools=meta.get("allowed-tools") or "",
    )


def expand(command: CustomCommand, arguments: str) -> str:
    """The body with `$ARGUMENTS` and `$1`..`$9` replaced; arguments a body never uses
    are added at its end, so nothing typed is lost."""
    arguments = arguments.strip()
    try:
        words = shlex.split(arguments)
    except ValueError:  # an unclosed quote: take the words as they are
        words = arguments.split()

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "ARGUMENTS":
            return arguments
        index = int(key) - 1
        return words[index] if index < len(words) else ""

    text = POSITIONAL.sub(value, command.body)
    if arguments and not POSITIONAL.search(command.body):
        text += f"\n\nARGUMENTS: {arguments}"
    return text


def requested(skills: Catalog, commands: Commands, text: str) -> str | None:
    """For a request that starts with `/<name>`, what goes to the model: a skill loaded
    into the turn or a command's expanded body; None when the request goes as typed
    (no such name, or a built-in command's)."""
    word, _, rest = text.strip().partition(" ")
    name = word[1:]
    if not word.startswith("/") or name.lower() in RESERVED:
        return None
    if skills.get(name) is not None:
        return invoked(skills, text)
    if (command := commands.get(name)) is not None:
        try:
            return expand(command.load(), rest)
        except SkillError:  # the front ends refuse it first, saying why (`unusable`)
            return None
    return None


def unusable(skills: Catalog, commands: Commands, text: str) -> str | None:
    """Why the custom command a request starts with cannot be used (its file is broken),
    or None: said to the person instead of sending anything."""
    word = text.strip().partition(" ")[0]
    name = word[1:]
    if not word.startswith("/") or name.lower() in RESERVED or skills.get(name) is not None:
        return None
    if (command := commands.get(name)) is None:
        return None
    try:
        command.load()
    except SkillError as exc:
        return f"the command /{name} in {command.path} cannot be used: {exc}"
    return None
