"""``gan-zoo list`` (gan_zoo/cli/catalog.py, listing.py): one line per entry at 80 and 120
columns and through a pipe, no name cut, and each preset's FID equal to its results record.

The listings are rendered with gan-zoo-stylegan2, gan-zoo-pretrained and gan-zoo-clashtest
(which shadows gan-zoo's loss ``ragan``) installed for real, so third-party names, a shadowed
qualified name and pretrained tags are among the names that must appear whole.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pty
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, cli_in_process

from gan_zoo import measured, plugins
from gan_zoo.cli.listing import list_lines
from gan_zoo.hookspecs import hookimpl
from gan_zoo.registry import KINDS

GAN_ZOO = str(Path(sys.executable).with_name("gan-zoo"))
RESULTS = ROOT / "benchmarks" / "results"
DISTRIBUTIONS = {
    "gan-zoo-stylegan2": ROOT / "plugins" / "gan-zoo-stylegan2",
    "gan-zoo-pretrained": ROOT / "plugins" / "gan-zoo-pretrained",
    "gan-zoo-clashtest": ROOT / "tests" / "clash_dist",
}
#: (plain, width): a terminal of 80 and of 120 columns, and a pipe.
RENDERINGS = [(False, 80), (False, 120), (True, 80)]


@pytest.fixture
def installed(use_distribution, monkeypatch):
    for project in DISTRIBUTIONS.values():
        use_distribution(project)
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", ",".join(DISTRIBUTIONS))
    plugins.reset()
    loaded = {s.distribution for s in plugins.statuses() if s.ok}
    assert set(DISTRIBUTIONS) <= loaded
    return {kind: plugins.registry(kind).list() for kind in KINDS}


def _names_shown(lines: list[str], plain: bool) -> list[str]:
    """The first cell of every entry line (not the header, notes or footer)."""
    if plain:
        return [line.split("\t")[0] for line in lines[1:]]
    return [line.split("  ")[0] for line in lines[1:] if line and not line.startswith(" ")]


@pytest.mark.parametrize("plain, width", RENDERINGS, ids=["80", "120", "piped"])
@pytest.mark.parametrize("long", [False, True], ids=["short", "long"])
def test_every_name_appears_whole_on_one_line(installed, plain, width, long):
    assert "gan-zoo-clashtest/ragan" in [e.key for e in installed["losses"]]
    for kind, entries in installed.items():
        assert entries, kind
        lines = list_lines({kind: entries}, plain=plain, width=width, long=long)
        if kind == "models" and not plain:  # the footer that explains FID and IMG/S
            lines = lines[: lines.index("")]
        shown = [n for n in _names_shown(lines, plain) if n]
        assert shown == [e.key for e in entries], kind
        if plain:
            header = lines[0].split("\t")
            assert len(lines) == len(entries) + 1
            for line in lines[1:]:
                cells = line.split("\t")
                assert len(cells) == len(header) and all(cells), line
                if not long:  # awk's default split sees the same columns
                    assert line.split() == cells, line
        else:
            assert max(len(line) for line in lines) <= width, kind


@pytest.mark.parametrize("plain, width", RENDERINGS, ids=["80", "120", "piped"])
def test_descriptions_come_with_long_only(installed, plain, width):
    entries = installed["models"]
    short = "\n".join(list_lines({"models": entries}, plain=plain, width=width))
    long = " ".join(list_lines({"models": entries}, plain=plain, width=width, long=True))
    for entry in entries:
        assert entry.description not in short
        assert entry.description in " ".join(long.split())


def test_a_shadowed_entry_says_what_it_clashes_with(installed):
    (ragan,) = [e for e in installed["losses"] if e.key == "gan-zoo-clashtest/ragan"]
    lines = list_lines({"losses": [ragan]}, plain=False, width=80)
    text = " ".join(" ".join(lines).split())
    assert "plain 'ragan' is the loss of gan-zoo" in text and "'gan-zoo-clashtest/ragan'" in text


def _record(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def _adds_to_recipe(record: dict) -> list[str]:
    """What the record's train command added to ``gan-zoo train PRESET DATASET``, except the
    runner's --seed/--out and the options that leave the recipe alone."""
    argv = shlex.split(record["commands"]["train"])[4:]
    while "--seed" in argv or "--out" in argv:
        i = argv.index("--seed" if "--seed" in argv else "--out")
        del argv[i : i + 2]
    return [a for a in argv if a.startswith("--") and a not in measured.RECIPE_NEUTRAL]


@pytest.mark.parametrize("plain, width", RENDERINGS, ids=["80", "120", "piped"])
def test_a_presets_fid_is_the_best_full_recipe_record(installed, plain, width):
    """Read from benchmarks/results/*.json itself: the FID and img/s shown are those of the
    lowest-FID record that trained the preset's own recipe at the standard protocol; a preset
    with only shortened rows shows none."""
    models = installed["models"]
    lines = list_lines({"models": models}, plain=plain, width=width)
    cells = {
        c[0]: c
        for c in (
            line.split("\t") if plain else line.split() for line in lines[1 : len(models) + 1]
        )
    }
    rows = json.loads((RESULTS / "rows.json").read_text())["rows"]
    shown_any = False
    for entry in models:
        dist = entry.plugin.distribution
        names = [
            f"{r['name']}-s{s}"
            for r in rows
            if r["preset"] == entry.name and r.get("plugin", "gan-zoo") == dist
            for s in r.get("seeds", [0])
        ]
        full = {}  # verified (benchmarks/results/) and unverified records, separately
        for folder, verified in ((RESULTS, True), (RESULTS / "unverified", False)):
            found = [
                json.loads(p.read_text()) for n in names if (p := folder / f"{n}.json").exists()
            ]
            full[verified] = [
                r
                for r in found
                if not _adds_to_recipe(r) and r["standard"] and r["num_samples"] == 10000
            ]
        fid, img_s = cells[entry.key][-2:]
        pool, mark = (full[True], "") if full[True] else (full[False], "*")
        if not pool:
            assert (fid, img_s) == ("-", "-"), entry.key
            continue
        best = min(pool, key=lambda r: r["metrics"]["fid"]["value"])
        assert fid == f"{best['metrics']['fid']['value']:.2f}{mark}", entry.key
        assert img_s == f"{best['training']['img_s']:.0f}", entry.key
        shown_any = True
    assert shown_any
    for shortened in ("sngan", "dcgan-128", "stylegan2", "stylegan2-64"):
        assert cells[shortened][-2:] == ["-", "-"]


def test_the_hardware_is_a_long_away(installed):
    dcgan = [e for e in installed["models"] if e.key == "dcgan"]
    best = measured.best("dcgan", "gan-zoo")
    assert best is not None and best.hardware
    assert best.hardware not in "\n".join(list_lines({"models": dcgan}, plain=True))
    piped = list_lines({"models": dcgan}, plain=True, long=True)
    header, row = (line.split("\t") for line in piped)
    assert dict(zip(header, row, strict=True))["HARDWARE"] == best.hardware
    terminal = " ".join(" ".join(list_lines({"models": dcgan}, plain=False, long=True)).split())
    assert best.hardware in terminal and f"record {best.record}" in terminal


def test_every_kind_at_once_starts_each_piped_line_with_its_kind(installed):
    result = cli_in_process("list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    entries = [line.split("\t") for line in lines if not line.startswith("KIND\t")]
    assert len(entries) == sum(len(v) for v in installed.values())
    assert {(c[0], c[1]) for c in entries} == {(k, e.key) for k, v in installed.items() for e in v}


def test_json_is_unchanged(installed):
    data = json.loads(cli_in_process("list", "models", "--json").stdout)
    assert data == [e.as_dict() for e in installed["models"]]


def test_list_models_name_long_is_the_recipe(installed):
    recipe = cli_in_process("list", "models", "wgan-gp", "--long")
    assert recipe.exit_code == 0 and recipe.stdout == cli_in_process("info", "wgan-gp").stdout
    assert "gp_weight=10" in recipe.stdout
    # A wildcard stays a listing.
    listing = cli_in_process("list", "models", "wgan*", "--long").stdout.splitlines()
    assert [line.split("\t")[0] for line in listing] == ["NAME", "wgan-gp"]


def _env() -> dict[str, str]:
    return {**os.environ, "GAN_ZOO_LOAD_PLUGINS": ""}


def test_piped_list_models_is_a_header_and_one_line_per_preset():
    out = subprocess.run(
        [GAN_ZOO, "list", "models"], capture_output=True, text=True, env=_env(), check=True
    )
    lines = out.stdout.splitlines()
    assert lines[0].split("\t")[:2] == ["NAME", "PLUGIN"]
    assert [line.split("\t")[0] for line in lines[1:]] == plugins.registry("models").names()


def test_an_80_column_terminal():
    """``COLUMNS=80 gan-zoo list models`` on a real (pseudo-)terminal."""
    leader, follower = pty.openpty()
    env = {**_env(), "COLUMNS": "80", "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [GAN_ZOO, "list", "models"], stdout=follower, stderr=subprocess.DEVNULL, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=60) == 0
    os.close(leader)
    lines = b"".join(chunks).decode().replace("\r\n", "\n").splitlines()
    assert "\t" not in "".join(lines) and max(len(line) for line in lines) <= 80
    names = plugins.registry("models").names()
    assert [line.split()[0] for line in lines[1 : len(names) + 1]] == names
    assert lines[0].split() == ["NAME", "PLUGIN", "SIZES", "CH", "COND", "FID", "IMG/S"]


def test_the_cli_page_shows_what_the_code_prints():
    path = ROOT / "scripts" / "render_cli_listings.py"
    spec = importlib.util.spec_from_file_location("render_cli_listings", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = script.DOC.read_text(encoding="utf-8")
    assert script.page(text) == text, "run `python scripts/render_cli_listings.py`"


class _BrokenTag:
    """A pretrained tag whose folder has no config.json and whose description holds a control
    character: listed, marked unreadable, still one line."""

    def __init__(self, folder: Path):
        self.folder = folder

    @hookimpl
    def register_pretrained(self, register):
        register("dcgan.broken", lambda: self.folder, description="A tag\x1b[2J without files")


@pytest.mark.parametrize("plain, width", RENDERINGS, ids=["80", "120", "piped"])
def test_an_unreadable_tag_is_listed_on_its_line(tmp_path, plain, width):
    plugins.host().register(_BrokenTag(tmp_path), "broken-tag", distribution="gan-zoo-tags")
    entries = plugins.registry("pretrained").list()
    lines = list_lines({"pretrained": entries}, plain=plain, width=width, long=True)
    assert _names_shown(lines, plain) == ["dcgan.broken"]
    assert "\x1b" not in "".join(lines) and "unreadable: " in "".join(lines)
    if plain:
        assert len(lines) == 2 and lines[1].split("\t")[1:4] == ["gan-zoo-tags", "-", "-"]


@pytest.mark.parametrize("args", [["list"], ["list", "models", "--long"], ["plugins"]])
def test_listing_does_not_import_torch(args):
    code = f"import sys; sys.argv = ['gan-zoo', *{args!r}]; from gan_zoo.cli import main; main()"
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, env=_env()
    )
    assert out.returncode == 0, out.stderr
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines()}
    assert "gan_zoo.measured" in imported or args == ["plugins"]
    assert not {m for m in imported if m == "torch" or m.startswith("torch.")}
