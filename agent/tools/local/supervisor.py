"""The supervisor of a confined command: answers every syscall of it that creates a name.

`launcher.py` installs the creation filter (`creation_filter.py`) inside the sandbox
and sends its listener here over a socket pair; a thread of ml-intern then receives each
notified call, has it performed or refused (`creations.py`), and answers it, for as long
as any process of the command lives (a background job's too, after the tool call that
started it has returned). The answer is never "continue": the path the kernel would
read again could have changed since it was checked. If this thread (or ml-intern) goes
away, the listener closes and those calls fail with ENOSYS: nothing is created unseen.

A stdio MCP server is started by its SDK, which passes no descriptor, so its bubblewrap
is started by a small interpreter (`run_outside`) that supervises it in the same way.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import struct
import sys
import threading
from pathlib import Path

from agent.tools.local.creation_filter import call_names, creating_calls, creation_filter
from agent.tools.local.creations import Answer, MustWait, Refused, perform
from agent.tools.local.syscalls import act_as_confined, ioctl

# ioctls on the listener: _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, struct
# seccomp_notif_resp), _IOW('!', 2, __u64), _IOW('!', 3, struct seccomp_notif_addfd)
_RECV, _SEND, _ID_VALID, _ADDFD = 0xC0502100, 0xC0182101, 0x40082102, 0x40182103
_NOTIF = struct.Struct("=QIIiIQ6Q")  # id, pid, flags, nr, arch, ip, args[6]
_RESPONSE = struct.Struct("=QqiI")  # id, val, error, flags
_ADD_FD = struct.Struct("=QIIII")  # id, flags, srcfd, newfd, newfd_flags
_ADDFD_FLAG_SEND = 1 << 1
LAUNCHER = str(Path(__file__).with_name("launcher.py"))


def inside_argv(channel_fd: int, argv: list[str]) -> list[str]:
    """`argv` started by the launcher, which sends the listener on `channel_fd`."""
    seccomp_nr = creating_calls().seccomp
    hex_filter = creation_filter().hex()
    return [
        sys.executable,
        "-I",
        "-S",
        LAUNCHER,
        str(channel_fd),
        str(seccomp_nr),
        hex_filter,
        *argv,
    ]


class Supervisor:
    """One confined command's supervisor thread, and the protected names it refused."""

    def __init__(self, channel: socket.socket, guarded: frozenset[bytes] = frozenset()) -> None:
        self.refused: list[str] = []
        self._guarded = guarded  # full paths refused like protected names
        self._names = call_names()
        self._thread = threading.Thread(
            target=self._serve, args=(channel,), name="sandbox-supervisor", daemon=True
        )
        self._thread.start()

    def _serve(self, channel: socket.socket) -> None:
        try:
            act_as_confined()
            _, fds, _, _ = socket.recv_fds(channel, 1, 1)
        except OSError:
            return  # the launcher never started: no listener, and nothing to answer
        finally:
            channel.close()
        if not fds:
            return
        try:
            self._loop(fds[0])
        finally:
            os.close(fds[0])

    def _loop(self, listener: int) -> None:
        poller = select.poll()
        poller.register(listener, select.POLLIN)
        while True:
            ((_, events),) = poller.poll()
            if not events & select.POLLIN:
                return  # POLLHUP: every process of the command has ended
            notification = bytearray(_NOTIF.size)
            try:
                ioctl(listener, _RECV, notification)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.EINTR):
                    continue  # the caller died before we could receive its call
                raise
            self._answer(listener, _NOTIF.unpack(notification))

    def _answer(self, listener: int, notification: tuple[int, ...], may_wait: bool = False) -> None:
        call_id, pid, _, nr, _, _, *args = notification

        def still_valid() -> None:
            ioctl(listener, _ID_VALID, struct.pack("=Q", call_id))

        try:
            answer = perform(
                self._names[nr], pid, tuple(args), still_valid, may_wait, self._guarded
            )
        except MustWait:
            waiting = os.dup(listener)  # stays valid whatever this loop closes meanwhile
            work = (waiting, notification)
            threading.Thread(target=self._answer_waiting, args=work, daemon=True).start()
            return
        except Refused as exc:
            self.refused.append(exc.filename or "")
            answer = Answer(error=errno.EPERM)
        except OSError as exc:
            answer = Answer(error=exc.errno or errno.EIO)
        except Exception:  # a bug here must fail the call, not leave it waiting
            answer = Answer(error=errno.EIO)
        try:
            if answer.fd is None:
                _respond(listener, call_id, -answer.error)
            else:
                _hand_over(listener, call_id, answer.fd, answer.cloexec)
        except OSError:
            pass  # the caller is gone (ENOENT): nobody is waiting for the answer
        finally:
            if answer.fd is not None:
                os.close(answer.fd)

    def _answer_waiting(self, listener: int, notification: tuple[int, ...]) -> None:
        """Answer an open that waits for another process, on a thread of its own. Should
        that process never come, this thread waits with the caller, as the caller would."""
        try:
            act_as_confined()
        except OSError:
            with contextlib.suppress(OSError):
                _respond(listener, notification[0], -errno.EIO)
        else:
            self._answer(listener, notification, may_wait=True)
        finally:
            os.close(listener)


def _respond(listener: int, call_id: int, value: int) -> None:
    """Answer a call: a value, or a negative errno."""
    error, value = (value, 0) if value < 0 else (0, value)
    ioctl(listener, _SEND, _RESPONSE.pack(call_id, value, error, 0))


def _hand_over(listener: int, call_id: int, fd: int, cloexec: bool) -> None:
    """Put `fd` into the caller and make it the call's result: in one step where the
    kernel can (5.14+), else in two; a call that cannot get it fails with EIO."""
    flags = os.O_CLOEXEC if cloexec else 0
    try:
        ioctl(listener, _ADDFD, _ADD_FD.pack(call_id, _ADDFD_FLAG_SEND, fd, 0, flags))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise
        try:
            number = ioctl(listener, _ADDFD, _ADD_FD.pack(call_id, 0, fd, 0, flags))
        except OSError as second:
            if second.errno == errno.ENOENT:
                raise
            number = -errno.EIO
        _respond(listener, call_id, number)


def run_outside(args: list[str]) -> None:
    """`FILTER GUARDED BWRAP OPTION... -- COMMAND...`: run COMMAND in bubblewrap, with the
    seccomp filter FILTER (hex), supervised by this process (GUARDED: a JSON list of full
    paths refused like protected names), and exit as it exits. bubblewrap dies with this
    process (`--die-with-parent`), and the sandbox with it."""
    import json
    import subprocess

    filter_hex, guarded, bwrap, *rest = args
    split = rest.index("--")
    options, command = rest[:split], rest[split + 1 :]
    read_fd, write_fd = os.pipe()
    os.write(write_fd, bytes.fromhex(filter_hex))
    os.close(write_fd)
    ours, theirs = socket.socketpair()
    inside = inside_argv(theirs.fileno(), command)
    argv = [bwrap, "--seccomp", str(read_fd), *options, "--", *inside]
    child = subprocess.Popen(argv, pass_fds=(read_fd, theirs.fileno()))
    os.close(read_fd)
    theirs.close()
    Supervisor(ours, frozenset(os.fsencode(p) for p in json.loads(guarded)))
    code = child.wait()
    sys.exit(code if code >= 0 else 128 - code)
