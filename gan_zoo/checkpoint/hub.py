"""Checkpoints on the Hugging Face Hub: ``hf-hub:owner/name[@revision]`` in, ``gan-zoo push`` out.

Downloads go through ``huggingface_hub.snapshot_download`` (the optional extra ``gan-zoo[hub]``),
limited to the files gan-zoo reads, so the library's cache, its token and ``HF_HUB_OFFLINE=1``
all behave as everywhere else. That cache keeps every file of a snapshot as a symbolic link to
``../../blobs/<hash>``, and gan-zoo's reader of untrusted runs refuses links that leave a run
(:func:`gan_zoo.safe_io.inside_run`). So the snapshot is *materialised*: each link is checked to
resolve to a regular file inside the same repository's ``blobs/`` folder, then hard-linked (or
copied, across file systems) as a plain file into
``$XDG_CACHE_HOME/gan-zoo/hf-hub/<owner>--<name>/<commit>/``, which the normal, strict reader
then reads like any checkpoint folder. A link anywhere else is a one-line error.

Uploads (:func:`push`) stage a checkpoint's files in a temporary folder (weights, card, config,
metrics, sample grid; optimizer state only on request), then call ``HfApi.create_repo`` and
``HfApi.upload_folder``. :func:`stage_push` is the part tests (and ``--dry-run``) use.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import CheckpointError, GanZooError
from ..safe_io import inside_run, read_json, shown
from .layout import (
    BEST,
    CARD_FILE,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    DISCRIMINATOR_FILE,
    GENERATOR_FILE,
    LATEST,
    METRICS_FILE,
    SAMPLES_FILE,
    STATE_JSON_FILE,
    STATE_TENSORS_FILE,
    STEP_DIR,
    list_checkpoints,
    read_pointer,
    step_name,
)
from .schema import check_record
from .weights import read_header

MISSING_EXTRA = 'hf-hub: sources need the optional extra: pip install "gan-zoo[hub]"'
#: What sampling reads, and what starting a run from the weights (``--init``) reads too.
SAMPLING_FILES = (GENERATOR_FILE, CONFIG_FILE, METRICS_FILE, CARD_FILE)
TRAINING_FILES = (DISCRIMINATOR_FILE, STATE_TENSORS_FILE, STATE_JSON_FILE)
#: What ``gan-zoo push`` uploads; the optimizer state only with ``--with-state``.
PUSH_FILES = (
    GENERATOR_FILE,
    DISCRIMINATOR_FILE,
    CARD_FILE,
    CONFIG_FILE,
    METRICS_FILE,
    SAMPLES_FILE,
)
REQUIRED_PUSH_FILES = (GENERATOR_FILE, CONFIG_FILE, CARD_FILE)
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,199}$")


def _hub() -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise GanZooError(MISSING_EXTRA) from None
    return huggingface_hub


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}".rstrip(": ")


def check_repo_id(repo_id: str, what: str = "repository") -> str:
    if not _REPO_ID.match(repo_id) or ".." in repo_id:
        raise GanZooError(
            f"'{repo_id[:100]}' is not a Hub {what} id; "
            "use owner/name (e.g. me/dcgan-fashion-mnist)"
        )
    return repo_id


# Downloading.
def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gan-zoo/hf-hub`` (``~/.cache/gan-zoo/hf-hub``): materialised snapshots."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gan-zoo" / "hf-hub"


def download(repo: str, *, training: bool = False) -> Path:
    """``owner/name[@revision]`` -> a local checkpoint folder of plain files (see the module's
    docstring); ``training`` also fetches the discriminator and the training state."""
    repo_id, _, revision = repo.partition("@")
    check_repo_id(repo_id)
    if revision and not _REVISION.match(revision):
        raise GanZooError(
            f"'{revision[:100]}' is not a revision; use a branch, a tag or a commit hash"
        )
    hub = _hub()
    names = SAMPLING_FILES + (TRAINING_FILES if training else ())
    try:
        snapshot = Path(
            hub.snapshot_download(repo_id, revision=revision or None, allow_patterns=list(names))
        )
    except Exception as exc:  # network, not found, offline without a cached copy: one line
        raise CheckpointError(
            f"cannot download hf-hub:{repo} ({_one_line(exc)}); check the name, the revision and "
            "your network (HF_HUB_OFFLINE=1 uses only what is cached)"
        ) from None
    if not os.path.lexists(snapshot / GENERATOR_FILE):
        raise CheckpointError(
            f"hf-hub:{repo} has no {GENERATOR_FILE} at its top level, so it is not a gan-zoo "
            "checkpoint (upload one with 'gan-zoo push RUN owner/name')"
        )
    return materialise(snapshot, repo_id, names)


def materialise(snapshot: Path, repo_id: str, names: tuple[str, ...]) -> Path:
    """Plain files for the ``names`` of a cache snapshot, each checked to be a regular file in
    the snapshot's own repository cache (``snapshots/<commit>/`` -> ``../../blobs/``)."""
    repo_cache = os.path.realpath(snapshot.parent.parent)
    target = cache_dir() / repo_id.replace("/", "--") / snapshot.name
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            entry = snapshot / name
            if os.path.lexists(entry):
                _place(entry, target / name, repo_cache)
    except OSError as exc:
        raise CheckpointError(
            f"cannot copy hf-hub:{repo_id} into {shown(target)} ({exc.strerror or exc})"
        ) from None
    return target


def _place(entry: Path, dest: Path, repo_cache: str) -> None:
    real = os.path.realpath(entry)
    blobs = os.path.join(repo_cache, "blobs") + os.sep
    inside = real.startswith(blobs) or (
        not os.path.islink(entry) and real.startswith(repo_cache + os.sep)
    )
    if not inside:
        raise CheckpointError(
            f"{shown(entry)} links to {shown(real)}, outside its repository cache; the cache is "
            "corrupt or tampered with: delete it and download again"
        )
    info = os.stat(real)
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(
            f"{shown(entry)} is not a regular file; delete the cache entry and download again"
        )
    try:
        same = os.lstat(dest)
        if stat.S_ISREG(same.st_mode) and same.st_size == info.st_size:
            return  # a commit's files never change: this one is already here
    except FileNotFoundError:
        pass
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    if os.path.lexists(tmp):
        os.unlink(tmp)
    try:
        os.link(real, tmp)
    except OSError:  # another file system, or links not allowed: a copy
        shutil.copyfile(real, tmp)
    os.replace(tmp, dest)


# Uploading.
def find_checkpoint(run: str | os.PathLike, which: str = LATEST) -> Path:
    """The checkpoint folder ``which`` (``latest``, ``best`` or ``step-N``) of ``run``; a
    checkpoint folder itself is taken as it is."""
    run = Path(run).expanduser()
    if os.path.lexists(run / GENERATOR_FILE):
        return run
    root = run / CHECKPOINTS_DIR
    if not root.is_dir():
        raise CheckpointError(
            f"{shown(run)} is not a gan-zoo run (no {CHECKPOINTS_DIR}/); pass a run directory"
        )
    if which in (LATEST, BEST):
        name = read_pointer(root, which)
        if name is None:
            hint = " (it was trained without --eval-metric)" if which == BEST else ""
            raise CheckpointError(
                f"{shown(run)} has no {CHECKPOINTS_DIR}/{which}{hint}; use --checkpoint latest"
            )
    elif match := STEP_DIR.match(which):
        name = step_name(int(match.group(1)))
    else:
        raise GanZooError(
            f"--checkpoint '{which[:40]}' must be best, latest or step-N (e.g. step-469)"
        )
    ckpt = root / name
    if not os.path.lexists(ckpt / GENERATOR_FILE):
        have = ", ".join(p.name for p in list_checkpoints(run)) or "none"
        raise CheckpointError(f"{shown(run)} has no checkpoint {name} (it has: {have})")
    inside_run(ckpt)
    return ckpt


def stage_push(
    run: str | os.PathLike,
    folder: str | os.PathLike,
    *,
    checkpoint: str = LATEST,
    with_state: bool = False,
) -> list[tuple[str, int]]:
    """Copy what ``gan-zoo push`` uploads from ``run``'s checkpoint into ``folder``; returns
    ``[(file name, size)]``. The weights' headers and config.json are checked first."""
    ckpt = find_checkpoint(run, checkpoint)
    for name in REQUIRED_PUSH_FILES:
        if not os.path.lexists(ckpt / name):
            raise CheckpointError(f"{shown(ckpt)} has no {name}; it cannot be published")
    read_header(ckpt / GENERATOR_FILE)
    check_record(read_json(ckpt / CONFIG_FILE), shown(ckpt / CONFIG_FILE))
    names = PUSH_FILES + ((STATE_TENSORS_FILE, STATE_JSON_FILE) if with_state else ())
    staged = []
    for name in names:
        source = ckpt / name
        if not os.path.lexists(source):
            continue
        real = inside_run(source)
        if not stat.S_ISREG(os.stat(real).st_mode):
            raise CheckpointError(f"{shown(source)} is not a regular file; it cannot be published")
        if name.endswith(".safetensors"):
            read_header(source)
        shutil.copyfile(real, Path(folder) / name)
        staged.append((name, os.path.getsize(Path(folder) / name)))
    return staged


def push(
    run: str | os.PathLike,
    repo_id: str,
    *,
    checkpoint: str = LATEST,
    private: bool = False,
    with_state: bool = False,
    dry_run: bool = False,
) -> tuple[list[tuple[str, int]], str | None]:
    """Upload a checkpoint of ``run`` to the Hub model repository ``repo_id`` (created if
    needed); returns the staged ``[(name, size)]`` and the commit URL (None for ``dry_run``)."""
    check_repo_id(repo_id)
    with tempfile.TemporaryDirectory(prefix="gan-zoo-push-") as folder:
        staged = stage_push(run, folder, checkpoint=checkpoint, with_state=with_state)
        if dry_run:
            return staged, None
        api = _hub().HfApi()
        try:
            api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
            info = api.upload_folder(
                repo_id=repo_id,
                folder_path=folder,
                repo_type="model",
                commit_message=(
                    f"Upload {find_checkpoint(run, checkpoint).name} with gan-zoo {__version__}"
                ),
            )
        except Exception as exc:  # network, authentication, permissions: one line
            raise CheckpointError(
                f"cannot upload to {repo_id} ({_one_line(exc)}); log in with 'hf auth login' "
                "(or set HF_TOKEN) and check the repository name"
            ) from None
    return staged, str(getattr(info, "commit_url", "") or info)


__all__ = [
    "MISSING_EXTRA",
    "PUSH_FILES",
    "SAMPLING_FILES",
    "TRAINING_FILES",
    "cache_dir",
    "check_repo_id",
    "download",
    "find_checkpoint",
    "materialise",
    "push",
    "stage_push",
]
