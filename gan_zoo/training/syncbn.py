"""Synchronised BatchNorm under DDP: PyTorch's on CUDA, a small stand-in over gloo on the CPU.

With ``--sync-batchnorm`` a BatchNorm layer in training mode normalises with the statistics of
the *global* batch (all ranks) instead of its own rank's. PyTorch's :class:`nn.SyncBatchNorm`
runs only on GPUs (it refuses CPU tensors), so on the CPU :class:`GlooSyncBatchNorm` does the
same in plain tensor operations, as detectron2's ``NaiveSyncBatchNorm`` does: one all-reduce of
the per-channel count, sum and sum of squares (differentiable, so gradients flow through the
global statistics), then normalisation with the global mean and biased variance; the running
statistics take the unbiased variance.
In eval mode, or outside a process group, it is plain BatchNorm. It has BatchNorm's parameters,
buffers and ``state_dict`` keys, so checkpoints are interchangeable with unsynchronised runs.

A synchronised layer must run on every rank at once: its all-reduce waits for all of them. What
runs on rank 0 alone (the EMA generator's sampling, BatchNorm calibration, evaluation, saving)
uses :func:`revert_sync_batchnorm`, a copy with plain, local BatchNorm layers (as mmcv's helper
of the same name does).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

#: Where a converted layer keeps the class it replaced (for :func:`revert_sync_batchnorm`).
_LOCAL_CLASS = "_gan_zoo_local_class"


class _AllReduceSum(torch.autograd.Function):
    """The sum over ranks, differentiable: the gradient of each rank's input is the sum of the
    gradients of every rank's output (what ``torch.distributed.nn.functional.all_reduce``
    does; that helper is deprecated in recent PyTorch)."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        total = grad.contiguous().clone()
        dist.all_reduce(total)
        return total


class _BatchNormXd(_BatchNorm):
    """BatchNorm of any input rank (N, C, ...): the local layer a reverted sync layer becomes
    when the class it replaced is unknown (mmcv's ``_BatchNormXd``)."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected an input of at least 2 dimensions, got {input.dim()}")


class GlooSyncBatchNorm(_BatchNormXd):
    """BatchNorm over the global batch of all ranks in training mode, on any device the process
    group's backend can all-reduce (the CPU with gloo); plain BatchNorm otherwise."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(input)
        syncing = self.training and dist.is_available() and dist.is_initialized()
        if not syncing or dist.get_world_size() == 1:
            return super().forward(input)
        # Per-channel count, sum and sum of squares of this rank, in fp32 (autocast or not).
        dims = [0, *range(2, input.dim())]
        x = input.float()  # (N, C, ...)
        count = torch.full((1,), x.numel() / x.shape[1], device=x.device)  # (1,)
        local = torch.cat([count, x.sum(dims), x.square().sum(dims)])  # (1 + 2C,)
        total = _AllReduceSum.apply(local)  # summed over ranks, differentiable
        n, channels = total[0], x.shape[1]
        mean = total[1 : 1 + channels] / n  # (C,)
        var = (total[1 + channels :] / n - mean.square()).clamp_min(0.0)  # (C,) biased
        if self.track_running_stats and self.running_mean is not None:
            self._update_running_stats(mean.detach(), var.detach(), n.item())
        shape = (1, channels) + (1,) * (input.dim() - 2)
        scale = torch.rsqrt(var + self.eps)  # (C,)
        if self.affine:
            scale = scale * self.weight.float()
        out = (x - mean.view(shape)) * scale.view(shape)  # (N, C, ...)
        if self.affine:
            out = out + self.bias.float().view(shape)
        return out.to(input.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, n: float) -> None:
        """As BatchNorm does: momentum, or the cumulative average when momentum is None."""
        self.num_batches_tracked.add_(1)
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        unbiased = var * (n / max(n - 1.0, 1.0))
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), factor)


def is_sync(module: nn.Module) -> bool:
    return isinstance(module, (nn.SyncBatchNorm, GlooSyncBatchNorm))


def has_batchnorm(module: nn.Module) -> bool:
    """Whether ``module`` holds a BatchNorm layer (synchronised or not)."""
    return any(isinstance(m, _BatchNorm) for m in module.modules())


def convert_sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` with every BatchNorm layer synchronised: PyTorch's ``SyncBatchNorm`` for
    ``device`` CUDA, :class:`GlooSyncBatchNorm` elsewhere; each new layer remembers the class
    it replaced."""
    classes = {name: type(m) for name, m in module.named_modules() if isinstance(m, _BatchNorm)}
    if device.type == "cuda":
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
    else:
        module = _replace(module, _to_gloo)
    for name, m in module.named_modules():
        if name in classes and is_sync(m):
            setattr(m, _LOCAL_CLASS, classes[name])
    return module


def revert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every synchronised BatchNorm layer replaced by the plain, local layer it
    came from (same parameters, buffers and ``state_dict`` keys); changed in place, returned."""
    return _replace(module, lambda m: _local(m) if is_sync(m) else None)


def _to_gloo(m: nn.Module) -> nn.Module | None:
    if not isinstance(m, _BatchNorm) or is_sync(m):
        return None
    return _copy_norm(m, GlooSyncBatchNorm)


def _local(m: nn.Module) -> nn.Module:
    cls = getattr(m, _LOCAL_CLASS, None)
    synced = cls is None or issubclass(cls, (nn.SyncBatchNorm, GlooSyncBatchNorm))
    return _copy_norm(m, _BatchNormXd if synced else cls)


def _copy_norm(m: _BatchNorm, cls: type[_BatchNorm]) -> _BatchNorm:
    """A ``cls`` layer holding ``m``'s parameters and buffers (the same tensors)."""
    new = cls(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats)
    if m.affine:
        new.weight, new.bias = m.weight, m.bias
    if m.track_running_stats:
        new.running_mean, new.running_var = m.running_mean, m.running_var
        new.num_batches_tracked = m.num_batches_tracked
    new.train(m.training)
    if hasattr(m, "qconfig"):
        new.qconfig = m.qconfig
    return new


def _replace(module: nn.Module, swap) -> nn.Module:
    """``module`` with each submodule ``m`` for which ``swap(m)`` is not None replaced by it."""
    new = swap(module)
    if new is not None:
        return new
    for name, child in module.named_children():
        module._modules[name] = _replace(child, swap)
    return module
