"""Server-rendered SVG charts: no JavaScript, no CDN, readable by tests and screen readers.

Every mark carries ``data-label``/``data-value`` and a ``<title>`` tooltip so the numbers
behind a chart can be checked (by people hovering, and by tests) without parsing geometry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 12, 14, 34
PALETTE = ["#6366f1", "#22c55e", "#f59e0b", "#ef4444", "#06b6d4", "#a855f7", "#84cc16", "#64748b"]


def _nice_max(value: float, *, integer: bool = False) -> float:
    """An axis maximum of four equal, round steps (whole steps for counts) at or above ``value``."""
    if value <= 0:
        return 4.0 if integer else 1.0
    raw_step = value / 4
    base = 10 ** math.floor(math.log10(raw_step))
    candidates = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
    step = next(c * base for c in candidates if c * base >= raw_step)
    if integer:
        step = max(1, math.ceil(step))
    return float(step * 4)


def _fmt(value: float, unit: str) -> str:
    if unit == "$":
        return f"${value:,.2f}"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"


def _frame(chart_id: str, title: str, body: list[str], y_max: float, unit: str) -> SafeString:
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = [
        f'<svg class="vo-chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        y = PAD_TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(y_max * i / 4, unit))}</text>"
        )
    parts.extend(body)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated string above is escaped


def _x_labels(labels: Sequence[str], step_w: float) -> list[str]:
    """About ten labels, always including the last day (today), never two crowded together."""
    every = max(1, math.ceil(len(labels) / 10))
    shown = list(range(0, len(labels), every))
    if shown:
        shown[-1] = len(labels) - 1  # the last regular slot is less than `every` before it
    out = []
    for i in shown:
        x = PAD_LEFT + step_w * (i + 0.5)
        out.append(
            f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle">'
            f"{escape(labels[i])}</text>"
        )
    return out


def bar_chart(
    chart_id: str,
    title: str,
    points: Sequence[tuple[str, float | None]],
    *,
    unit: str = "",
    color: str = PALETTE[0],
    integer: bool = False,
) -> SafeString:
    """Vertical bars, one per label; ``None`` draws no bar (no data that day) but keeps the slot."""
    values = [v for _, v in points if v is not None]
    y_max = _nice_max(max(values, default=0), integer=integer)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step_w = plot_w / max(len(points), 1)
    body = []
    for i, (label, value) in enumerate(points):
        if value is None:
            continue
        h = plot_h * value / y_max
        x = PAD_LEFT + step_w * i + step_w * 0.15
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{step_w * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{color}" data-label="{escape(label)}" data-value="{value:g}">'
            f"<title>{escape(label)}: {escape(_fmt(value, unit))}</title></rect>"
        )
    body.extend(_x_labels([label for label, _ in points], step_w))
    return _frame(chart_id, title, body, y_max, unit)


def line_chart(
    chart_id: str,
    title: str,
    points: Sequence[tuple[str, float | None]],
    *,
    unit: str = "",
    color: str = PALETTE[0],
) -> SafeString:
    """A polyline through the days that have data, with a dot (and tooltip) per point."""
    values = [v for _, v in points if v is not None]
    y_max = _nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step_w = plot_w / max(len(points), 1)
    coords = []
    dots = []
    for i, (label, value) in enumerate(points):
        if value is None:
            continue
        x = PAD_LEFT + step_w * (i + 0.5)
        y = PAD_TOP + plot_h - plot_h * value / y_max
        coords.append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}" '
            f'data-label="{escape(label)}" data-value="{value:g}">'
            f"<title>{escape(label)}: {escape(_fmt(value, unit))}</title></circle>"
        )
    body = []
    if len(coords) > 1:
        body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(coords)}"/>')
    body.extend(dots)
    body.extend(_x_labels([label for label, _ in points], step_w))
    return _frame(chart_id, title, body, y_max, unit)


def donut_chart(chart_id: str, title: str, slices: Sequence[tuple[str, int]]) -> SafeString:
    """Shares of a whole (the outcome mix) as a donut with a legend."""
    total = sum(v for _, v in slices)
    size, radius, stroke = 220, 70, 34
    cx, cy = 110, 110
    circumference = 2 * math.pi * radius
    parts = [
        f'<svg class="vo-chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {size}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if not total:
        parts.append(
            f'<circle cx="{cx}" cy="{cy}" r="{radius}" fill="none" stroke="#e5e7eb" stroke-width="{stroke}"/>'
        )
        parts.append(f'<text x="{cx}" y="{cy + 4}" text-anchor="middle">No calls</text>')
    offset = 0.0
    for i, (label, value) in enumerate(slices):
        if not value:
            continue
        color = PALETTE[i % len(PALETTE)]
        length = circumference * value / total
        share = value / total * 100
        parts.append(
            f'<circle class="slice" cx="{cx}" cy="{cy}" r="{radius}" fill="none" stroke="{color}" '
            f'stroke-width="{stroke}" stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
            f'stroke-dashoffset="{-offset:.2f}" transform="rotate(-90 {cx} {cy})" '
            f'data-label="{escape(label)}" data-value="{value}">'
            f"<title>{escape(label)}: {value} ({share:.0f}%)</title></circle>"
        )
        ly = 30 + i * 22
        parts.append(f'<rect x="260" y="{ly - 10}" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="280" y="{ly}">{escape(label)}: {value} ({share:.0f}%)</text>')
        offset += length
    if total:
        parts.append(f'<text x="{cx}" y="{cy + 5}" text-anchor="middle" class="total">{total}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - labels and values are escaped above
