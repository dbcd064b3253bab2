"""What every benchmark reports next to its own numbers: the machine's fp32 matmul peak and
the process's peak resident memory."""

from __future__ import annotations

import resource
import time

import torch


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best_seconds(run, repeats: int) -> float:
    for _ in range(3):
        run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_peak_gflops(n: int = 2048, repeats: int = 20) -> float:
    """The machine's fp32 GEMM peak in GFLOP/s: the best n x n x n product this torch build can
    run, over ``repeats`` timed runs (after 3 warm-ups) of each of its two GEMM libraries.

    ``a @ b`` goes to the BLAS (MKL in the official wheels), which on AMD CPUs runs well below
    the hardware's rate; the same product as a 1x1 convolution in NHWC goes to oneDNN, which
    the networks' convolutions use too. The faster of the two is the peak, so that a share of
    it never flatters a convolution-bound loop.
    """
    a, b = torch.randn(n, n), torch.randn(n, n)
    x = a.reshape(1, n, n, 1).contiguous(memory_format=torch.channels_last)  # (1, C=n, H=n, W=1)
    w = b.reshape(n, n, 1, 1)
    blas = _best_seconds(lambda: a @ b, repeats)
    onednn = _best_seconds(lambda: torch.nn.functional.conv2d(x, w), repeats)
    return 2 * n**3 / min(blas, onednn) / 1e9
