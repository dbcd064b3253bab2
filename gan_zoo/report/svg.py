"""Line charts as inline SVG: a few series over steps, axes with round ticks, a legend.

No plotting library and no JavaScript: the chart is markup the browser draws, so a report
needs nothing installed and works offline. Every curve is one ``<polyline>`` whose
``data-points`` attribute says how many points it has (the browser test compares the two);
a series with one point is drawn as a dot. Labels are escaped here, where they are placed.
"""

from __future__ import annotations

import math
from html import escape

#: Size of a chart in SVG units and its margins (left, right, top, bottom).
WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 56
#: Colours of the series, in order (colour-blind safe, Okabe and Ito).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[low, high]`` (1, 2 or 5 times a power of
    10)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else [0.0]
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    digits = max(0, 1 - math.floor(math.log10(step)))
    ticks = []
    for i in range(first, first + 50):
        if i * step > high + step * 1e-9:
            break
        ticks.append(round(i * step, digits) + 0.0)  # + 0.0: no -0.0
    return ticks


def _label(value: float) -> str:
    return f"{value:.4g}"


def line_chart(
    title: str,
    series: dict[str, list[tuple[float, float]]],
    *,
    y_range: tuple[float, float] | None = None,
) -> str:
    """One ``<figure>`` holding an SVG chart of ``series`` (``{name: [(step, value), ...]}``)
    with ``title``; ``y_range`` fixes the y axis (D accuracies: 0 to 1)."""
    series = {name: points for name, points in series.items() if points}
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y0, y1 = y_range if y_range else ((min(ys), max(ys)) if ys else (0.0, 1.0))
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 <= y0:
        pad = abs(y0) * 0.1 or 1.0
        y0, y1 = y0 - pad, y1 + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + (1 - (y - y0) / (y1 - y0)) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>',
    ]
    for tick in nice_ticks(y0, y1):
        y = TOP + (1 - (tick - y0) / (y1 - y0)) * plot_h
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
            f"{escape(_label(tick))}</text>"
        )
    for tick in nice_ticks(x0, x1, 6):
        x = px(tick)
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" class="tick" '
            f'text-anchor="middle">{escape(_label(tick))}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 32}" class="tick" '
        'text-anchor="middle">step</text>'
    )
    legend_x = LEFT
    for i, (name, points) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        parts.append(
            f'<polyline points="{coords}" data-series="{escape(name)}" '
            f'data-points="{len(points)}" stroke="{colour}" class="curve"/>'
        )
        if len(points) == 1:
            x, y = points[0]
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        ly = HEIGHT - 10
        parts.append(f'<rect x="{legend_x}" y="{ly - 9}" width="14" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 18}" y="{ly - 4}" class="legend">{escape(name)}</text>')
        legend_x += 30 + 7 * min(len(name), 30)
    parts.append("</svg>")
    caption = escape(title)
    return f'<figure class="chart">{"".join(parts)}<figcaption>{caption}</figcaption></figure>'
