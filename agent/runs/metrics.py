"""Training metrics read from a run's output, with nothing to configure.

Recognised: the dict lines the transformers Trainer and TRL print
(`{'loss': 2.31, 'grad_norm': 1.1, 'learning_rate': 5e-05, 'epoch': 0.5}`), `key=value`
and `key: value` pairs on a line that names a `step` or an `epoch`, and tqdm's progress
(`450/1000 [00:10<00:12, 44.4it/s]`) for step, total and ETA.

Following a run must cost next to nothing even when it prints thousands of metric lines
a second, so a chunk of output is scanned by a few compiled expressions over the whole
text (C speed), and at most `MAX_PARSED_LINES` of its metric lines are read into series
(evenly spaced, the last one always): a series is downsampled anyway. A NaN or infinite
loss is looked for in the whole chunk, so none is missed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

MAX_POINTS = 512  # per series; past it, every other point goes and the stride doubles
MAX_PARSED_LINES = 64  # metric lines read per chunk
_NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|infinity)"
_STEP_NAMED = re.compile(r"\b(?:step|epoch|iter|iteration)\b\s*[=:]?\s*\d", re.IGNORECASE)
_DICT_PAIR = re.compile(rf"'([A-Za-z_][\w/.\-]*)':\s*'?({_NUMBER})'?", re.IGNORECASE)
_KV_PAIR = re.compile(
    rf"(?<![\w.])([A-Za-z_][\w/.\-]*)\s*[=:]\s*({_NUMBER})(?![\w.])", re.IGNORECASE
)
_STEP_WORD = re.compile(r"\b(step|iter|iteration)\s+(\d+)\b", re.IGNORECASE)
_TQDM = re.compile(
    r"(\d+)/(\d+) \[(?:\d+:)?\d+:\d+<((?:\d+:)?\d+:\d+|\?),\s*([\d.]+)\s*(it/s|s/it)"
)
_BAD_LOSS = re.compile(
    r"'?(\w*loss)'?\s*[=:]\s*'?(nan|[-+]?inf(?:inity)?)(?![\w.])'?", re.IGNORECASE
)
STEP_KEYS = ("step", "global_step", "iter", "iteration")
LOWER_IS_BETTER = ("loss", "perplexity", "ppl", "error", "wer", "cer")


def lower_is_better(name: str) -> bool:
    return any(word in name.lower() for word in LOWER_IS_BETTER)


@dataclass
class Series:
    """One metric over steps, bounded: past `MAX_POINTS`, every other point goes and only
    every `stride`-th new point is kept (the last value and the best are always exact)."""

    name: str
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    stride: int = 1
    seen: int = 0
    last: float = math.nan
    best: float | None = None
    best_at: int = 0  # how many points had been seen when the best came
    last_x: float = 0.0

    def add(self, x: float, y: float) -> None:
        self.seen += 1
        self.last, self.last_x = y, x
        if math.isfinite(y) and (self.best is None or self._better(y, self.best)):
            self.best, self.best_at = y, self.seen
        if (self.seen - 1) % self.stride:
            return
        self.xs.append(x)
        self.ys.append(y)
        if len(self.xs) > MAX_POINTS:
            self.xs, self.ys = self.xs[::2], self.ys[::2]
            self.stride *= 2

    def _better(self, value: float, than: float) -> bool:
        return value < than if lower_is_better(self.name) else value > than

    def since_best(self) -> int:
        """Points seen after the best one (for "not improving for N evaluations")."""
        return self.seen - self.best_at if self.best is not None else self.seen


@dataclass
class Progress:
    step: int
    total: int
    eta_s: float | None
    rate: str


@dataclass
class Metrics:
    """The series of one run, its progress, and any NaN or infinite loss seen."""

    series: dict[str, Series] = field(default_factory=dict)
    progress: Progress | None = None
    bad_loss: str = ""  # e.g. "loss=nan", the first one seen
    step: float | None = None  # the latest step number printed
    epoch: float | None = None  # the latest epoch printed
    lines: int = 0  # metric lines seen

    def feed(self, text: str) -> None:
        """Read one chunk of output (whole lines)."""
        if not self.bad_loss:
            self._bad_loss(text)
        self._progress(text)
        candidates = [line for line in text.splitlines() if _is_metric_line(line)]
        if not candidates:
            return
        self.lines += len(candidates)
        if len(candidates) > MAX_PARSED_LINES:
            step = len(candidates) / MAX_PARSED_LINES
            picked = [candidates[int(i * step)] for i in range(MAX_PARSED_LINES - 1)]
            candidates = [*picked, candidates[-1]]
        for line in candidates:
            self._line(line)

    def _bad_loss(self, text: str) -> None:
        """The first loss printed as NaN or infinite, looked for only in the lines that
        hold such a word (finding a word is cheap; the pattern is not)."""
        lower = text.lower()
        for word in ("nan", "inf"):
            at = lower.find(word)
            while at >= 0:
                start = text.rfind("\n", 0, at) + 1
                end = text.find("\n", at)
                end = end if end >= 0 else len(text)
                if "loss" in lower[start:end] and (bad := _BAD_LOSS.search(text, start, end)):
                    self.bad_loss = f"{bad.group(1)}={bad.group(2).lower()}"
                    return
                at = lower.find(word, end)

    def _progress(self, text: str) -> None:
        """The newest tqdm bar of the chunk (only its line is read)."""
        at = max(text.rfind("it/s"), text.rfind("s/it"))
        if at < 0:
            return
        start = max(text.rfind("\n", 0, at), text.rfind("\r", 0, at)) + 1
        last = _TQDM.search(text, start, at + 4)
        if last is None:
            return
        done, total, eta, rate, unit = last.groups()
        self.progress = Progress(int(done), int(total), _seconds(eta), f"{rate}{unit}")

    def _line(self, line: str) -> None:
        pairs = _DICT_PAIR.findall(line) if "{'" in line else _KV_PAIR.findall(line)
        values: dict[str, float] = {}
        for name, raw in pairs:
            try:
                values[name] = float(raw)
            except ValueError:
                continue
        if not values and not (word := _STEP_WORD.search(line)):
            return
        if not values and word:  # "step 10 loss 2.3" has no pairs; only the step counts
            self.step = float(word.group(2))
            return
        step = next((values.pop(k) for k in STEP_KEYS if k in values), None)
        if step is None and (word := _STEP_WORD.search(line)):
            step = float(word.group(2))
        self.record(step, values)

    def record(self, step: float | None, values: dict[str, float]) -> None:
        """One set of values logged at a step (a printed line, or a row of a tracker's
        store); a loss that is NaN or infinite is noted as when printed."""
        if step is not None:
            self.step = step
        x = self._x(values)
        self.epoch = values.get("epoch", self.epoch)
        for name, value in values.items():
            if name == "epoch" and len(values) > 1:
                continue  # an axis, not a curve, next to other metrics
            self.series.setdefault(name, Series(name)).add(x, value)
            if not self.bad_loss and "loss" in name.lower() and not math.isfinite(value):
                self.bad_loss = f"{name}={str(value).lower()}"

    def _x(self, values: dict[str, float]) -> float:
        if self.step is not None:
            return self.step
        if self.progress is not None:
            return float(self.progress.step)
        return float(max((s.seen for s in self.series.values()), default=0))

    def main(self) -> Series | None:
        """The metric to show first: a loss if there is one, else the first series."""
        if not self.series:
            return None
        for name in ("loss", "train_loss", "eval_loss"):
            if name in self.series:
                return self.series[name]
        losses = [s for n, s in self.series.items() if "loss" in n.lower()]
        return losses[0] if losses else next(iter(self.series.values()))

    def last_values(self) -> dict[str, float]:
        return {name: s.last for name, s in self.series.items()}


def _is_metric_line(line: str) -> bool:
    if "{'" in line:
        return True
    return ("=" in line or ":" in line) and _STEP_NAMED.search(line) is not None


def _seconds(clock: str) -> float | None:
    if clock == "?":
        return None
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def format_value(value: float) -> str:
    """A metric value, short: 2.31, 5e-05, nan."""
    if not math.isfinite(value):
        return str(value).lower()
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3g}"
    return f"{value:.4g}"
