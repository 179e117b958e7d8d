"""Server-rendered SVG charts: the geometry is computed here, the markup is written by the
templates (autoescaped), each point carrying its value as a ``<title>`` (shown on hover) and
the same numbers listed in a table beside the chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 28


@dataclass
class Mark:
    x: float
    y: float
    label: str  # the date
    value: float
    w: float = 0.0  # bars: width
    h: float = 0.0  # bars: height


@dataclass
class Chart:
    title: str
    kind: str  # "line" or "bar"
    marks: list[Mark]
    y_ticks: list[tuple[float, float]]  # (y, value)
    x_ticks: list[tuple[float, str]]  # (x, label)
    width: int = WIDTH
    height: int = HEIGHT
    plot: tuple[float, float, float, float] = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)
    rows: list[tuple[str, float]] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        return " ".join(f"{m.x:.1f},{m.y:.1f}" for m in self.marks)


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if hi <= lo:
        return [lo]
    step = (hi - lo) / n
    return [lo + step * i for i in range(n + 1)]


def _scale(values: list[float], *, zero: bool) -> tuple[float, float]:
    lo, hi = (0.0 if zero else min(values)), max(values)
    if hi == lo:
        hi = lo + (abs(lo) * 0.1 or 1.0)
        lo = 0.0 if zero else lo - (abs(lo) * 0.1 or 1.0)
    return lo, hi


def chart(title: str, series: list[tuple[datetime, float]], *, kind: str = "line") -> Chart | None:
    """A line (levels, e.g. followers) or bar (daily amounts, e.g. reach) chart; None without data."""
    if not series:
        return None
    x0, y0, x1, y1 = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
    values = [v for _, v in series]
    lo, hi = _scale(values, zero=kind == "bar")
    n = len(series)

    def y_of(v: float) -> float:
        return y1 - (v - lo) / (hi - lo) * (y1 - y0)

    marks: list[Mark] = []
    if kind == "bar":
        slot = (x1 - x0) / n
        width = max(1.0, min(slot * 0.8, 36.0))
        for i, (ts, v) in enumerate(series):
            x = x0 + slot * i + (slot - width) / 2
            top = y_of(v)
            marks.append(Mark(x, top, ts.strftime("%Y-%m-%d"), v, w=width, h=y1 - top))
    else:
        t0, t1 = series[0][0].timestamp(), series[-1][0].timestamp()
        span = (t1 - t0) or 1.0
        for ts, v in series:
            x = x0 + (ts.timestamp() - t0) / span * (x1 - x0) if n > 1 else (x0 + x1) / 2
            marks.append(Mark(x, y_of(v), ts.strftime("%Y-%m-%d %H:%M"), v))
    picks = sorted({0, n // 2, n - 1}) if n > 2 else list(range(n))
    x_ticks = [(min(marks[i].x + marks[i].w / 2, x1 - 18), series[i][0].strftime("%b %d")) for i in picks]
    y_ticks = [(y_of(v), v) for v in _ticks(lo, hi)]
    rows = [(m.label, m.value) for m in marks]
    return Chart(title, kind, marks, y_ticks, x_ticks, rows=rows)
