"""Device and numeric precision: which device, which autocast dtype, and the GradScaler.

Mixed precision the way nanoGPT's ``train.py`` does it, in a few lines: a forward pass runs
under ``torch.autocast`` with the chosen dtype, losses are computed in fp32 (the loss contract),
and a :class:`torch.amp.GradScaler` is enabled only for fp16. ``auto`` picks bf16 on a CUDA GPU
that supports it, fp16 on older CUDA GPUs, bf16 on CPUs with native bf16 instructions (AMX or
AVX512-BF16: there the default DCGAN recipe trained 1.9x faster and reached the same FID as
fp32, see docs/training.md) and fp32 everywhere else; bf16 and fp16 can be forced on the CPU
too (CPU autocast, and a CPU GradScaler for fp16).
"""

from __future__ import annotations

import contextlib
import re

import torch

from ..cuda_backends import set_cuda_backends, tf32_enabled  # noqa: F401 (re-exported)
from ..errors import ConfigError
from .resolve import PRECISIONS

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str, local_rank: int = 0, *, distributed: bool = False) -> torch.device:
    """``auto`` -> ``cuda:<local_rank>`` / ``mps`` / ``cpu``; checks that the device exists.

    Under torchrun (``distributed``) every process takes its own GPU: ``cuda`` and ``cuda:N``
    both mean ``cuda:<local_rank % GPUs>``, so an index recorded by a single-GPU run (its
    ``config.json`` says ``cuda:0``) does not pin every rank of a resumed DDP run to one GPU.
    """
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", name):
        raise ConfigError(f"unknown device '{name}'; use auto, cpu, cuda, cuda:N or mps")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device '{name}' asked for but CUDA is not available; use --device cpu"
            )
        if name == "cuda" or distributed:
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        index = int(name.split(":")[1])
        if index >= torch.cuda.device_count():
            raise ConfigError(
                f"device '{name}' does not exist "
                f"(this machine has {torch.cuda.device_count()} GPUs)"
            )
        return torch.device("cuda", index)
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    ):
        raise ConfigError("device 'mps' asked for but MPS is not available; use --device cpu")
    return torch.device(name)


def resolve_precision(name: str, device: torch.device) -> str:
    """``auto`` -> bf16 / fp16 on CUDA (by what the GPU supports), bf16 on a CPU with native bf16
    instructions, fp32 elsewhere."""
    name = (name or "auto").strip().lower()
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision '{name}'; use one of {', '.join(PRECISIONS)}")
    if name != "auto":
        if device.type == "mps" and name == "bf16":
            raise ConfigError("bf16 autocast is not supported on MPS; use --precision fp16 or fp32")
        return name
    if device.type == "cuda":
        return "bf16" if native_cuda_bf16(device) else "fp16"
    if device.type == "cpu" and native_cpu_support("bf16"):
        return "bf16"
    return "fp32"


def native_cuda_bf16(device: torch.device) -> bool:
    """Whether the GPU has bf16 tensor cores: NVIDIA compute capability 8.0 (Ampere) or later,
    or a ROCm GPU that supports it natively.

    ``torch.cuda.is_bf16_supported()`` alone is not the question: by default it also counts
    emulated bf16 (``including_emulation=True``), which V100s and T4s run far slower than fp16
    with a GradScaler (PyTorch docs, ``torch.cuda.is_bf16_supported``)."""
    if getattr(torch.version, "hip", None):
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    major, _ = torch.cuda.get_device_capability(device)
    return major >= 8


def native_cpu_support(precision: str) -> bool:
    """Whether oneDNN runs ``precision`` ("bf16" / "fp16") on this CPU's own instructions."""
    check = (
        torch.ops.mkldnn._is_mkldnn_bf16_supported
        if precision == "bf16"
        else torch.ops.mkldnn._is_mkldnn_fp16_supported
    )
    return bool(check())


def precision_warning(precision: str, device: torch.device) -> str | None:
    """A warning when a precision is asked for that this device only emulates.

    On a CPU without native bf16 / fp16 instructions (no AVX512-BF16 or AMX) oneDNN emulates
    them, many times slower than fp32 (measured on an AVX2-only AMD EPYC: the default DCGAN
    step at about 4.5 img/s in bf16 against 120-130 img/s in fp32 on the same loaded core). A
    GPU before Ampere (V100, T4) emulates bf16; fp16 with a GradScaler is its fast path.
    ``auto`` never picks an emulated precision."""
    if device.type == "cuda" and precision == "bf16" and not native_cuda_bf16(device):
        name = torch.cuda.get_device_name(device)
        return (
            f"bf16 on {name} (compute capability "
            f"{'.'.join(map(str, torch.cuda.get_device_capability(device)))}, before Ampere) is "
            "emulated and slow; use --precision fp16 (with a GradScaler) or auto"
        )
    if device.type != "cpu" or precision not in ("bf16", "fp16") or native_cpu_support(precision):
        return None
    return (
        f"{precision} on this CPU ({torch.backends.cpu.get_cpu_capability()}, "
        f"no native {precision} instructions) is emulated and runs many times slower than fp32; "
        "use --precision fp32"
    )


def resolve_channels_last(value: bool | None, device: torch.device, precision: str, *nets) -> bool:
    """``None`` (auto) -> channels_last for convolutional networks where it is the faster layout.

    oneDNN's CPU convolutions and cuDNN's tensor-core (bf16/fp16) kernels prefer NHWC; networks
    without convolutions gain nothing, and fp32 CUDA or MPS keep the default layout.
    """
    if value is not None:
        return bool(value)
    has_conv = any(
        isinstance(m, torch.nn.modules.conv._ConvNd) for net in nets for m in net.modules()
    )
    fast = device.type == "cpu" or (device.type == "cuda" and precision in ("bf16", "fp16"))
    return has_conv and fast


class Precision:
    """Autocast for forward passes and one GradScaler (a no-op unless fp16)."""

    def __init__(self, name: str, device: torch.device):
        self.name = name
        self.device = device
        self.dtype = _DTYPES.get(name)
        # One scaler serves both optimizers: each D and G step scales its own loss, steps its own
        # optimizer and calls update(), so an overflow in one player only skips that step.
        self.scaler = torch.amp.GradScaler(device.type, enabled=name == "fp16")

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def backward_and_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Scale, backpropagate, step (skipped on overflow) and update the scale."""
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def __repr__(self) -> str:
        return f"Precision({self.name!r}, device={str(self.device)!r})"
