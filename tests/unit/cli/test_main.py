"""The CLI through click's runner and through real subprocesses."""

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from gan_zoo import __version__
from gan_zoo.cli import build_cli

GAN_ZOO = str(Path(sys.executable).with_name("gan-zoo"))


def run(*args):
    return CliRunner().invoke(build_cli(), list(args))


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.output.splitlines()[0] == f"gan-zoo {__version__}"


def test_list_json_has_the_builtins():
    data = json.loads(run("list", "--json").output)
    assert set(data) == {
        "models",
        "generators",
        "discriminators",
        "losses",
        "datasets",
        "metrics",
        "pretrained",
    }
    assert data["pretrained"] == []  # the built-ins ship no weights
    names = {kind: [e["name"] for e in entries] for kind, entries in data.items()}
    assert "dcgan" in names["models"] and "bce" in names["losses"]
    assert "fashion-mnist" in names["datasets"]
    dcgan = next(e for e in data["generators"] if e["name"] == "dcgan")
    assert dcgan["distribution"] == "gan-zoo" and 28 in dcgan["image_sizes"]


def test_list_one_kind_singular_alias_and_filters():
    result = run("list", "model", "--json")
    assert [e["name"] for e in json.loads(result.output)] == sorted(
        e["name"] for e in json.loads(run("list", "models", "--json").output)
    )
    result = run("list", "generators", "dcg*", "--image-size", "28", "--json")
    assert "dcgan" in [e["name"] for e in json.loads(result.output)]
    assert (
        json.loads(run("list", "generators", "dcgan", "--image-size", "7", "--json").output) == []
    )


def test_list_table():
    result = run("list", "losses", "--long")
    assert result.exit_code == 0
    assert "bce" in result.output and "Non-saturating" in result.output


def test_typo_in_kind_is_one_line_exit_2():
    result = run("list", "losss")
    assert result.exit_code == 2
    assert result.output == (
        "Error: unknown kind 'losss'; did you mean 'losses'? (see 'gan-zoo list --help')\n"
    )


def test_usage_errors_are_one_line_exit_2():
    for args in (["lst"], ["list", "--image-size", "big"], ["list", "--nope"]):
        result = run(*args)
        assert result.exit_code == 2, args
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.output


def test_plugins_json():
    data = json.loads(run("plugins", "--json").output)
    names = [p["name"] for p in data][:4]
    assert names == ["gan_zoo.cli.commands", "gan_zoo.models", "gan_zoo.losses", "gan_zoo.datasets"]
    assert all(p["status"] == "ok" for p in data)
    assert "train" in data[0]["commands"]


def test_help_does_not_import_torch():
    """`gan-zoo --help` must stay fast: -X importtime lists every module imported."""
    code = "import sys; sys.argv = ['gan-zoo', '--help']; from gan_zoo.cli import main; main()"
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True
    )
    assert out.returncode == 0 and "Usage: gan-zoo" in out.stdout
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines()}
    assert "gan_zoo.cli" in imported
    assert not {m for m in imported if m == "torch" or m.startswith("torch.")}


def test_console_script_and_module():
    for cmd in ([GAN_ZOO, "--help"], [sys.executable, "-m", "gan_zoo", "--help"]):
        out = subprocess.run(cmd, capture_output=True, text=True)
        assert out.returncode == 0 and "Train, compare, evaluate and share GANs" in out.stdout
