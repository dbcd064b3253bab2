"""The report page: one self-contained HTML file from one or more :class:`RunView`.

Everything is inside the file: the CSS, the sample grids as ``data:image/png`` URIs, the
curves as inline SVG (:mod:`gan_zoo.report.svg`) and one small script that moves the sample
sliders. Nothing is fetched: a Content-Security-Policy allows only ``data:`` images and that
one script (by its hash), so even a value that slipped through unescaped could not load or run
anything. Every value from a run is passed through :func:`html.escape` where it is placed; no
text of a run is ever taken as markup.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from .._version import __version__
from .gather import RunView
from .svg import line_chart

#: The charts of one run: a title, the statistics it draws and its fixed y range.
CHARTS = (
    ("Losses", ("loss/d", "loss/g"), None),
    ("D accuracy on real and fake", ("d/real_acc", "d/fake_acc"), (0.0, 1.0)),
    ("D outputs on real and fake", ("d/real", "d/fake"), None),
    ("Learning rates", ("lr", "lr/d"), None),
    ("Throughput (img/s)", ("img/s",), None),
)

#: The one script of the page: each slider shows the grid of the step it points at.
SCRIPT = """
document.querySelectorAll(".samples").forEach(function (box) {
  var slider = box.querySelector("input[type=range]");
  var grids = box.querySelectorAll("figure");
  var label = box.querySelector("output");
  function show() {
    grids.forEach(function (grid, i) { grid.hidden = i !== Number(slider.value); });
    label.textContent = grids[Number(slider.value)].dataset.step;
  }
  slider.addEventListener("input", show);
  show();
});
"""

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1800px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; word-break: break-all; }
.status { color: #555; margin: 0 0 12px; }
table { border-collapse: collapse; margin: 4px 0 12px; }
td, th { border-bottom: 1px solid #e4e4e4; padding: 3px 10px 3px 0; text-align: left;
  vertical-align: top; }
th { color: #555; font-weight: 600; white-space: nowrap; }
td { word-break: break-word; max-width: 60em; white-space: pre-wrap; }
.runs { display: grid; gap: 24px; grid-template-columns: repeat(var(--runs), minmax(0, 1fr)); }
.charts { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); }
.chart { margin: 0; } .chart svg { width: 100%; height: auto; }
.chart figcaption { text-align: center; color: #333; }
svg .plot { fill: #fafafa; stroke: #ccc; } svg .grid { stroke: #e6e6e6; }
svg .tick, svg .legend { font-size: 11px; fill: #444; }
svg .curve { fill: none; stroke-width: 1.6; }
.samples figure { margin: 8px 0; } .samples img { image-rendering: pixelated; max-width: 100%;
  width: var(--w); border: 1px solid #ddd; }
.samples figcaption { color: #555; }
.samples label { display: flex; gap: 10px; align-items: center; max-width: 640px; }
.samples input { flex: 1; }
.warning { color: #8a4b00; } .stopped { color: #b00020; font-weight: 600; }
.problem { color: #b00020; } .muted { color: #777; }
"""


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def table(rows: list[tuple[str, ...]], head: tuple[str, ...] | None = None) -> str:
    """An HTML table of text rows (the first cell of each a header cell), every cell escaped."""
    if not rows:
        return '<p class="muted">none</p>'
    out = ["<table>"]
    if head:
        out.append("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>")
    for first, *rest in rows:
        cells = "".join(f"<td>{escape(str(cell))}</td>" for cell in rest)
        out.append(f"<tr><th>{escape(str(first))}</th>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def samples(view: RunView) -> str:
    """The sample grids of a run on a slider (the last one shown), class names under
    conditional grids."""
    if not view.grids:
        return '<p class="muted">no sample grid yet (one is drawn at each epoch\'s end)</p>'
    names = ""
    if view.conditional and view.class_names:
        listed = ", ".join(f"{i}: {n}" for i, n in enumerate(view.class_names))
        names = f"<br>rows, top to bottom, are the classes {escape(listed)}"
    figures = []
    last = len(view.grids) - 1
    for i, grid in enumerate(view.grids):
        data = base64.b64encode(grid.png).decode("ascii")
        hidden = "" if i == last else " hidden"
        figures.append(
            f'<figure data-step="{grid.step}"{hidden}>'
            f'<img src="data:image/png;base64,{data}" alt="samples at step {grid.step}" '
            f'width="{grid.width}" height="{grid.height}" '
            f'style="--w: {min(grid.width * 2, 720)}px">'
            f"<figcaption>step {grid.step}{names}</figcaption></figure>"
        )
    shown = len(view.grids)
    thinned = (
        f' <span class="muted">({shown} of {view.grids_total} grids, evenly spaced)</span>'
        if shown < view.grids_total
        else ""
    )
    slider = (
        f'<label>step <input type="range" min="0" max="{last}" value="{last}" step="1" '
        f'aria-label="sample grid"><output>{view.grids[last].step}</output></label>'
    )
    return f'<div class="samples">{slider}{thinned}{"".join(figures)}</div>'


def charts(view: RunView) -> str:
    """The curves of one run: losses, D's accuracies and outputs, learning rates, img/s, then
    each evaluated metric and any other statistic, one chart each."""
    out, used = [], set()
    for title, keys, y_range in CHARTS:
        chosen = {k: view.series[k] for k in keys if k in view.series}
        used.update(keys)
        if chosen:
            out.append(line_chart(title, chosen, y_range=y_range))
    for key in sorted(k for k in view.series if k not in used):
        title = f"metric {key[5:]}" if key.startswith("eval/") else key
        out.append(line_chart(title, {key: view.series[key]}))
    if not out:
        return '<p class="muted">no statistics logged yet</p>'
    thinned = [k for k, n in view.series_total.items() if n > len(view.series[k])]
    note = (
        f'<p class="muted">long curves are thinned evenly: {escape(", ".join(thinned))}</p>'
        if thinned
        else ""
    )
    return f'<div class="charts">{"".join(out)}</div>{note}'


def compared_charts(views: list[RunView]) -> str:
    """One chart per statistic with one curve per run, for ``gan-zoo report A B C``."""
    keys: list[str] = []
    for view in views:
        keys += [k for k in view.series if k not in keys]
    out = []
    for key in keys:
        lines = {
            f"{i + 1}: {view.name}": view.series[key]
            for i, view in enumerate(views)
            if key in view.series
        }
        y_range = (0.0, 1.0) if key.endswith("_acc") else None
        out.append(line_chart(key, lines, y_range=y_range))
    return f'<div class="charts">{"".join(out)}</div>' if out else ""


def events(view: RunView) -> str:
    """The warnings and notes of the run, then what could not be read."""
    rows = [
        f'<li class="{escape(level)}">{"step " + escape(step) + ": " if step else ""}'
        f"{escape(level)}: {escape(message)}</li>"
        for step, level, message in view.events
    ]
    rows += [f'<li class="problem">could not read: {escape(p)}</li>' for p in view.problems]
    return f"<ul>{''.join(rows)}</ul>" if rows else '<p class="muted">none</p>'


def run_section(view: RunView, *, with_charts: bool) -> str:
    """Everything of one run, in reading order."""
    parts = [
        f"<h3>{escape(view.name)}</h3>",
        f'<p class="status">{escape(view.status)}</p>',
        "<h2>Summary</h2>",
        table(view.summary),
        "<h2>Metrics</h2>",
        table(view.metrics, ("metric", "value", "protocol"))
        if view.metrics
        else '<p class="muted">none evaluated '
        "(gan-zoo evaluate RUN, or train with --eval-metric)</p>",
        "<h2>Samples</h2>",
        samples(view),
    ]
    if with_charts:
        parts += ["<h2>Curves</h2>", charts(view)]
    parts += [
        "<h2>Warnings and events</h2>",
        events(view),
        "<h2>Configuration</h2>",
        table(view.config),
        "<h2>Hardware and versions</h2>",
        table(view.environment),
    ]
    return f'<section class="run">{"".join(parts)}</section>'


def render(views: list[RunView]) -> str:
    """The HTML text of the report of ``views`` (one run, or several side by side)."""
    if len(views) == 1:
        title = f"gan-zoo report: {views[0].name}"
        body = run_section(views[0], with_charts=True)
    else:
        title = f"gan-zoo report: {len(views)} runs compared"
        columns = "".join(run_section(v, with_charts=False) for v in views)
        body = (
            "<h2>Curves, all runs</h2>"
            + compared_charts(views)
            + f'<div class="runs" style="--runs: {len(views)}">{columns}</div>'
        )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(_csp())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>"
        f'<p class="muted">written by gan-zoo {escape(__version__)}; self-contained, works '
        "offline</p>"
        f"{body}<script>{SCRIPT}</script></body></html>\n"
    )
