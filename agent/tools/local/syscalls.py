"""The few Linux syscalls the supervisor needs and Python's `os` lacks, through ctypes.

Standard library only, numbers for x86_64 and aarch64 (the sandbox's architectures).
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform

_NUMBERS = {  # name -> (x86_64, aarch64)
    "openat2": (437, 437),
    "renameat2": (316, 276),
    "capget": (125, 90),
    "capset": (126, 91),
}
RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_IN_ROOT = 0x02, 0x04, 0x10
_CLONE_FS = 0x200
_CAPABILITY_VERSION_3 = 0x20080522


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _nr(name: str) -> int:
    return _NUMBERS[name][platform.machine().lower() in ("aarch64", "arm64")]


def _check(result: int) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def openat2(dir_fd: int, path: bytes, flags: int, mode: int, resolve: int) -> int:
    """openat2(2): a new descriptor, opened with `resolve`'s restrictions on every step."""
    how = _OpenHow(flags, mode, resolve)
    call = _libc().syscall
    return _check(call(_nr("openat2"), dir_fd, path, ctypes.byref(how), ctypes.sizeof(how)))


def renameat2(old_dir: int, old: bytes, new_dir: int, new: bytes, flags: int) -> None:
    """renameat2(2), for the flags `os.rename` cannot pass (RENAME_NOREPLACE, _EXCHANGE...)."""
    _check(_libc().syscall(_nr("renameat2"), old_dir, old, new_dir, new, ctypes.c_uint(flags)))


def ioctl(fd: int, request: int, data: bytes | bytearray) -> int:
    """ioctl(2) on `data` (a bytearray is filled in place), returning the call's own
    result, which `fcntl.ioctl` drops when it is given a buffer (the number of a
    descriptor handed to another process, for one)."""
    if isinstance(data, bytearray):
        buffer: ctypes.Array[ctypes.c_char] = (ctypes.c_char * len(data)).from_buffer(data)
    else:
        buffer = ctypes.create_string_buffer(data, len(data))
    return _check(_libc().ioctl(fd, ctypes.c_ulong(request), buffer))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def act_as_confined() -> None:
    """Give the calling thread the confined command's powers over files, no more: its own
    umask (so it can take each caller's) and no effective capabilities (a confined root
    has none, so it must not create devices, ignore permissions or the sticky bit here
    either). Both are per thread in Linux; the rest of the process keeps its own."""
    _check(_libc().unshare(_CLONE_FS))
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc().syscall(_nr("capget"), ctypes.byref(header), data))
    for half in data:
        half.effective = 0
    _check(_libc().syscall(_nr("capset"), ctypes.byref(header), data))
