"""The seccomp filter bubblewrap installs in the sandbox: no unix sockets, no kernel changes.

A unix socket file on the host (a docker.sock, D-Bus, an ssh-agent) is reachable
from a read-only filesystem view, and the network namespace does not hide it. So
the sandbox may not create unix sockets at all: `socket(AF_UNIX, ...)` fails with
EPERM. `socketpair` stays allowed for stream and seqpacket sockets, which many
programs use between their own processes and which cannot be connected anywhere
else; a datagram pair could be pointed at a host socket with `sendto`, so it is
refused. io_uring can create sockets without the `socket` syscall, so setting
one up is refused too (programs fall back to plain syscalls).

The sandbox may run as root. Without capabilities root cannot mount, load modules
or reboot, but the filter refuses those syscalls anyway (defence in depth, should a
capability ever leak in), and it refuses what needs no capability at all: the
kernel keyrings (`add_key`, `keyctl`, `request_key`: the user keyring is shared with
the host), new namespaces (`unshare`, `setns`, `clone` with a namespace flag: a new
user namespace hands back capabilities over its own mounts), eBPF, perf events,
userfaultfd and file handles (`open_by_handle_at`), kernel attack surface no
training run needs. `clone3` passes its flags in memory the filter cannot read, so
it fails with ENOSYS and the C library falls back to `clone`.

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
_EPERM, _ENOSYS, _AF_UNIX, _SOCK_STREAM, _SOCK_SEQPACKET, _SOCK_TYPE_MASK = 1, 38, 1, 1, 5, 0xF
_X32_SYSCALL_BIT = 0x40000000
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
_CLONE_NAMESPACES = 0x00020000 | 0x7E000000 | 0x00000080


# Numbers the newer syscalls got on every architecture.
_CLONE3 = 435
_COMMON = {
    "io_uring_setup": 425, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "mount_setattr": 442,
}  # fmt: skip
_X86_64 = {
    "mount": 165, "umount2": 166, "pivot_root": 155, "swapon": 167, "swapoff": 168,
    "reboot": 169, "sethostname": 170, "setdomainname": 171, "iopl": 172, "ioperm": 173,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246,
    "kexec_file_load": 320, "quotactl": 179, "acct": 163, "syslog": 103,
    "settimeofday": 164, "clock_settime": 227, "clock_adjtime": 305,
    "add_key": 248, "request_key": 249, "keyctl": 250, "unshare": 272, "setns": 308,
    "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "open_by_handle_at": 304,
}  # fmt: skip
_AARCH64 = {
    "mount": 40, "umount2": 39, "pivot_root": 41, "swapon": 224, "swapoff": 225,
    "reboot": 142, "sethostname": 161, "setdomainname": 162,
    "init_module": 105, "finit_module": 273, "delete_module": 106, "kexec_load": 104,
    "kexec_file_load": 294, "quotactl": 60, "acct": 89, "syslog": 116,
    "settimeofday": 170, "clock_settime": 112, "clock_adjtime": 266,
    "add_key": 217, "request_key": 218, "keyctl": 219, "unshare": 97, "setns": 268,
    "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "open_by_handle_at": 265,
}  # fmt: skip


@dataclass(frozen=True)
class Arch:
    audit_arch: int
    socket: int
    socketpair: int
    clone: int
    refused: dict[str, int]  # syscall name -> number, each answered EPERM
    has_x32: bool = False

    @property
    def io_uring_setup(self) -> int:
        return self.refused["io_uring_setup"]

    @property
    def keyctl(self) -> int:
        return self.refused["keyctl"]


ARCHES = {
    "x86_64": Arch(0xC000003E, 41, 53, 56, {**_COMMON, **_X86_64}, has_x32=True),
    "aarch64": Arch(0xC00000B7, 198, 199, 220, {**_COMMON, **_AARCH64}),
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
    """Allow, unless: another ABI (kill); AF_UNIX socket, datagram pair, a namespace flag
    on clone, a refused syscall (EPERM); clone3 (ENOSYS)."""
    x32: list[Line] = [(_JGE_K, "kill", None, _X32_SYSCALL_BIT)] if arch.has_x32 else []
    *refused, last = sorted(arch.refused.values())
    return [
        (_LD_W_ABS, None, None, _ARCH),
        (_JEQ_K, None, "kill", arch.audit_arch),
        (_LD_W_ABS, None, None, _NR),
        *x32,
        (_JEQ_K, "socket", None, arch.socket),
        (_JEQ_K, "socketpair", None, arch.socketpair),
        (_JEQ_K, "clone", None, arch.clone),
        (_JEQ_K, "nosys", None, _CLONE3),
        *((_JEQ_K, "deny", None, nr) for nr in refused),
        (_JEQ_K, "deny", "allow", last),
        ("clone", None, None, 0),
        (_LD_W_ABS, None, None, _ARG0),
        (_AND_K, None, None, _CLONE_NAMESPACES),
        (_JEQ_K, "allow", "deny", 0),
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
        ("nosys", None, None, 0),
        (_RET_K, None, None, _ERRNO | _ENOSYS),
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
def sandbox_filter() -> bytes:
    """The filter for this machine; UnsupportedArch when there is none."""
    return assemble(_program(machine_arch()))
