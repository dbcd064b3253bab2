"""``gan-zoo report``: one self-contained HTML page of a run, or of several runs side by side."""

from __future__ import annotations

from pathlib import Path

import click

_RUN = click.Path(path_type=Path)


@click.command("report")
@click.argument("runs", metavar="RUN...", nargs=-1, required=True, type=_RUN)
@click.option(
    "--out",
    type=_RUN,
    help="Where to write the page.  [default: RUN/report.html for one run, report.html for "
    "several]",
)
def report_cmd(runs, out):
    """Write an HTML report of a run: summary, metrics, sample grids, curves, config.

    One self-contained file (images embedded, curves as inline SVG, nothing fetched): the
    summary and metrics with their protocol, the sample grid of every saved step on a slider,
    the curves of the losses, D's accuracy, learning rates, img/s and each evaluated metric,
    the config, hardware and versions, and the warnings the run raised. It works on a run that
    is still training (a training also refreshes RUN/report.html at each checkpoint) and on a
    run from someone else: nothing in it is taken as HTML. Several runs are compared side by
    side, with their curves on shared charts.

    \b
    Examples:
      gan-zoo report runs/dcgan-fashion-mnist-20250101-120000
      gan-zoo report runs/dcgan-run --out dcgan.html
      gan-zoo report runs/dcgan-run runs/wgan-gp-run runs/sngan-run --out compare.html
    """
    from ..report import write_report

    path = write_report(list(runs), out)
    what = "a report of " + (f"{len(runs)} runs" if len(runs) > 1 else "the run")
    click.echo(f"Wrote {what} to {path} ({path.stat().st_size / 1e6:.1f} MB)")


COMMANDS = [report_cmd]
