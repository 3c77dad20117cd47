"""The seccomp filter that hands every name-creating syscall of the sandbox to its supervisor.

Bind mounts keep the protected names that exist read-only (`roots.py`); a new one
(`mkdir sub/.git`, `sub/.env`, a symlink or a rename to `.git`) is refused by the
supervisor (`supervisor.py`), which sees each call that creates a name: mkdir, mknod,
symlink, link and rename in all their forms, and open/openat/creat with O_CREAT. The
check on O_CREAT is done here, on the flags register, so ordinary opens, reads and
writes never leave the kernel. O_TMPFILE creates no name (the `linkat` that names
the file later is supervised). `openat2` keeps its flags in memory the filter cannot
read, so it fails with ENOSYS and the C library falls back to `openat`.

A confined program may not install a listener of its own: with two filters answering
"notify", the newest one is asked, and its answer could let the call through unseen.
A syscall through another ABI is killed, as in `seccomp.py`.

Standard library only, like `seccomp.py`: the supervisor of a confined MCP server builds
it in a bare interpreter.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from agent.tools.local.seccomp import (
    _ALLOW,
    _AND_K,
    _ERRNO,
    _JEQ_K,
    _JGE_K,
    _KILL_PROCESS,
    _LD_W_ABS,
    _NR,
    _RET_K,
    _X32_SYSCALL_BIT,
    Line,
    assemble,
    machine_arch,
)

_NOTIFY = 0x7FC00000  # SECCOMP_RET_USER_NOTIF
_EPERM, _ENOSYS = 1, 38
_ARG = (16, 24, 32)  # offsets of args[0..2]' low words in struct seccomp_data
O_CREAT = 0o100
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3


@dataclass(frozen=True)
class CreatingCalls:
    """One architecture's numbers for the calls the supervisor answers."""

    seccomp: int
    openat2: int
    opens: dict[str, tuple[int, int]]  # open-like name -> number, index of its flags argument
    always: dict[str, int]  # name -> number: every call of these creates a name


_X86_64 = CreatingCalls(
    seccomp=317,
    openat2=437,
    opens={"open": (2, 1), "openat": (257, 2)},
    always={
        "creat": 85, "mkdir": 83, "mkdirat": 258, "mknod": 133, "mknodat": 259,
        "symlink": 88, "symlinkat": 266, "link": 86, "linkat": 265, "rename": 82,
        "renameat": 264, "renameat2": 316,
    },
)  # fmt: skip
_AARCH64 = CreatingCalls(
    seccomp=277,
    openat2=437,
    opens={"openat": (56, 2)},
    always={
        "mkdirat": 34, "mknodat": 33, "symlinkat": 36, "linkat": 37, "renameat": 38,
        "renameat2": 276,
    },
)  # fmt: skip
_BY_AUDIT_ARCH = {0xC000003E: _X86_64, 0xC00000B7: _AARCH64}


def creating_calls() -> CreatingCalls:
    """This machine's numbers; UnsupportedArch when the sandbox has no filter for it."""
    return _BY_AUDIT_ARCH[machine_arch().audit_arch]


def call_names() -> dict[int, str]:
    """Syscall number -> name, for every call the filter hands to the supervisor."""
    calls = creating_calls()
    return {nr: name for name, (nr, _) in calls.opens.items()} | {
        nr: name for name, nr in calls.always.items()
    }


def _program() -> list[Line]:
    arch, calls = machine_arch(), creating_calls()
    x32: list[Line] = [(_JGE_K, "kill", None, _X32_SYSCALL_BIT)] if arch.has_x32 else []
    opens: list[Line] = [(_JEQ_K, f"flags{i}", None, nr) for nr, i in calls.opens.values()]
    *always, last = sorted(calls.always.values())
    flag_checks: list[Line] = []
    for index in sorted({i for _, i in calls.opens.values()}):
        flag_checks += [
            (f"flags{index}", None, None, 0),
            (_LD_W_ABS, None, None, _ARG[index]),
            (_AND_K, None, None, O_CREAT),
            (_JEQ_K, "allow", "notify", 0),
        ]
    return [
        (_LD_W_ABS, None, None, 4),  # arch
        (_JEQ_K, None, "kill", arch.audit_arch),
        (_LD_W_ABS, None, None, _NR),
        *x32,
        *opens,
        (_JEQ_K, "nosys", None, calls.openat2),
        (_JEQ_K, "seccomp", None, calls.seccomp),
        *((_JEQ_K, "notify", None, nr) for nr in always),
        (_JEQ_K, "notify", "allow", last),
        *flag_checks,
        ("seccomp", None, None, 0),
        (_LD_W_ABS, None, None, _ARG[1]),
        (_AND_K, None, None, SECCOMP_FILTER_FLAG_NEW_LISTENER),
        (_JEQ_K, "allow", "deny", 0),
        ("allow", None, None, 0),
        (_RET_K, None, None, _ALLOW),
        ("notify", None, None, 0),
        (_RET_K, None, None, _NOTIFY),
        ("deny", None, None, 0),
        (_RET_K, None, None, _ERRNO | _EPERM),
        ("nosys", None, None, 0),
        (_RET_K, None, None, _ERRNO | _ENOSYS),
        ("kill", None, None, 0),
        (_RET_K, None, None, _KILL_PROCESS),
    ]


@functools.cache
def creation_filter() -> bytes:
    """The packed filter for this machine; UnsupportedArch when there is none."""
    return assemble(_program())
