"""Performing a confined command's name-creating syscall for it, unless the name is protected.

The supervisor (`supervisor.py`) hands each call here. The path arguments are copied
out of the caller's memory once, and the call is made here with that copy, never
re-read: a thread of the caller flipping `foo` to `.git` after the check changes
nothing. A final name that takes effect at the next launch (`names.py`) is refused
with EPERM, anywhere: a folder made during the run is no safer than another, since a
rename or a symlink can put it anywhere later. The same holds for a few full paths
given by the supervisor (the files memory files import: `roots.guarded_paths`).

Everything is resolved as the caller would resolve it, but through the sandbox's own
root (`/proc/PID/root`, with RESOLVE_IN_ROOT): its read-only mounts apply, and an
absolute symlink leads where it leads inside the sandbox, never to the host's file of
that name. A final symlink that an O_CREAT open would follow is followed here step by
step, each target name checked like the first. The calling thread has the confined
command's umask and no capabilities (`syscalls.act_as_confined`), so what it creates is
what the command itself could have created, with the same mode and owner.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from agent.tools.local.names import NOT_LOOKED_INTO, is_protected_name
from agent.tools.local.syscalls import (
    RESOLVE_IN_ROOT,
    RESOLVE_NO_MAGICLINKS,
    RESOLVE_NO_SYMLINKS,
    openat2,
    renameat2,
)

AT_FDCWD = -100
AT_SYMLINK_FOLLOW, AT_EMPTY_PATH = 0x400, 0x1000
PATH_MAX = 4096
_MAX_LINKS = 40  # as the kernel's own limit on symlinks followed in one lookup
_PAGE = 4096
_CREATING = os.O_CREAT | os.O_EXCL
_PROC_FD = re.compile(rb"/proc/(self|thread-self|[0-9]+)/fd/([0-9]+)")
_STANDARD_STREAMS = {
    b"/dev/stdin": b"/proc/self/fd/0",
    b"/dev/stdout": b"/proc/self/fd/1",
    b"/dev/stderr": b"/proc/self/fd/2",
}
_DIR = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
_IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS


class Answer(NamedTuple):
    """What the caller's syscall returns: a value, a negative errno, or a descriptor to hand
    over (with O_CLOEXEC or not)."""

    value: int = 0
    error: int = 0
    fd: int | None = None
    cloexec: bool = False


class MustWait(Exception):
    """The open would wait for another process (a FIFO without its other end): it is
    made again on a thread of its own, so the supervisor goes on answering the others,
    that other process included."""


class Refused(OSError):
    """A protected name the caller may not create; `filename` says where."""

    def __init__(self, path: bytes) -> None:
        super().__init__(errno.EPERM, "protected name", os.fsdecode(path))


def _signed(arg: int) -> int:
    """A 32-bit int argument (a dirfd) from its 64-bit register."""
    low = arg & 0xFFFFFFFF
    return low - (1 << 32) if low & 0x80000000 else low


class Caller:
    """One notified syscall's process, looked at through /proc."""

    def __init__(
        self,
        pid: int,
        still_valid: Callable[[], None],
        may_wait: bool,
        guarded: frozenset[bytes] = frozenset(),
    ) -> None:
        self.pid = pid
        self.may_wait = may_wait
        self.guarded = guarded  # full paths protected like names (files memory imports)
        self._fds: list[int] = []
        try:
            self._mem = self._keep(os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC))
            self.root = self._keep(os.open(f"/proc/{pid}/root", _DIR))
            self._cwd = os.fsencode(Path(f"/proc/{pid}/cwd").readlink())
            self._umask = _umask(pid)
            still_valid()  # the pid was not reused: what was opened above is the caller's
        except BaseException:
            self.close()
            raise

    def _keep(self, fd: int) -> int:
        self._fds.append(fd)
        return fd

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)

    def string(self, address: int) -> bytes:
        """A NUL-terminated string from the caller's memory, copied once."""
        if address == 0 or address >= 1 << 63:
            raise OSError(errno.EFAULT, "bad address")
        data = b""
        while len(data) <= PATH_MAX:
            size = _PAGE - (address + len(data)) % _PAGE
            try:
                chunk = os.pread(self._mem, size, address + len(data))
            except OSError:
                raise OSError(errno.EFAULT, "bad address") from None
            end = chunk.find(b"\0")
            if end >= 0:
                return data + chunk[:end]
            if not chunk:
                raise OSError(errno.EFAULT, "bad address")
            data += chunk
        raise OSError(errno.ENAMETOOLONG, "path too long")

    def absolute(self, dirfd_arg: int, path: bytes) -> bytes:
        """`path` as an absolute path in the sandbox, relative ones joined to the dirfd's
        folder (the working directory for AT_FDCWD), as the caller saw it."""
        if path.startswith(b"/"):
            return path
        if not path:
            raise OSError(errno.ENOENT, "empty path")
        dirfd = _signed(dirfd_arg)
        if dirfd == AT_FDCWD:
            return self._cwd + b"/" + path
        try:
            base = os.fsencode(Path(f"/proc/{self.pid}/fd/{dirfd}").readlink())
        except OSError:
            raise OSError(errno.EBADF, "bad file descriptor") from None
        if not base.startswith(b"/"):
            raise OSError(errno.ENOTDIR, "not a directory")  # a pipe, a socket...
        return base + b"/" + path

    def parent(self, path: bytes) -> tuple[int, bytes, bytes]:
        """The folder that holds the last name of absolute `path` (a descriptor, opened in
        the sandbox's root), that name, and the folder's path."""
        head, _, name = path.rstrip(b"/").rpartition(b"/")
        if not name:
            return self._keep(os.open(b"/", _DIR, dir_fd=self.root)), b".", b"/"
        head = head or b"/"
        return self._keep(openat2(self.root, head, _DIR, 0, _IN_ROOT)), name, head

    def own_descriptor(self, path: bytes) -> str | None:
        """For `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N` and `/proc/<its pid>/fd/N`,
        where the caller opens one of its own open files again: that file's magic link
        in this process's /proc. Resolved in the sandbox these would name this process's
        own (`self`), which the sandbox's /proc does not show. Else None."""
        path = _STANDARD_STREAMS.get(path, path)
        if path.startswith(b"/dev/fd/"):
            path = b"/proc/self/fd/" + path.removeprefix(b"/dev/fd/")
        match = _PROC_FD.fullmatch(path)
        if match is None:
            return None
        who = match[1]
        if who not in (b"self", b"thread-self") and int(who) not in self._sandbox_ids():
            return None
        return f"/proc/{self.pid}/fd/{int(match[2])}"

    def _sandbox_ids(self) -> set[int]:
        """The caller's thread and process ids as the sandbox's /proc numbers them."""
        ids = set()
        with open(f"/proc/{self.pid}/status", "rb") as status:
            for line in status:
                if line.startswith((b"NSpid:", b"NStgid:")):
                    ids.add(int(line.split()[-1]))
        return ids

    def umask(self) -> None:
        """Take the caller's umask for what this thread creates next."""
        os.umask(self._umask)

    def open_fd(self, dirfd_arg: int) -> int:
        """The caller's descriptor `dirfd_arg`, opened again here (for AT_EMPTY_PATH)."""
        return self._keep(os.open(f"/proc/{self.pid}/fd/{_signed(dirfd_arg)}", os.O_PATH))

    def resolved(self, path: bytes, follow: bool) -> int:
        flags = os.O_PATH | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
        return self._keep(openat2(self.root, path, flags, 0, _IN_ROOT))


def _umask(pid: int) -> int:
    with open(f"/proc/{pid}/status", "rb") as status:
        for line in status:
            if line.startswith(b"Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _guarded(c: Caller, folder: int, name: bytes, or_above: bool = False) -> bool:
    """Whether `name` in `folder` is one of the caller's guarded paths (or, `or_above`, a
    folder that holds one: moved, it would take the guarded path along or bring one)."""
    if not c.guarded:
        return False
    path = os.fsencode(Path(f"/proc/self/fd/{folder}").readlink()).rstrip(b"/") + b"/" + name
    return path in c.guarded or (or_above and any(g.startswith(path + b"/") for g in c.guarded))


def _refuse_protected(c: Caller, folder: int, head: bytes, name: bytes) -> None:
    """Refuse to create a protected name; one that exists already is the kernel's EEXIST."""
    if not is_protected_name(os.fsdecode(name)) and not _guarded(c, folder, name):
        return
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        raise Refused(head.rstrip(b"/") + b"/" + name) from None
    raise OSError(errno.EEXIST, "file exists")


def _open(
    c: Caller, a: tuple[int, ...], dirfd: int, path_arg: int, flags: int, mode: int
) -> Answer:
    path = c.absolute(dirfd, c.string(a[path_arg]))
    if path.endswith(b"/"):
        raise OSError(errno.EISDIR, "is a directory")
    flags &= 0xFFFFFFFF
    nonblocking = not c.may_wait and not flags & os.O_NONBLOCK
    own = (flags & ~os.O_CLOEXEC) | os.O_CLOEXEC | (os.O_NONBLOCK if nonblocking else 0)
    c.umask()
    for _ in range(_MAX_LINKS):
        if (own_fd := c.own_descriptor(path)) is not None:
            fd = os.open(own_fd, own, mode & 0o7777)  # an open file: nothing is created
            if nonblocking:
                _blocking_again(fd, flags)
            return Answer(fd=fd, cloexec=bool(flags & os.O_CLOEXEC))
        folder, name, head = c.parent(path)
        protected = is_protected_name(os.fsdecode(name)) or _guarded(c, folder, name)
        try:  # a protected name is opened only if it exists (then its mount decides)
            if protected:
                fd = openat2(folder, name, own & ~_CREATING, 0, RESOLVE_NO_SYMLINKS)
            else:
                fd = openat2(folder, name, own, mode & 0o7777, RESOLVE_NO_SYMLINKS)
        except OSError as exc:
            if nonblocking and exc.errno in (errno.ENXIO, errno.EWOULDBLOCK):
                raise MustWait() from None
            if protected and exc.errno == errno.ENOENT:
                raise Refused(head.rstrip(b"/") + b"/" + name) from None
            if exc.errno != errno.ELOOP or flags & os.O_NOFOLLOW:
                raise
            if flags & os.O_EXCL:
                raise OSError(errno.EEXIST, "file exists") from None
            try:  # a final symlink: the caller's open would follow it, and create its target
                target = os.readlink(name, dir_fd=folder)
            except OSError:
                raise exc from None
            path = target if target.startswith(b"/") else head + b"/" + target
            continue
        if protected and flags & os.O_EXCL:
            os.close(fd)
            raise OSError(errno.EEXIST, "file exists")
        if nonblocking:
            _blocking_again(fd, flags)
        return Answer(fd=fd, cloexec=bool(flags & os.O_CLOEXEC))
    raise OSError(errno.ELOOP, "too many levels of symbolic links")


def _blocking_again(fd: int, flags: int) -> None:
    """Clear the O_NONBLOCK this open added. A FIFO opened only to read is opened again,
    waiting: its blocking open would have waited for a writer (a writer's open that
    succeeded found a reader, and O_RDWR never waits)."""
    if stat.S_ISFIFO(os.fstat(fd).st_mode) and flags & os.O_ACCMODE == os.O_RDONLY:
        os.close(fd)
        raise MustWait()
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)


def _mkdir(c: Caller, dirfd: int, path: int, mode: int) -> Answer:
    folder, name, head = c.parent(c.absolute(dirfd, c.string(path)))
    _refuse_protected(c, folder, head, name)
    c.umask()
    os.mkdir(name, mode & 0o7777, dir_fd=folder)
    return Answer()


def _mknod(c: Caller, dirfd: int, path: int, mode: int, device: int) -> Answer:
    folder, name, head = c.parent(c.absolute(dirfd, c.string(path)))
    _refuse_protected(c, folder, head, name)
    c.umask()
    os.mknod(name, mode & 0xFFFFFFFF, device & 0xFFFFFFFF, dir_fd=folder)
    return Answer()


def _symlink(c: Caller, target: int, dirfd: int, path: int) -> Answer:
    content = c.string(target)
    folder, name, head = c.parent(c.absolute(dirfd, c.string(path)))
    _refuse_protected(c, folder, head, name)
    os.symlink(content, name, dir_fd=folder)
    return Answer()


def _link(c: Caller, old_dir: int, old: int, new_dir: int, new: int, flags: int) -> Answer:
    old_path = c.string(old)
    if not old_path and flags & AT_EMPTY_PATH:
        source = c.open_fd(old_dir)
    else:
        source = c.resolved(c.absolute(old_dir, old_path), bool(flags & AT_SYMLINK_FOLLOW))
    folder, name, head = c.parent(c.absolute(new_dir, c.string(new)))
    _refuse_protected(c, folder, head, name)
    os.link(f"/proc/self/fd/{source}", name, dst_dir_fd=folder, follow_symlinks=True)
    return Answer()


def _unsearched(folder: int, name: bytes) -> bool:
    """Whether `name` in `folder` is in a folder whose protected names are not mounted
    read-only (a `.venv`, `node_modules`...: see `roots.protected_paths`)."""
    where = Path(f"/proc/self/fd/{folder}").readlink()
    return any(part in NOT_LOOKED_INTO for part in (*where.parts, os.fsdecode(name)))


def _protected_inside(folder: int, name: bytes) -> str | None:
    """A protected name somewhere inside the folder `name`, links not followed, or None."""
    try:
        top = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
    except OSError:
        return None  # not a folder
    try:
        for root, dirs, files, _ in os.fwalk(".", dir_fd=top):
            found = next((n for n in (*dirs, *files) if is_protected_name(n)), None)
            if found is not None:
                return str(Path(root, found))
    finally:
        os.close(top)
    return None


def _rename(c: Caller, old_dir: int, old: int, new_dir: int, new: int, flags: int = 0) -> Answer:
    old_folder, old_name, old_head = c.parent(c.absolute(old_dir, c.string(old)))
    new_folder, new_name, new_head = c.parent(c.absolute(new_dir, c.string(new)))
    for folder, head, name in ((old_folder, old_head, old_name), (new_folder, new_head, new_name)):
        if is_protected_name(os.fsdecode(name)) or _guarded(c, folder, name, or_above=True):
            raise Refused(head.rstrip(b"/") + b"/" + name)  # moved away, it would be writable
    if _unsearched(old_folder, old_name) and not _unsearched(new_folder, new_name):
        # out of a `.venv` and the like, a folder must not bring a writable `.git` along
        inside = _protected_inside(old_folder, old_name)
        if inside is not None:
            raise Refused(old_head.rstrip(b"/") + b"/" + old_name + b"/" + os.fsencode(inside))
    if flags & 0xFFFFFFFF:
        renameat2(old_folder, old_name, new_folder, new_name, flags & 0xFFFFFFFF)
    else:
        os.rename(old_name, new_name, src_dir_fd=old_folder, dst_dir_fd=new_folder)
    return Answer()


_CREAT = os.O_CREAT | os.O_WRONLY | os.O_TRUNC
_AT = AT_FDCWD & 0xFFFFFFFF
_HANDLERS: dict[str, Callable[[Caller, tuple[int, ...]], Answer]] = {
    "open": lambda c, a: _open(c, a, _AT, 0, a[1], a[2]),
    "openat": lambda c, a: _open(c, a, a[0], 1, a[2], a[3]),
    "creat": lambda c, a: _open(c, a, _AT, 0, _CREAT, a[1]),
    "mkdir": lambda c, a: _mkdir(c, _AT, a[0], a[1]),
    "mkdirat": lambda c, a: _mkdir(c, a[0], a[1], a[2]),
    "mknod": lambda c, a: _mknod(c, _AT, a[0], a[1], a[2]),
    "mknodat": lambda c, a: _mknod(c, a[0], a[1], a[2], a[3]),
    "symlink": lambda c, a: _symlink(c, a[0], _AT, a[1]),
    "symlinkat": lambda c, a: _symlink(c, a[0], a[1], a[2]),
    "link": lambda c, a: _link(c, _AT, a[0], _AT, a[1], 0),
    "linkat": lambda c, a: _link(c, a[0], a[1], a[2], a[3], a[4]),
    "rename": lambda c, a: _rename(c, _AT, a[0], _AT, a[1]),
    "renameat": lambda c, a: _rename(c, a[0], a[1], a[2], a[3]),
    "renameat2": lambda c, a: _rename(c, a[0], a[1], a[2], a[3], a[4]),
}


def perform(
    name: str,
    pid: int,
    args: tuple[int, ...],
    still_valid: Callable[[], None],
    may_wait: bool = False,
    guarded: frozenset[bytes] = frozenset(),
) -> Answer:
    """Make syscall `name` with `args` for process `pid`, or refuse it; OSError's errno
    becomes the caller's. `still_valid` raises once the caller is gone. Without
    `may_wait`, an open that would wait raises MustWait instead. The `guarded` full
    paths are refused like protected names, and so is moving a folder that holds one."""
    caller = Caller(pid, still_valid, may_wait, guarded)
    try:
        return _HANDLERS[name](caller, args)
    finally:
        with contextlib.suppress(OSError):
            caller.close()
