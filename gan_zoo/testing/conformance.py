"""``conformance(distribution)``: one pytest test per check of every entry of a distribution.

The cases are listed at collection time from a private plugin host that loads gan-zoo's
built-ins plus that distribution only (nothing else installed is picked up), and each case runs
against a freshly loaded host limited the same way, with a private cache folder and one CPU
thread (the tensors are tiny; a second thread only waits). Entries are reached by their
qualified names, so a shadowed entry is tested too.

Importing this module imports neither torch nor pytest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import plugins
from ..errors import GanZooError
from ..plugin_check import ANY_CHANNELS, ANY_SIZES, check_entry
from ..registry import KINDS, SINGULAR, Entry

CORE = "gan-zoo"


@dataclass(frozen=True)
class Case:
    """One check of one entry: ``kind`` and qualified ``name`` in the registry, ``check`` the
    name of the check, ``params`` its arguments (size and channels, a precision)."""

    kind: str
    name: str
    check: str
    params: tuple = ()

    @property
    def id(self) -> str:  # e.g. generator-dcgan-forward-28px-1ch
        if self.kind == "plugin":
            return f"plugin-{self.name}-{self.check}"
        plain = self.name.split("/", 1)[-1]
        extra = "-".join(str(p) for p in self.params)
        return f"{SINGULAR[self.kind]}-{plain}-{self.check}" + (f"-{extra}" if extra else "")


@dataclass
class Suite:
    """What :func:`conformance` tests: a ``distribution`` with the author's ``options`` and
    ``data``; ``compute_metrics`` also computes each metric on tiny data, and ``kinds`` limits
    the plugin kinds tested."""

    distribution: str
    #: ``{kind: {entry name: factory options}}``, e.g. smaller widths than the kit's own.
    options: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: ``{dataset name: writer(folder)}``: files a dataset reads in the test.
    data: dict[str, Callable[[Path], Any]] = field(default_factory=dict)
    compute_metrics: bool = False
    kinds: tuple[str, ...] = KINDS

    def load_only(self) -> str:
        """The value of ``GAN_ZOO_LOAD_PLUGINS`` that loads this distribution and nothing else."""
        return "" if self.distribution == CORE else self.distribution

    def entries(self) -> tuple[list[Entry], list[Case]]:
        """The distribution's entries, from a private host (the process-wide one is untouched),
        and a failing case for each of its plugins that is broken."""
        old = os.environ.get(plugins.LOAD_PLUGINS_ENV)
        os.environ[plugins.LOAD_PLUGINS_ENV] = self.load_only()
        try:
            host = plugins.PluginHost()
            registries = host.registries
        finally:
            if old is None:
                del os.environ[plugins.LOAD_PLUGINS_ENV]
            else:
                os.environ[plugins.LOAD_PLUGINS_ENV] = old
        statuses = [s for s in host.statuses.values() if s.distribution == self.distribution]
        if not statuses:
            raise GanZooError(
                f"no gan_zoo entry point of distribution '{self.distribution}' is installed; "
                "pip install it (pip install -e .) before running its conformance tests"
            )
        broken = [Case("plugin", s.name, "loads", (s.error,)) for s in statuses if s.error]
        entries = [
            e
            for kind in self.kinds
            for e in registries[kind]
            if e.plugin.distribution == self.distribution
        ]
        return entries, broken

    def cases(self) -> list[Case]:
        entries, cases = self.entries()
        for entry in entries:
            cases += [
                Case(entry.kind, entry.qualified_name, check, params)
                for check, params in _checks_of(entry)
            ]
        return cases

    def entry_options(self, kind: str, entry: Entry) -> dict[str, Any]:
        return dict(self.options.get(kind, {}).get(entry.name, {}))

    def run(self, case: Case, tmp_path: Path, monkeypatch: Any) -> None:
        """Run ``case`` with plugins limited to the distribution, a private cache, one thread."""
        import torch

        monkeypatch.setenv(plugins.LOAD_PLUGINS_ENV, self.load_only())
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.delenv("GAN_ZOO_DATA", raising=False)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        plugins.reset()
        try:
            if case.kind == "plugin":
                raise AssertionError(
                    f"plugin '{case.name}' of {self.distribution} is broken: "
                    f"{case.params[0]} (see 'gan-zoo plugins')"
                )
            entry = plugins.registry(case.kind).get(case.name)
            _RUNNERS[case.check](self, entry, tmp_path, *case.params)
        finally:
            plugins.reset()
            torch.set_num_threads(threads)


def _checks_of(entry: Entry) -> Iterable[tuple[str, tuple]]:
    yield "contract", ()
    if entry.kind in ("generators", "discriminators"):
        for size in entry.supports.image_sizes or ANY_SIZES:
            for channels in entry.supports.channels or ANY_CHANNELS:
                yield "forward", (f"{size}px", f"{channels}ch")
        yield "moves", ()
        yield "safetensors", ()
    elif entry.kind == "losses":
        yield "properties", ()
        yield from (("trains", (p,)) for p in ("fp32", "bf16"))
    elif entry.kind == "models":
        yield "recipe", ()
        yield from (("trains", (p,)) for p in ("fp32", "bf16"))
    elif entry.kind == "datasets":
        yield "protocol", ()
    elif entry.kind == "metrics":
        yield "protocol", ()


def _contract(suite: Suite, entry: Entry, tmp_path: Path) -> None:
    problems = check_entry(entry)
    assert not problems, "; ".join(str(p) for p in problems)


def _forward(suite: Suite, entry: Entry, tmp_path: Path, size: str, channels: str) -> None:
    from .networks import check_forward

    check_forward(entry, suite.entry_options(entry.kind, entry), int(size[:-2]), int(channels[:-2]))


def _moves(suite: Suite, entry: Entry, tmp_path: Path) -> None:
    from .networks import check_moves

    check_moves(entry, suite.entry_options(entry.kind, entry))


def _safetensors(suite: Suite, entry: Entry, tmp_path: Path) -> None:
    from .networks import check_safetensors

    check_safetensors(entry, suite.entry_options(entry.kind, entry), tmp_path)


def _properties(suite: Suite, entry: Entry, tmp_path: Path) -> None:
    from .training import check_loss_properties

    check_loss_properties(entry, suite.entry_options("losses", entry))


def _recipe(suite: Suite, entry: Entry, tmp_path: Path) -> None:
    from .training import check_preset_recipe

    check_preset_recipe(entry)


def _trains(suite: Suite, entry: Entry, tmp_path: Path, precision: str) -> None:
    from .training import loss_config, preset_config, train_two_steps

    make = preset_config if entry.kind == "models" else loss_config
    who = (
        f"{SINGULAR[entry.kind]} '{entry.key}' ({entry.plugin.distribution} {entry.plugin.version})"
    )
    train_two_steps(make(entry, suite.options, precision), f"{who} in {precision}")


def _protocol(suite: Suite, entry: Entry, tmp_path: Path) -> None:
    from .protocols import check_dataset, check_metric

    options = suite.entry_options(entry.kind, entry)
    if entry.kind == "datasets":
        check_dataset(entry, suite.data.get(entry.name), tmp_path / "data", options)
    else:
        check_metric(entry, options, suite.compute_metrics)


_RUNNERS: dict[str, Callable[..., None]] = {
    "contract": _contract,
    "forward": _forward,
    "moves": _moves,
    "safetensors": _safetensors,
    "properties": _properties,
    "recipe": _recipe,
    "trains": _trains,
    "protocol": _protocol,
}


def conformance(
    distribution: str,
    *,
    options: dict[str, dict[str, dict[str, Any]]] | None = None,
    data: dict[str, Callable[[Path], Any]] | None = None,
    compute_metrics: bool = False,
    kinds: Iterable[str] = KINDS,
) -> Callable[..., None]:
    """A pytest test function parametrized with every check of every entry ``distribution``
    registers; assign it to a ``test_`` name in a test module::

        from gan_zoo.testing import conformance, write_fashion_mnist

        test_conformance = conformance(
            "gan-zoo-mygan",
            options={"generators": {"my-gan": {"width": 4}}},  # small networks, fast tests
            data={"my-data": write_fashion_mnist},  # files for the datasets it registers
        )

    ``options`` (``{kind: {name: factory options}}``) apply wherever the kit builds that entry,
    after its own shrinking of ``width`` and ``hidden``; ``data`` maps a dataset name to a writer
    filling the folder it is given; ``compute_metrics`` also runs each metric's ``compute``;
    ``kinds`` limits the plugin kinds tested (default: all).
    """
    import pytest

    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise GanZooError(f"unknown kind '{sorted(unknown)[0]}' (choose from: {', '.join(KINDS)})")
    suite = Suite(
        distribution, dict(options or {}), dict(data or {}), compute_metrics, tuple(kinds)
    )
    cases = suite.cases()

    @pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in cases])
    def test_conformance(case: Case, tmp_path: Path, monkeypatch: Any) -> None:
        suite.run(case, tmp_path, monkeypatch)

    test_conformance.__doc__ = f"Every entry of {distribution} keeps the gan-zoo plugin contract."
    test_conformance.suite = suite  # type: ignore[attr-defined]
    return test_conformance
