"""Metrics a run logs with trackio locally, read from trackio's own SQLite store.

A script that calls `trackio.init(project=...)` and `trackio.log(...)` may print no
metric at all: trackio writes each project to `{TRACKIO_DIR}/{project}.db` (TRACKIO_DIR
defaults to `$HF_HOME/trackio`, `~/.cache/huggingface/trackio`), one row of its `metrics`
table per `log` call: run name, step, and the values as a JSON object (NaN and infinities
as "NaN", "Infinity", "-Infinity"). The project is found in the script the command runs:
`trackio.init(project=...)`, or a Trainer reporting to trackio (`report_to="trackio"`),
whose project is TrainingArguments' `project`, else TRACKIO_PROJECT_NAME, else
"huggingface", as transformers chooses it.

The file is read with the standard library, read-only, from the row after the last one
seen (an indexed query), and only when the file changed: following it costs next to
nothing. Rows written before the run started belong to earlier runs and are skipped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shlex
from pathlib import Path

log = logging.getLogger(__name__)
MAX_SCRIPT_BYTES = 256 << 10  # how much of a script is searched for its project
MAX_ROWS = 2000  # rows read per look; the rest at the next one
_INIT = re.compile(
    r"trackio\.init\(\s*(?:['\"]([^'\"\n]+)['\"]|[^)]*?\bproject\s*=\s*['\"]([^'\"\n]+)['\"])",
    re.DOTALL,
)
_REPORTS = re.compile(r"report[_-]to\s*=?\s*[\[(]?\s*['\"]?[\w,' \"]*trackio")
_PROJECT = re.compile(r"(?:--|\b)project(?:\s*=\s*|\s+)['\"]([^'\"\n]+)['\"]")
TRAINER_PROJECT = "huggingface"  # TrainingArguments' default project
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def trackio_dir() -> Path:
    """Where trackio keeps its local projects, as trackio itself decides it."""
    if folder := os.environ.get("TRACKIO_DIR"):
        return Path(folder)
    if hf_home := os.environ.get("HF_HOME"):
        return Path(hf_home) / "trackio"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "huggingface" / "trackio"


def database_name(project: str) -> str:
    """trackio's file name for a project: only `[A-Za-z0-9_-]` kept, `default` if none."""
    safe = "".join(c for c in project if c.isalnum() or c in "-_").rstrip()
    return f"{safe or 'default'}.db"


def projects_in(command: str, cwd: Path) -> list[str]:
    """The trackio projects named by the Python scripts a command runs."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    found: list[str] = []
    for word in words:
        if not word.endswith(".py"):
            continue
        try:
            with (cwd / word).open("rb") as script:
                text = script.read(MAX_SCRIPT_BYTES).decode("utf-8", errors="replace")
        except OSError:
            continue
        found += _projects(text)
    if _REPORTS.search(command):
        found += _trainer_projects(command)
    return list(dict.fromkeys(found))


def _projects(text: str) -> list[str]:
    """The projects a script logs to with trackio itself or through a Trainer."""
    if "trackio" not in text:
        return []
    found = [a or b for a, b in _INIT.findall(text)]
    if _REPORTS.search(text):
        found += _trainer_projects(text)
    return found


def _trainer_projects(text: str) -> list[str]:
    named = _PROJECT.findall(text)
    return named or [os.environ.get("TRACKIO_PROJECT_NAME") or TRAINER_PROJECT]


class TrackioStore:
    """One project's store, read on from where the last look stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, ...] = ()
        earlier = self._query("SELECT COALESCE(MAX(id), 0) FROM metrics", ())
        self.last_id = int(earlier[0][0]) if earlier else 0  # type: ignore[call-overload]

    def read(self) -> list[tuple[float | None, dict[str, float]]]:
        """The (step, values) logged since the last look."""
        if not self._changed():
            return []
        rows = self._query(
            "SELECT id, step, metrics FROM metrics WHERE id > ? ORDER BY id LIMIT ?",
            (self.last_id, MAX_ROWS),
        )
        found = []
        for row_id, step, blob in rows:
            self.last_id = int(row_id)  # type: ignore[call-overload]
            if values := _values(blob):
                found.append((float(step) if isinstance(step, int | float) else None, values))
        if len(rows) == MAX_ROWS:
            self._seen = ()  # more to read at the next look, changed or not
        return found

    def _changed(self) -> bool:
        """Whether the file (or its write-ahead log, where trackio writes first) changed."""
        stamp: list[int] = []
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            try:
                info = path.stat()
            except OSError:
                continue
            stamp += [info.st_mtime_ns, info.st_size]
        if not stamp or tuple(stamp) == self._seen:
            return False
        self._seen = tuple(stamp)
        return True

    def _query(self, sql: str, args: tuple[int, ...]) -> list[tuple[object, ...]]:
        if not self.path.exists():
            return []
        import sqlite3  # only for a run that logs with trackio, never at start-up

        try:
            connection = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=0.2)
            try:
                return list(connection.execute(sql, args))
            finally:
                connection.close()
        except sqlite3.Error as exc:  # being created, locked, or not trackio's
            log.debug("reading %s: %s", self.path, exc)
            self._seen = ()
            return []


def _values(blob: object) -> dict[str, float]:
    """The numbers of one logged row (trackio also logs media and tables: left out)."""
    try:
        data = json.loads(blob.decode() if isinstance(blob, bytes) else str(blob))
    except (ValueError, UnicodeDecodeError):
        return {}
    values: dict[str, float] = {}
    for name, value in data.items() if isinstance(data, dict) else []:
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            values[str(name)] = float(value)
        elif isinstance(value, str) and value in _SPECIAL:
            values[str(name)] = _SPECIAL[value]
    return values


def stores_for(command: str, cwd: Path) -> list[TrackioStore]:
    """The stores of the trackio projects a command's scripts log to."""
    folder = trackio_dir()
    return [TrackioStore(folder / database_name(p)) for p in projects_in(command, cwd)]
