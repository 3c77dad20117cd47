"""Trusted folders: a checkout's own settings count only where the user said so.

A cloned repository can carry `configs/*.json` and a `.env` that would start
processes, send keys to another host or loosen approval, and an `AGENTS.md` that would
speak to the model in the user's name. Those project files are
read only when the folder they belong to (or a folder above it) is on the user's
list, kept in the user's config dir; a parent of a trusted folder is not trusted,
nor is a git checkout nested inside a trusted one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agent.errors import ConfigError
from agent.paths import CONFIG_NAMES, config_home, shipped_config_dir, write_json

KEY = "trusted_folders"
INSTRUCTION_NAMES = ("AGENTS.md", "CLAUDE.md", "ML_INTERN.md")  # CLAUDE.md: as Claude Code reads it
# Claude Code's project settings: only their `hooks` are read, as Claude Code reads them.
CLAUDE_SETTINGS_NAMES = ("settings.json", "settings.local.json")
# A settings file is a few kB; to describe a bigger one that will not be used, its name and
# size say enough, and reading it (it may be 1 GB) would cost the launch time and memory.
DESCRIBE_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class ProjectFile:
    """A settings file found in the working directory or its project root."""

    path: Path
    folder: Path  # trusting this folder (or one above it) honours the file

    @property
    def is_dotenv(self) -> bool:
        return self.path.name == ".env"

    @property
    def is_instructions(self) -> bool:
        return self.path.name in INSTRUCTION_NAMES

    @property
    def is_claude_settings(self) -> bool:
        return self.path.parent.name == ".claude" and self.path.name in CLAUDE_SETTINGS_NAMES

    @property
    def is_config(self) -> bool:
        return not (self.is_dotenv or self.is_instructions or self.is_claude_settings)

    def inside_project(self) -> Path | None:
        """The file, links followed, when it stays inside its project; None when a link
        leads out of it (to a file of the user's that the project must not pass on)."""
        target, root = self.path.resolve(), project_root(self.folder)
        return target if root in target.parents else None


def small_text(path: Path, limit: int = DESCRIBE_MAX_BYTES) -> str | None:
    """The file's text when it holds at most `limit` bytes, else None; at most `limit` + 1
    bytes are ever read, whatever the file claims its size is."""
    with path.open("rb") as file:
        data = file.read(limit + 1)
    return data.decode("utf-8") if len(data) <= limit else None


def human_size(size: int) -> str:
    """1234567 -> '1.2 MB'."""
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def trust_file() -> Path:
    return config_home() / "trusted_folders.json"


def is_checkout(folder: Path) -> bool:
    """Whether `folder` holds a git checkout: a `.git` file (a worktree, a submodule) or
    a `.git` folder with a HEAD. An empty `.git` (a leftover) makes no project root."""
    git = folder / ".git"
    return git.is_file() or (git / "HEAD").is_file()


def project_root(cwd: Path) -> Path:
    """The enclosing git checkout's top folder, or `cwd` outside a checkout."""
    cwd = cwd.resolve()
    for folder in (cwd, *cwd.parents):
        if is_checkout(folder):
            return folder
    return cwd


def project_files(cwd: Path) -> list[ProjectFile]:
    """Project settings and instruction files that exist, lowest precedence first (root,
    then cwd). Settings come from those two folders; instructions from every folder
    between them as well, as a monorepo keeps one per package."""
    cwd = cwd.resolve()
    root = project_root(cwd)
    shipped = shipped_config_dir().resolve()
    found: list[ProjectFile] = []
    levels = [cwd, *(f for f in cwd.parents if root in f.parents or f == root)][::-1]
    for folder in levels:
        if folder in (root, cwd):
            configs = folder / "configs"
            if configs.resolve() != shipped:
                found += [ProjectFile(configs / n, folder) for n in CONFIG_NAMES]
            found.append(ProjectFile(folder / ".env", folder))
            found += [ProjectFile(folder / ".claude" / n, folder) for n in CLAUDE_SETTINGS_NAMES]
        found += [ProjectFile(folder / n, folder) for n in INSTRUCTION_NAMES]
    return [f for f in found if f.path.is_file()]


def split_by_trust(files: list[ProjectFile]) -> tuple[list[ProjectFile], list[ProjectFile]]:
    """(honoured, ignored): a file counts when its folder is trusted."""
    trusted = trusted_folders()
    honoured = [f for f in files if _covered(f.folder, trusted)]
    return honoured, [f for f in files if f not in honoured]


def trusted_folders() -> list[Path]:
    """The folders the user trusted, as recorded (resolved paths)."""
    path = trust_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the trusted folders ({exc})") from None
    folders = data.get(KEY) if isinstance(data, dict) else None
    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
        raise ConfigError(f"{path}: expected {{{KEY!r}: [paths]}}")
    return [Path(f) for f in folders]


def is_trusted(folder: Path) -> bool:
    return _covered(folder.resolve(), trusted_folders())


def trusted_by(folder: Path) -> Path | None:
    """The entry on the list that makes `folder` trusted, if any."""
    folder = folder.resolve()
    return next((t for t in trusted_folders() if _covered(folder, [t])), None)


def add_trusted(folder: Path) -> Path:
    """Trust `folder` (resolved); returns the path recorded."""
    folder = folder.expanduser().resolve()
    folders = trusted_folders()
    if folder not in folders:
        write_json(trust_file(), {KEY: [str(f) for f in [*folders, folder]]})
    return folder


def remove_trusted(folder: Path) -> bool:
    """Forget `folder`; False when it was not on the list itself."""
    folder = folder.expanduser().resolve()
    folders = trusted_folders()
    if folder not in folders:
        return False
    write_json(trust_file(), {KEY: [str(f) for f in folders if f != folder]})
    return True


def _covered(folder: Path, trusted: list[Path]) -> bool:
    """`folder` is a trusted one, or lies below one within the same checkout: a checkout
    nested inside (a cloned dependency, or a `.git` a command planted) is another project
    and needs its own trust."""
    return any(folder == t or (t in folder.parents and not _nested(folder, t)) for t in trusted)


def _nested(folder: Path, top: Path) -> bool:
    """Whether a checkout starts between `top` (excluded) and `folder` (included)."""
    return any(is_checkout(f) for f in (folder, *folder.parents) if top in f.parents)
