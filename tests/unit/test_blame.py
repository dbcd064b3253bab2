"""gan_zoo.blame: which plugin's code raised, from real frames of module files written under
tmp_path and owned by a real distribution record (a ``.dist-info`` folder on ``sys.path``, as
pip writes it; ``importlib.metadata`` reads it like any installed distribution). The pip-installed
plugins and the CLI's side are in tests/test_plugin_names.py."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

import gan_zoo
from gan_zoo import plugins
from gan_zoo.blame import DEBUG_ENV, blame, debug_enabled, owned_files

DIST, VERSION = "gan-zoo-blamed", "2.0"
WHO = f"of plugin {DIST} {VERSION}"
BUG = (
    "; this is a bug in that plugin: report it to its authors, or run with --debug "
    f"(or {DEBUG_ENV}=1) for the traceback"
)

ONE = """
class OnlyLoss:
    def d_loss(self, real, fake):
        return _check(real)


def _check(value):
    raise RuntimeError("only exploded")
"""

TWO = """
class FirstLoss:
    def d_loss(self, real, fake):
        raise RuntimeError("first exploded")


class SecondLoss:
    def d_loss(self, real, fake):
        raise ValueError("second\\n   exploded   on   many lines")


def helper():
    raise KeyError("helper")


def calls_gan_zoo():
    from gan_zoo.checkpoint.schema import check_record

    check_record([], "config.json")


def raises(exc):
    raise exc
"""

PLUGIN = """
from gan_zoo.hookspecs import hookimpl


class Plugin:
    @hookimpl
    def register_losses(self, register):
        register("only-loss", "zoo_blamed.one:OnlyLoss", description="One entry in its file.")
        register("first-loss", "zoo_blamed.two:FirstLoss", description="Two in one file.")
        register("second-loss", "zoo_blamed.two:SecondLoss", description="Two in one file.")
"""


def _write_dist(site: Path, files: dict[str, str], record: list[str], entry_points: str = ""):
    """Module files and the ``.dist-info`` record of DIST under ``site``."""
    for name, text in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    info = site / f"{DIST.replace('-', '_')}-{VERSION}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST}\nVersion: {VERSION}\n")
    (info / "RECORD").write_text(
        "".join(f"{line},,\n" for line in [*record, f"{info.name}/RECORD"])
    )
    if entry_points:
        (info / "entry_points.txt").write_text(entry_points)


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A site folder on ``sys.path``; the modules imported from it are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in [m for m in sys.modules if m.split(".")[0] in ("zoo_blamed", "zoo_editable")]:
        del sys.modules[name]


@pytest.fixture
def installed(site):
    """DIST installed (its three module files in its record) and registered as a plugin."""
    files = {"zoo_blamed/__init__.py": PLUGIN, "zoo_blamed/one.py": ONE, "zoo_blamed/two.py": TWO}
    _write_dist(site, files, [*files, "zoo_blamed/data.json"])
    importlib.invalidate_caches()
    package = importlib.import_module("zoo_blamed")
    plugins.host().register(package.Plugin(), "blamed", distribution=DIST, version=VERSION)
    return site


def _raised(call) -> BaseException:
    try:
        call()
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("did not raise")


def _module(name: str):
    return importlib.import_module(f"zoo_blamed.{name}")


# Whose code raised.
def test_a_method_of_an_object_the_entrys_factory_built_names_that_entry(installed):
    loss = plugins.registry("losses").get("first-loss").create()
    line = blame(_raised(lambda: loss.d_loss(None, None)))
    assert line == f"loss 'first-loss' {WHO} raised RuntimeError: first exploded{BUG}"


def test_the_class_of_self_decides_between_entries_of_one_file(installed):
    loss = _module("two").SecondLoss()  # built by hand: the registry does not know it
    line = blame(_raised(lambda: loss.d_loss(None, None)))
    assert line == f"loss 'second-loss' {WHO} raised ValueError: second exploded on many lines{BUG}"


def test_a_function_of_a_file_with_one_entry_names_that_entry(installed):
    only = _module("one").OnlyLoss()
    line = blame(_raised(lambda: only.d_loss(None, None)))  # raised in _check, no self there
    assert line.startswith(f"loss 'only-loss' {WHO} raised RuntimeError: only exploded;")


def test_a_function_of_a_file_with_several_entries_names_the_plugin_and_module(installed):
    line = blame(_raised(_module("two").helper))
    assert line == f"plugin {DIST} {VERSION} (zoo_blamed.two) raised KeyError: 'helper'{BUG}"


def test_gan_zoo_frames_inside_are_skipped_for_the_plugin_frame_that_called_in(installed):
    exc = _raised(_module("two").calls_gan_zoo)
    assert Path(exc.__traceback__.tb_next.tb_frame.f_code.co_filename).name == "two.py"
    line = blame(exc)
    assert line.startswith(f"plugin {DIST} {VERSION} (zoo_blamed.two) raised CheckpointError: ")


def test_code_outside_every_plugin_is_not_blamed(installed):
    assert blame(_raised(lambda: {}["key"])) is None  # raised here, in a test file
    assert blame(_raised(lambda: gan_zoo.create_loss("no-such-loss"))) is None  # in gan-zoo


def test_nothing_is_blamed_while_no_third_party_plugin_is_loaded(installed):
    plugins.host().unregister("blamed")
    assert blame(_raised(_module("two").helper)) is None


def test_an_exception_without_a_traceback_is_not_blamed(installed):
    assert blame(RuntimeError("never raised")) is None


@pytest.mark.parametrize(
    "exc, tail",
    [
        (RuntimeError(), "raised RuntimeError; this is a bug"),
        (RuntimeError("x" * 1000), f"raised RuntimeError: {'x' * 300}; this is a bug"),
        (OSError(2, "No such\tfile"), "raised FileNotFoundError: [Errno 2] No such file; this"),
    ],
)
def test_the_line_is_one_line_and_cut_short(installed, exc, tail):
    line = blame(_raised(lambda: _module("two").raises(exc)))
    assert tail in line and "\n" not in line and "\t" not in line


# What a distribution owns.
def test_owned_files_are_the_python_files_of_the_record(installed):
    files, folders = owned_files(DIST)
    package = (installed / "zoo_blamed").resolve()
    assert files == {package / "__init__.py", package / "one.py", package / "two.py"}
    assert folders == ()  # not an editable install


def test_a_record_cannot_claim_gan_zoos_own_files(site):
    own = Path(gan_zoo.__file__).resolve().parent
    _write_dist(
        site, {"zoo_blamed/__init__.py": ""}, ["zoo_blamed/__init__.py", str(own / "api.py")]
    )
    files, _ = owned_files(DIST)
    assert files == {(site / "zoo_blamed" / "__init__.py").resolve()}


def test_an_unknown_distribution_owns_nothing():
    assert owned_files("gan-zoo-no-such-distribution") == (set(), ())


def test_an_editable_install_owns_the_package_folders_its_entry_points_name(tmp_path, site):
    source = tmp_path / "checkout"
    (source / "zoo_editable").mkdir(parents=True)
    (source / "zoo_editable" / "__init__.py").write_text(
        textwrap.dedent(PLUGIN).replace("zoo_blamed.one", "zoo_editable.one")
    )
    (source / "zoo_editable" / "one.py").write_text(textwrap.dedent(ONE))
    # What an editable install records: a .pth file that puts the checkout on sys.path (it
    # exists, as in a real install: importlib_metadata, which wandb and mlflow load, lists only
    # the recorded files that exist).
    pth = "__editable__.gan_zoo_blamed-2.0.pth"
    _write_dist(site, {pth: f"{source}\n"}, [pth], "[gan_zoo]\nblamed = zoo_editable\n")
    sys.path.insert(0, str(source))
    try:
        importlib.invalidate_caches()
        package = importlib.import_module("zoo_editable")
        assert owned_files(DIST) == (set(), ((source / "zoo_editable").resolve(),))
        plugins.host().register(package.Plugin(), "blamed", distribution=DIST, version=VERSION)
        only = importlib.import_module("zoo_editable.one").OnlyLoss()
        line = blame(_raised(lambda: only.d_loss(None, None)))
        assert line.startswith(f"loss 'only-loss' {WHO} raised RuntimeError: only exploded;")
    finally:
        sys.path.remove(str(source))


@pytest.mark.parametrize(
    "value, enabled",
    [
        ("", False),
        ("0", False),
        ("false", False),
        ("No", False),
        (" FALSE ", False),
        ("1", True),
        ("yes", True),
        ("true", True),
        ("anything", True),
    ],
)
def test_debug_enabled(monkeypatch, value, enabled):
    monkeypatch.setenv(DEBUG_ENV, value)
    assert debug_enabled() is enabled


def test_debug_is_off_when_unset(monkeypatch):
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    assert debug_enabled() is False
