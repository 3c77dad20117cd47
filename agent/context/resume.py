"""Reading session logs back: resume, listing, and repair after a crash.

A torn last line (kill -9 mid-write) or a corrupt line is skipped with a warning; a
history cut by a crash is repaired so every tool call has a result. A session's id is
its file's name, not what its `meta` line says: a copied or renamed log is a session
of its own, and resuming it writes that file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.context.manager import is_person_turn
from agent.context.store import (
    SYNTHETIC_RESULT,
    Message,
    find_session_file,
    sessions_dir,
)
from agent.context.validate import clean_message


@dataclass(eq=False)
class LogEntry:
    """One message and what the log knows about it; `message=None` marks a compaction."""

    message: Message | None
    ts: float = 0.0
    model: str | None = None
    usage: dict[str, Any] | None = None
    is_error: bool = False
    synthetic: bool = False


@dataclass
class LoadedSession:
    session_id: str  # the file's name: the log that resuming appends to
    path: Path
    cwd: str
    model: str | None
    created: float
    updated: float
    version: str
    messages: list[Message]  # the history to resume with, repaired
    entries: list[LogEntry]  # the same messages with their metadata
    transcript: list[LogEntry]  # everything that happened, also before compactions
    warnings: list[str] = field(default_factory=list)
    turn_open: bool = False  # a request came after the last turn's end: it is running, or cut
    goal: dict[str, Any] | None = None  # the last `goal` event: where the goal stood

    @property
    def turns(self) -> int:
        return sum(1 for m in self.messages if m.get("role") == "user")

    @property
    def first_prompt(self) -> str:
        for entry in self.transcript:
            if entry.message is not None and entry.message.get("role") == "user":
                return message_text(entry.message)
        return ""


@dataclass
class SessionSummary:
    id: str
    path: Path
    created: float
    updated: float
    cwd: str
    model: str | None
    turns: int
    first_prompt: str
    problem: str = ""  # why the log cannot be listed (damaged), "" when it can


def message_text(message: Message) -> str:
    """The text of a message, whether its content is a string or a list of parts."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return "\n".join(p for p in parts if isinstance(p, str) and p)
    return ""


def repair_history(messages: list[Message]) -> list[Message]:
    """Make the history valid to send: every tool call answered once, no orphan results."""
    entries, _, _ = _repair([LogEntry(m) for m in messages])
    return [e.message for e in entries if e.message is not None]


def _repair(entries: list[LogEntry]) -> tuple[list[LogEntry], int, int]:
    """The repaired entries, how many results had to be invented and how many results
    without their call were dropped."""
    out: list[LogEntry] = []
    invented = orphans = 0
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if _role(entry) == "tool":
            orphans += 1  # no call right before it
            continue
        out.append(entry)
        calls = (entry.message or {}).get("tool_calls") if _role(entry) == "assistant" else None
        if not calls:
            continue
        pending = {c["id"]: c for c in calls if isinstance(c, dict) and c.get("id")}
        while i < len(entries) and _role(entries[i]) == "tool":
            result = entries[i]
            i += 1
            if pending.pop((result.message or {}).get("tool_call_id"), None) is not None:
                out.append(result)
            else:
                orphans += 1
        for call_id, call in pending.items():
            name = (call.get("function") or {}).get("name") or ""
            message = {"role": "tool", "tool_call_id": call_id, "name": name}
            message["content"] = SYNTHETIC_RESULT
            out.append(LogEntry(message, entry.ts, entry.model, is_error=True, synthetic=True))
            invented += 1
    return out, invented, orphans


def _role(entry: LogEntry) -> str | None:
    return entry.message.get("role") if entry.message is not None else None


def load_session(session_id_or_prefix: str, root: Path | None = None) -> LoadedSession:
    """Read a saved session back; a unique prefix of its id is enough."""
    path = find_session_file(session_id_or_prefix, sessions_dir(root))
    records, warnings = _read_records(path)
    replay = _Replay(warnings)
    for lineno, record in records:
        replay.feed(record, lineno)
    return replay.result(path)


def scan_sessions(
    root: Path | None = None, cwd: Path | None = None
) -> tuple[list[SessionSummary], list[SessionSummary]]:
    """The saved sessions, newest first (only those started in `cwd` when it is given),
    and apart the damaged logs (with their `problem`).

    One log that cannot be summarised must not take the listing or `--continue` down
    with it; a caller shows the damaged ones as a warning.
    """
    directory = sessions_dir(root)
    if not directory.is_dir():
        return [], []
    wanted = str(Path(cwd).resolve()) if cwd is not None else None
    found: list[SessionSummary] = []
    damaged: list[SessionSummary] = []
    for path in directory.glob("*.jsonl"):
        try:
            summary = _summarize(path)
        except OSError:
            continue  # deleted or unreadable meanwhile
        if wanted is None or summary.cwd == wanted:
            (damaged if summary.problem else found).append(summary)
    return sorted(found, key=lambda s: s.updated, reverse=True), damaged


_MESSAGE_PREFIX = b'{"kind":"message","role":"'
_SUMMARY_KINDS = tuple(b'{"kind":"%s"' % k for k in (b"meta", b"model", b"truncate", b"replace"))


def _summarize(path: Path) -> SessionSummary:
    """Just enough of a log for a listing: message lines are recognised, not parsed.

    What makes no sense (a role that is not text, a creation time that is no time)
    becomes the summary's `problem` instead of an exception.
    """
    meta: dict[str, Any] = {}
    model, roles, first_prompt, problems = None, [], "", []
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if raw.startswith(_MESSAGE_PREFIX) and raw.rstrip().endswith(b"}"):
                role = raw[len(_MESSAGE_PREFIX) : raw.find(b'"', len(_MESSAGE_PREFIX))]
                try:
                    roles.append(role.decode())
                except UnicodeDecodeError:
                    problems.append(f"line {number}: a message role that is not text")
                if role == b"user" and not first_prompt:
                    first_prompt = message_text(_parse(raw).get("message") or {})[:500]
            elif raw.startswith(_SUMMARY_KINDS):
                record = _parse(raw)
                kind = record.get("kind")
                if kind == "meta":
                    meta, model = record, model or _text(record.get("model"))
                elif kind == "model":
                    model = _text(record.get("model"))
                elif kind == "truncate" and isinstance(record.get("keep"), int):
                    roles = roles[: record["keep"]]
                elif kind == "replace" and isinstance(record.get("messages"), list):
                    roles = [str(m.get("role")) for m in record["messages"] if isinstance(m, dict)]
    try:
        created = _checked_time(meta.get("created"))
    except ValueError as exc:
        created = 0.0
        problems.insert(0, f"its creation time {exc}")
    return SessionSummary(
        id=path.stem,
        path=path,
        created=created,
        updated=max(path.stat().st_mtime, created),
        cwd=str(meta.get("cwd") or ""),
        model=model,
        turns=roles.count("user"),
        first_prompt=first_prompt,
        problem="; ".join(problems),
    )


_LATEST = 32_503_680_000.0  # 3000-01-01: later than any log, and a date for `datetime`


def _checked_time(value: Any) -> float:
    """A time read from a log, fit for `datetime`; 0.0 when absent, ValueError when it
    is no time at all (a string, a year past 3000, NaN): a damaged log may hold anything."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{str(value)[:40]!r} is not a number")
    if not 0 <= value <= _LATEST:
        raise ValueError(f"{str(value)[:40]} is out of range")
    return float(value)


def _text(value: Any) -> str | None:
    """A string field of a record, or None when it holds anything else."""
    return value if isinstance(value, str) else None


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return record if isinstance(record, dict) else {}


def _read_records(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    lines = path.read_bytes().split(b"\n")
    records, warnings = [], []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        if record := _parse(raw):
            records.append((number, record))
        elif number == len(lines):  # no newline after it: the write never finished
            warnings.append(f"line {number}: incomplete last record ignored (cut off mid-write)")
        else:
            warnings.append(f"line {number}: unreadable record skipped")
    return records, warnings


class _Replay:
    """Rebuilds the history and the full transcript record by record."""

    def __init__(self, warnings: list[str]) -> None:
        self.meta: dict[str, Any] = {}
        self.warnings = warnings
        self.model: str | None = None
        self.current: list[LogEntry] = []
        self.transcript: list[LogEntry] = []
        self.seen: set[str] | None = None  # message keys in the transcript, once needed
        self.errors: set[str] = set()
        self.pending_usage: dict[str, Any] | None = None
        self.turn_open = False
        self.goal: dict[str, Any] | None = None
        self.lineno = 0

    def feed(self, record: dict[str, Any], lineno: int) -> None:
        handler = getattr(self, f"_on_{record.get('kind')}", None)
        if handler is None:
            return  # a kind this version does not use
        self.lineno = lineno
        try:
            handler(record, _checked_time(record.get("ts")))
        except (TypeError, ValueError, OverflowError, AttributeError, KeyError, RecursionError):
            self.warnings.append(f"line {lineno}: malformed {record.get('kind')} record skipped")

    def _cleaned(self, raw: Any) -> Message | None:
        """The message fit to send again, or None; what was wrong becomes a warning."""
        message, problem = clean_message(raw)
        if problem:
            done = "skipped" if message is None else "repaired"
            self.warnings.append(f"line {self.lineno}: {problem} {done}")
        return message

    def _on_meta(self, record: dict[str, Any], ts: float) -> None:
        self.meta.update(record)
        self.model = self.model or _text(record.get("model"))

    def _on_model(self, record: dict[str, Any], ts: float) -> None:
        self.model = str(record["model"])

    def _on_message(self, record: dict[str, Any], ts: float) -> None:
        message = self._cleaned(record["message"])
        if message is None:
            return
        entry = LogEntry(message, ts, self.model)
        if message.get("role") == "assistant" and self.pending_usage is not None:
            entry.usage, self.pending_usage = self.pending_usage, None
        self.current.append(entry)
        self.transcript.append(entry)
        if is_person_turn(message):
            self.turn_open = True
        if self.seen is not None:
            self.seen.add(_key(message))

    def _on_system(self, record: dict[str, Any], ts: float) -> None:
        message = self._cleaned(record["message"])
        if message is None:
            return
        if message.get("role") != "system":
            raise TypeError("not a system message")
        entry = LogEntry(message, ts, self.model)
        if self.current and _role(self.current[0]) == "system":
            self.current[0] = entry
        else:
            self.current.insert(0, entry)

    def _on_truncate(self, record: dict[str, Any], ts: float) -> None:
        self.current = self.current[: max(int(record["keep"]), 0)]

    def _on_replace(self, record: dict[str, Any], ts: float) -> None:
        if self.seen is None:
            self.seen = {_key(e.message) for e in self.transcript if e.message is not None}
        if not isinstance(record["messages"], list):
            raise TypeError("messages is not a list")
        messages = [m for m in map(self._cleaned, record["messages"]) if m is not None]
        known = {_key(e.message): e for e in self.current}
        keys = [_key(m) for m in messages]
        new = [
            known.get(k) or LogEntry(m, ts, self.model) for k, m in zip(keys, messages, strict=True)
        ]
        kept = {id(e) for e in new}
        if any(id(e) not in kept and _role(e) != "tool" for e in self.current):
            self.transcript.append(LogEntry(None, ts, self.model))  # turns were summarised
        for key, entry in zip(keys, new, strict=True):
            if key not in self.seen:
                self.seen.add(key)
                self.transcript.append(entry)
        self.current = new

    def _on_event(self, record: dict[str, Any], ts: float) -> None:
        event = record["event"]
        if event.get("type") in ("turn_complete", "interrupted", "error"):
            self.turn_open = False
        if event.get("type") == "goal":
            self.goal = dict(event)
        elif event.get("type") == "usage":
            self._on_usage(event, ts)
        elif event.get("type") == "tool_output" and event.get("is_error"):
            self.errors.add(event.get("tool_call_id"))

    def _on_usage(self, record: dict[str, Any], ts: float) -> None:
        usage = {k: v for k, v in record.items() if k not in ("kind", "type", "ts", "session_id")}
        last = self.current[-1] if self.current else None
        if last is not None and _role(last) == "assistant" and last.usage is None:
            last.usage = usage
        else:
            self.pending_usage = usage

    def _created(self) -> float:
        """The meta line's creation time; one that is no time is a damage, not a crash."""
        try:
            return _checked_time(self.meta.get("created"))
        except ValueError as exc:
            self.warnings.append(f"meta: creation time {exc}, ignored")
            return 0.0

    def result(self, path: Path) -> LoadedSession:
        created = self._created()
        entries, invented, orphans = _repair(self.current)
        transcript, _, _ = _repair(self.transcript)
        for entry in transcript + entries:
            if _role(entry) == "tool" and (entry.message or {}).get("tool_call_id") in self.errors:
                entry.is_error = True
        if orphans:
            self.warnings.append(f"{orphans} tool result(s) without their call skipped")
        if invented:
            self.warnings.append(
                f"{invented} tool call(s) had no recorded result and are marked as interrupted"
            )
        return LoadedSession(
            session_id=path.stem,
            path=path,
            cwd=str(self.meta.get("cwd") or ""),
            model=self.model,
            created=created,
            updated=max(path.stat().st_mtime, created),
            version=str(self.meta.get("version") or ""),
            messages=[e.message for e in entries if e.message is not None],
            entries=entries,
            transcript=transcript,
            warnings=self.warnings,
            turn_open=self.turn_open,
            goal=self.goal,
        )


def _key(message: Message | None) -> str:
    return json.dumps(message, sort_keys=True, ensure_ascii=False)
