"""The scores over visits as a small SVG line chart, computed here and drawn by templates/outcomes/_chart.html.

Server-rendered: no JavaScript, no inline style (the colours are classes in static/css/outcomes.css).
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 34, 12, 12, 30


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    points: str  # "x,y x,y ..." for <polyline>
    dots: list[tuple[float, float, int]]  # (x, y, value)


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: list[Series]
    y_ticks: list[tuple[float, int]]  # (y, label)
    x_ticks: list[tuple[float, int]]  # (x, visit number)
    plot_left: int
    plot_right: int
    plot_bottom: int


def _x(i: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return round(LEFT + (span / 2 if count == 1 else span * i / (count - 1)), 1)


def _y(value: int) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (10 - value) / 10, 1)


def build(visits) -> Chart | None:
    if not visits:
        return None
    count = len(visits)
    series = []
    for name, css, attr in (("Leg pain", "pain", "leg_pain"), ("Stops normal activities", "limit", "activity_limit")):
        dots = [(_x(i, count), _y(getattr(v, attr)), getattr(v, attr)) for i, v in enumerate(visits)]
        series.append(Series(name, css, " ".join(f"{x},{y}" for x, y, _ in dots), dots))
    return Chart(
        width=WIDTH, height=HEIGHT, series=series,
        y_ticks=[(_y(v), v) for v in (0, 5, 10)],
        x_ticks=[(_x(i, count), v.number) for i, v in enumerate(visits)],
        plot_left=LEFT, plot_right=WIDTH - RIGHT, plot_bottom=HEIGHT - BOTTOM,
    )
