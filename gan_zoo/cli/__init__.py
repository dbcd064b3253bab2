"""The ``gan-zoo`` command line.

Commands are thin: parse options, call the public API, render with rich. The group is built by
:func:`build_cli`, so plugins can add commands through the ``register_commands`` hook and tests
get a fresh group without reloading modules. Nothing here imports torch at start-up.

Errors the user caused (:class:`gan_zoo.errors.GanZooError` and click's usage errors) are
printed as one line on stderr and exit with code 2, without a traceback.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any

import click

from ..blame import DEBUG_ENV, blame, debug_enabled
from ..errors import GanZooError

#: Modules under ``gan_zoo.cli`` whose ``COMMANDS`` list is added to the group, in order.
COMMAND_MODULES = (
    "catalog",
    "datasets",
    "train",
    "generate",
    "info",
    "report",
    "evaluate",
    "hub",
    "plugin",
    "doctor",
)


class GanZooGroup(click.Group):
    """A click group whose errors are one line and exit 2 (also under click's test runner)."""

    def main(self, args: Any = None, prog_name: str | None = None, **kwargs: Any) -> Any:
        kwargs.pop("standalone_mode", None)
        args = list(sys.argv[1:] if args is None else args)
        debug = _take_debug_flag(args) or debug_enabled()
        try:
            with warnings.catch_warnings():
                warnings.showwarning = show_warning
                code = super().main(args, prog_name, standalone_mode=False, **kwargs)
        except GanZooError as exc:
            if debug:
                raise
            fail(str(exc))
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "gan-zoo"
            fail(f"{exc.format_message()} (see '{where} --help')", exc.exit_code)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except Exception as exc:  # a plugin's bug is named in one line; ours keep the traceback
            line = None if debug else blame(exc)
            if line is None:
                raise
            fail(line)
        sys.exit(code if isinstance(code, int) else 0)


def _take_debug_flag(args: list[str]) -> bool:
    """``--debug`` anywhere before ``--`` asks for tracebacks; it is removed from ``args``, so it
    works after any command (``gan-zoo train ... --debug``)."""
    end = args.index("--") if "--" in args else len(args)
    if "--debug" not in args[:end]:
        return False
    args.remove("--debug")
    return True


def show_warning(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    """Print a warning (e.g. ``warnings.warn`` in a dataset) as one ``Warning: ...`` line on
    stderr, without the source path Python adds."""
    click.echo(f"Warning: {' '.join(str(message).split())}", err=True)


def fail(message: str, code: int = 2) -> None:
    """Print ``Error: message`` as one line on stderr and exit with ``code``."""
    click.echo(f"Error: {' '.join(message.split())}", err=True)
    sys.exit(code)


def _print_version(ctx: click.Context, param: Any, value: bool) -> None:
    """``--version``: versions from package metadata (fast: torch is not imported)."""
    if not value or ctx.resilient_parsing:
        return
    from ..environment import version_lines, versions

    for line in version_lines(versions()):
        click.echo(line)
    click.echo("(the device and what --precision auto picks: gan-zoo doctor)")
    ctx.exit()


def build_cli() -> click.Group:
    """A fresh ``gan-zoo`` group with the built-in commands and those of every plugin."""

    @click.group(
        cls=GanZooGroup,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @click.option(
        "--version",
        "-V",
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=_print_version,
        help="Show gan-zoo's, its plugins' and its dependencies' versions and exit "
        "(with --verbose: the device too, as 'gan-zoo doctor').",
    )
    @click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        help=f"Show tracebacks instead of one-line errors (also {DEBUG_ENV}=1); "
        "accepted after any command too.",
    )
    def cli() -> None:
        """Train, compare, evaluate and share GANs.

        \b
        Examples:
          gan-zoo list models
          gan-zoo train dcgan fashion-mnist
          gan-zoo plugins
        """

    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        for command in module.COMMANDS:
            cli.add_command(command)
    from .. import plugins

    plugins.host().add_commands(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from ..environment import dependency_error

    if error := dependency_error():
        fail(error)
    args = list(sys.argv[1:] if argv is None else argv)
    if {"--version", "-V"} & set(args) and "--verbose" in args:  # the same as `gan-zoo doctor`
        args = ["doctor"]
    build_cli().main(args, prog_name="gan-zoo")
