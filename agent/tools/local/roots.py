"""Where the sandbox lets anything change files: one answer for bash, write and edit.

The writable roots are the working directory (the workspace) and the temp dir.
Inside the workspace, what would take effect on the next, unconfined launch
stays read-only: `.git` (hooks and config run by every git command, a shell
prompt's included), `.env*` and `configs/` (read by ml-intern at start-up).

A protected path that does not exist yet is created empty before a confined
command starts (an empty `.git/` and `configs/`, an empty `.env`), so the
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
from pathlib import Path

from agent.tools.local.reaper import mounted_anywhere, remove_if_empty
from agent.tools.spec import ToolContext, ToolError

_PROTECTED_DIRS = (".git", "configs")
_ENV_PREFIX = ".env"
_placeholders: set[Path] = set()
_reaper: subprocess.Popen[bytes] | None = None


def writable_roots(cwd: Path) -> list[Path]:
    """Where confined commands, `write` and `edit` may change files, minus the protected paths."""
    return list(dict.fromkeys((Path(tempfile.gettempdir()).resolve(), cwd.resolve())))


def _is_protected_name(name: str) -> bool:
    return name in _PROTECTED_DIRS or name.startswith(_ENV_PREFIX)


def protected_paths(workspace: Path) -> list[Path]:
    """The workspace's entries that stay read-only, as they exist now."""
    try:
        entries = sorted(workspace.iterdir())
    except OSError:
        return []
    return [entry for entry in entries if _is_protected_name(entry.name)]


def ensure_placeholders(workspace: Path) -> None:
    """Create the protected paths that are missing, empty, so a read-only mount can cover them."""
    wanted = [(workspace / name, True) for name in _PROTECTED_DIRS]
    wanted.append((workspace / _ENV_PREFIX, False))
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


def remove_placeholders() -> None:
    """Take back the placeholders that are still empty, unless a sandbox still mounts
    them (a background job): the watcher does that once ml-intern is gone."""
    if mounted_anywhere(sorted(_placeholders)):
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
        first = path.relative_to(workspace).parts[0]
        if _is_protected_name(first):
            raise ToolError(
                f"Refused: {path} is inside {workspace / first}, which stays read-only in the "
                "sandbox (--sandbox workspace-write keeps .git/, .env* and configs/ read-only). "
                "Ask the user to change it."
            )
    roots = writable_roots(ctx.cwd)
    if not any(path.is_relative_to(root) for root in roots):
        where = " or ".join(str(root) for root in roots)
        raise ToolError(
            f"Refused: {path} is outside the sandbox's writable places ({where}); "
            "--sandbox workspace-write allows changes only there, symlinks resolved. "
            "Write inside the working directory, or ask the user."
        )
