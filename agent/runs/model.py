"""A run: anything working in the background for the session (a local background job, a
Hugging Face job, a Slurm job), described the same way whatever its kind.

A run is fed by a `Source`, which knows how to read what its kind of run printed and
whether it has ended; everything else (metrics, watching, the ledger) sees only `Run`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.runs.metrics import Metrics, format_value

TAIL_LINES = 40


@dataclass
class Ended:
    """How a run ended: `status` is one of succeeded, failed, killed, ended (unknown)."""

    status: str
    exit_code: int | None = None
    detail: str = ""  # e.g. "killed by signal SIGKILL", "exited 1", "ERROR on the Hub"


class Source(Protocol):
    """What a kind of run provides: new output since the last read, and its end."""

    async def read(self) -> tuple[str, Ended | None]:
        """New output (whole lines) and, once the run has ended and its output is all
        read, how it ended."""
        ...

    def cost_usd(self) -> float | None:
        """The cost so far, when the kind of run has one."""
        ...


@dataclass
class Run:
    id: str
    kind: str  # "local", "hf_job", "slurm"; open to more kinds
    command: str
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    status: str = "running"
    exit_code: int | None = None
    end_detail: str = ""
    cost_usd: float | None = None
    links: list[str] = field(default_factory=list)
    hardware: str = ""
    note: str = ""
    spec: dict[str, Any] = field(default_factory=dict)  # how to launch it again (no secrets)
    resumed_from: str = ""  # the run this one continues from its checkpoint
    metrics: Metrics = field(default_factory=Metrics)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    last_output_at: float = field(default_factory=time.time)
    watched: bool = True
    end_seen: bool = False  # the model already saw that it ended (it looked, or stopped it)
    offset: int = 0  # how far its output has been read (bytes of a local job's log)
    fired: set[str] = field(default_factory=set)  # the built-in conditions that woke the agent

    @property
    def running(self) -> bool:
        return self.ended_at is None

    def feed(self, text: str) -> None:
        """Take new output: the tail keeps its last lines, metrics are read from it."""
        if not text:
            return
        self.last_output_at = time.time()
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.tail.extend(line for line in lines[-TAIL_LINES:] if line.strip())
        self.metrics.feed(text)

    def end(self, ended: Ended) -> None:
        self.ended_at = self.ended_at or time.time()
        self.status, self.exit_code, self.end_detail = ended.status, ended.exit_code, ended.detail

    def duration_s(self) -> float:
        return (self.ended_at or time.time()) - self.started_at

    def status_text(self) -> str:
        if self.running:
            return f"running {format_duration(self.duration_s())}"
        return self.end_detail or self.status

    def metrics_line(self) -> str:
        """The last value of each metric, with the step: "step 120: loss=2.1 lr=5e-05"."""
        values = " ".join(f"{n}={format_value(v)}" for n, v in self.metrics.last_values().items())
        where = self.metrics.step
        progress = self.metrics.progress
        if where is None and progress is not None:
            where = progress.step
        prefix = f"step {where:g}" if where is not None else ""
        if where is None and self.metrics.epoch is not None:
            prefix = f"epoch {self.metrics.epoch:g}"
        if progress is not None:
            prefix = f"{prefix} ({progress.step}/{progress.total})".strip()
        return f"{prefix}: {values}" if prefix and values else prefix or values or "none yet"


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
