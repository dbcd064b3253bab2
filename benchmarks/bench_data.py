"""Benchmark the data path against a training step (not a test: nothing is asserted).

Measures, on this machine's CPU:

* the matmul peak (fp32 GEMM, GFLOP/s), the yardstick for "% of peak";
* loading Fashion-MNIST (gzipped IDX -> uint8 tensors): seconds, resident bytes, RSS growth;
* ``ImageDataset.batches`` at batch 128, 28x28: batches/s and img/s;
* one plain DCGAN training step at batch 128 (G, D and the BCE loss built from the registry,
  Adam 2e-4): seconds, img/s, % of the matmul peak;
* the data path's share of a step (the goal is under 2%);
* ``image-folder``: preprocessing rate, cached reload time and streaming batches/s on a
  generated folder of PNGs;
* the process's peak RSS.

Run: ``.venv/bin/python benchmarks/bench_data.py`` (``--quick`` for a shorter run). The numbers
in docs/datasets.md come from this script.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch
from common import matmul_peak_gflops, peak_rss_mb


def rss_mb() -> float:
    """Current resident set size, from /proc (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bench_batches(dataset, batch_size: int, seconds: float) -> float:
    """Batches per second of ``dataset.batches``, whole epochs, for about ``seconds``."""
    g = torch.Generator().manual_seed(0)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in dataset.batches(batch_size, g):
            count += 1
    return count / (time.perf_counter() - start)


def bench_dcgan_step(batch_size: int, steps: int) -> tuple[float, float]:
    """(median seconds, FLOPs) of one D + G update of the 28x28 DCGAN with the BCE loss."""
    from torch.utils.flop_counter import FlopCounterMode

    from gan_zoo import create_discriminator, create_generator, create_loss

    G = create_generator("dcgan", z_dim=100, image_size=28, channels=1)
    D = create_discriminator("dcgan", image_size=28, channels=1)
    loss = create_loss("bce")
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch_size, 1, 28, 28) * 2 - 1

    def step() -> None:
        # Update D.
        z = torch.randn(batch_size, 100)
        fake = G(z)
        d_loss = loss.d_loss(D(real), D(fake.detach()))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        # Update G.
        g_loss = loss.g_loss(D(fake))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()

    for _ in range(3):
        step()
    with FlopCounterMode(display=False) as counter:
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), float(counter.get_total_flops())


def make_png_folder(root: Path, n: int, size: int = 96) -> None:
    """``n`` noisy RGB PNGs in 4 class folders (noise: PNG can't compress it to nothing)."""
    from PIL import Image

    g = torch.Generator().manual_seed(0)
    for i in range(n):
        folder = root / f"class{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = torch.randint(0, 256, (size, size + 32, 3), dtype=torch.uint8, generator=g)
        Image.fromarray(pixels.numpy()).save(folder / f"{i:05d}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer repeats (a rough number).")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--folder-images", type=int, default=1024)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's).")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seconds, steps = (1.0, 5) if args.quick else (4.0, 20)
    bs = args.batch_size
    rows: list[tuple[str, str]] = []

    from gan_zoo import create_dataset

    peak = matmul_peak_gflops(1024)
    rows.append(
        (
            "torch threads / CPUs / load average",
            f"{torch.get_num_threads()} / {os.cpu_count()} / {os.getloadavg()[0]:.2f}",
        )
    )
    rows.append(("matmul peak (fp32, 1024^3)", f"{peak:.1f} GFLOP/s"))

    # Fashion-MNIST resident in memory.
    before = rss_mb()
    start = time.perf_counter()
    train = create_dataset("fashion-mnist")
    load_s = time.perf_counter() - start
    rows.append(("RSS before loading (python + torch)", f"{before:.0f} MiB"))
    rows.append(("fashion-mnist train load (gzip IDX)", f"{load_s:.2f} s, {len(train)} images"))
    rows.append(("fashion-mnist resident (images + labels)", f"{train.nbytes / 2**20:.1f} MiB"))
    rows.append(("RSS growth from loading it", f"{rss_mb() - before:.1f} MiB"))
    rows.append(("peak RSS after loading it (incl. torch)", f"{peak_rss_mb():.0f} MiB"))

    # The data path against a training step.
    batches_per_s = bench_batches(train, bs, seconds)
    rows.append(
        (
            f"batches/s at batch {bs}, 28x28",
            f"{batches_per_s:,.0f} ({batches_per_s * bs:,.0f} img/s)",
        )
    )
    step_s, flops = bench_dcgan_step(bs, steps)
    rows.append(
        (
            f"dcgan step (D + G update) at batch {bs}",
            f"{step_s * 1e3:.1f} ms ({bs / step_s:,.0f} img/s)",
        )
    )
    rows.append(
        (
            "dcgan step FLOPs / % of matmul peak",
            f"{flops / 1e9:.2f} GFLOP, {100 * flops / step_s / 1e9 / peak:.0f}%",
        )
    )
    share = (1 / batches_per_s) / step_s
    rows.append(("data path share of a step (goal < 2%)", f"{100 * share:.2f}%"))

    # image-folder: preprocess once, then the cache; streaming.
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        root = Path(tmp) / "photos"
        make_png_folder(root, args.folder_images)
        n = args.folder_images
        start = time.perf_counter()
        folder = create_dataset("image-folder", data_dir=str(root), split="all", image_size=64)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        create_dataset("image-folder", data_dir=str(root), split="all", image_size=64)
        warm = time.perf_counter() - start
        rows.append(
            (
                f"image-folder preprocess ({n} PNG 96x128 -> 64 px)",
                f"{cold:.2f} s ({n / cold:,.0f} img/s)",
            )
        )
        rows.append(("image-folder reload from the cache", f"{warm * 1e3:.0f} ms"))
        rows.append(
            (
                "image-folder in-memory batches/s at 64",
                f"{bench_batches(folder, 64, seconds / 2):,.0f}",
            )
        )
        stream = create_dataset(
            "image-folder",
            data_dir=str(root),
            split="all",
            image_size=64,
            max_memory_mb=0,
            workers=2,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            next(stream.batches(64))  # start the workers
            rate = bench_batches(stream, 64, seconds)
        rows.append(("image-folder streaming (2 workers) img/s at 64", f"{rate * 64:,.0f}"))

    rows.append(("peak RSS", f"{peak_rss_mb():.0f} MiB"))
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure':<{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")


if __name__ == "__main__":
    main()
