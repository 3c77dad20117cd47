"""Crash-safe session log: one append-only JSONL file per session, read back to resume.

Each record is one line written with a single `os.write` on an O_APPEND descriptor, so
after `kill -9` the file holds every record but, at worst, the one being written; the
reader skips a torn or corrupt line with a warning instead of refusing the session.
Everything passes through `redact_obj` before it reaches the disk.

Records: a `meta` line first, then `message` (one history message), `truncate` (the
history is now its first `keep` messages: undo), `replace` (a rewritten history:
compaction), `system` (a renewed system prompt: model switch, resume), `model`, `event`
(selected metadata events) and any kind given to `SessionLog.record`.

The file is flushed to the disk (fsync) when a turn ends and when the log is closed:
a power cut loses at most the turn in progress, for one fsync per turn rather than
one per record.

One process writes a log at a time: the writer holds an exclusive `flock` on the file
for as long as it is open (the kernel drops it when the process dies, even by kill -9).
Opening a log that another process holds raises `SessionBusy`; readers never lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from agent.context.redact import redact_obj

Message = dict[str, Any]
SYNTHETIC_RESULT = "[interrupted: no result was recorded]"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_LOGGED_EVENTS = frozenset(
    "usage compacted undo_complete tool_output tool_state_change interrupted error doom_loop"
    " turn_complete goal".split()
)
# Content already in the history (or too large to be metadata) is not repeated.
_DROPPED_FIELDS = {"tool_output": ("content", "data"), "turn_complete": ("final_text",)}
_DECISIONS = ("approved", "denied")
_TURN_ENDS = frozenset(("turn_complete", "interrupted"))  # flushed to the disk


class SessionNotFound(KeyError):
    """No saved session, or more than one, matches what the person typed."""

    def __str__(self) -> str:
        return str(self.args[0])


class SessionBusy(RuntimeError):
    """Another process is writing this session's log."""


def sessions_dir(root: Path | None = None) -> Path:
    if root is not None:
        return Path(root)
    from agent.config import data_home

    return data_home() / "sessions"


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ml-intern")
    except PackageNotFoundError:
        return "0.0.0"


class SessionLog:
    """The writer: the owner of a session appends to it as the history changes."""

    def __init__(self, path: Path, fd: int, model: str | None) -> None:
        self.path = path
        self.session_id = path.stem
        self.model = model
        self._fd: int | None = fd
        self._history: list[Message] | None = None  # what the file holds, when known

    @classmethod
    def create(
        cls,
        session_id: str,
        cwd: Path,
        model: str,
        root: Path | None = None,
        *,
        forked_from: str | None = None,
    ) -> SessionLog:
        """Start a new log."""
        directory = sessions_dir(root)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / f"{_checked_id(session_id)}.jsonl"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL
        fd = os.open(path, flags, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # a new file: nobody else can hold it yet
        log = cls(path, fd, model)
        log._history = []
        meta = {"session_id": session_id, "created": time.time(), "cwd": str(Path(cwd).resolve())}
        if forked_from:
            meta["forked_from"] = forked_from
        log.record("meta", **meta, model=model, version=app_version())
        return log

    @classmethod
    def open_existing(
        cls,
        session_id: str,
        root: Path | None = None,
        *,
        model: str | None = None,
    ) -> SessionLog:
        """Append to a saved session after resuming it (a torn last line is closed first).

        Raises SessionBusy when another process is writing it. `model` is the one the
        log last recorded, so that only a change is written.
        """
        path = find_session_file(session_id, sessions_dir(root))
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SessionBusy(f"session {path.stem} is open in another ml-intern process") from None
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            os.write(fd, b"\n")
        return cls(path, fd, model)

    def append_message(self, message: Message) -> None:
        self._write({"kind": "message", "role": message.get("role"), "message": message})
        if self._history is not None:
            self._history.append(message)

    def replace_messages(self, messages: list[Message]) -> None:
        """Record a rewritten history; a shortened one (undo) costs one small line."""
        old = self._history
        if old is not None and len(messages) <= len(old) and _is_prefix(messages, old):
            if len(messages) < len(old):
                self._write({"kind": "truncate", "keep": len(messages)})
        else:
            self._write({"kind": "replace", "messages": messages})
        self._history = list(messages)

    def set_system(self, message: Message) -> None:
        """Record a renewed system prompt (the first message of the history)."""
        self._write({"kind": "system", "message": message})
        if self._history:
            self._history[0] = message

    def record(self, kind: str, **data: Any) -> None:
        """Metadata beside the history: `record("model", model=...)`, usage, approvals."""
        if kind == "model":
            self.model = data.get("model")
        self._write({"kind": kind, **data})

    def record_event(self, event: Any) -> None:
        """Keep the metadata events worth resuming or exporting; ignore the rest."""
        data = event.model_dump(mode="json") if hasattr(event, "model_dump") else dict(event)
        kind = data.get("type")
        if kind == "ready":
            if data.get("model") and data["model"] != self.model:
                self.record("model", model=data["model"])
            return
        if kind not in _LOGGED_EVENTS:
            return
        if kind == "tool_state_change" and data.get("state") not in _DECISIONS:
            return
        for name in _DROPPED_FIELDS.get(kind, ()):
            data.pop(name, None)
        self._write({"kind": "event", "event": data})
        if kind in _TURN_ENDS:
            self.sync()

    def sync(self) -> None:
        """Flush what was written to the disk, so a power cut cannot take it back."""
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            self.sync()
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, record: dict[str, Any]) -> None:
        if self._fd is None:
            raise ValueError(f"session log {self.path} is closed")
        record.setdefault("ts", time.time())
        line = json.dumps(
            redact_obj(record), ensure_ascii=False, separators=(",", ":"), default=str
        )
        data = (line + "\n").encode("utf-8", "surrogatepass")
        written = os.write(self._fd, data)
        while written < len(data):  # a regular file takes it whole; be safe anyway
            written += os.write(self._fd, data[written:])


def _is_prefix(short: list[Message], long: list[Message]) -> bool:
    return all(a is b or a == b for a, b in zip(short, long, strict=False))


def _checked_id(session_id: str) -> str:
    if not _ID.fullmatch(session_id):
        raise ValueError(f"invalid session id {session_id!r}: use letters, digits, '.', '_', '-'")
    return session_id


def looks_like_session_id(token: str) -> bool:
    """True when `token` has the shape of a session id or of its prefix."""
    return bool(_ID.fullmatch(token))


def find_session_file(id_or_prefix: str, directory: Path) -> Path:
    hint = "run `ml-intern --resume` without an id to choose from the saved sessions"
    if not _ID.fullmatch(id_or_prefix):
        raise SessionNotFound(f"'{id_or_prefix}' is not a session id; {hint}")
    exact = directory / f"{id_or_prefix}.jsonl"
    if exact.is_file():
        return exact
    matches = sorted(directory.glob(f"{id_or_prefix}*.jsonl")) if directory.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SessionNotFound(f"no saved session '{id_or_prefix}' in {directory}; {hint}")
    shown = ", ".join(p.stem for p in matches[:5]) + (", ..." if len(matches) > 5 else "")
    raise SessionNotFound(
        f"'{id_or_prefix}' matches {len(matches)} sessions ({shown}); give more of the id"
    )
