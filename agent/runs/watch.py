"""What wakes the agent about a run: the conditions every run is watched for, and those the
model adds with the `monitor` tool.

Every run is watched by default for its end (any exit), a Python traceback, CUDA running
out of memory, `Killed`, and a loss that becomes NaN or infinite; each of these fires at
most once per run. Added conditions (a regex on the output, a metric rule, no output for
a while, a time) fire once and are then removed.
"""

from __future__ import annotations

import itertools
import operator
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.runs.metrics import format_value
from agent.runs.model import Run

_TRACEBACK = re.compile(r"^Traceback \(most recent call last\):", re.MULTILINE)
_OOM = re.compile(r"CUDA out of memory|OutOfMemoryError")
_KILLED = re.compile(r"^(?:.*: )?Killed\s*$", re.MULTILINE)
_RULE = re.compile(r"^\s*([A-Za-z_][\w/.\-]*)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$")
_PLATEAU = re.compile(
    r"^\s*([A-Za-z_][\w/.\-]*)\s+not\s+improving\s+(?:for|in)\s+(\d+)(?:\s+\w+)?\s*$",
    re.IGNORECASE,
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_ids = itertools.count(1)


@dataclass
class Wake:
    """One reason to wake the agent."""

    run_id: str | None
    condition: str  # ended, traceback, oom, killed, nan, or a monitor's id
    what: str  # for the model and the person: "loss became nan"
    end_only: bool = False  # it only says the run ended: moot once the model saw that


def default_wakes(run: Run, text: str, fired: set[str]) -> list[Wake]:
    """The built-in conditions for one run's new output (and its end, if it ended)."""
    found: list[Wake] = []

    def fire(condition: str, what: str, end_only: bool = False) -> None:
        if condition not in fired:
            fired.add(condition)
            found.append(Wake(run.id, condition, what, end_only))

    if text:  # a word looked for first: cheap, where the patterns are not
        if "Traceback" in text and _TRACEBACK.search(text):
            fire("traceback", "printed a Python traceback")
        if ("out of memory" in text or "OutOfMemory" in text) and _OOM.search(text):
            fire("oom", "ran out of GPU memory (CUDA out of memory)")
        if "Killed" in text and _KILLED.search(text):
            fire("killed", "printed `Killed` (often the system running out of memory)")
    if run.metrics.bad_loss:
        name, _, value = run.metrics.bad_loss.partition("=")
        fire("nan", f"{name} became {value}")
    if not run.running:
        fire("ended", f"ended: {run.status_text()}", end_only=True)
    return found


@dataclass
class Condition:
    """A condition added by the model; `check` says what happened, once it has."""

    description: str
    check: Callable[[Run | None, str, float], str | None]
    run_id: str | None = None  # None: any run (a time needs none)
    timed: bool = False  # a check-in: the agent waits for it like for a run
    id: str = field(default_factory=lambda: f"m{next(_ids)}")
    created_at: float = field(default_factory=time.time)
    spec: dict[str, Any] = field(default_factory=dict)  # how to make it again (saved)

    def saved(self) -> dict[str, Any]:
        """What the ledger keeps of it, to set it again when the session is continued."""
        return {**self.spec, "id": self.id, "run_id": self.run_id}


def restore_condition(saved: dict[str, Any]) -> Condition | None:
    """A condition saved by `Condition.saved`, set again (with its id); None when the
    saved form is not one this version knows."""
    makers: dict[str, Callable[[Any, str | None], Condition]] = {
        "regex": regex_condition,
        "metric": metric_condition,
        "silent_minutes": silence_condition,
        "in_minutes": timer_condition,
    }
    kind, value, run_id = saved.get("kind"), saved.get("value"), saved.get("run_id")
    if kind not in makers or value is None or not isinstance(saved.get("id"), str):
        return None
    try:
        condition = makers[str(kind)](value, run_id if isinstance(run_id, str) else None)
    except (ValueError, TypeError):
        return None
    if kind == "in_minutes" and isinstance(due := saved.get("due"), int | float):
        condition = timer_condition(value, condition.run_id, due=float(due))
    condition.id = saved["id"]
    _skip_past(condition.id)
    return condition


def _skip_past(condition_id: str) -> None:
    """New conditions get ids after those set again: `m3` restored, the next is `m4`."""
    global _ids
    number = condition_id[1:]
    if condition_id.startswith("m") and number.isdigit():
        current = next(_ids)
        _ids = itertools.count(max(current, int(number) + 1))


def regex_condition(pattern: str, run_id: str | None) -> Condition:
    try:
        compiled = re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None

    def check(run: Run | None, text: str, now: float) -> str | None:
        match = compiled.search(text) if run and text else None
        return f"printed a line matching /{pattern}/: {_line_of(text, match)}" if match else None

    return Condition(
        f"output matches /{pattern}/", check, run_id, spec={"kind": "regex", "value": pattern}
    )


def _line_of(text: str, match: re.Match[str] | None) -> str:
    if match is None:
        return ""
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    return text[start : end if end >= 0 else len(text)].strip()[:200]


def metric_condition(rule: str, run_id: str | None) -> Condition:
    """`loss > 5`, `accuracy >= 0.9`, or `eval_loss not improving for 3 evaluations`."""
    if plateau := _PLATEAU.match(rule):
        name, count = plateau.group(1), int(plateau.group(2))

        def stalled(run: Run | None, text: str, now: float) -> str | None:
            series = run.metrics.series.get(name) if run else None
            if series is None or series.best is None or series.since_best() < count:
                return None
            return (
                f"{name} has not improved for {series.since_best()} evaluations "
                f"(best {format_value(series.best)}, last {format_value(series.last)})"
            )

        return Condition(
            f"{name} not improving for {count} evaluations",
            stalled,
            run_id,
            spec={"kind": "metric", "value": rule},
        )
    if not (parts := _RULE.match(rule)):
        raise ValueError(
            "a metric rule looks like `loss > 5` (>, <, >=, <=, ==, !=) or "
            "`eval_loss not improving for 3`"
        )
    name, op, raw = parts.groups()
    try:
        limit = float(raw)
    except ValueError:
        raise ValueError(f"`{raw}` is not a number") from None
    compare = _OPS[op]
    seen: dict[str, int] = {}

    def crossed(run: Run | None, text: str, now: float) -> str | None:
        series = run.metrics.series.get(name) if run else None
        if run is None or series is None or series.seen == seen.get(run.id, 0):
            return None
        seen[run.id] = series.seen
        if compare(series.last, limit):
            return f"{name} = {format_value(series.last)} ({rule.strip()})"
        return None

    return Condition(f"{rule.strip()}", crossed, run_id, spec={"kind": "metric", "value": rule})


def silence_condition(minutes: float, run_id: str | None) -> Condition:
    def silent(run: Run | None, text: str, now: float) -> str | None:
        if run is None or not run.running or now - run.last_output_at < minutes * 60:
            return None
        return f"printed nothing for {minutes:g} min"

    return Condition(
        f"no output for {minutes:g} min",
        silent,
        run_id,
        spec={"kind": "silent_minutes", "value": minutes},
    )


def timer_condition(minutes: float, run_id: str | None, due: float | None = None) -> Condition:
    """A check-in `minutes` from now (or at `due`, a time saved before a --continue)."""
    due = time.time() + minutes * 60 if due is None else due

    def elapsed(run: Run | None, text: str, now: float) -> str | None:
        return f"check-in after {minutes:g} min" if now >= due else None

    spec = {"kind": "in_minutes", "value": minutes, "due": due}
    return Condition(
        f"check in {minutes:g} min from when it was set", elapsed, run_id, timed=True, spec=spec
    )
