"""File checkpoints per user turn, so undoing a turn can undo its file changes too.

Before write or edit changes a file, its previous content (or the fact that it
did not exist) is kept once per turn and path, in `ctx.state["checkpoints"]`.
Small files stay in memory; large ones are copied under the data directory and
removed with the session's state. Changes made by bash are not tracked.

Files are read and put back through descriptors opened without following links
(safe_open.py), from the same root the change was made under, so a folder swapped
for a symlink meanwhile cannot make undo read or write outside it. The copies are
bounded: past `KEEP_TURNS` turns, `MEMORY_BYTES` held in memory or `DISK_BYTES`
copied, the oldest turns' checkpoints are dropped, and undoing one of those turns
says that its files could not be restored. Copies left behind by a session that
was killed (kill -9 skips the clean-up) are removed by the next session after
`STALE_DAYS` days untouched.
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

from agent.atomic import write_at
from agent.config import data_home
from agent.tools.local.safe_open import folder_of, open_file_at
from agent.tools.spec import ToolContext

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
MEMORY_LIMIT = 4 * 1024 * 1024  # per file: larger ones are copied to disk
KEEP_TURNS = 100
MEMORY_BYTES = 256 * 1024 * 1024
DISK_BYTES = 4 * 1024 * 1024 * 1024
STALE_DAYS = 7


@dataclass
class Saved:
    """A file as it was before a turn first changed it."""

    existed: bool
    root: Path = Path("/")  # where the path was opened from, links refused below it
    content: bytes | None = None
    copy: Path | None = None  # large files: where the old content was copied to
    mode: int | None = None
    made_dir: Path | None = None  # the outermost folder the change had to create


@dataclass
class Checkpoints:
    """turn -> path -> what the file was like before that turn changed it."""

    directory: Path
    turns: dict[int, dict[str, Saved]] = field(default_factory=dict)
    dropped_through: int | None = None  # turns up to this one lost their checkpoints

    def __post_init__(self) -> None:
        weakref.finalize(self, shutil.rmtree, self.directory, True)


def _store(state: dict[str, Any], session_id: str) -> Checkpoints:
    if CHECKPOINTS not in state:
        name = session_id or f"unsaved-{os.getpid()}-{time.time_ns():x}"
        parent = data_home() / "checkpoints"
        _sweep(parent)
        state[CHECKPOINTS] = Checkpoints(parent / name)
    return state[CHECKPOINTS]


def _sweep(parent: Path) -> None:
    """Remove the copies of sessions that ended without cleaning up, once they are stale."""
    cutoff = time.time() - STALE_DAYS * 86400
    try:
        folders = list(parent.iterdir())
    except OSError:
        return
    for folder in folders:
        try:
            stale = folder.is_dir() and folder.stat().st_mtime < cutoff
        except OSError:
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)


def _outermost_missing(folder: Path) -> Path | None:
    missing = None
    while not folder.exists():
        missing, folder = folder, folder.parent
    return missing


def checkpoint(ctx: ToolContext, path: Path, root: Path) -> None:
    """Remember `path` (resolved, under `root`) as it is now, unless this turn already changed it."""
    store = _store(ctx.state, ctx.session_id)
    saved = store.turns.setdefault(ctx.turn, {})
    if str(path) in saved:
        return
    try:
        with folder_of(path, root) as dir_fd:
            fd = open_file_at(dir_fd, path.name, path)
    except FileNotFoundError:
        fd = None
    if fd is None:
        made = _outermost_missing(path.parent)
        saved[str(path)] = Saved(existed=False, root=root, made_dir=made)
        return
    with os.fdopen(fd, "rb") as file:
        stat = os.fstat(fd)
        mode = stat.st_mode & 0o7777
        if stat.st_size <= MEMORY_LIMIT:
            saved[str(path)] = Saved(existed=True, root=root, content=file.read(), mode=mode)
        else:
            store.directory.mkdir(parents=True, exist_ok=True)
            copy_fd, copy = tempfile.mkstemp(
                dir=store.directory, prefix=f"{ctx.turn}-", suffix=".bak"
            )
            with os.fdopen(copy_fd, "wb") as out:
                shutil.copyfileobj(file, out, 1 << 20)
            saved[str(path)] = Saved(existed=True, root=root, copy=Path(copy), mode=mode)
    _prune(store, ctx.turn)


def _sizes(turn: dict[str, Saved]) -> tuple[int, int]:
    """Bytes this turn holds in memory and on disk."""
    memory = sum(len(s.content) for s in turn.values() if s.content is not None)
    disk = 0
    for saved in turn.values():
        if saved.copy is not None:
            try:
                disk += saved.copy.stat().st_size
            except OSError:
                pass
    return memory, disk


def _prune(store: Checkpoints, current: int) -> None:
    """Drop the oldest turns' checkpoints until what is kept fits the bounds."""
    sizes = {turn: _sizes(files) for turn, files in store.turns.items()}
    for turn in sorted(store.turns):
        memory = sum(m for m, _ in sizes.values())
        disk = sum(d for _, d in sizes.values())
        fits = len(sizes) <= KEEP_TURNS and memory <= MEMORY_BYTES and disk <= DISK_BYTES
        if fits or turn == current:
            return
        for saved in store.turns.pop(turn).values():
            if saved.copy is not None:
                saved.copy.unlink(missing_ok=True)
        del sizes[turn]
        store.dropped_through = max(store.dropped_through or turn, turn)
        log.info("undo checkpoints of turn %d dropped to keep the copies bounded", turn)


def _put_back(path: Path, saved: Saved) -> None:
    """Give the file its old content in one step, so a crash never leaves it half written."""
    with folder_of(path, saved.root, create=True) as dir_fd:
        if saved.copy is not None:
            with saved.copy.open("rb") as old:
                write_at(dir_fd, path.name, old, saved.mode)
        else:
            write_at(dir_fd, path.name, saved.content or b"", saved.mode)


def _remove(path: Path, saved: Saved) -> None:
    """Delete a file the turn created, and the empty folders it created for it."""
    try:
        with folder_of(path, saved.root) as dir_fd:
            os.unlink(path.name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    if saved.made_dir is None:
        return
    folder = path.parent
    while folder.is_relative_to(saved.made_dir) and folder != saved.root:
        try:
            with folder_of(folder, saved.root) as dir_fd:
                os.rmdir(folder.name, dir_fd=dir_fd)
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
    if store.dropped_through is not None and turn <= store.dropped_through:
        on_failure(
            f"File changes of turns up to {store.dropped_through} could not be restored: "
            f"undo keeps copies for the last {KEEP_TURNS} turns and a bounded size"
        )
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
