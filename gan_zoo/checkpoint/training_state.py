"""The training state: everything a checkpoint saves and a resume restores, as one type.

:class:`TrainingState` holds the live objects (the networks, the EMA generator, both
optimizers, the GradScaler) and the plain values (the JSON progress counters, the RNG states,
the sample grid, the tracked metric). Like PyTorch's ``state_dict()`` / ``load_state_dict()``
pair, :meth:`TrainingState.state_dict` turns it into what the files hold, ``({file: tensors},
training-state.json document)``, and :meth:`TrainingState.load_state_dict` puts that back into
the objects in place. :func:`~gan_zoo.checkpoint.save.save_checkpoint` writes the first;
:func:`~gan_zoo.checkpoint.load.restore_training_state` reads the files with a
:class:`~gan_zoo.checkpoint.reader.CheckpointReader` and calls the second.

Importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._version import __version__
from ..errors import CheckpointError
from .layout import (
    D_OPTIMIZER,
    DISCRIMINATOR_FILE,
    FORMAT,
    FORMAT_VERSION,
    G_OPTIMIZER,
    GENERATOR_FILE,
    RAW_GENERATOR_PREFIX,
    RNG_PREFIX,
    SCALER,
    STATE_JSON_FILE,
    STATE_TENSORS_FILE,
    under_prefix,
    with_prefix,
)
from .state import join_state, load_optimizer, load_scaler, split_state, unwrap
from .weights import load_weights

#: The tensors of a checkpoint by file: ``{GENERATOR_FILE: {...}, DISCRIMINATOR_FILE: {...},
#: STATE_TENSORS_FILE: {...}}``.
Tensors = dict[str, dict[str, Any]]


@dataclass
class TrainingState:
    """What one checkpoint saves and restores.

    ``generator`` is the trained G and ``ema_generator`` its average (None without EMA): the
    sampler (``generator.safetensors``) is the average when there is one, and the trained G is
    then kept in ``training-state.safetensors`` under ``generator_raw/``. Wrappers (DDP,
    ``torch.compile``) are looked through. ``progress`` is ``training-state.json``'s ``state``:
    JSON-able, with at least ``step``, ``epoch``, ``images_seen``, ``elapsed_seconds``,
    ``hardware`` and ``last_losses`` when saved (``class_names`` and ``metrics`` go into the
    model card). ``rng`` maps stream names to RNG state tensors (uint8 vectors); ``samples`` is
    a uint8 grid (C, H, W) or None; ``metric`` is ``(name, value, higher_is_better)`` or None.
    """

    generator: Any
    discriminator: Any
    g_optimizer: Any
    d_optimizer: Any
    ema_generator: Any = None
    scaler: Any = None
    progress: dict[str, Any] = field(default_factory=dict)
    rng: dict[str, Any] = field(default_factory=dict)
    samples: Any = None
    metric: tuple[str, float, bool] | None = None

    @property
    def step(self) -> int:
        return int(self.progress["step"])

    @property
    def metric_doc(self) -> dict[str, Any] | None:
        """The tracked metric as ``training-state.json`` records it (``best`` compares these)."""
        if self.metric is None:
            return None
        name, value, higher_is_better = self.metric
        return {
            "name": str(name),
            "value": float(value),
            "higher_is_better": bool(higher_is_better),
        }

    def networks(self) -> tuple[Any, Any, Any]:
        """``(generator, discriminator, ema_generator or None)``, unwrapped."""
        ema = unwrap(self.ema_generator) if self.ema_generator is not None else None
        return unwrap(self.generator), unwrap(self.discriminator), ema

    def state_dict(self) -> tuple[Tensors, dict[str, Any]]:
        """``({file: tensors}, training-state.json document)``: what the checkpoint files hold.

        The tensors are the modules' and optimizers' own (not copies); the document is
        JSON-able. Key order is the order of the files on disk."""
        generator, discriminator, ema = self.networks()
        state_tensors: dict[str, Any] = {}
        doc = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "gan_zoo_version": __version__,
            "state": self.progress,
            "metric": self.metric_doc,
            "ema": ema is not None,
            G_OPTIMIZER: split_state(self.g_optimizer.state_dict(), G_OPTIMIZER, state_tensors),
            D_OPTIMIZER: split_state(self.d_optimizer.state_dict(), D_OPTIMIZER, state_tensors),
            SCALER: split_state(self.scaler.state_dict(), SCALER, state_tensors)
            if self.scaler is not None
            else None,
            "rng": sorted(self.rng),
        }
        if ema is not None:  # generator.safetensors holds EMA weights; keep the raw G here
            state_tensors.update(with_prefix(generator.state_dict(), RAW_GENERATOR_PREFIX))
        state_tensors.update(with_prefix(self.rng, RNG_PREFIX))
        tensors = {
            GENERATOR_FILE: (ema if ema is not None else generator).state_dict(),
            DISCRIMINATOR_FILE: discriminator.state_dict(),
            STATE_TENSORS_FILE: state_tensors,
        }
        return tensors, doc

    def load_state_dict(
        self, tensors: Tensors, doc: dict[str, Any], sources: dict[str, str] | None = None
    ) -> None:
        """Restore the objects in place from what :meth:`state_dict` gave (read back from the
        files); set ``progress`` and ``rng``. ``sources`` names each file in error messages.

        Without saved EMA weights (``doc["ema"]`` false) the EMA generator restarts from the
        saved generator. Every name, shape and dtype is checked (one-line CheckpointErrors)."""
        where = {
            name: name
            for name in (GENERATOR_FILE, DISCRIMINATOR_FILE, STATE_TENSORS_FILE, STATE_JSON_FILE)
        } | (sources or {})
        generator, discriminator, ema = self.networks()
        state_tensors, state_source = tensors[STATE_TENSORS_FILE], where[STATE_TENSORS_FILE]
        load_weights(
            discriminator,
            tensors[DISCRIMINATOR_FILE],
            where[DISCRIMINATOR_FILE],
            "the discriminator",
        )
        if doc.get("ema"):  # generator.safetensors holds the average; the trained G is in the state
            raw = under_prefix(state_tensors, RAW_GENERATOR_PREFIX)
            load_weights(generator, raw, state_source, "the generator")
        else:
            load_weights(generator, tensors[GENERATOR_FILE], where[GENERATOR_FILE], "the generator")
        if ema is not None:
            load_weights(ema, tensors[GENERATOR_FILE], where[GENERATOR_FILE], "the EMA generator")
        for opt, key in ((self.g_optimizer, G_OPTIMIZER), (self.d_optimizer, D_OPTIMIZER)):
            data = doc.get(key)
            if not isinstance(data, dict):
                raise CheckpointError(
                    f"{where[STATE_JSON_FILE]} has no {key} state; the checkpoint is incomplete"
                )
            load_optimizer(opt, data, state_tensors, state_source)
        if self.scaler is not None and doc.get(SCALER):
            load_scaler(
                self.scaler, join_state(doc[SCALER], state_tensors, state_source), state_source
            )
        rng = under_prefix(state_tensors, RNG_PREFIX)
        check_rng(rng, state_source)
        self.progress, self.rng = doc.get("state", {}), rng


#: Bytes of a CUDA (Philox) generator's state: its seed and offset, 8 bytes each. A CPU
#: generator's (Mersenne Twister) is ``torch.get_rng_state().numel()``: 5,056 bytes.
PHILOX_STATE_BYTES = 16


def rng_state_device(state: Any) -> str:
    """``"cpu"`` or ``"cuda"``: the kind of generator an RNG state vector was taken from, by its
    size (the two kinds' states cannot be exchanged, see
    :class:`~gan_zoo.training.streams.Streams`)."""
    import torch

    if state.numel() == PHILOX_STATE_BYTES:
        return "cuda"
    return "cpu" if state.numel() == torch.get_rng_state().numel() else "?"


def check_rng(rng: dict[str, Any], source: str) -> None:
    """RNG states are uint8 vectors of the sizes torch's generators use: the CPU generator's for
    ``torch`` and ``data``, a CPU or a CUDA generator's for ``noise`` (it lives on the training
    device), a CUDA generator's for ``cuda``."""
    import torch

    cpu = torch.get_rng_state().numel()
    sizes = {
        "torch": (cpu,),
        "data": (cpu,),
        "noise": (cpu, PHILOX_STATE_BYTES),
        "cuda": (PHILOX_STATE_BYTES,),
    }
    for name, value in rng.items():
        ok = value.dtype == torch.uint8 and value.dim() == 1
        if ok and name in sizes:
            ok = value.numel() in sizes[name]
        if not ok:
            want = " or ".join(f"{n:,}" for n in sizes.get(name, (cpu,)))
            raise CheckpointError(
                f"{source}: RNG state '{name[:40]}' is not a uint8 vector of {want} bytes; the "
                "checkpoint is corrupt"
            )
