"""Charts as inline SVG drawn on the server: no script, no CDN, prints as crisply as it shows.

Two shapes cover the reports: bars (grouped or stacked, per hour or day) and a line with an
optional target line (wait over the day). Text is escaped; sizes are in SVG user units.
"""

from __future__ import annotations

import math
from html import escape

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#f59e0b", "#7c3aed", "#0891b2")
W, H = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 42


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _axes(title: str, ymax: float, unit: str) -> list[str]:
    out = [f'<text x="{LEFT}" y="16" class="title">{escape(title)}</text>']
    plot_h = H - TOP - BOTTOM
    for i in range(5):
        v = ymax * i / 4
        y = TOP + plot_h - plot_h * i / 4
        label = f"{v:g}" if v < 10 else f"{v:.0f}"
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{label}</text>')
    if unit:
        out.append(f'<text x="{LEFT - 6}" y="{TOP - 8}" class="tick" text-anchor="end">{escape(unit)}</text>')
    return out


def _legend(names: list[str]) -> list[str]:
    out, x = [], W - RIGHT
    for i, name in reversed(list(enumerate(names))):
        x -= 14 + 7 * len(name)
        out.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{x + 14}" y="15" class="tick">{escape(name)}</text>')
    return out


def _svg(parts: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)}" '
            f'class="chart">' + "".join(parts) + "</svg>")


def _x_labels(categories: list[str], slot: float) -> list[str]:
    every = max(1, math.ceil(len(categories) * 42 / (W - LEFT - RIGHT)))
    out = []
    for i, c in enumerate(categories):
        if i % every == 0:
            x = LEFT + slot * (i + 0.5)
            out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" class="tick" text-anchor="middle">{escape(c)}</text>')
    return out


def bars(title: str, categories: list[str], series: list[tuple[str, list[float]]], unit: str = "",
         stacked: bool = False) -> str:
    """Bars per category: one per series side by side, or stacked."""
    if not categories:
        return _svg(_axes(title, 1, unit) + [f'<text x="{W / 2}" y="{H / 2}" class="tick" text-anchor="middle">'
                                             "Không có dữ liệu / no data</text>"], title)
    totals = [sum(vals[i] or 0 for _, vals in series) for i in range(len(categories))] if stacked else \
        [max((vals[i] or 0) for _, vals in series) for i in range(len(categories))]
    ymax = _nice_max(max(totals, default=0))
    plot_h, slot = H - TOP - BOTTOM, (W - LEFT - RIGHT) / len(categories)
    parts = _axes(title, ymax, unit)
    width = slot * 0.7 / (1 if stacked else len(series))
    for i in range(len(categories)):
        base = 0.0
        for j, (_, vals) in enumerate(series):
            v = vals[i] or 0
            h = plot_h * v / ymax
            x = LEFT + slot * i + slot * 0.15 + (0 if stacked else j * width)
            y = TOP + plot_h - h - (plot_h * base / ymax if stacked else 0)
            if v:
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" '
                             f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(categories[i])}: {v:g}</title></rect>')
            if stacked:
                base += v
    parts += _x_labels(categories, slot)
    if len(series) > 1:
        parts += _legend([name for name, _ in series])
    return _svg(parts, title)


def line(title: str, categories: list[str], values: list[float | None], unit: str = "",
         target: float | None = None, name: str = "", target_name: str = "") -> str:
    """A line over the categories (gaps where a value is None) and a dashed target line."""
    known = [v for v in values if v is not None]
    ymax = _nice_max(max(known + ([target] if target else []), default=0) * 1.1)
    plot_h = H - TOP - BOTTOM
    slot = (W - LEFT - RIGHT) / max(1, len(categories))
    parts = _axes(title, ymax, unit)
    points = []
    for i, v in enumerate(values):
        if v is None:
            continue
        x, y = LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * v / ymax
        points.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PALETTE[0]}">'
                     f'<title>{escape(categories[i])}: {v:g}</title></circle>')
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    if target:
        y = TOP + plot_h - plot_h * target / ymax
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="target"/>'
                     f'<text x="{W - RIGHT}" y="{y - 4:.1f}" class="tick target-label" text-anchor="end">'
                     f'{escape(target_name)}</text>')
    parts += _x_labels(categories, slot)
    if name:
        parts += _legend([name])
    return _svg(parts, title)
