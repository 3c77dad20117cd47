"""Curves drawn with Unicode blocks: a one-line sparkline and a small chart.

Small enough to own: a plotting library would be a dependency for two functions, and
its output (axes, colours) would fight the chat's own styling.
"""

from __future__ import annotations

import math

from agent.runs.metrics import format_value

BLOCKS = "▁▂▃▄▅▆▇█"
EIGHTHS = " ▁▂▃▄▅▆▇█"


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _columns(values: list[float], width: int) -> list[float]:
    """`values` squeezed (or kept) to at most `width` columns, each the mean of its part."""
    if len(values) <= width:
        return values
    size = len(values) / width
    out = []
    for i in range(width):
        part = values[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)]
        finite = _finite(part)
        out.append(sum(finite) / len(finite) if finite else math.nan)
    return out


def sparkline(values: list[float], width: int = 20) -> str:
    """`▇▆▅▄▃▂▂▁`: the shape of a series in one line; a gap where a value is not finite."""
    columns = _columns(values, width)
    finite = _finite(columns)
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = high - low or 1.0
    return "".join(
        BLOCKS[round((v - low) / span * (len(BLOCKS) - 1))] if math.isfinite(v) else " "
        for v in columns
    )


def chart(xs: list[float], ys: list[float], width: int = 60, height: int = 10) -> list[str]:
    """A bar chart of a curve, `height` rows of `width` columns, with its value range on
    the left and its x range below."""
    columns = _columns(ys, width)
    finite = _finite(columns)
    if not finite:
        return ["(no finite values)"]
    low, high = min(finite), max(finite)
    span = high - low or 1.0
    levels = [(v - low) / span * (height * 8 - 1) + 1 if math.isfinite(v) else 0 for v in columns]
    labels = [format_value(high), format_value(low)]
    pad = max(map(len, labels))
    rows = []
    for row in range(height, 0, -1):
        base = (row - 1) * 8
        cells = "".join(EIGHTHS[max(0, min(8, int(level - base)))] for level in levels)
        label = labels[0] if row == height else labels[1] if row == 1 else ""
        rows.append(f"{label:>{pad}} ┤{cells}")
    first, last = (xs[0], xs[-1]) if xs else (0.0, float(len(ys)))
    rows.append(f"{'':>{pad}} └{'─' * len(columns)}")
    left, right = f"{first:g}", f"{last:g}"
    gap = max(1, len(columns) - len(left) - len(right))
    rows.append(f"{'':>{pad}}  {left}{' ' * gap}{right}")
    return rows
