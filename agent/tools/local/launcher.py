"""The first program inside the sandbox: installs the creation filter, then runs the command.

bubblewrap cannot hand back the listener of a seccomp filter, so this runs in its
place, by file path in a bare interpreter (`python -I -S launcher.py SOCKET NR FILTER
COMMAND...`): it installs the filter of `creation_filter.py` with a new listener,
sends the listener to the supervisor over SOCKET (one end of a socket pair made before
bubblewrap started), closes both, and execs COMMAND. From then on every name the
command and its children create goes through the supervisor. Standard library only,
and as little of it as possible: it runs before every confined command.
"""

import _socket
import ctypes
import os
import sys

_SET_MODE_FILTER, _NEW_LISTENER = 1, 1 << 3


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _fail(message: str, code: int) -> None:
    os.write(2, f"ml-intern sandbox: {message}\n".encode())
    os._exit(code)


def main() -> None:
    sock, seccomp_nr, program = int(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3])
    argv = sys.argv[4:]
    code = ctypes.create_string_buffer(program, len(program))
    filter_program = _Program(len(program) // 8, ctypes.addressof(code))
    libc = ctypes.CDLL(None, use_errno=True)
    listener = libc.syscall(
        seccomp_nr, _SET_MODE_FILTER, _NEW_LISTENER, ctypes.byref(filter_program)
    )
    if listener < 0:
        _fail(f"cannot install the seccomp filter: {os.strerror(ctypes.get_errno())}", 126)
    channel = _socket.socket(fileno=sock)  # the C module: `socket` costs more than all else here
    rights = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, listener.to_bytes(4, sys.byteorder))]
    channel.sendmsg([b"L"], rights)
    channel.close()
    os.close(listener)
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        _fail(f"{argv[0]}: {exc.strerror}", 127 if isinstance(exc, FileNotFoundError) else 126)


main()
