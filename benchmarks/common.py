"""What every benchmark reports next to its own numbers: the machine's fp32 matmul peak and
the process's peak resident memory."""

from __future__ import annotations

import resource
import time

import torch


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_peak_gflops(n: int = 2048, repeats: int = 20) -> float:
    """Best fp32 n x n GEMM rate in GFLOP/s over ``repeats`` timed runs (after 3 warm-ups)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9
