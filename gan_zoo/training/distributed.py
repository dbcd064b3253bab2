"""Data-parallel training with ``torch.distributed`` under ``torchrun``.

``torchrun --nproc-per-node 2 -m gan_zoo train ...`` starts one process per device and sets
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; without those variables training is one plain
process. As in stylegan2-ada-pytorch: each rank draws its own noise (per-rank seeds) and reads
its own shard of the data, gradients are averaged by DDP, and only rank 0 writes files or
prints. Backend: NCCL on CUDA, gloo on the CPU, chosen from the device the run trains on
(``--device cpu`` on a GPU machine trains over gloo). None of the CUDA / NCCL paths has run on a
real GPU yet: the tests run gloo on the CPU.

Batch: by default each process takes the recipe's ``batch_size`` (the global batch is
``batch_size`` x processes, as most GAN codebases do), so per-process BatchNorm statistics and
the per-process recipe are unchanged; ``ddp_batch="global"`` splits ``batch_size`` over the
processes instead (stylegan2-ada's way). The learning rate is never scaled.
"""

from __future__ import annotations

import datetime
import gc
import inspect
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from ..errors import ConfigError
from . import syncbn
from .precision import resolve_device


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init(device: str = "auto") -> DistInfo:
    """Join the process group when launched by torchrun with more than one process.

    The backend follows the device this process will train on (``device`` as the config
    names it, resolved as :func:`~gan_zoo.training.precision.resolve_device` does under DDP):
    NCCL for CUDA, gloo otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistInfo()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))
    if not dist.is_initialized():
        target = resolve_device(device, local_rank, distributed=True)
        backend = "nccl" if target.type == "cuda" else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(target)
        dist.init_process_group(backend, timeout=datetime.timedelta(minutes=30))
    return DistInfo(rank, world_size, local_rank, local_world_size)


def shutdown(info: DistInfo) -> None:
    """Destroy the process group once nothing holds it (the caller drops its DDP wrappers).

    The DDP wrappers sit in reference cycles, and each holds the group: left to interpreter
    shutdown, the gloo group's threads could abort the process after a finished run ("terminate
    called without an active exception", exit -6, about one run in 15 under torchrun). The
    collection frees them here, while the interpreter is whole, as PyTorch's docs ask of
    ``destroy_process_group`` ("Shutdown" in the torch.distributed docs)."""
    if info.enabled and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


def per_rank_batch(batch_size: int, info: DistInfo, ddp_batch: str = "per-process") -> int:
    """Images per D update on this process: ``batch_size`` itself (``per-process``), or the
    global ``batch_size`` split over the ranks (``global``; it must divide evenly)."""
    if ddp_batch == "per-process":
        return batch_size
    if batch_size % info.world_size:
        raise ConfigError(
            f"batch size {batch_size} does not split evenly over {info.world_size} processes; "
            f"use a multiple of {info.world_size} or --ddp-batch per-process"
        )
    return batch_size // info.world_size


def describe_batch(batch: int, info: DistInfo, config: Any) -> str:
    """One line for the start of a DDP run: processes, batch per process, global batch."""
    other = (
        f"--ddp-batch global keeps {config.batch_size}"
        if config.ddp_batch == "per-process"
        else f"--ddp-batch per-process takes {config.batch_size} each"
    )
    return (
        f"DDP: {info.world_size} processes x batch {batch} = global batch "
        f"{batch * info.world_size} ({config.ddp_batch}; {other}); learning rates not scaled"
    )


def seed_rank(seed: int, rank: int, step: int = 0) -> None:
    """Re-seed the global torch RNG of ranks > 0 (WGAN-GP's interpolation weights, dropout),
    which ``torch.manual_seed(seed)`` left equal on every rank; rank 0 keeps its stream, so a
    single-process run is unchanged. ``step``: re-seeding on resume, from the step."""
    if rank > 0:
        mixed = seed * 2_654_435_761 + 104_729 * rank + 1_000_000_007 * step
        torch.manual_seed(mixed % 2**63)


def shard_indices(n: int, seed: int, info: DistInfo) -> torch.Tensor:
    """This rank's share of ``range(n)``: a seeded permutation dealt out like cards."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[info.rank :: info.world_size].sort().values


def wrap(
    module: nn.Module, device: torch.device, info: DistInfo, sync_batchnorm: bool
) -> nn.Module:
    """``DistributedDataParallel(module)``, with SyncBatchNorm first when asked."""
    if not info.enabled:
        return module
    ids = [device.index] if device.type == "cuda" else None
    # Buffers are synced once at start but not at each forward (as in stylegan2-ada): D sees two
    # forwards per step, and BatchNorm statistics are per rank or synchronised by SyncBatchNorm.
    params = inspect.signature(nn.parallel.DistributedDataParallel).parameters
    sync = (
        {"forward_sync_buffers": False}
        if "forward_sync_buffers" in params
        else {"broadcast_buffers": False}
    )
    return nn.parallel.DistributedDataParallel(module, device_ids=ids, **sync)


def convert_sync_batchnorm(
    module: nn.Module, info: DistInfo, enabled: bool, device: torch.device | None = None
) -> nn.Module:
    """``module`` with synchronised BatchNorm under DDP when ``enabled``: PyTorch's
    SyncBatchNorm on CUDA, :class:`~gan_zoo.training.syncbn.GlooSyncBatchNorm` elsewhere."""
    if info.enabled and enabled:
        return syncbn.convert_sync_batchnorm(module, device or torch.device("cpu"))
    return module


def all_reduce_sum(tensor: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum over ranks in place (a no-op in a single process)."""
    if info.enabled:
        dist.all_reduce(tensor)
    return tensor


def any_rank(flag: bool, device: torch.device, info: DistInfo) -> bool:
    """True when ``flag`` is set on any rank (every rank must call this at the same step)."""
    if not info.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t)
    return bool(t.item() > 0)


def broadcast_text(text: str, info: DistInfo, device: torch.device) -> str:
    """Rank 0's ``text`` on every rank (sent as UTF-8 bytes in a tensor, no pickle)."""
    if not info.enabled:
        return text
    data = torch.tensor(list(text.encode()) if info.is_main else [], dtype=torch.uint8)
    size = torch.tensor([data.numel()], dtype=torch.int64, device=device)
    dist.broadcast(size, src=0)
    buf = torch.zeros(int(size.item()), dtype=torch.uint8, device=device)
    if info.is_main:
        buf.copy_(data)
    dist.broadcast(buf, src=0)
    return bytes(buf.cpu().tolist()).decode()


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()
