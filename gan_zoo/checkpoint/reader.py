"""Reading a checkpoint: a path -> its checkpoint, then one reader that resume, ``--init`` and
``gan_zoo.load`` share.

:func:`open_checkpoint` resolves a path (a run, a checkpoint folder, a lone
``generator.safetensors``, a ``latest``/``best`` pointer) and hands a :class:`CheckpointReader`
to a function; if a training prunes or replaces the checkpoint meanwhile, it resolves again,
once. The reader reads each header, the config record and ``training-state.json`` once, checks
that modules fit a file's header before any tensor is read, then reads the tensors.

Nothing is unpickled: weights come from safetensors (header checked against the file size
first), the rest from schema-checked JSON.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..errors import CheckpointError
from ..safe_io import POINTER_CAP, MissingFile, inside_run, read_capped, read_json, shown
from .layout import (
    BEST,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    GENERATOR_FILE,
    LATEST,
    POINTER_NAME,
    STATE_JSON_FILE,
    under_prefix,
)
from .schema import check_record, check_state, meta_json
from .weights import check_fits, read_header, read_safetensors

_USAGE = "pass a run directory, a checkpoint directory or a generator .safetensors file"
T = TypeVar("T")


# Finding.
def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A run dir -> its latest checkpoint dir; a checkpoint dir or a ``.safetensors`` file as is.

    The path given is followed as the user gave it; everything found from there (pointers, the
    checkpoint they name) must be inside the run (see :func:`gan_zoo.safe_io.inside_run`)."""
    p = Path(path).expanduser()
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise CheckpointError(f"{shown(p)} does not exist; {_USAGE}") from None
    except (OSError, UnicodeError) as exc:
        raise CheckpointError(
            f"cannot read {shown(p)} ({getattr(exc, 'strerror', None) or exc}); {_USAGE}"
        ) from None
    if stat.S_ISREG(mode):
        if p.suffix == ".safetensors":
            read_header(p)
            return p
        if p.name in (LATEST, BEST):
            return _follow(p)
        raise CheckpointError(f"{shown(p)} is not a checkpoint; {_USAGE}")
    if not stat.S_ISDIR(mode):
        raise CheckpointError(f"{shown(p)} is not a file or folder (a FIFO or a device?); {_USAGE}")
    if os.path.lexists(p / GENERATOR_FILE):
        return p
    for pointer in (p / CHECKPOINTS_DIR / LATEST, p / LATEST):
        if os.path.lexists(pointer):
            return _follow(pointer)
    if (p / CHECKPOINTS_DIR).is_dir():
        raise CheckpointError(
            f"{shown(p)} has no complete checkpoint yet (no checkpoints/latest); "
            "wait for the first save"
        )
    raise CheckpointError(
        f"{shown(p)} is not a gan-zoo run or checkpoint "
        f"(no {GENERATOR_FILE}, no checkpoints/latest); {_USAGE}"
    )


def _follow(pointer: Path) -> Path:
    name = read_capped(pointer, POINTER_CAP, "pointer file").decode("utf-8", "replace").strip()
    if not POINTER_NAME.match(name):
        raise CheckpointError(
            f"{shown(pointer)} is corrupt (it should name a checkpoint directory like step-0000469)"
        )
    target = pointer.parent / name
    inside_run(target)  # a checkpoint folder that is a link out of the run is refused
    if not os.path.lexists(target / GENERATOR_FILE):
        raise MissingFile(
            f"{shown(pointer)} names {name}, which is missing or has no {GENERATOR_FILE}"
        )
    return target


def with_retry(path: str | os.PathLike, read: Callable[[Path], T]) -> T:
    """``read(checkpoint)`` for the checkpoint ``path`` resolves to. A training may prune or
    replace that checkpoint while it is read: then the pointer is read again, once; a second
    miss is a one-line "being written" error, never "corrupt"."""
    for attempt in range(2):
        ckpt = None
        try:
            ckpt = resolve_checkpoint(path)
            return read(ckpt)
        except MissingFile:
            if attempt == 0 and (ckpt is None or os.path.lexists(ckpt)):
                raise  # nothing vanished under us: the run is really incomplete
            if attempt:
                raise CheckpointError(
                    f"{shown(path)} is being written by a training (a checkpoint was pruned or "
                    "replaced while it was read); try again"
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def open_checkpoint(path: str | os.PathLike, read: Callable[[CheckpointReader], T]) -> T:
    """``read(reader)`` with a :class:`CheckpointReader` of the checkpoint ``path`` resolves to
    (retried once when a training replaced it meanwhile, see :func:`with_retry`)."""
    return with_retry(path, lambda ckpt: read(CheckpointReader(ckpt)))


# Reading.
class CheckpointReader:
    """One resolved checkpoint (a folder, or a lone ``generator.safetensors``), read lazily and
    each part once: headers, the config record, ``training-state.json``; then tensors.

    Files are named as in :mod:`~gan_zoo.checkpoint.layout` (``GENERATOR_FILE``, ...); in a lone
    weights file only ``GENERATOR_FILE`` exists."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lone = self.path.is_file()
        self._headers: dict[str, dict[str, Any]] = {}
        self._doc: dict[str, Any] | None = None

    def file(self, name: str) -> Path:
        """The path of file ``name`` of the checkpoint."""
        return self.path if self.lone and name == GENERATOR_FILE else self.path / name

    def shown(self, name: str) -> str:
        """File ``name`` as error messages show it."""
        return shown(self.file(name))

    def has(self, name: str) -> bool:
        """Whether the checkpoint has file ``name`` (a lone weights file has only the generator)."""
        if self.lone:
            return name == GENERATOR_FILE
        return os.path.lexists(self.path / name)

    def header(self, name: str, prefix: str = "") -> dict[str, Any]:
        """The checked safetensors header of file ``name`` (read once); with ``prefix``, only
        its entries under ``prefix``, without it (``generator_raw/``)."""
        if name not in self._headers:
            self._headers[name] = read_header(self.file(name))
        header = self._headers[name]
        return under_prefix(header, prefix) if prefix else header

    def metadata(self, name: str = GENERATOR_FILE) -> dict[str, str]:
        """The ``__metadata__`` of file ``name``'s header."""
        return self.header(name).get("__metadata__", {})

    def state_doc(self) -> dict[str, Any]:
        """``training-state.json``, schema-checked (read once)."""
        if self._doc is None:
            if self.lone:
                raise CheckpointError(
                    f"{shown(self.path)} holds weights only; resuming needs a checkpoint "
                    f"directory with {STATE_JSON_FILE}"
                )
            self._doc = check_state(
                read_json(self.file(STATE_JSON_FILE)), self.shown(STATE_JSON_FILE)
            )
        return self._doc

    def record(self) -> dict[str, Any] | None:
        """The config record: the checkpoint's config.json, else the generator file's own
        metadata, else a config.json beside a lone weights file; None when there is none.
        Schema-checked in every case."""
        meta, weights = self.metadata(), self.file(GENERATOR_FILE)
        if not self.lone and os.path.lexists(self.path / CONFIG_FILE):
            return check_record(read_json(self.path / CONFIG_FILE), shown(self.path / CONFIG_FILE))
        if "config" in meta:
            return check_record(meta_json(meta, "config", {}, dict, shown(weights)), shown(weights))
        if os.path.lexists(weights.parent / CONFIG_FILE):
            return check_record(
                read_json(weights.parent / CONFIG_FILE), shown(weights.parent / CONFIG_FILE)
            )
        return None

    def check_fits(self, name: str, module: Any, what: str, prefix: str = "") -> None:
        """Compare ``module``'s tensors (a module or a state dict) with file ``name``'s header
        (its ``prefix`` entries); a mismatch is a one-line CheckpointError naming ``what``."""
        expected = module if isinstance(module, dict) else module.state_dict()
        check_fits(expected, self.header(name, prefix), self.shown(name), what)

    def tensors(self, name: str, device: Any = "cpu", prefix: str = "") -> dict[str, Any]:
        """The tensors of file ``name`` on ``device`` (with ``prefix``: those under it,
        without it)."""
        tensors, _ = read_safetensors(self.file(name), device)
        return under_prefix(tensors, prefix) if prefix else tensors
