"""scripts/check_changelog.py, which the release workflow runs on the tag's version: a tag
whose version has no dated CHANGELOG.md entry is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

REPO = ROOT
SCRIPT = REPO / "scripts" / "check_changelog.py"
CHANGELOG = """# Changelog

## [Unreleased]

### Added

- Something new.

## [0.2.0] - 2027-01-31

### Fixed

- A bug.

## [0.1.0rc1] - 2026-12-01

## [0.1.1]

[0.2.0]: https://example.org/v0.2.0
"""


def check(version: str, tmp_path: Path, text: str = CHANGELOG) -> subprocess.CompletedProcess:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(text)
    return subprocess.run(
        [sys.executable, SCRIPT, version, "--changelog", changelog], capture_output=True, text=True
    )


@pytest.mark.parametrize("version", ["0.2.0", "v0.2.0"])
def test_a_dated_entry_passes(version, tmp_path):
    result = check(version, tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "CHANGELOG.md has an entry for 0.2.0\n"


@pytest.mark.parametrize("version", ["0.3.0", "0.1.0", "0.2", "2.0"])
def test_a_version_without_an_entry_is_refused(version, tmp_path):
    # 0.1.0 is not 0.1.0rc1's entry, 0.2 is not 0.2.0's, and a link line is not an entry.
    result = check(version, tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr == f"error: CHANGELOG.md has no '## [{version}]' entry: "
        "move the Unreleased notes under it\n"
    )


def test_an_entry_without_a_release_date_is_refused(tmp_path):
    result = check("0.1.1", tmp_path)
    assert result.returncode == 1
    assert "entry for 0.1.1 has no release date: write '## [0.1.1] - YYYY-MM-DD'" in result.stderr


def test_a_missing_changelog_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, SCRIPT, "0.1.0", "--changelog", tmp_path / "nope.md"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: cannot read ")


def test_the_changelog_keeps_an_unreleased_section_and_the_current_version():
    """Keep a Changelog's shape: Unreleased first, then an entry for the version the package
    declares (dated when it is released), each with a link at the bottom."""
    from gan_zoo import __version__

    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[0] == "## [Unreleased]"
    assert any(h.startswith(f"## [{__version__}]") for h in headings), headings
    for heading in headings:
        name = heading.split("[")[1].split("]")[0]
        assert f"\n[{name.lower()}]: https://" in text.lower(), f"no link for {name}"
