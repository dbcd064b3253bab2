"""Process-wide CUDA backend switches: cuDNN's autotuner, TF32 and deterministic kernels.

A foundation module (it imports only torch) because both the trainer
(:mod:`gan_zoo.training.precision`) and the feature networks of the metrics
(:mod:`gan_zoo.metrics.numerics`) set them.
"""

from __future__ import annotations

import os

import torch


def set_cuda_backends(tf32: bool, cudnn_benchmark: bool, deterministic: bool = False) -> None:
    """Set cuDNN's autotuner and the TF32 policy for fp32 matmuls and convolutions, explicitly.

    PyTorch's own defaults differ between the two (TF32 off for matmuls, on for cuDNN
    convolutions: "TensorFloat-32 (TF32) on Ampere (and later) devices" in the CUDA semantics
    notes), so a run sets both and records them in ``config.json``. Where torch has the
    ``fp32_precision`` API (2.9+) it is used ("tf32" / "ieee"); older releases get the
    ``allow_tf32`` flags. ``cudnn.benchmark`` picks the fastest convolution algorithm per input
    shape, which pays off because a run's shapes are fixed (full batches only). Harmless
    without CUDA: the flags are process-wide settings that only CUDA kernels read.

    ``deterministic`` follows PyTorch's "Reproducibility" notes: deterministic algorithms
    everywhere, cuDNN deterministic and its autotuner off (it may pick other kernels in another
    process), and ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` for cuBLAS (read when its first handle is
    made, so it is set before the first CUDA matmul unless the user set it)."""
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True
        cudnn_benchmark = False
    torch.backends.cudnn.benchmark = bool(cudnn_benchmark)
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        value = "tf32" if tf32 else "ieee"
        torch.backends.cuda.matmul.fp32_precision = value
        conv.fp32_precision = value
    else:  # pragma: no cover - torch < 2.9
        torch.backends.cuda.matmul.allow_tf32 = bool(tf32)
        torch.backends.cudnn.allow_tf32 = bool(tf32)


def tf32_enabled() -> bool:
    """Whether fp32 convolutions on CUDA may use TF32 now (what a protocol records)."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        return conv.fp32_precision == "tf32"
    return bool(torch.backends.cudnn.allow_tf32)  # pragma: no cover - torch < 2.9
