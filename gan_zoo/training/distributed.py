"""Data-parallel training with ``torch.distributed`` under ``torchrun``.

``torchrun --nproc-per-node 2 -m gan_zoo train ...`` starts one process per device and sets
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; without those variables training is one plain
process. As in stylegan2-ada-pytorch: the global batch is split evenly over the ranks, each rank
draws its own noise (per-rank seeds) and reads its own shard of the data, gradients are averaged
by DDP, and only rank 0 writes files or prints. Backend: NCCL on CUDA, gloo on the CPU.
"""

from __future__ import annotations

import datetime
import inspect
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ..errors import ConfigError


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


def init() -> DistInfo:
    """Join the process group when launched by torchrun with more than one process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistInfo()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local_rank % torch.cuda.device_count())
        dist.init_process_group(backend, timeout=datetime.timedelta(minutes=30))
    return DistInfo(rank, world_size, local_rank, local_world_size)


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def per_rank_batch(batch_size: int, info: DistInfo) -> int:
    """The global batch split over the ranks; it must divide evenly."""
    if batch_size % info.world_size:
        raise ConfigError(
            f"batch size {batch_size} does not split evenly over {info.world_size} processes; "
            f"use a multiple of {info.world_size}"
        )
    return batch_size // info.world_size


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


def convert_sync_batchnorm(module: nn.Module, info: DistInfo, enabled: bool) -> nn.Module:
    if info.enabled and enabled:
        if not torch.cuda.is_available():
            raise ConfigError(
                "--sync-batchnorm needs CUDA GPUs (PyTorch's SyncBatchNorm does not run on the CPU)"
            )
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
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
