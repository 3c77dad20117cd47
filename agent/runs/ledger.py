"""The experiment ledger: one entry per run the agent launched, kept on disk.

Each session's runs are saved in `runs/<session id>.json` under the data home, with the
project they belong to, so `ml-intern runs` can list a project's runs across sessions
and a continued session has them back. An entry is what it takes to compare experiments:
the command and the hyperparameters and Hub ids read from it, hardware, final and best
metrics with a short curve, cost, outcome, links and the model's one-line note; and, for
resuming a run, what it takes to launch it again (`spec`, secret names only) and the run it
continued (`resumed_from`).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from agent.paths import data_home, write_json
from agent.runs.metrics import format_value
from agent.runs.model import Run

CURVE_POINTS = 60
_OPTION = re.compile(r"^--?([A-Za-z][\w.\-]*)(?:=(.*))?$")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][\w.\-]*)=(.+)$")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")
_SKIPPED = {"env", "e", "o", "output", "output_dir", "output-dir", "logging_dir"}


def ledger_dir() -> Path:
    return data_home() / "runs"


def hyperparameters(command: str) -> dict[str, str]:
    """`--lr 1e-4 --epochs=3 trainer.bs=8` read from a command line (values as written)."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    found: dict[str, str] = {}
    for i, word in enumerate(words):
        if option := _OPTION.match(word):
            name, value = option.group(1), option.group(2)
            if value is None:
                following = words[i + 1] if i + 1 < len(words) else ""
                value = "true" if not following or following.startswith("-") else following
            if name not in _SKIPPED:
                found[name.replace("-", "_")] = value
        elif (assignment := _ASSIGNMENT.match(word)) and not word.isupper():
            found[assignment.group(1)] = assignment.group(2)
    return found


def hub_ids(params: dict[str, str]) -> dict[str, str]:
    """The model and dataset ids among the hyperparameters (`--model_name_or_path org/x`)."""
    return {
        name: value
        for name, value in params.items()
        if ("model" in name or "dataset" in name) and _HUB_ID.match(value)
    }


def entry(run: Run) -> dict[str, Any]:
    """The ledger entry of one run (JSON-ready)."""
    params = hyperparameters(run.command)
    metrics = {}
    for name, series in run.metrics.series.items():
        stride = max(1, len(series.ys) // CURVE_POINTS)
        metrics[name] = {
            "last": _number(series.last),
            "best": _number(series.best),
            "curve": [_number(y) for y in series.ys[::stride][-CURVE_POINTS:]],
        }
    return {
        "id": run.id,
        "kind": run.kind,
        "command": run.command,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "status": run.status,
        "outcome": run.status_text(),
        "exit_code": run.exit_code,
        "cost_usd": run.cost_usd,
        "links": run.links,
        "hardware": run.hardware,
        "hyperparameters": params,
        "hub_ids": hub_ids(params),
        "metrics": metrics,
        "note": run.note,
        "resumed_from": run.resumed_from,
        "spec": run.spec,
        "tail": list(run.tail)[-20:],
        "offset": run.offset,
        "fired": sorted(run.fired),
    }


def _number(value: float | None) -> float | str | None:
    """JSON has no NaN: non-finite values are kept as text."""
    if value is None:
        return None
    return value if value == value and abs(value) != float("inf") else str(value)


def save(
    session_id: str,
    cwd: Path,
    entries: list[dict[str, Any]],
    monitors: list[dict[str, Any]] | None = None,
) -> None:
    """Write the session's entries and the monitors still set (private, in one step)."""
    from agent.trust import project_root

    path = ledger_dir() / f"{session_id}.json"
    data = {
        "session_id": session_id,
        "project": str(project_root(cwd)),
        "runs": entries,
        "monitors": monitors or [],
    }
    write_json(path, data)


def load_session(session_id: str) -> tuple[dict[str, Any], str]:
    """What a session saved (`runs`, `monitors`), and why it could not be read when its
    file is there but torn. A torn file is moved aside (`.torn`), so that the session's
    next save does not write over what may still be recovered from it."""
    path = ledger_dir() / f"{session_id}.json"
    if not path.exists():
        return {}, ""
    problems: list[str] = []
    data = _read(path, problems)
    if not problems:
        return data, ""
    aside = path.with_suffix(".json.torn")
    try:
        path.replace(aside)
    except OSError:
        return {}, f"{problems[0]}"
    return {}, f"{problems[0]} (kept as {aside})"


def load_project(
    cwd: Path, every_project: bool = False, unreadable: list[str] | None = None
) -> list[dict[str, Any]]:
    """Every entry of this project's sessions (of all projects with `every_project`),
    newest first, each with its session id. A file that cannot be read (torn, not a
    ledger) is named in `unreadable`, so a listing can say what it left out."""
    from agent.trust import project_root

    root = str(project_root(cwd))
    found = []
    folder = ledger_dir()
    for path in folder.glob("*.json") if folder.is_dir() else []:
        data = _read(path, unreadable)
        if every_project or data.get("project") == root:
            for item in data.get("runs", []):
                found.append({**item, "session_id": data.get("session_id", path.stem)})
    return sorted(found, key=lambda item: item.get("started_at") or 0, reverse=True)


def _read(path: Path, unreadable: list[str] | None = None) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        data = exc
    if isinstance(data, dict):
        return data
    if unreadable is not None:
        unreadable.append(f"{path}: {data if isinstance(data, Exception) else 'not a ledger'}")
    return {}


def compact_text(entries: list[dict[str, Any]]) -> str:
    """The ledger for the model, one line per run: what was tried and how it went."""
    lines = []
    for item in entries:
        params = " ".join(f"{k}={v}" for k, v in item.get("hyperparameters", {}).items())
        metrics = " ".join(
            f"{name}={_shown(m.get('last'))}(best {_shown(m.get('best'))})"
            for name, m in item.get("metrics", {}).items()
            if name in _KEY_METRICS or "loss" in name or "acc" in name
        )
        cost = f" ${item['cost_usd']:.2f}" if item.get("cost_usd") else ""
        note = f" note: {item['note']}" if item.get("note") else ""
        resumed = f" resumed from {item['resumed_from']}" if item.get("resumed_from") else ""
        lines.append(
            f"- {item['id']}{resumed} [{item.get('outcome', item.get('status'))}{cost}] "
            f"`{_short(item.get('command', ''))}`"
            + (f" params: {params}" if params else "")
            + (f" metrics: {metrics}" if metrics else "")
            + note
        )
    return "\n".join(lines)


_KEY_METRICS = {"loss", "eval_loss", "accuracy", "eval_accuracy", "f1", "perplexity"}


def _shown(value: Any) -> str:
    return format_value(value) if isinstance(value, int | float) else str(value)


def _short(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
