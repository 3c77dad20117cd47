"""The seccomp filter's logic, run by a small classic-BPF interpreter for each architecture.

The real kernel runs it in tests/integration/test_confinement.py on this machine's
architecture; this covers the other one and the cases no test program can reach
(another ABI, io_uring).
"""

from __future__ import annotations

import struct

import pytest

from agent.tools.local import creation_filter, seccomp

ALLOW, EPERM, ENOSYS, KILL = 0x7FFF0000, 0x00050001, 0x00050026, 0x80000000
AF_UNIX, AF_INET, SOCK_STREAM, SOCK_DGRAM, SOCK_CLOEXEC = 1, 2, 1, 2, 0x80000
READ = {"x86_64": 0, "aarch64": 63}
CLONE_NEWUSER, CLONE_NEWNS, CLONE_THREAD_FLAGS = 0x10000000, 0x00020000, 0x003D0F00


def run_filter(program: bytes, nr: int, arch: int, *args: int) -> int:
    """What the kernel would return for one syscall: the BPF subset the filter uses."""
    data = struct.pack("=iIQ6Q", nr, arch, 0, *(list(args) + [0] * (6 - len(args))))
    code = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    acc, pc = 0, 0
    while True:
        op, jt, jf, k = code[pc]
        pc += 1
        if op == 0x20:
            acc = struct.unpack_from("=I", data, k)[0]
        elif op == 0x54:
            acc &= k
        elif op in (0x15, 0x35):
            taken = acc == k if op == 0x15 else acc >= k
            pc += jt if taken else jf
        elif op == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected opcode {op:#x}")


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_unix_sockets_namespaces_and_kernel_changes_are_refused(machine, monkeypatch):
    monkeypatch.setattr(seccomp.platform, "machine", lambda: machine)
    seccomp.sandbox_filter.cache_clear()
    program = seccomp.sandbox_filter()
    seccomp.sandbox_filter.cache_clear()
    arch = seccomp.ARCHES[machine]

    def verdict(nr: int, *args: int, audit_arch: int = arch.audit_arch) -> int:
        return run_filter(program, nr, audit_arch, *args)

    assert verdict(arch.socket, AF_UNIX, SOCK_STREAM) == EPERM
    assert verdict(arch.socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC) == EPERM
    assert verdict(arch.socket, AF_INET, SOCK_STREAM) == ALLOW
    assert verdict(arch.socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC) == ALLOW
    assert verdict(arch.socketpair, AF_UNIX, SOCK_DGRAM) == EPERM
    assert verdict(arch.io_uring_setup, 8, 0) == EPERM
    assert verdict(READ[machine], 0, 0) == ALLOW
    for name in ("add_key", "keyctl", "request_key", "mount", "unshare", "bpf", "kexec_load"):
        assert verdict(arch.refused[name]) == EPERM, name
    assert verdict(arch.clone, CLONE_THREAD_FLAGS) == ALLOW  # threads and plain forks
    assert verdict(arch.clone, CLONE_NEWUSER | CLONE_NEWNS) == EPERM
    assert verdict(435) == ENOSYS  # clone3: the C library falls back to clone
    assert verdict(arch.socket, AF_UNIX, audit_arch=0x40000003) == KILL  # i386 / arm compat
    if arch.has_x32:
        assert verdict(arch.socket | 0x40000000, AF_UNIX) == KILL


def test_an_unknown_architecture_gets_no_filter_and_says_so(monkeypatch):
    monkeypatch.setattr(seccomp.platform, "machine", lambda: "riscv64")
    seccomp.sandbox_filter.cache_clear()
    with pytest.raises(seccomp.UnsupportedArch, match=r"architecture \(riscv64\)"):
        seccomp.sandbox_filter()
    seccomp.sandbox_filter.cache_clear()


NOTIFY, O_CREAT, O_RDWR, NEW_LISTENER = 0x7FC00000, 0o100, 0o2, 1 << 3


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_only_calls_that_create_a_name_reach_the_supervisor(machine, monkeypatch):
    """Opens without O_CREAT, reads and writes stay in the kernel; every creating call is
    notified; openat2 falls back; a listener of the program's own is refused."""
    monkeypatch.setattr(seccomp.platform, "machine", lambda: machine)
    creation_filter.creation_filter.cache_clear()
    program = creation_filter.creation_filter()
    creation_filter.creation_filter.cache_clear()
    calls = creation_filter.creating_calls()
    audit_arch = seccomp.ARCHES[machine].audit_arch

    def verdict(nr: int, *args: int) -> int:
        return run_filter(program, nr, audit_arch, *args)

    openat = calls.opens["openat"][0]
    assert verdict(openat, 0xFFFFFF9C, 0, O_RDWR) == ALLOW
    assert verdict(openat, 0xFFFFFF9C, 0, O_RDWR | O_CREAT) == NOTIFY
    if "open" in calls.opens:
        assert verdict(calls.opens["open"][0], 0, O_RDWR) == ALLOW
        assert verdict(calls.opens["open"][0], 0, O_CREAT) == NOTIFY
    assert all(verdict(nr, 0, 0, 0) == NOTIFY for nr in calls.always.values())
    assert verdict(calls.openat2, 0xFFFFFF9C, 0, 0, 24) == ENOSYS
    assert verdict(calls.seccomp, 1, NEW_LISTENER, 0) == EPERM
    assert verdict(calls.seccomp, 1, 0, 0) == ALLOW  # a stricter filter of its own is fine
    assert verdict(READ[machine], 0, 0) == ALLOW
    assert run_filter(program, READ[machine], 0x40000003) == KILL  # another ABI
