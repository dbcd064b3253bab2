"""``gan-zoo plugins`` (gan_zoo/cli/listing.py): one line per distribution, gan-zoo's built-in
modules folded into one, its status and entry counts, every clash and error in words; at 80 and
120 columns and through a pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from gan_zoo import plugins
from gan_zoo.cli.listing import plugin_lines
from gan_zoo.hookspecs import hookimpl
from gan_zoo.registry import KINDS

GAN_ZOO = str(Path(sys.executable).with_name("gan-zoo"))
LOADED = "gan-zoo-stylegan2,gan-zoo-clashtest"
RENDERINGS = [(False, 80), (False, 120), (True, 80)]


@pytest.fixture
def installed(use_distribution, monkeypatch):
    use_distribution(ROOT / "plugins" / "gan-zoo-stylegan2")
    use_distribution(ROOT / "tests" / "clash_dist")
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", LOADED)
    plugins.reset()


class _Broken:
    @hookimpl
    def register_losses(self, register):
        raise RuntimeError("no loss today")


def _text(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


@pytest.mark.parametrize("plain, width", RENDERINGS, ids=["80", "120", "piped"])
def test_one_line_per_distribution(installed, plain, width):
    plugins.host().register(_Broken(), "broken-by-hand", distribution="gan-zoo-broken")
    lines = plugin_lines(plugins.statuses(), plain=plain, width=width)
    rows = [line for line in lines[1:] if not line.startswith(" ")]
    first = [line.split("\t" if plain else None)[0] for line in rows]
    assert first == ["gan-zoo", "gan-zoo-clashtest", "gan-zoo-stylegan2", "gan-zoo-broken"]
    if plain:
        assert len(lines) == 5 and all(len(line.split("\t")) == 6 for line in lines)
    else:
        assert max(len(line) for line in lines) <= width
    by_name = dict(zip(first, rows, strict=True))
    assert by_name["gan-zoo"].split()[3] == "ok" and "built-in" in by_name["gan-zoo"]
    assert by_name["gan-zoo-broken"].split()[3] == "broken"
    text = _text(lines)
    assert "broken-by-hand: broken: RuntimeError: no loss today" in text
    # Both sides of the clash over 'ragan', in words.
    assert (
        "loss 'ragan' is also registered by gan-zoo 0.1.0 (gan_zoo.losses), which was first" in text
    )
    assert "loss 'ragan' is also registered by gan-zoo-clashtest 0.3.0" in text
    assert "that one is 'gan-zoo-clashtest/ragan'" in text


def test_entry_counts(installed):
    statuses = plugins.statuses()
    counts = {}  # in the order of KINDS, the order of `gan-zoo list`
    for kind in KINDS:
        for s in statuses:
            if s.entries.get(kind):
                counts.setdefault(s.distribution, {}).setdefault(kind, 0)
                counts[s.distribution][kind] += len(s.entries[kind])
    piped = [line.split("\t") for line in plugin_lines(statuses, plain=True)]
    header = piped[0]
    for cells in piped[1:]:
        row = dict(zip(header, cells, strict=True))
        expected = ",".join(f"{k}={n}" for k, n in counts[row["DISTRIBUTION"]].items())
        assert row["ENTRIES"] == expected
    terminal = _text(plugin_lines(statuses, plain=False, width=80))
    assert "entries: 8 models, 6 generators, 7 discriminators, 9 losses" in terminal


def test_plugins_piped_through_grep(installed):
    """``gan-zoo plugins | grep gan-zoo-stylegan2``: the real console script and grep."""
    env = {**os.environ, "GAN_ZOO_LOAD_PLUGINS": LOADED}
    out = subprocess.run(
        f"{GAN_ZOO} plugins | grep gan-zoo-stylegan2",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    (line,) = out.stdout.splitlines()
    cells = line.split("\t")
    assert cells[:4] == ["gan-zoo-stylegan2", "0.1.0", "entry-point", "ok"]
    assert cells[4].startswith("models=2,")


def test_json_is_unchanged(installed):
    import json

    from helpers import cli_in_process

    data = json.loads(cli_in_process("plugins", "--json").stdout)
    assert data == [s.as_dict() for s in plugins.statuses()]
    defaults = list(plugins.DEFAULT_PLUGINS)
    assert [d["name"] for d in data][: len(defaults)] == defaults


def test_the_commands_a_distribution_added_are_counted():
    from helpers import cli_in_process

    out = cli_in_process("plugins").output
    (line,) = [x for x in out.splitlines() if x.startswith("gan-zoo\t")]
    from gan_zoo.cli.commands import COMMAND_MODULES

    assert len(COMMAND_MODULES) <= int(line.split("commands=")[1].split("\t")[0].split(",")[0])
