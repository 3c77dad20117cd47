"""Where the sandbox lets anything change files: one answer for bash, write and edit.

The writable roots are the working directory (the workspace) and the temp dir.
Inside the workspace, what would take effect on the next, unconfined launch
stays read-only, at every depth: `.git` (hooks and config run by every git
command, a shell prompt's included), `.env*` and `configs/` (read by ml-intern at
start-up), `AGENTS.md`, `CLAUDE.md`, `.agents/` and `.claude/` (instructions and
extensions read by ml-intern and other agents). Bind mounts cover what exists when
a command starts; a name created later in a new subfolder is not covered (see
README, "The sandbox").

A protected path that does not exist yet at the top of the workspace is created
empty before a confined command starts (an empty `.git/`, an empty `.env`...), so the
read-only mount covers it too and the command cannot create it. These
placeholders are removed at the end of the session if they are still empty and
no sandbox still mounts them; whatever ends ml-intern (a background job still
running, `kill -9`), a watcher process removes them then (`reaper.py`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path

from agent.tools.local.reaper import remove_if_empty
from agent.tools.spec import ToolContext, ToolError

# What takes effect at the next, unconfined launch: git's config and hooks, ml-intern's
# configs and dotenv files, and the project instructions and extensions it and other
# agents read. Read-only wherever they are in the workspace.
_PROTECTED_DIRS = (".git", "configs", ".agents", ".claude")
_PROTECTED_FILES = ("AGENTS.md", "CLAUDE.md")
_ENV_PREFIX = ".env"
# Folders of installed or generated files, not the project's own: walking them before every
# command would cost more than the command (a virtual environment holds thousands of folders).
_NOT_LOOKED_INTO = frozenset(
    (
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        "site-packages",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".cache",
        "wandb",
        ".ipynb_checkpoints",
    )
)
MAX_FOLDERS_LOOKED_INTO = 5_000  # a workspace of more is searched this far, nearest first
READ_ONLY_NAMES = ".git/, .env*, configs/, AGENTS.md, CLAUDE.md, .agents/, .claude/"
_placeholders: set[Path] = set()
_reaper: subprocess.Popen[bytes] | None = None


def writable_roots(cwd: Path) -> list[Path]:
    """Where confined commands, `write` and `edit` may change files, minus the protected paths."""
    return list(dict.fromkeys((Path(tempfile.gettempdir()).resolve(), cwd.resolve())))


def sandbox_notice(cwd: Path) -> str:
    """The line said at start with the sandbox on: where commands may write, and why not more."""
    places = " and ".join(str(root) for root in reversed(writable_roots(cwd)))
    return (
        f"Sandbox on: commands may change files only in {places}; {READ_ONLY_NAMES} stay "
        "read-only there at every depth, because they take effect at the next launch."
    )


def _is_protected_name(name: str) -> bool:
    return name in _PROTECTED_DIRS or name in _PROTECTED_FILES or name.startswith(_ENV_PREFIX)


def protected_paths(workspace: Path) -> list[Path]:
    """The workspace's entries that stay read-only, as they exist now, at every depth
    (a cloned repository's `.git/config` in a subfolder runs commands as surely as the
    top one's). Symlinks are not followed; a protected folder is not looked into, nor are
    installed or generated ones (`.venv`, `node_modules`...), and the search stops after
    `MAX_FOLDERS_LOOKED_INTO` folders, breadth first, so its cost stays bounded."""
    found: list[Path] = []
    pending = deque([workspace])
    for _ in range(MAX_FOLDERS_LOOKED_INTO):
        if not pending:
            break
        try:
            entries = list(os.scandir(pending.popleft()))
        except OSError:
            continue
        for entry in entries:
            if _is_protected_name(entry.name):
                found.append(Path(entry.path))
            elif entry.name not in _NOT_LOOKED_INTO and entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
    return sorted(found)


def ensure_placeholders(workspace: Path) -> None:
    """Create the protected paths that are missing, empty, so a read-only mount can cover them."""
    wanted = [(workspace / name, True) for name in _PROTECTED_DIRS]
    wanted += [(workspace / name, False) for name in (_ENV_PREFIX, *_PROTECTED_FILES)]
    for path, is_dir in wanted:
        if path.exists() or path.is_symlink():
            continue
        try:
            if is_dir:
                path.mkdir()
            else:
                path.touch(exist_ok=False)
        except OSError:
            continue  # a workspace we cannot write is one the sandbox cannot write either
        _placeholders.add(path)
        _hand_to_reaper(path)


def _hand_to_reaper(path: Path) -> None:
    """Tell the watcher about `path`, starting it first: it removes the placeholders
    once this process is gone, if the session could not."""
    global _reaper
    if _reaper is None or _reaper.poll() is not None:
        _reaper = subprocess.Popen(
            [sys.executable, "-m", "agent.tools.local.reaper", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            start_new_session=True,  # Ctrl-C and a closing terminal leave it alone
        )
    assert _reaper.stdin is not None
    try:
        _reaper.stdin.write(os.fsencode(path) + b"\n")
        _reaper.stdin.flush()
    except OSError:
        pass  # the session's own clean-up remains


def _sandboxes_running() -> bool:
    """Whether a bubblewrap child of ours still runs (a background job), mounted yet or not."""
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        state, parent = rest.split()[:2]
        if parent == me and name.endswith("(bwrap") and state != "Z":
            return True
    return False


def remove_placeholders() -> None:
    """Take back the placeholders that are still empty, unless a sandbox still uses them
    (removing one would lift its read-only mount): the watcher does that once ml-intern
    is gone."""
    if _sandboxes_running():
        return
    for path in sorted(_placeholders, reverse=True):
        remove_if_empty(path)
        _placeholders.discard(path)


def check_sandboxed_write(path: Path, ctx: ToolContext) -> None:
    """With the sandbox on, refuse a write to `path` (symlink-free) that confined bash could
    not make: outside the writable roots, or into a protected path of the workspace."""
    if ctx.settings.sandbox != "workspace-write":
        return
    workspace = ctx.cwd.resolve()
    if path.is_relative_to(workspace) and path != workspace:
        parts = path.relative_to(workspace).parts
        protected = next((i for i, part in enumerate(parts) if _is_protected_name(part)), None)
        if protected is not None:
            where = workspace.joinpath(*parts[: protected + 1])
            raise ToolError(
                f"Refused: {path} is inside {where}, which stays read-only in the sandbox "
                f"(--sandbox workspace-write keeps {READ_ONLY_NAMES} read-only at every "
                "depth: they take effect at the next launch). Ask the user to change it."
            )
    roots = writable_roots(ctx.cwd)
    if not any(path.is_relative_to(root) for root in roots):
        places = " or ".join(str(root) for root in roots)
        raise ToolError(
            f"Refused: {path} is outside the sandbox's writable places ({places}); "
            "--sandbox workspace-write allows changes only there, symlinks resolved. "
            "Write inside the working directory, or ask the user."
        )
