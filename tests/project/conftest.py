"""Fixtures of the project tests that drive the scripts in benchmarks/."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))  # the scripts' helpers import each other

import results_runner  # noqa: E402


@pytest.fixture
def clean_repo(tmp_path, monkeypatch):
    """A scratch git repository with one commit, where the runner reads its provenance;
    returns a ``git(*args)`` for it."""
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q")
    (repo / "tracked.txt").write_text("a\n", encoding="utf-8")
    (repo / "benchmarks" / "results").mkdir(parents=True)
    (repo / "benchmarks" / "results" / "a-s0.json").write_text("{}\n", encoding="utf-8")
    git("add", ".")
    git("commit", "-qm", "one")
    monkeypatch.setattr(results_runner, "GIT_REPO", repo)
    return git
