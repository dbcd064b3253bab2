"""``hf-hub:owner/name`` sources and ``gan-zoo push``, without a network.

The Hub side is a real huggingface_hub cache in tmp, laid out as the library writes it
(``models--owner--name/refs/main``, ``snapshots/<commit>/<file> -> ../../blobs/<hash>``), read
by the installed huggingface_hub under ``HF_HUB_OFFLINE=1``: ``snapshot_download`` then returns
the cached snapshot, as it does for a user who downloaded it before. Uploads are recorded by a
stand-in ``HfApi``; the staged folder is what the tests check.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from helpers import TINY, train_tiny

import gan_zoo
from gan_zoo.checkpoint import hub, resolve_checkpoint
from gan_zoo.cli import build_cli
from gan_zoo.errors import CheckpointError, GanZooError
from gan_zoo.testing.data import write_fashion_mnist

huggingface_hub = pytest.importorskip("huggingface_hub")
REPO = "someone/tiny-dcgan"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_fashion_mnist(tmp_path_factory.mktemp("data") / "fashion-mnist")


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> Path:
    return train_tiny(data, tmp_path_factory.mktemp("hub-source") / "run")


def fill_cache(
    cache: Path, repo: str, files: dict[str, bytes], commit: str = COMMIT, ref: str = "main"
) -> Path:
    """A huggingface_hub cache entry of ``repo`` holding ``files``; returns the snapshot folder."""
    storage = cache / ("models--" + repo.replace("/", "--"))
    snapshot = storage / "snapshots" / commit
    (storage / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    (storage / "refs").mkdir(exist_ok=True)
    (storage / "refs" / ref).write_text(commit)
    for name, data in files.items():
        blob = hashlib.sha256(data).hexdigest()
        (storage / "blobs" / blob).write_bytes(data)
        (snapshot / name).symlink_to(Path("..", "..", "blobs", blob))
    return snapshot


def checkpoint_files(run: Path, names=hub.SAMPLING_FILES + hub.TRAINING_FILES) -> dict[str, bytes]:
    ckpt = resolve_checkpoint(run)
    return {name: (ckpt / name).read_bytes() for name in names if (ckpt / name).exists()}


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """An empty Hub cache in tmp, offline, for this process (the library reads its settings at
    import, so its constants are set too) and for subprocesses (the environment)."""
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    constants = importlib.import_module("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


# Downloading.
def test_a_cached_hub_repo_loads_offline_as_plain_files(run, offline_cache):
    snapshot = fill_cache(offline_cache, REPO, checkpoint_files(run))
    assert os.path.islink(snapshot / "generator.safetensors")  # the layout the library writes
    g = gan_zoo.load(f"hf-hub:{REPO}")
    assert torch.equal(g.sample(4, seed=3), gan_zoo.load(run).sample(4, seed=3))
    assert g.source == hub.cache_dir() / "someone--tiny-dcgan" / COMMIT
    assert sorted(p.name for p in g.source.iterdir()) == [
        "README.md",
        "config.json",
        "generator.safetensors",
    ]
    assert not any(p.is_symlink() for p in g.source.iterdir())
    gan_zoo.load(f"hf-hub:{REPO}")  # a second time reuses the plain files


def test_a_revision_is_resolved_through_the_cache_refs(run, offline_cache):
    fill_cache(offline_cache, REPO, checkpoint_files(run), commit="f" * 40, ref="v1")
    assert gan_zoo.load(f"hf-hub:{REPO}@v1").source.name == "f" * 40
    with pytest.raises(
        CheckpointError,
        match=r"^cannot download hf-hub:someone/tiny-dcgan@v2 \(.*\); check the name",
    ):
        gan_zoo.load(f"hf-hub:{REPO}@v2")


def test_the_cli_generates_and_trains_from_a_hub_id_in_a_fresh_process(
    run, data, offline_cache, tmp_path
):
    fill_cache(offline_cache, REPO, checkpoint_files(run))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
    }
    out = tmp_path / "grid.png"
    gen = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_zoo",
            "generate",
            f"hf-hub:{REPO}",
            "--n",
            "4",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert gen.returncode == 0, gen.stderr
    assert out.exists()
    new = train_tiny(data, tmp_path / "from-hub", steps=1, init=f"hf-hub:{REPO}")
    init = json.loads((new / "config.json").read_text())["init"]
    assert (
        init["source"] == f"hf-hub:{REPO}"
        and init["loaded"] == "generator (raw), EMA generator, discriminator"
    )


def test_unknown_repos_and_bad_ids_are_one_line(offline_cache):
    result = CliRunner().invoke(build_cli(), ["generate", "hf-hub:someone/nothing"])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith("Error: cannot download hf-hub:someone/nothing (")
    with pytest.raises(GanZooError, match="is not a Hub repository id; use owner/name"):
        gan_zoo.load("hf-hub:../../etc")


def test_a_repo_that_is_not_a_gan_zoo_checkpoint_is_one_line(offline_cache):
    fill_cache(offline_cache, REPO, {"config.json": b"{}"})
    with pytest.raises(CheckpointError, match="has no generator.safetensors at its top level"):
        gan_zoo.load(f"hf-hub:{REPO}")


def test_a_cache_link_out_of_its_repo_is_refused(run, offline_cache, tmp_path):
    snapshot = fill_cache(offline_cache, REPO, checkpoint_files(run))
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}")
    (snapshot / "config.json").unlink()
    (snapshot / "config.json").symlink_to(elsewhere)
    with pytest.raises(CheckpointError, match="outside its repository cache"):
        gan_zoo.load(f"hf-hub:{REPO}")


def test_a_snapshot_folder_linked_out_of_its_repo_is_refused(run, offline_cache, tmp_path):
    snapshot = fill_cache(offline_cache, REPO, {})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name, data in checkpoint_files(run).items():
        (elsewhere / name).write_bytes(data)
    snapshot.rmdir()
    snapshot.symlink_to(elsewhere)
    with pytest.raises(CheckpointError, match="outside its repository cache"):
        gan_zoo.load(f"hf-hub:{REPO}")


def test_without_huggingface_hub_the_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails as if not installed
    result = CliRunner().invoke(build_cli(), ["generate", f"hf-hub:{REPO}"])
    assert result.exit_code == 2
    assert (
        result.output
        == 'Error: hf-hub: sources need the optional extra: pip install "gan-zoo[hub]"\n'
    )


# Uploading.
def test_staging_copies_the_checkpoint_without_optimizer_state(run, tmp_path):
    folder = tmp_path / "staged"
    folder.mkdir()
    staged = dict(hub.stage_push(run, folder))
    ckpt = resolve_checkpoint(run)
    expected = {
        "generator.safetensors",
        "discriminator.safetensors",
        "README.md",
        "config.json",
        "samples.png",
    }
    assert set(staged) == expected == {p.name for p in folder.iterdir()}
    assert all((folder / n).read_bytes() == (ckpt / n).read_bytes() for n in expected)
    assert staged["generator.safetensors"] == (ckpt / "generator.safetensors").stat().st_size
    folder2 = tmp_path / "with-state"
    folder2.mkdir()
    names = {n for n, _ in hub.stage_push(run, folder2, checkpoint="step-2", with_state=True)}
    assert {"training-state.safetensors", "training-state.json"} <= names


def test_bad_checkpoint_choices_are_one_line(run):
    with pytest.raises(
        CheckpointError, match=r"has no checkpoints/best \(it was trained without --eval-metric\)"
    ):
        hub.find_checkpoint(run, "best")
    with pytest.raises(
        CheckpointError, match=r"has no checkpoint step-0000007 \(it has: step-0000002\)"
    ):
        hub.find_checkpoint(run, "step-7")
    with pytest.raises(GanZooError, match="must be best, latest or step-N"):
        hub.find_checkpoint(run, "newest")


def test_push_dry_run_lists_files_and_uploads_nothing(run, monkeypatch):
    monkeypatch.setattr(huggingface_hub, "HfApi", None)  # any use would fail
    result = CliRunner().invoke(build_cli(), ["push", str(run), REPO, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "generator.safetensors" in result.output and "training-state" not in result.output
    assert "Would upload 5 files" in result.output and "nothing was uploaded" in result.output


def test_push_creates_the_repo_and_uploads_the_staged_folder(run, monkeypatch):
    calls = []

    class RecordingApi:
        def create_repo(self, repo_id, **options):
            calls.append(("create_repo", repo_id, options))

        def upload_folder(self, **options):
            calls.append(
                (
                    "upload_folder",
                    sorted(p.name for p in Path(options["folder_path"]).iterdir()),
                    options["repo_id"],
                )
            )
            return type("CommitInfo", (), {"commit_url": "hub://someone/tiny-dcgan/commit/1"})()

    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingApi)
    result = CliRunner().invoke(build_cli(), ["push", str(run), REPO, "--private"])
    assert result.exit_code == 0, result.output
    assert calls[0] == (
        "create_repo",
        REPO,
        {"private": True, "exist_ok": True, "repo_type": "model"},
    )
    assert calls[1] == (
        "upload_folder",
        [
            "README.md",
            "config.json",
            "discriminator.safetensors",
            "generator.safetensors",
            "samples.png",
        ],
        REPO,
    )
    assert "Uploaded 5 files" in result.output and f"hf-hub:{REPO}" in result.output


def test_a_pushed_folder_is_a_loadable_hub_repo(run, offline_cache, tmp_path):
    """What push stages is exactly what hf-hub: reads back."""
    folder = tmp_path / "staged"
    folder.mkdir()
    hub.stage_push(run, folder)
    fill_cache(offline_cache, REPO, {p.name: p.read_bytes() for p in folder.iterdir()})
    info = json.loads(CliRunner().invoke(build_cli(), ["info", f"hf-hub:{REPO}", "--json"]).output)
    assert (
        info["source"] == "hf-hub" and info["path"] == f"hf-hub:{REPO}" and info["model"] == "dcgan"
    )
    assert TINY  # the run is the tiny DCGAN of test_pretrained
