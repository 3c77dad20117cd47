"""A bounded live view of tool output, for front ends that can only append lines.

Every line of a slow command is shown. A flood is sampled: a budget of lines per
second (refilled continuously, with a small burst) decides how many of the newest
lines of a chunk are shown, and `… N lines` says how many were passed over. What
was held back when the call ends is summed up then, with its last lines, so the
end of the output is always seen.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from agent import events as ev

LINES_PER_S = 20.0
BURST_LINES = 40.0
SAMPLE_LINES = 3
INDENT = "  "


@dataclass
class _CallView:
    tokens: float = BURST_LINES
    refilled: float = 0.0
    passed_over: int = 0  # lines neither shown nor counted yet
    held: deque[str] = field(default_factory=lambda: deque(maxlen=SAMPLE_LINES))
    bar: str | None = None  # the progress bar's state last passed on, while it is redrawn


class SampledLog:
    """Turns `tool_log` chunks into the lines to print, at most about `LINES_PER_S` a second."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._calls: dict[str, _CallView] = {}

    def chunk(self, event: ev.ToolLog) -> list[str]:
        view = self._calls.setdefault(event.tool_call_id, _CallView(refilled=self._clock()))
        now = self._clock()
        view.tokens = min(BURST_LINES, view.tokens + (now - view.refilled) * LINES_PER_S)
        view.refilled = now
        lines = self._new_lines(view, event.line.split("\n") if event.line else [])
        view.passed_over += event.omitted_lines
        if not view.passed_over and len(lines) <= view.tokens:
            view.tokens -= len(lines)
            return [INDENT + line for line in lines]
        if view.tokens < 2:  # no room for a count and a line: hold back
            view.passed_over += len(lines)
            view.held.extend(lines[-SAMPLE_LINES:])
            return []
        shown = lines[-min(SAMPLE_LINES, int(view.tokens) - 1) :]
        view.tokens -= len(shown) + 1
        return self._sample(view, view.passed_over + len(lines) - len(shown), shown)

    @staticmethod
    def _new_lines(view: _CallView, lines: list[str]) -> list[str]:
        """The lines without their `\\r`, less a progress bar's state passed on already: a
        bar that ends (a newline, a stop) where it was last seen is not printed twice."""
        if lines and lines[0].startswith("\r") and lines[0][1:] == view.bar:
            lines = lines[1:]
        if lines:
            view.bar = lines[-1][1:] if lines[-1].startswith("\r") else None
        return [line.lstrip("\r") for line in lines]

    def end(self, tool_call_id: str) -> list[str]:
        """The lines held back from a call that has ended."""
        view = self._calls.pop(tool_call_id, None)
        if view is None or not view.passed_over:
            return []
        shown = list(view.held)[-view.passed_over :]
        return self._sample(view, view.passed_over - len(shown), shown)

    @staticmethod
    def _sample(view: _CallView, hidden: int, shown: list[str]) -> list[str]:
        view.passed_over = 0
        view.held.clear()
        count = [f"{INDENT}… {hidden:,} line{'s' if hidden != 1 else ''}"] if hidden else []
        return count + [INDENT + line for line in shown]
