"""How runs look in the terminal: the live line per active run, the `/runs` table and the
curve of one run, all drawn from ledger entries or live summaries (plain data)."""

from __future__ import annotations

import math
import time
from typing import Any

from agent.runs.metrics import format_value, lower_is_better
from agent.runs.model import format_duration
from agent.runs.plot import chart, sparkline


def live_line(run: dict[str, Any]) -> str:
    """`bg1 ▸ 450/1000 · ETA 55s · loss 2.31 ▇▆▅▄▃`: one active run, under the spinner."""
    parts = [f"{run['id']} ▸"]
    step, total = run.get("step"), run.get("total")
    if step is not None and total:
        parts.append(f"{step:g}/{total:g}")
    elif step is not None:
        parts.append(f"step {step:g}")
    else:
        parts.append(format_duration(run.get("elapsed_s") or 0))
    if run.get("eta_s") is not None:
        parts.append(f"· ETA {format_duration(run['eta_s'])}")
    if run.get("metric") is not None and run.get("value") is not None:
        parts.append(f"· {run['metric']} {format_value(run['value'])}")
        parts.append(sparkline(run.get("points") or [], 16))
    return " ".join(parts)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def main_metric(entry: dict[str, Any]) -> str | None:
    metrics = entry.get("metrics") or {}
    for name in ("loss", "train_loss", "eval_loss"):
        if name in metrics:
            return name
    return next((n for n in metrics if "loss" in n), next(iter(metrics), None))


def entry_line(entry: dict[str, Any]) -> str:
    """One run of the ledger: id, outcome, duration, cost, main metric last/best, curve."""
    started, ended = entry.get("started_at") or 0, entry.get("ended_at")
    duration = format_duration((ended or time.time()) - started) if started else "?"
    parts = [
        f"{entry['id']:<6} {entry.get('outcome') or entry.get('status', '?'):<22} {duration:>7}"
    ]
    if entry.get("cost_usd"):
        parts.append(f"${entry['cost_usd']:.2f}")
    name = main_metric(entry)
    if name is not None:
        metric = entry["metrics"][name]
        last, best = _number(metric.get("last")), _number(metric.get("best"))
        shown = format_value(last) if last is not None else "?"
        if best is not None and best != last:
            shown += f" (best {format_value(best)})"
        curve = [v for v in (_number(p) for p in metric.get("curve", [])) if v is not None]
        parts.append(f"{name} {shown} {sparkline(curve, 16)}")
    if entry.get("resumed_from"):
        parts.append(f"(resumes {entry['resumed_from']})")
    parts.append(_short(entry.get("command", ""), 50))
    return "  ".join(parts)


def entry_details(entry: dict[str, Any], width: int = 60) -> list[str]:
    """One run in full: what it ran, every metric (last, best), its curve, links, tail."""
    lines = [
        f"{entry['id']} ({entry.get('kind', 'local')}): {entry.get('outcome') or entry.get('status')}",
        f"command: {entry.get('command', '')}",
    ]
    if entry.get("resumed_from"):
        lines.append(f"resumed from: {entry['resumed_from']} (its last checkpoint)")
    if params := entry.get("hyperparameters"):
        lines.append("hyperparameters: " + " ".join(f"{k}={v}" for k, v in params.items()))
    if entry.get("cost_usd"):
        lines.append(f"cost: ${entry['cost_usd']:.2f}")
    lines += [f"link: {link}" for link in entry.get("links", [])]
    if entry.get("note"):
        lines.append(f"note: {entry['note']}")
    for name, metric in (entry.get("metrics") or {}).items():
        best = metric.get("best")
        direction = "lowest" if lower_is_better(name) else "highest"
        lines.append(f"{name}: last {_shown(metric.get('last'))}, {direction} {_shown(best)}")
    name = main_metric(entry)
    if name is not None:
        curve = [
            v
            for v in (_number(p) for p in entry["metrics"][name].get("curve", []))
            if v is not None
        ]
        if len([v for v in curve if math.isfinite(v)]) > 1:
            lines += ["", f"{name}:", *chart(list(range(len(curve))), curve, width, 8)]
    if tail := entry.get("tail"):
        lines += ["", "output tail:", *tail]
    return lines


def _shown(value: Any) -> str:
    number = _number(value)
    return format_value(number) if number is not None else "–"


def _short(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
