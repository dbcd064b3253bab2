"""The numerics of a feature network's run: which device kind and precision, and TF32 off.

Features computed on a GPU differ from a CPU's in the last bits, and cuDNN convolutions use
TF32 by default on Ampere and later GPUs, which changes them more. So the real-feature cache is
keyed by :func:`numerics`, the protocol records it, and :func:`full_fp32` runs the feature
network in IEEE fp32 on CUDA whatever the training run chose.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from ..cuda_backends import set_cuda_backends, tf32_enabled


def numerics(extractor: Any, device: str) -> str:
    """The device kind and precision features are computed in, e.g. ``cpu-float32`` or
    ``cuda-float32-no-tf32``: part of the real-feature cache key and of the protocol."""
    kind = torch.device(device).type
    precision = str(extractor.describe().get("precision", "float32"))
    return f"{kind}-{precision}" + ("-no-tf32" if kind == "cuda" else "")


@contextlib.contextmanager
def full_fp32(device: str) -> Iterator[None]:
    """TF32 off (fp32 matmuls and convolutions in IEEE fp32) on CUDA while features are
    extracted, the run's own setting restored after; nothing to do on other devices."""
    if torch.device(device).type != "cuda":
        yield
        return
    before, benchmark = tf32_enabled(), torch.backends.cudnn.benchmark
    set_cuda_backends(tf32=False, cudnn_benchmark=benchmark)
    try:
        yield
    finally:
        set_cuda_backends(tf32=before, cudnn_benchmark=benchmark)
