"""Open the folders that write, edit and undo change without following a link at any step.

These tools run in the agent, outside the sandbox, while a confined background
job may be changing the same folders. Checking a path and then opening it by
name leaves a gap: the job can swap a checked folder for a symlink to `$HOME`
(one `renameat2` with RENAME_EXCHANGE) and the file lands there. So the path
is first resolved and checked as a whole (symlinks the workspace already holds
keep working, as their targets are checked), and then opened again from a
descriptor of its root, refusing any link on the way: `openat2` with
RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it (Linux 5.6+),
else one `openat(O_DIRECTORY | O_NOFOLLOW)` per folder. A link that appears
in between makes the call fail with `LinkRefused`; nothing is written.

With the sandbox off the root is `/`: the resolved path is opened as before,
so a trusted user's symlinks behave as they always did.
"""

from __future__ import annotations

import errno
import functools
import os
import platform
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.tools.local.roots import writable_roots
from agent.tools.spec import ToolContext, ToolError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_SYS_OPENAT2 = 437
_SYSCALL_437 = frozenset(("x86_64", "aarch64", "arm64", "riscv64", "ppc64le", "s390x"))
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_BENEATH = 0x08
_LINK_ERRORS = (errno.ELOOP, errno.ENOTDIR, errno.EXDEV)


class LinkRefused(OSError):
    """A folder on the way turned into a link (or stopped being a folder) after the check."""


def root_for(path: Path, ctx: ToolContext) -> Path:
    """Where opening `path` starts: with the sandbox on, the writable root that holds it;
    otherwise `/`."""
    if ctx.settings.sandbox != "workspace-write":
        return Path(path.anchor)
    holding = [root for root in writable_roots(ctx.cwd) if path.is_relative_to(root)]
    if not holding:
        raise LinkRefused(errno.EXDEV, f"{path} is outside the sandbox's writable places")
    return max(holding, key=lambda root: len(root.parts))


@functools.cache
def _openat2() -> object | None:
    """The libc `syscall` function, when this kernel has openat2; None otherwise."""
    if not sys.platform.startswith("linux") or platform.machine() not in _SYSCALL_437:
        return None  # the number means something else there: walk instead
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syscall = libc.syscall
    except (OSError, AttributeError):
        return None
    syscall.restype = ctypes.c_long
    fd = _call_openat2(syscall, os.open("/", _DIR_FLAGS), ".", _DIR_FLAGS, close_dir=True)
    if fd < 0:
        return None
    os.close(fd)
    return syscall


def _call_openat2(
    syscall: object, dir_fd: int, rel: str, flags: int, close_dir: bool = False
) -> int:
    """openat2(dir_fd, rel, flags, beneath and without links): a descriptor, or -errno."""
    import ctypes

    class OpenHow(ctypes.Structure):
        _fields_ = [
            ("flags", ctypes.c_uint64),
            ("mode", ctypes.c_uint64),
            ("resolve", ctypes.c_uint64),
        ]

    resolve = _RESOLVE_BENEATH | _RESOLVE_NO_SYMLINKS | _RESOLVE_NO_MAGICLINKS
    how = OpenHow(flags, 0, resolve)
    try:
        fd = syscall(  # type: ignore[operator]
            ctypes.c_long(_SYS_OPENAT2),
            ctypes.c_int(dir_fd),
            ctypes.c_char_p(os.fsencode(rel)),
            ctypes.byref(how),
            ctypes.c_size_t(ctypes.sizeof(how)),
        )
    finally:
        if close_dir:
            os.close(dir_fd)
    return int(fd) if fd >= 0 else -ctypes.get_errno()


def _refused(path: Path, root: Path) -> LinkRefused:
    """Why `path` cannot be opened below `root`: a file where a folder should be, or a link."""
    for depth in range(1, len(path.relative_to(root).parts) + 1):
        prefix = root.joinpath(*path.relative_to(root).parts[:depth])
        try:
            mode = prefix.lstat().st_mode
        except OSError:
            break
        if stat.S_ISLNK(mode):
            break
        if not stat.S_ISDIR(mode):
            return LinkRefused(errno.ENOTDIR, f"{prefix} is a file, not a folder.")
    return LinkRefused(
        errno.ELOOP,
        f"Refused: a folder on the way from {root} to {path} was replaced by a link while "
        "this ran; nothing was written. Something else is changing that folder.",
    )


def _walk(root_fd: int, parts: tuple[str, ...], create: bool, path: Path, root: Path) -> int:
    """One folder at a time from `root_fd`, never through a link; made when missing if asked."""
    fd = os.dup(root_fd)
    try:
        for part in parts:
            try:
                child = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
                child = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in _LINK_ERRORS:
                    raise _refused(path, root) from None
                raise
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_folder(folder: Path, root: Path, *, create: bool = False) -> int:
    """A descriptor of `folder` (resolved, under `root`), opened without following any link.

    Raises FileNotFoundError when it is missing (unless `create`), LinkRefused when a
    link or a file stands where a folder was."""
    parts = folder.relative_to(root).parts
    if ".." in parts:
        raise _refused(folder, root)
    root_fd = os.open(root, _DIR_FLAGS)
    try:
        if not parts:
            return os.dup(root_fd)
        syscall = _openat2()
        if syscall is not None:
            fd = _call_openat2(syscall, root_fd, "/".join(parts), _DIR_FLAGS)
            if fd >= 0:
                return fd
            if -fd in _LINK_ERRORS:
                raise _refused(folder, root)
            if -fd != errno.ENOENT:
                raise OSError(-fd, os.strerror(-fd), str(folder))
            if not create:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(folder))
        return _walk(root_fd, parts, create, folder, root)
    finally:
        os.close(root_fd)


@contextmanager
def folder_of(path: Path, root: Path, *, create: bool = False) -> Iterator[int]:
    """`open_folder(path.parent, ...)`, closed when done."""
    fd = open_folder(path.parent, root, create=create)
    try:
        yield fd
    finally:
        os.close(fd)


def open_file_at(dir_fd: int, name: str, path: Path) -> int | None:
    """`name` in the folder `dir_fd`, opened to read without following a link; None if missing.

    Non-blocking, so that a pipe put in its place cannot stall the agent; anything
    but a regular file is refused."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LinkRefused(
                errno.ELOOP, f"Refused: {path} was replaced by a link while this ran."
            ) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LinkRefused(errno.EINVAL, f"Refused: {path} is no longer a regular file.")
    return fd


def read_at(dir_fd: int, name: str, path: Path) -> tuple[bytes, int] | None:
    """The content and permission bits of `name` in `dir_fd`, not following links;
    None if missing."""
    fd = open_file_at(dir_fd, name, path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as file:
        return file.read(), os.fstat(fd).st_mode & 0o7777


def read_current(path: Path, root: Path) -> tuple[bytes, int] | None:
    """The file at `path` (resolved, under `root`) and its permission bits, read without
    following a link anywhere on the way; None when it does not exist."""
    try:
        with folder_of(path, root) as dir_fd:
            return read_at(dir_fd, path.name, path)
    except FileNotFoundError:
        return None


@contextmanager
def refusing_links() -> Iterator[None]:
    """Turn LinkRefused into a ToolError the model reads."""
    try:
        yield
    except LinkRefused as exc:
        raise ToolError(exc.strerror or str(exc)) from None
