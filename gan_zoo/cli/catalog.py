"""``gan-zoo list`` and ``gan-zoo plugins``: what is registered, and by whom."""

from __future__ import annotations

import json

import click

from .. import plugins
from ..errors import unknown
from ..registry import KINDS, SINGULAR

_ALIASES = {**{s: k for k, s in SINGULAR.items()}, **{k: k for k in KINDS}, "presets": "models"}


def _kind(name: str) -> str:
    key = name.lower()
    if key not in _ALIASES:
        raise unknown("kind", name, KINDS, hint="(see 'gan-zoo list --help')")
    return _ALIASES[key]


@click.command("list")
@click.argument("kind", required=False)
@click.argument("pattern", required=False)
@click.option("--image-size", type=int, help="Only entries that support this image size.")
@click.option("--channels", type=int, help="Only entries that support this many channels.")
@click.option("--conditional/--unconditional", default=None, help="Only (un)conditional entries.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def list_cmd(kind, pattern, image_size, channels, conditional, as_json):
    """List registered entries: models, generators, discriminators, losses, datasets, metrics,
    pretrained.

    PATTERN is a shell wildcard on names. Pretrained tags are listed with the preset, dataset and
    metrics their folder's config.json and metrics.json hold, and their size.

    \b
    Examples:
      gan-zoo list
      gan-zoo list models
      gan-zoo list generators '*gan' --image-size 28
      gan-zoo list pretrained
    """
    kinds = [_kind(kind)] if kind else list(KINDS)
    warn_about_plugins()
    filters = {"image_size": image_size, "channels": channels, "conditional": conditional}
    found = {k: plugins.registry(k).list(pattern, **filters) for k in kinds}
    if as_json:
        data = {k: [_as_dict(e) for e in entries] for k, entries in found.items()}
        click.echo(json.dumps(data if not kind else data[kinds[0]], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for k, entries in found.items():
        if k == "pretrained":
            console.print(_pretrained_table(entries))
            continue
        table = Table(title=k.capitalize(), title_justify="left", expand=False)
        table.add_column("name", style="bold cyan", no_wrap=True)
        table.add_column("plugin", style="dim")
        table.add_column("description")
        table.add_column("supports", style="green")
        for e in entries:
            table.add_row(
                e.key, f"{e.plugin.distribution} {e.plugin.version}", e.description, str(e.supports)
            )
        if not entries:
            table.add_row("-", "", "(none)", "")
        console.print(table)


def _as_dict(entry) -> dict:
    if entry.kind != "pretrained":
        return entry.as_dict()
    from ..checkpoint.sources import pretrained_summary

    return pretrained_summary(entry)


def _pretrained_table(entries):
    """Tags with what their folders say: preset, dataset, metrics, size."""
    from rich.table import Table
    from rich.text import Text

    from ..checkpoint.sources import pretrained_summary
    from ..formatting import human_bytes

    table = Table(title="Pretrained", title_justify="left", expand=False)
    for column, style in (
        ("tag", "bold cyan"),
        ("preset", None),
        ("dataset", None),
        ("metrics", "green"),
        ("size", None),
        ("plugin", "dim"),
    ):
        table.add_column(column, style=style, no_wrap=column == "tag")
    for entry in entries:
        s = pretrained_summary(entry)
        metrics = ", ".join(
            f"{k} {v:.4g}" if isinstance(v, (int, float)) else f"{k} {v}"
            for k, v in s["metrics"].items()
        )
        if s["error"]:
            metrics = f"unreadable: {s['error']}"
        size = human_bytes(s["size"]) if s["size"] is not None else "-"
        table.add_row(
            s["name"],
            Text(str(s["preset"] or "-")),
            Text(str(s["dataset"] or "-")),
            Text(metrics or "-"),
            size,
            f"{s['distribution']} {s['version']}",
        )
    if not entries:
        table.add_row("-", "", "(none; pip install gan-zoo-pretrained)", "", "", "")
    return table


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--check",
    is_flag=True,
    help="Import every entry and run the quick contract checks (one line per problem, "
    "exit 2 if any); for plugin authors and CI.",
)
def plugins_cmd(as_json, check):
    """List plugins: built-in ones and installed distributions, with versions and status.

    A broken plugin is listed with the reason it failed; the others keep working. With
    --check, every entry's code is imported and called once: networks built at their smallest
    declared size and run forward, losses on random logits, presets and factories checked
    against the plugin contract.

    \b
    Examples:
      gan-zoo plugins
      gan-zoo plugins --check
      GAN_ZOO_LOAD_PLUGINS=gan-zoo-mygan gan-zoo plugins --check
    """
    if check:
        _check_plugins(as_json)
        return
    statuses = plugins.statuses()
    if as_json:
        data = [s.as_dict() for s in statuses]
        click.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Plugins", title_justify="left")
    for column in ("name", "distribution", "version", "source", "status", "entries"):
        table.add_column(column)
    for s in statuses:
        status = "[green]ok[/]" if s.ok else f"[red]broken[/]: {escape(s.error or '')}"
        if s.ok and s.clashes:
            status = "[yellow]ok, shadowed[/]: " + escape("; ".join(s.clashes))
        counts = ", ".join(f"{len(v)} {k}" for k, v in s.entries.items()) or "-"
        table.add_row(s.name, s.distribution, s.version, s.source, status, counts)
    Console().print(table)


def _check_plugins(as_json: bool) -> None:
    """``gan-zoo plugins --check``: problems on stdout, one line each; exit 2 if any."""
    from ..plugin_check import check_plugins

    problems = check_plugins()
    entries = sum(len(plugins.registry(kind)) for kind in KINDS)
    if as_json:
        click.echo(json.dumps([{**vars(p), "line": str(p)} for p in problems], indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
    n = len(problems)
    summary = f"{n} problem{'s' if n != 1 else ''} in {entries} entries of {len(plugins.statuses())} plugins"
    if problems:
        click.echo(f"Error: {summary}", err=True)
        raise SystemExit(2)
    click.echo(f"ok: {summary}", err=as_json)


def warn_about_plugins() -> None:
    """One ``Warning:`` line on stderr when some plugin is broken or has shadowed names."""
    problem = plugins.problems(once=True)
    if problem:
        click.secho(f"Warning: {problem}", fg="yellow", err=True)


COMMANDS = [list_cmd, plugins_cmd]
