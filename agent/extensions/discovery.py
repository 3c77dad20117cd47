"""Where extensions live, and which of those folders count.

Skills and custom commands come from the project's `.agents/<kind>/` and
`.claude/<kind>/`, from the user's `~/.agents/<kind>/`, `~/.claude/<kind>/` and
`<config dir>/<kind>/`, from folders named in settings, and from installed plugins (whose
names they then carry as a namespace: `/<plugin>:<name>`). A
project's folders count only when the folder is trusted (agent/trust.py): a cloned
repository must not speak to the model in the user's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from agent import trust
from agent.paths import config_home

PROJECT_DIRS = (".agents", ".claude")


@dataclass(frozen=True)
class Root:
    """A folder whose subfolders are extensions of one kind."""

    path: Path
    source: str  # "project", "user", "settings" or "plugin <name>": shown to the person
    project: bool = False
    namespace: str = ""  # a plugin's name: its extensions are called `<plugin>:<name>`


@dataclass
class Roots:
    """The folders to read, and the project folders left out because it is not trusted."""

    honoured: list[Root]
    skipped: list[Root]
    project: Path


def find_roots(kind: str, cwd: Path, extra: list[str], plugins: Iterable[Root] = ()) -> Roots:
    """Existing folders holding extensions of `kind`, project ones first (they win a clash);
    `plugins`: the installed plugins' folders of that kind."""
    root = trust.project_root(cwd)
    home = Path.home()
    project = [Root(root / d / kind, "project", project=True) for d in PROJECT_DIRS]
    user = [Root(home / d / kind, "user") for d in PROJECT_DIRS]
    user.append(Root(config_home() / kind, "user"))
    named = [Root(Path(p).expanduser(), "settings") for p in extra]
    seen: dict[Path, Root] = {}
    for r in (
        *user,
        *named,
        *plugins,
        *project,
    ):  # a user folder that is also the project's stays the user's
        if r.path.is_dir():
            seen.setdefault(r.path.resolve(), r)
    existing = sorted(seen.values(), key=lambda r: not r.project)
    trusted = not any(r.project for r in existing) or trust.is_trusted(root)
    honoured = [r for r in existing if trusted or not r.project]
    skipped = [r for r in existing if r not in honoured]
    return Roots(honoured, skipped, root)


def skipped_notice(roots: Roots, what: str) -> str | None:
    """One line naming the project folders left out, and how to make them count."""
    if not roots.skipped:
        return None
    names = ", ".join(str(r.path) for r in roots.skipped)
    return (
        f"this folder is not trusted: ignored the project {what} in {names}. "
        f"To use them: ml-intern trust {roots.project}"
    )
