"""Background job logs: private, scrubbed, and not kept forever.

A background job can outlive the session that started it, and so must whatever writes
its log: the job's output goes through a pipe to a small process of its own
(`python -m agent.tools.local.job_log`, in its own session, so a Ctrl-C or the end of
the agent does not stop it), which writes it scrubbed of secrets to a file only the
user can read (0600 in 0700 folders). A log that nobody wrote to for `MAX_AGE_DAYS`
is removed the next time a session starts.
"""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
import time
from pathlib import Path

MAX_AGE_DAYS = 7
CHUNK = 1 << 16
MAX_PENDING = 1 << 20  # a line longer than this is written in pieces


def private_folder(folder: Path) -> None:
    """Create `folder` (and missing parents) readable by the user only."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)


def start_writer(log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start the process that writes `log_path`; returns it and the pipe end to give the
    job as its stdout and stderr (the caller closes it once the job has it)."""
    private_folder(log_path.parent.parent)
    private_folder(log_path.parent)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    read_fd, write_fd = os.pipe()
    try:
        writer = subprocess.Popen(
            [sys.executable, "-m", "agent.tools.local.job_log"],
            stdin=read_fd,
            stdout=log_fd,
            stderr=subprocess.DEVNULL,
            cwd=log_path.parent,  # not the workspace: `-m` would import an `agent/` found there
            start_new_session=True,
        )
    except BaseException:
        os.close(write_fd)
        raise
    finally:
        os.close(read_fd)
        os.close(log_fd)
    return writer, write_fd


def copy_scrubbed(source: int, target: int) -> None:
    """Copy `source` to `target` scrubbed, a run of whole lines at a time; a line ends at
    `\\n` or at `\\r` (a progress bar's redraw), so a bar shows while it runs."""
    from agent.context.redact import LineScrubber

    scrubber = LineScrubber()
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    while chunk := os.read(source, CHUNK):
        pending += decoder.decode(chunk)
        cut = max(pending.rfind("\n"), pending.rfind("\r")) + 1
        if not cut and len(pending) >= MAX_PENDING:
            cut = len(pending)
        if cut:
            _write(target, scrubber.feed_text(pending[:cut]))
            pending = pending[cut:]
    pending += decoder.decode(b"", final=True)
    _write(target, scrubber.feed_text(pending) + "".join(scrubber.flush()))


def _write(fd: int, text: str) -> None:
    data = text.encode("utf-8")
    while data:
        data = data[os.write(fd, data) :]


def prune(root: Path, max_age_days: float = MAX_AGE_DAYS) -> None:
    """Remove the logs under `root` nobody wrote to for `max_age_days`, and the folders
    they leave empty; make `root` private (logs from older versions were not)."""
    if not root.is_dir():
        return
    root.chmod(0o700)
    oldest = time.time() - max_age_days * 86400
    for folder in root.iterdir():
        try:
            for log in folder.iterdir():
                if log.stat().st_mtime < oldest:
                    log.unlink()
            folder.rmdir()  # only when empty
        except OSError:
            continue


if __name__ == "__main__":
    copy_scrubbed(sys.stdin.fileno(), sys.stdout.fileno())
