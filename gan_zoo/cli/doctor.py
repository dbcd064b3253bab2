"""``gan-zoo doctor``: the installation, the device and what ``auto`` picks, for a bug report."""

from __future__ import annotations

import json

import click


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON.")
def doctor_cmd(as_json):
    """Show gan-zoo, its plugins, torch, CUDA/cuDNN, the device and what --precision auto picks.

    Paste its output into a bug report (same as 'gan-zoo --version --verbose').

    \\b
    Examples:
      gan-zoo doctor
      gan-zoo doctor --json
    """
    from ..environment import describe, version_lines

    info = describe()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for line in version_lines(info):
        click.echo(line)


COMMANDS = [doctor_cmd]
