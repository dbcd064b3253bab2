"""``gan-zoo plugin new NAME``: start a plugin package from a working template."""

from __future__ import annotations

import click

from ..errors import GanZooError


@click.group("plugin")
def plugin_group():
    """Write gan-zoo plugins: start one from a working template.

    \b
    Example:
      gan-zoo plugin new my-model
    """


@plugin_group.command("new")
@click.argument("name")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Folder to write the package into (default: ./NAME); must be new or empty.",
)
def new_cmd(name, out):
    """Write a plugin package NAME: a generator, a discriminator, a loss and a preset, all
    called NAME (28/32 px, 1/3 channels), tests using gan-zoo's conformance kit, a README and a
    pyproject.toml declaring the gan-zoo versions it works with.

    \b
    Examples:
      gan-zoo plugin new my-model
      cd my-model && pip install -e '.[test]' && pytest
      gan-zoo train my-model fashion-mnist
    """
    from ..scaffold import new_plugin, plugin_names

    try:
        written = new_plugin(name, out)
    except OSError as exc:
        raise GanZooError(f"cannot write the plugin: {exc}") from None
    names = plugin_names(name)
    folder = out or name
    click.echo(f"Wrote {names['distribution']} ({len(written)} files) in {folder}. Next:")
    click.echo(f"  cd {folder} && pip install -e '.[test]' && pytest")
    click.echo(f"  gan-zoo train {name} fashion-mnist")


COMMANDS = [plugin_group]
