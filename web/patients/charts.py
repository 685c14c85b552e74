"""Geometry for the outcome charts on the patient page: one measure's series
by visit date against its baseline, drawn by a template as inline SVG.
Server-side so the chart prints as it shows and needs no script. A grade
(ordinal measure) is drawn as steps, since nothing lies between two grades."""

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from sessions.outcomes.selectors import MeasureOutcome

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 20, 64


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: Decimal
    date: dt.date
    label: str
    visit: str
    baseline: bool


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str
    sub: str = ""


@dataclass(frozen=True)
class Chart:
    summary: MeasureOutcome
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    points: list[ChartPoint]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    baseline_y: float | None

    @property
    def polyline(self) -> str:
        """The line through the points; for a grade, steps (level until the next visit)."""
        if not self.summary.ordinal:
            return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)
        corners = []
        for before, after in zip(self.points, self.points[1:], strict=False):
            corners += [(before.x, before.y), (after.x, before.y)]
        corners.append((self.points[-1].x, self.points[-1].y))
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)

    @property
    def y_label_y(self) -> float:
        return (self.plot_top + self.plot_bottom) / 2

    @property
    def x_label_x(self) -> float:
        return (self.plot_left + self.plot_right) / 2


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _fmt(value: float | Decimal) -> str:
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def outcome_chart(summary: MeasureOutcome) -> Chart:
    values = [float(p.value) for p in summary.series]
    if summary.baseline is not None:
        values.append(float(summary.baseline))
    low, high = min(values), max(values)
    if low == high:
        # A flat series still needs a visible band around it.
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = _nice_step(high - low)
    if summary.ordinal:
        step = max(1.0, float(math.ceil(step)))  # whole grades only
    y_min = math.floor(low / step) * step
    y_max = math.ceil(high / step) * step
    if y_min == y_max:
        y_max = y_min + step
    # Never draw below the measure's own floor (e.g. a negative hair count).
    floor_value = float(summary.measure.min_value)
    if y_min < floor_value <= low:
        y_min = floor_value

    plot_left, plot_right = LEFT, WIDTH - RIGHT
    plot_top, plot_bottom = TOP, HEIGHT - BOTTOM

    def y_of(value: float) -> float:
        return plot_bottom - (value - y_min) / (y_max - y_min) * (plot_bottom - plot_top)

    days = [p.observed_on for p in summary.series]
    first_day, last_day = min(days), max(days)
    day_span = (last_day - first_day).days
    count = len(summary.series)

    def x_of(index: int, day: dt.date) -> float:
        inner = plot_right - plot_left - 24
        if day_span > 0:
            return plot_left + 12 + (day - first_day).days / day_span * inner
        if count == 1:
            return (plot_left + plot_right) / 2
        return plot_left + 12 + index / (count - 1) * inner

    points = [
        ChartPoint(
            x=x_of(i, p.observed_on),
            y=y_of(float(p.value)),
            value=p.value,
            date=p.observed_on,
            label=f"{p.label}, {date_format(p.observed_on, _('d M Y'))}: {_fmt(p.value)}",
            visit=f"#{p.sequence}",
            baseline=p.is_baseline,
        )
        for i, p in enumerate(summary.series)
    ]
    y_ticks = []
    tick = y_min
    while tick <= y_max + step / 1000:
        y_ticks.append(Tick(pos=y_of(tick), label=_fmt(tick)))
        tick += step
    # Visit and date under the points, thinned so they never overlap.
    x_ticks, last_x = [], -1000.0
    for point in points:
        if point.x - last_x >= 64:
            x_ticks.append(Tick(pos=point.x, label=date_format(point.date, _("d M")), sub=point.visit))
            last_x = point.x
    return Chart(
        summary=summary,
        width=WIDTH,
        height=HEIGHT,
        plot_left=plot_left,
        plot_right=plot_right,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        points=points,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        baseline_y=y_of(float(summary.baseline)) if summary.baseline is not None else None,
    )
