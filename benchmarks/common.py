"""What every benchmark reports next to its own numbers: the machine's fp32 matmul peak, the
process's peak resident memory and the CPU it ran on."""

from __future__ import annotations

import os
import resource
import subprocess
import time

import torch


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: The CPU flags that decide the speed of fp32 and bf16 convolutions.
SPEED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def hardware() -> dict:
    """The CPU as ``lscpu`` names it: ``{"cpu", "flags", "cpus"}``, ``flags`` the subset of
    :data:`SPEED_FLAGS` it has and ``cpus`` its logical CPUs (``/proc/cpuinfo`` without lscpu)."""
    fields: dict[str, str] = {}
    try:
        out = subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=True, env={**os.environ, "LC_ALL": "C"}
        ).stdout
        fields = {
            k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())
        }
    except (OSError, subprocess.CalledProcessError):
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    key = {"model name": "Model name", "flags": "Flags"}.get(key.strip())
                    if key:
                        fields.setdefault(key, value.strip())
        except OSError:
            pass
    flags = set(fields.get("Flags", "").split())
    return {
        "cpu": fields.get("Model name", "unknown"),
        "flags": [f for f in SPEED_FLAGS if f in flags],
        "cpus": int(fields.get("CPU(s)", "0") or 0) or os.cpu_count(),
    }


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
