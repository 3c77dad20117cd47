"""Agent Skills: folders with a SKILL.md (YAML frontmatter, then Markdown instructions).

Only each skill's name and description reach the system prompt; the body is loaded when
the model calls the `skill` tool or the person types `/<name>`. A malformed skill is left
out with one line saying which file, which field and why: it never stops a launch. Each
SKILL.md is parsed once per launch (cached by path, size and modification time).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.extensions.discovery import Root, find_roots, skipped_notice
from agent.extensions.plugins import Plugin

if TYPE_CHECKING:
    from agent.config import Settings

MARKER = "SKILL.md"
NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NAME_MAX, DESCRIPTION_MAX, COMPATIBILITY_MAX = 64, 1024, 500
SKILL_MAX_BYTES = 256 * 1024  # instructions for a model, not a data file
FILES_MAX = 200  # bundled files listed for the model; the rest are counted


class SkillError(ValueError):
    """Why a SKILL.md cannot be used: the field at fault and the reason."""


@dataclass(frozen=True)
class Skill:
    name: str  # `<plugin>:<name>` for a plugin's skill
    description: str
    folder: Path
    source: str  # "project", "user", "settings" or "plugin <name>"
    body: str
    allowed_tools: str | None = None

    @property
    def path(self) -> Path:
        return self.folder / MARKER

    def files(self, limit: int = FILES_MAX) -> tuple[list[Path], int]:
        """Up to `limit` bundled files (absolute, sorted) and how many more there are;
        hidden files and folders are left out."""
        found: list[Path] = []
        more = 0
        for top, dirs, names in os.walk(self.folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith(".") or (top == str(self.folder) and name == MARKER):
                    continue
                if len(found) < limit:
                    found.append(Path(top, name))
                else:
                    more += 1
        return found, more


@dataclass
class Catalog:
    """The skills that count at this launch, by name, and what to tell the person."""

    skills: dict[str, Skill] = field(default_factory=dict)
    shadowed: list[Skill] = field(default_factory=list)  # same name as one that counts
    notices: list[str] = field(default_factory=list)

    def get(self, name: str) -> Skill | None:
        return self.skills.get(name)


_parsed: dict[tuple[Path, int, int], Skill | SkillError] = {}


def plugin_roots(plugins: list[Plugin], kind: str) -> list[Root]:
    """The folders of `kind` ("skills" or "commands") the plugins bring, namespaced."""
    return [
        Root(folder, f"plugin {p.name}", namespace=p.name)
        for p in plugins
        for folder in (p.skill_dirs if kind == "skills" else p.command_dirs)
    ]


def load_skills(settings: Settings, cwd: Path, plugins: list[Plugin] | None = None) -> Catalog:
    """Every usable skill; a project skill wins over a user skill of the same name. A
    plugin's skills are named `<plugin>:<skill>`, as Claude Code names them."""
    catalog = Catalog()
    if not settings.skills.enabled:
        return catalog
    roots = find_roots("skills", cwd, settings.skills.paths, plugin_roots(plugins or [], "skills"))
    if note := skipped_notice(roots, "skills"):
        catalog.notices.append(note)
    for root in roots.honoured:
        try:
            folders = sorted(root.path.iterdir())
        except OSError as exc:
            catalog.notices.append(f"cannot read the skills in {root.path}: {exc.strerror}")
            continue
        for folder in folders:
            if not (folder / MARKER).is_file() or folder.name.startswith("."):
                continue
            skill = _cached(folder / MARKER, root.source, bool(root.namespace))
            if isinstance(skill, SkillError):
                catalog.notices.append(f"skipped the skill {folder / MARKER}: {skill}")
                continue
            if root.namespace:
                skill = dataclasses.replace(skill, name=f"{root.namespace}:{skill.name}")
            if (kept := catalog.skills.get(skill.name)) is not None:
                catalog.shadowed.append(skill)
                catalog.notices.append(
                    f"the {kept.source} skill '{skill.name}' in {kept.folder} is used instead "
                    f"of the one in {skill.folder}"
                )
            else:
                catalog.skills[skill.name] = skill
    return catalog


def _cached(path: Path, source: str, in_plugin: bool = False) -> Skill | SkillError:
    try:
        stat = path.stat()
    except OSError as exc:
        return SkillError(f"cannot be read ({exc.strerror})")
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _parsed:
        try:
            _parsed[key] = parse_skill(path, source, name_optional=in_plugin)
        except SkillError as exc:
            _parsed[key] = exc
    return _parsed[key]


def parse_skill(path: Path, source: str, name_optional: bool = False) -> Skill:
    """The skill in `path` (a SKILL.md), validated as the Agent Skills specification says;
    `name_optional`: a plugin's skill may leave its name to its folder, as Claude Code's
    plugins do."""
    meta, body = split_frontmatter(read_instructions(path))
    if name_optional and "name" not in meta:
        meta["name"] = path.parent.name
    name = _text(meta, "name", NAME_MAX)
    if not NAME.fullmatch(name):
        raise SkillError(
            f"name {name!r}: use lowercase letters, digits and single hyphens "
            "(no hyphen at the start or end)"
        )
    if name != path.parent.name:
        raise SkillError(f"name {name!r} does not match its folder {path.parent.name!r}")
    description = _text(meta, "description", DESCRIPTION_MAX)
    for key in ("license", "allowed-tools"):
        if key in meta and not isinstance(meta[key], str):
            raise SkillError(f"{key}: expected text")
    if "compatibility" in meta:
        _text(meta, "compatibility", COMPATIBILITY_MAX)
    if "metadata" in meta and not isinstance(meta["metadata"], dict):
        raise SkillError("metadata: expected a mapping of keys to values")
    return Skill(
        name=name,
        description=" ".join(description.split()),
        folder=path.parent.absolute(),
        source=source,
        body=body.strip(),
        allowed_tools=meta.get("allowed-tools"),
    )


def read_instructions(path: Path) -> str:
    """The text of a skill or command file; SkillError when it cannot be read, is not
    UTF-8, or is too large to be instructions for a model."""
    try:
        with path.open("rb") as file:
            data = file.read(SKILL_MAX_BYTES + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillError(f"cannot be read ({exc})") from None
    if len(data) > SKILL_MAX_BYTES:
        raise SkillError(f"larger than {SKILL_MAX_BYTES // 1024} kB")
    return text


def split_frontmatter(text: str) -> tuple[dict[str, Any], str]:
    """(the YAML frontmatter as a dict, the Markdown body)."""
    import yaml

    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise SkillError("frontmatter: the file must start with a '---' line")
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
    if end is None:
        raise SkillError("frontmatter: no closing '---' line")
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 20x faster
        meta = yaml.load("".join(lines[1:end]), Loader=loader)  # a safe loader either way
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 2}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SkillError(f"frontmatter: not valid YAML{line} ({problem})") from None
    if not isinstance(meta, dict):
        raise SkillError("frontmatter: expected 'key: value' lines")
    return meta, "".join(lines[end + 1 :])


def _text(meta: dict[str, Any], key: str, limit: int) -> str:
    value = meta.get(key)
    if value is None:
        raise SkillError(f"{key}: missing")
    if not isinstance(value, str) or not value.strip():
        raise SkillError(f"{key}: expected non-empty text")
    if len(value) > limit:
        raise SkillError(f"{key}: {len(value)} characters, at most {limit} allowed")
    return value.strip()


def loaded_text(skill: Skill) -> str:
    """What the model gets when a skill is loaded: its instructions, its folder and every
    bundled file (absolute paths), so it can `read` references and run scripts with `bash`."""
    files, more = skill.files()
    listing = "\n".join(f"- {path}" for path in files) or "(none)"
    if more:
        listing += f"\n({more} more files not listed: look in the folder)"
    return (
        f'<skill name="{skill.name}">\n{skill.body}\n</skill>\n\n'
        f"Skill folder: {skill.folder}\n"
        "Relative paths in the instructions are relative to this folder. Bundled files:\n"
        f"{listing}"
    )


def invoked(catalog: Catalog, text: str) -> str | None:
    """For a request that starts with `/<skill name>`, the message that loads the skill
    into the turn with the rest of the text; None for any other request."""
    word, _, rest = text.strip().partition(" ")
    skill = catalog.get(word[1:]) if word.startswith("/") else None
    if skill is None:
        return None
    request = rest.strip() or "(no further text: follow the skill's instructions)"
    return (
        f"I loaded the skill '{skill.name}' for this request.\n\n"
        f"{loaded_text(skill)}\n\nMy request: {request}"
    )
