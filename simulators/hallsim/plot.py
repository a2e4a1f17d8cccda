"""SVG line charts of a run (no plotting library: a few dozen lines of SVG are enough, and the
files open in any browser): queue length and waiting time over the day."""

from __future__ import annotations

import math
from html import escape

W, H, L, R, T, B = 900, 420, 60, 190, 40, 50
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _nice(top: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above `top`, so five gridlines read well."""
    k = 10 ** math.floor(math.log10(top))
    return next(m * k for m in (1, 2, 2.5, 5, 10) if m * k >= top)


def line_chart(series: dict[str, list[tuple[float, float]]], title: str, ylabel: str,
               x_range: tuple[float, float] = (6 * 60, 19 * 60)) -> str:
    """Minutes since midnight on x (labelled as hours), any value on y."""
    x0, x1 = x_range
    ymax = _nice(max((y for pts in series.values() for _, y in pts), default=1.0) or 1.0)

    def px(x: float) -> float:
        return L + (x - x0) / (x1 - x0) * (W - L - R)

    def py(y: float) -> float:
        return H - B - y / ymax * (H - T - B)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2 - R / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
           f'<text x="14" y="{(H - B + T) / 2}" transform="rotate(-90 14 {(H - B + T) / 2})" '
           f'text-anchor="middle">{escape(ylabel)}</text>']
    for h in range(int(x0 // 60), int(x1 // 60) + 1):
        x = px(h * 60)
        out.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#eee"/>'
                   f'<text x="{x:.1f}" y="{H - B + 16}" text-anchor="middle">{h}h</text>')
    for k in range(6):
        y = ymax * k / 5
        out.append(f'<line x1="{L}" y1="{py(y):.1f}" x2="{W - R}" y2="{py(y):.1f}" stroke="#eee"/>'
                   f'<text x="{L - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.3g}</text>')
    out.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#888"/>')
    for i, (name, pts) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts if x0 <= x <= x1)
        if path:
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"/>')
        ly = T + 14 + 18 * i
        out.append(f'<line x1="{W - R + 12}" y1="{ly - 4}" x2="{W - R + 32}" y2="{ly - 4}" stroke="{colour}" '
                   f'stroke-width="3"/><text x="{W - R + 38}" y="{ly}">{escape(name[:22])}</text>')
    out.append("</svg>")
    return "\n".join(out)


def queue_chart(summary: dict, kind: str = "weekday", top: int = 5) -> str:
    """Mean waiting tickets over the day: all services, and the `top` busiest queues."""
    q = summary["queue"].get(kind)
    if q is None:
        return line_chart({}, f"Queue length ({kind}): no day of this kind", "waiting tickets")
    t = q["t_min"]
    waiting = q["waiting"]
    busiest = sorted((s for s in waiting if s != "*"), key=lambda s: -sum(waiting[s]))[:top]
    series = {"all services": list(zip(t, waiting["*"], strict=True))}
    series.update({s: list(zip(t, waiting[s], strict=True)) for s in busiest})
    return line_chart(series, f"Waiting tickets over the day ({kind}, mean of {summary['days']} days)",
                      "waiting tickets")


def wait_chart(summary: dict) -> str:
    """Mean and p90 wait of the tickets taken in each quarter hour."""
    rows = [r for r in summary["wait_by_time"] if r["n"]]
    series = {"mean wait": [(r["t_min"] + 7.5, r["mean_min"]) for r in rows],
              "p90 wait": [(r["t_min"] + 7.5, r["p90_min"]) for r in rows]}
    return line_chart(series, "Wait by time of ticket (minutes)", "minutes")
