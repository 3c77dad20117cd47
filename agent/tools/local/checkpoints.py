"""File checkpoints per user turn, so undoing a turn can undo its file changes too.

Before write or edit changes a file, its previous content (or the fact that it
did not exist) is kept once per turn and path, in `ctx.state["checkpoints"]`.
Small files stay in memory; large ones are copied under the data directory and
removed with the session's state. Changes made by bash are not tracked.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.config import data_home
from agent.tools.spec import ToolContext

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
MEMORY_LIMIT = 4 * 1024 * 1024


@dataclass
class Saved:
    """A file as it was before a turn first changed it."""

    existed: bool
    content: bytes | None = None
    copy: Path | None = None  # large files: where the old content was copied to
    mode: int | None = None
    made_dir: Path | None = None  # the outermost folder the change had to create


@dataclass
class Checkpoints:
    """turn -> path -> what the file was like before that turn changed it."""

    directory: Path
    turns: dict[int, dict[str, Saved]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        weakref.finalize(self, shutil.rmtree, self.directory, True)


def _store(state: dict[str, Any], session_id: str) -> Checkpoints:
    if CHECKPOINTS not in state:
        name = session_id or f"unsaved-{os.getpid()}-{time.time_ns():x}"
        state[CHECKPOINTS] = Checkpoints(data_home() / "checkpoints" / name)
    return state[CHECKPOINTS]


def _outermost_missing(folder: Path) -> Path | None:
    missing = None
    while not folder.exists():
        missing, folder = folder, folder.parent
    return missing


def checkpoint(ctx: ToolContext, path: Path) -> None:
    """Remember `path` as it is now, unless this turn already changed it."""
    store = _store(ctx.state, ctx.session_id)
    saved = store.turns.setdefault(ctx.turn, {})
    if str(path) in saved:
        return
    if not path.exists():
        saved[str(path)] = Saved(existed=False, made_dir=_outermost_missing(path.parent))
        return
    stat = path.stat()
    mode = stat.st_mode & 0o7777
    if stat.st_size <= MEMORY_LIMIT:
        saved[str(path)] = Saved(existed=True, content=path.read_bytes(), mode=mode)
        return
    store.directory.mkdir(parents=True, exist_ok=True)
    fd, copy = tempfile.mkstemp(dir=store.directory, prefix=f"{ctx.turn}-", suffix=".bak")
    os.close(fd)
    shutil.copyfile(path, copy)
    saved[str(path)] = Saved(existed=True, copy=Path(copy), mode=mode)


def _put_back(path: Path, saved: Saved) -> None:
    """Give the file its old content in one step, so a crash never leaves it half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            if saved.copy is not None:
                with saved.copy.open("rb") as old:
                    shutil.copyfileobj(old, file)
            else:
                file.write(saved.content or b"")
        if saved.mode is not None:
            Path(tmp).chmod(saved.mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove(path: Path, saved: Saved) -> None:
    """Delete a file the turn created, and the empty folders it created for it."""
    path.unlink(missing_ok=True)
    if saved.made_dir is None:
        return
    folder = path.parent
    while folder.is_relative_to(saved.made_dir):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _restore(path: Path, saved: Saved) -> None:
    if saved.existed:
        _put_back(path, saved)
    else:
        _remove(path, saved)
    if saved.copy is not None:
        saved.copy.unlink(missing_ok=True)


def restore_turn(
    state: dict[str, Any], turn: int, on_failure: Callable[[str], None] = log.warning
) -> list[str]:
    """Put back every file changed in `turn` and later turns, newest change first.

    Files that did not exist before are deleted. Returns the paths restored;
    a file that cannot be restored is reported through `on_failure` and skipped.
    The checkpoints of those turns are used up either way.
    """
    store: Checkpoints | None = state.get(CHECKPOINTS)
    if store is None:
        return []
    restored: dict[str, None] = {}
    for number in sorted((t for t in store.turns if t >= turn), reverse=True):
        for name, saved in reversed(store.turns.pop(number).items()):
            try:
                _restore(Path(name), saved)
            except OSError as exc:
                on_failure(f"Could not restore {name}: {exc}")
                continue
            restored[name] = None
    return list(restored)


def forget_turn(state: dict[str, Any], turn: int) -> None:
    """Drop the checkpoints of `turn` and later turns, leaving the files as they are.

    Needed when a turn is undone without its files: the next turn reuses its number.
    """
    store: Checkpoints | None = state.get(CHECKPOINTS)
    if store is None:
        return
    for number in [t for t in store.turns if t >= turn]:
        for saved in store.turns.pop(number).values():
            if saved.copy is not None:
                saved.copy.unlink(missing_ok=True)
