"""Everything the extensions bring to one launch, read once: installed plugins, skills
(the plugins' included) and custom commands, with the notices they raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agent.extensions.commands import Commands, load_commands, reserved_skill_notices
from agent.extensions.plugins import Plugin, installed_plugins
from agent.extensions.skills import Catalog, load_skills

if TYPE_CHECKING:
    from agent.config import Settings


@dataclass
class Extensions:
    plugins: list[Plugin] = field(default_factory=list)
    skills: Catalog = field(default_factory=Catalog)
    commands: Commands = field(default_factory=Commands)
    notices: list[str] = field(default_factory=list)


def load_extensions(settings: Settings, cwd: Path) -> Extensions:
    """The plugins, skills and commands that count for `cwd`; a project's only when the
    folder is trusted."""
    installed = installed_plugins(settings)
    skills = load_skills(settings, cwd, installed.plugins)
    commands = load_commands(settings, cwd, skills, installed.plugins)
    notices = [
        *installed.notices,
        *skills.notices,
        *reserved_skill_notices(skills),
        *commands.notices,
    ]
    return Extensions(installed.plugins, skills, commands, notices)
