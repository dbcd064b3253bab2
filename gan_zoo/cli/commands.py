"""Built-in plugin: gan-zoo's own commands, added to the ``gan-zoo`` group through the
``register_commands`` hook, the same way a third-party plugin adds its commands.

The plugin manager registers this module first among the built-ins (see
:data:`gan_zoo.plugins.DEFAULT_PLUGINS`); it imports no torch. Each name in
:data:`COMMAND_MODULES` is a module under ``gan_zoo.cli`` whose ``COMMANDS`` list is added, in
this order.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..hookspecs import hookimpl

#: Modules under ``gan_zoo.cli`` whose ``COMMANDS`` list is added to the group, in order.
COMMAND_MODULES = (
    "catalog",
    "datasets",
    "train",
    "generate",
    "info",
    "report",
    "evaluate",
    "export",
    "reproduce",
    "hub",
    "plugin",
    "doctor",
)


@hookimpl
def register_commands(cli: Any) -> None:
    """Add the built-in commands to the click group ``cli``."""
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"gan_zoo.cli.{module_name}")
        for command in module.COMMANDS:
            cli.add_command(command)
