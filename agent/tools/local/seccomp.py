"""The seccomp filter bubblewrap installs in the sandbox: no unix sockets.

A unix socket file on the host (a docker.sock, D-Bus, an ssh-agent) is reachable
from a read-only filesystem view, and the network namespace does not hide it. So
the sandbox may not create unix sockets at all: `socket(AF_UNIX, ...)` fails with
EPERM. `socketpair` stays allowed for stream and seqpacket sockets, which many
programs use between their own processes and which cannot be connected anywhere
else; a datagram pair could be pointed at a host socket with `sendto`, so it is
refused. io_uring can create sockets without the `socket` syscall, so setting
one up is refused too (programs fall back to plain syscalls).

The filter is classic BPF, a few instructions over `struct seccomp_data`, checked
against the machine's audit architecture: a syscall made through another ABI
(32-bit compat, x32) would carry other numbers, so it kills the process.
"""

from __future__ import annotations

import functools
import platform
import struct
from dataclasses import dataclass

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]
_NR, _ARCH, _ARG0, _ARG1 = 0, 4, 16, 24  # little-endian: an arg's low word comes first

_LD_W_ABS, _JEQ_K, _JGE_K, _AND_K, _RET_K = 0x20, 0x15, 0x35, 0x54, 0x06
_ALLOW, _KILL_PROCESS, _ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_EPERM, _AF_UNIX, _SOCK_STREAM, _SOCK_SEQPACKET, _SOCK_TYPE_MASK = 1, 1, 1, 5, 0xF
_X32_SYSCALL_BIT = 0x40000000


@dataclass(frozen=True)
class Arch:
    audit_arch: int
    socket: int
    socketpair: int
    io_uring_setup: int
    has_x32: bool = False


ARCHES = {
    "x86_64": Arch(0xC000003E, socket=41, socketpair=53, io_uring_setup=425, has_x32=True),
    "aarch64": Arch(0xC00000B7, socket=198, socketpair=199, io_uring_setup=425),
}
ARCHES["amd64"] = ARCHES["x86_64"]
ARCHES["arm64"] = ARCHES["aarch64"]


class UnsupportedArch(Exception):
    """No filter is known for this machine, so no sandbox can be promised on it."""


def machine_arch() -> Arch:
    machine = platform.machine().lower()
    if machine not in ARCHES:
        known = ", ".join(sorted(ARCHES))
        raise UnsupportedArch(
            f"no seccomp filter for this machine's architecture ({machine or 'unknown'}); "
            f"the sandbox knows {known}"
        )
    return ARCHES[machine]


# (opcode or label, jump-if-true label, jump-if-false label, k)
Line = tuple[int | str, str | None, str | None, int]


def _program(arch: Arch) -> list[Line]:
    """Allow, unless: another ABI (kill), AF_UNIX socket, datagram pair, io_uring (EPERM)."""
    x32: list[Line] = [(_JGE_K, "kill", None, _X32_SYSCALL_BIT)] if arch.has_x32 else []
    return [
        (_LD_W_ABS, None, None, _ARCH),
        (_JEQ_K, None, "kill", arch.audit_arch),
        (_LD_W_ABS, None, None, _NR),
        *x32,
        (_JEQ_K, "socket", None, arch.socket),
        (_JEQ_K, "socketpair", None, arch.socketpair),
        (_JEQ_K, "deny", "allow", arch.io_uring_setup),
        ("socket", None, None, 0),
        (_LD_W_ABS, None, None, _ARG0),
        (_JEQ_K, "deny", "allow", _AF_UNIX),
        ("socketpair", None, None, 0),
        (_LD_W_ABS, None, None, _ARG1),
        (_AND_K, None, None, _SOCK_TYPE_MASK),
        (_JEQ_K, "allow", None, _SOCK_STREAM),
        (_JEQ_K, "allow", "deny", _SOCK_SEQPACKET),
        ("allow", None, None, 0),
        (_RET_K, None, None, _ALLOW),
        ("deny", None, None, 0),
        (_RET_K, None, None, _ERRNO | _EPERM),
        ("kill", None, None, 0),
        (_RET_K, None, None, _KILL_PROCESS),
    ]


def assemble(source: list[Line]) -> bytes:
    """Packed `struct sock_filter`s; a string in the code column marks a label."""
    labels: dict[str, int] = {}
    code: list[tuple[int, str | None, str | None, int]] = []
    for op, true, false, k in source:
        if isinstance(op, str):
            labels[op] = len(code)
        else:
            code.append((op, true, false, k))
    packed = []
    for index, (op, true, false, k) in enumerate(code):
        jt = labels[true] - index - 1 if true else 0
        jf = labels[false] - index - 1 if false else 0
        packed.append(struct.pack("=HBBI", op, jt, jf, k))
    return b"".join(packed)


@functools.cache
def unix_socket_filter() -> bytes:
    """The filter for this machine; UnsupportedArch when there is none."""
    return assemble(_program(machine_arch()))
