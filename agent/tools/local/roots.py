"""Where the sandbox lets anything change files: one answer for bash, write and edit.

The writable roots are the working directory (the workspace) and the temp dir.
Inside the workspace, what would take effect on the next, unconfined launch
stays read-only, at every depth: `.git` (hooks and config run by every git
command, a shell prompt's included), `.env*` and `configs/` (read by ml-intern at
start-up), `AGENTS.md`, `CLAUDE.md`, `.agents/` and `.claude/` (instructions and
extensions read by ml-intern and other agents), and the files those instructions
import with `@path`. Bind mounts cover what exists when
a command starts; a new one cannot be created at all (`creations.py`), so nothing
needs to be made on disk beforehand.
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from pathlib import Path

from agent.extensions.memory import imported_files
from agent.tools.local.names import NOT_LOOKED_INTO, PROTECTED_FILES, is_protected_name
from agent.tools.spec import ToolContext, ToolError
from agent.trust import project_files

MAX_FOLDERS_LOOKED_INTO = 5_000  # a workspace of more is searched this far, nearest first
READ_ONLY_NAMES = ".git/, .env*, configs/, AGENTS.md, CLAUDE.md, .agents/, .claude/"


def writable_roots(cwd: Path) -> list[Path]:
    """Where confined commands, `write` and `edit` may change files, minus the protected paths."""
    return list(dict.fromkeys((Path(tempfile.gettempdir()).resolve(), cwd.resolve())))


def sandbox_notice(cwd: Path) -> str:
    """The line said at start with the sandbox on: where commands may write, and why not more."""
    places = " and ".join(str(root) for root in reversed(writable_roots(cwd)))
    return (
        f"Sandbox on: commands may change files only in {places}; {READ_ONLY_NAMES} stay "
        "read-only there at every depth and cannot be created anywhere, and neither can the "
        "files those instructions import, because they take effect at the next launch."
    )


def refusal_note(paths: list[str]) -> str:
    """What the model reads after the sandbox refused to create protected names: which,
    why, and what to do instead (the command itself only saw EPERM)."""
    shown = ", ".join(dict.fromkeys(paths[:3]))
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    return (
        f"The sandbox refused to create {shown}{more} (Operation not permitted): confined "
        f"commands cannot create {READ_ONLY_NAMES} anywhere, because they take effect at the "
        "next launch (git runs a repository's hooks and config; ml-intern reads the rest). "
        "So `git clone` and `git init` fail inside the sandbox: download files without git "
        "(e.g. `hf download`, a release archive), or ask the user to run it outside."
    )


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
            if is_protected_name(entry.name):
                found.append(Path(entry.path))
            elif entry.name not in NOT_LOOKED_INTO and entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
    return sorted(found)


def guarded_paths(workspace: Path, protected: list[Path] | None = None) -> list[Path]:
    """The files that memory files import (`@docs/style.md`), existing or not, from the
    git root's memory files down to the workspace's and at every depth below it: kept
    read-only and never created, like the memory files themselves."""
    protected = protected_paths(workspace) if protected is None else protected
    above = [f.path for f in project_files(workspace) if f.is_instructions]
    below = [p for p in protected if p.name in PROTECTED_FILES and p.is_file()]
    return imported_files(list(dict.fromkeys((*above, *below))))


def read_only_paths(workspace: Path) -> tuple[list[Path], list[Path]]:
    """(what to mount read-only, guarded full paths): the protected paths and the
    imported files that exist, then every imported file."""
    protected = protected_paths(workspace)
    guarded = guarded_paths(workspace, protected)
    return [*protected, *(p for p in guarded if p.exists())], guarded


def check_sandboxed_write(path: Path, ctx: ToolContext) -> None:
    """With the sandbox on, refuse a write to `path` (symlink-free) that confined bash could
    not make: outside the writable roots, or into a protected path of the workspace."""
    if ctx.settings.sandbox != "workspace-write":
        return
    workspace = ctx.cwd.resolve()
    if path.is_relative_to(workspace) and path != workspace:
        parts = path.relative_to(workspace).parts
        protected = next((i for i, part in enumerate(parts) if is_protected_name(part)), None)
        if protected is not None:
            where = workspace.joinpath(*parts[: protected + 1])
            raise ToolError(
                f"Refused: {path} is inside {where}, which stays read-only in the sandbox "
                f"(--sandbox workspace-write keeps {READ_ONLY_NAMES} read-only at every "
                "depth: they take effect at the next launch). Ask the user to change it."
            )
    if path.is_relative_to(workspace) and path in guarded_paths(workspace):
        raise ToolError(
            f"Refused: {path} is imported by a memory file (AGENTS.md, CLAUDE.md or "
            "ML_INTERN.md), so it stays read-only in the sandbox like that file: it takes "
            "effect at the next launch. Ask the user to change it."
        )
    roots = writable_roots(ctx.cwd)
    if not any(path.is_relative_to(root) for root in roots):
        places = " or ".join(str(root) for root in roots)
        raise ToolError(
            f"Refused: {path} is outside the sandbox's writable places ({places}); "
            "--sandbox workspace-write allows changes only there, symlinks resolved. "
            "Write inside the working directory, or ask the user."
        )
