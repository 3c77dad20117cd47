"""How a headless run ends when it is told to stop, or when its output is gone.

SIGINT, SIGTERM and SIGHUP end a run as Ctrl-C does: the turn is interrupted, every
tool call it started gets its answer in the session log, and the exit code is
128 + the signal number (130, 143, 129). A second signal, or one that arrives once
the turn is already over (the run is only closing down), exits at once: the session
log is flushed line by line, so nothing written so far is lost.

A closed stdout (a reader such as `head -1` that went away) ends the run with 141,
the code a shell shows for a program stopped by SIGPIPE, after the log is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TextIO, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CLOSED_OUTPUT_EXIT = 128 + signal.SIGPIPE  # 141


def signal_exit_code(signum: int) -> int:
    return 128 + signum


def is_closed_output(exc: BaseException) -> bool:
    """A write failed because nobody reads the other end any more."""
    return isinstance(exc, BrokenPipeError) or (
        isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.ECONNRESET)
    )


def exit_now(code: int, message: str = "") -> NoReturn:
    """Leave the process at once: no task, thread or upload is waited for, but no
    command it started is left running either."""
    from agent.tools.local.bash import kill_running_commands

    kill_running_commands()
    if message:
        say(message)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    logging.shutdown()
    os._exit(code)


def run_to_end(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, except that a worker thread still busy at the end (a Hub
    call whose tool was interrupted, an upload past its grace) does not hold the exit:
    asyncio.run would wait for it without limit, whatever the network does."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main)
    finally:
        leftovers = asyncio.all_tasks(loop)
        for task in leftovers:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()  # shuts the thread pool down without waiting for it


def threads_left() -> bool:
    """Whether a thread other than the main one would hold the interpreter's exit."""
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def say(message: str) -> None:
    """One line on stderr, if anyone still reads it."""
    with contextlib.suppress(Exception):
        sys.stderr.write(f"ml-intern: {message}\n")
        sys.stderr.flush()


def silence_stdout() -> None:
    """Point stdout at /dev/null so that later writes, and the flush at exit, cannot fail."""
    _to_devnull(sys.stdout)


def terminal_gone(fds: list[int]) -> None:
    """The terminal hung up: the given descriptors (those that were that terminal) go to
    /dev/null, so that nothing said on the way out fails (EIO) and stops the exit."""
    for fd in fds:
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)


def _to_devnull(stream: TextIO) -> None:
    with contextlib.suppress(Exception):
        terminal_gone([stream.fileno()])


class StopSignals:
    """The first stop signal interrupts the turn; a second one, or one once the turn is
    over, exits at once with the same code."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._interrupt: Callable[[int], None] | None = None
        self._turn_over: Callable[[], bool] = lambda: False

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self._on_signal, signum)

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)

    def watch(self, interrupt: Callable[[int], None], turn_over: Callable[[], bool]) -> None:
        """From now on a signal interrupts the turn through `interrupt`; before this
        (while the session starts) there is nothing to save, so it exits at once."""
        self._interrupt, self._turn_over = interrupt, turn_over

    def _on_signal(self, signum: int) -> None:
        code = signal_exit_code(signum)
        name = signal.Signals(signum).name
        if self.received is not None or self._interrupt is None or self._turn_over():
            log.info("%s while stopping: exiting at once", name)
            exit_now(code, f"{name}: stopped at once")
        self.received = signum
        say(f"{name}: stopping the turn (send it again to stop at once)")
        self._interrupt(code)
