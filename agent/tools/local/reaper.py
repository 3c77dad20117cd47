"""Removing the sandbox's placeholders once ml-intern is gone, however it ended.

The placeholders (see `roots.py`) are made on the host's disk, since a read-only
mount needs something to cover; they must not outlive the process that made them,
or the next launch there would find an empty `.git`, `.env` and `configs/`. The
session removes them at its end, but a `kill -9` (or a background job still
running then) leaves them. So the first placeholder starts this small process, in
a session of its own: it reads the paths on its stdin until ml-intern is gone,
waits until no sandbox mounts them any more (a placeholder removed under a running
sandbox lifts its read-only mount), then removes those that are still empty.

Imports nothing but the standard library: it starts in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time
from pathlib import Path

SANDBOXES_GONE_S = 30.0  # sandboxes die with ml-intern; give up (leave them) after this


def _escaped(path: str) -> str:
    """`path` as /proc/*/mountinfo writes it."""
    for char, code in (("\\", "\\134"), (" ", "\\040"), ("\t", "\\011"), ("\n", "\\012")):
        path = path.replace(char, code)
    return path


def mounted_anywhere(paths: list[Path]) -> bool:
    """Whether any process on the machine sees a mount on one of `paths`."""
    wanted = {_escaped(str(path)) for path in paths}
    seen: set[str] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            namespace = str((proc / "ns" / "mnt").readlink())
            if namespace in seen:
                continue
            seen.add(namespace)
            mounts = (proc / "mountinfo").read_text()
        except OSError:
            continue  # gone, or not ours to look at
        if any(line.split(" ", 5)[4] in wanted for line in mounts.splitlines()):
            return True
    return False


def remove_if_empty(path: Path) -> None:
    """Remove a placeholder that nobody filled: anything put there meanwhile stays."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()  # refuses a non-empty directory
        elif path.is_file() and not path.is_symlink() and path.stat().st_size == 0:
            path.unlink()


def _wait_for_exit(pid: int) -> None:
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return  # already gone
    try:
        select.select([pidfd], [], [])
    finally:
        os.close(pidfd)


def main() -> None:
    """`python -m agent.tools.local.reaper PID`, paths one a line on stdin."""
    pid = int(sys.argv[1])
    paths = [Path(line) for line in sys.stdin.read().splitlines() if line]  # EOF: PID ended
    _wait_for_exit(pid)  # its sandboxes were told to die before this returns
    deadline = time.monotonic() + SANDBOXES_GONE_S
    while mounted_anywhere(paths):
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)
    for path in sorted(paths, reverse=True):
        remove_if_empty(path)


if __name__ == "__main__":
    main()
