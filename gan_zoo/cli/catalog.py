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
@click.option(
    "--long",
    "-l",
    "long",
    is_flag=True,
    help="Add descriptions and where each FID was measured; 'list models NAME --long': the "
    "whole recipe, as 'gan-zoo info NAME'.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def list_cmd(kind, pattern, image_size, channels, conditional, long, as_json):
    """List registered entries: models, generators, discriminators, losses, datasets, metrics,
    pretrained.

    One line per entry. Presets show the best FID and training img/s of their own recipe from
    the results records shipped with gan-zoo (docs/results.md). Into a pipe: one header line,
    then one line per entry of tab-separated cells, never cut. PATTERN is a shell wildcard on
    names.

    \b
    Examples:
      gan-zoo list models
      gan-zoo list models --long
      gan-zoo list generators '*gan' --image-size 28
      gan-zoo list models | awk 'NR > 1 && $6 != "-"' | sort -k6 -g
    """
    kinds = [_kind(kind)] if kind else list(KINDS)
    warn_about_plugins()
    filters = {"image_size": image_size, "channels": channels, "conditional": conditional}
    found = {k: plugins.registry(k).list(pattern, **filters) for k in kinds}
    if as_json:
        data = {k: [_as_dict(e) for e in entries] for k, entries in found.items()}
        click.echo(json.dumps(data if not kind else data[kinds[0]], indent=2))
        return
    models = plugins.registry("models")
    if long and kinds == ["models"] and pattern in models and not set("*?[") & set(pattern):
        from .recipe import show_recipe

        show_recipe(models.get(pattern))
        return
    from .listing import list_lines, terminal

    plain, width = terminal()
    lines = list_lines(found, plain=plain, width=width, long=long, kind_column=not kind)
    click.echo("\n".join(lines))


def _as_dict(entry) -> dict:
    if entry.kind != "pretrained":
        return entry.as_dict()
    from ..checkpoint.sources import pretrained_summary

    return pretrained_summary(entry)


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--check",
    is_flag=True,
    help="Import every entry and run the quick contract checks (one line per problem, "
    "exit 2 if any); for plugin authors and CI.",
)
def plugins_cmd(as_json, check):
    """List plugins: one line per distribution (gan-zoo's built-in modules are one), with its
    version, status and entry counts; every clash and error in words under it.

    Into a pipe: one line per distribution of tab-separated cells, the clashes and errors in
    the last. A broken plugin is listed with the reason it failed; the others keep working. With
    --check, every entry's code is imported and called once: networks built at their smallest
    declared size and run forward, losses on random logits, presets and factories checked
    against the plugin contract.

    \b
    Examples:
      gan-zoo plugins
      gan-zoo plugins | grep gan-zoo-stylegan2
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
    from .listing import plugin_lines, terminal

    plain, width = terminal()
    click.echo("\n".join(plugin_lines(statuses, plain=plain, width=width)))


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
    summary = (
        f"{n} problem{'s' if n != 1 else ''} in {entries} entries "
        f"of {len(plugins.statuses())} plugins"
    )
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
