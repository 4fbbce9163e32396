"""Horizontal bar charts as plain geometry for an SVG template (server-rendered: no script, no CDN).

Colours and fonts come from static/css/reports.css through class names, so
the markup carries no inline style (the coming Content-Security-Policy).
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 260
VALUE_WIDTH = 100
BAR_HEIGHT = 26
GAP = 12
TOP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value as shown
    y: int
    width: int
    text_x: int

    @property
    def label_y(self) -> int:
        return self.y + BAR_HEIGHT // 2 + 5


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    bars: list[Bar]
    height: int
    width: int = WIDTH
    bar_x: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


def bar_chart(*, title: str, description: str, rows: list[tuple[str, float, str]], scale_max: float | None = None) -> BarChart:
    """rows: (label, value, value as text). Bars scale to scale_max (or the largest value)."""
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = max([scale_max or 0] + [value for _, value, _ in rows]) or 1
    bars = []
    for i, (label, value, text) in enumerate(rows):
        width = round(room * max(value, 0) / top)
        bars.append(Bar(label=label, text=text, y=TOP + i * (BAR_HEIGHT + GAP), width=width,
                        text_x=LABEL_WIDTH + width + 8))
    height = TOP * 2 + len(rows) * (BAR_HEIGHT + GAP)
    return BarChart(title=title, description=description, bars=bars, height=height)
