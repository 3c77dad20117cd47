"""Replace a file in one step that survives a crash and a power cut.

Every file written for the user (the write and edit tools, undo, the user's
config, saved approvals, keys in `.env`) goes through here: the new content is
written to a temporary file in the same folder, flushed to the disk, renamed
over the old name, and the folder itself is flushed so that the rename sticks.
A reader sees the old file or the new one, never half of either; after a power
cut the file is not left empty, as a rename without flushes can leave it.

The `_at` variant works inside a folder given as a descriptor, so that callers
who opened that folder without following links (see tools/local/safe_open.py)
write exactly there, whatever is renamed or swapped meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import BinaryIO


def default_mode() -> int:
    """What a new file gets: 0o666 less the umask, as `open()` would give it."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_at(
    dir_fd: int,
    name: str,
    data: bytes | BinaryIO,
    mode: int | None = None,
    *,
    new_mode: int | None = None,
) -> os.stat_result:
    """Replace `name` in the folder open as `dir_fd` with `data` (bytes or a binary file).

    `mode` defaults to the current file's permissions, else `new_mode`, else
    `default_mode()`. A symlink at `name` is replaced, never followed. Returns the new
    file's status, taken from its descriptor.
    """
    if mode is None:
        try:
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode & 0o7777
        except FileNotFoundError:
            mode = default_mode() if new_mode is None else new_mode
    tmp = f".{name[:200]}.{secrets.token_hex(4)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as file:
            if isinstance(data, bytes | bytearray):
                file.write(data)
            else:
                shutil.copyfileobj(data, file, 1 << 20)
            file.flush()
            os.fchmod(file.fileno(), mode)
            os.fsync(file.fileno())
            written = os.fstat(file.fileno())
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)
    return written


def write_file(
    path: Path, data: bytes | BinaryIO, mode: int | None = None, *, new_mode: int | None = None
) -> None:
    """Replace the file at `path` (its folder is created if missing), as `write_at` does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        write_at(dir_fd, path.name, data, mode, new_mode=new_mode)
    finally:
        os.close(dir_fd)
