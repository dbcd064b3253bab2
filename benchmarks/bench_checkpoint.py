"""Benchmark checkpoints and sampling (not a test: nothing is asserted).

Measures, on this machine's CPU, for the default DCGAN (width 64, Fashion-MNIST size):

* the matmul peak (fp32 GEMM, GFLOP/s), the yardstick for "% of peak";
* ``save_checkpoint`` (all files, fsynced, atomic rename, card): seconds and MB/s;
* ``load_training_state`` (resume) and ``gan_zoo.load`` (sampling): seconds;
* ``LoadedGenerator.sample`` at batch 256: img/s and % of the matmul peak (forward FLOPs
  counted with ``torch.utils.flop_counter``);
* ``gan-zoo info`` on the checkpoint (headers only): seconds;
* the process's peak RSS.

Run: ``.venv/bin/python benchmarks/bench_checkpoint.py`` (``--quick`` for fewer repeats). The
numbers in the lead's report come from this script.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import matmul_peak_gflops, peak_rss_mb


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5

    from gan_zoo.card import describe

    import gan_zoo
    from gan_zoo import checkpoint
    from gan_zoo.config import TrainConfig

    peak = matmul_peak_gflops(1024)
    print(f"matmul peak (fp32, 1024^3): {peak:.1f} GFLOP/s, {torch.get_num_threads()} threads")

    # Set up networks that have taken a real step.
    config = TrainConfig.from_preset("dcgan", "fashion-mnist", gan_zoo.get_preset("dcgan"))
    config.image_size, config.channels = 28, 1
    g = gan_zoo.create_generator("dcgan", z_dim=100, image_size=28, channels=1)
    d = gan_zoo.create_discriminator("dcgan", image_size=28, channels=1)
    g_opt, d_opt = torch.optim.Adam(g.parameters(), 2e-4), torch.optim.Adam(d.parameters(), 2e-4)
    loss = gan_zoo.create_loss("bce")
    z, real = torch.randn(64, 100), torch.rand(64, 1, 28, 28) * 2 - 1
    d_opt.zero_grad()
    loss.d_loss(d(real), d(g(z).detach())).backward()
    d_opt.step()
    g_opt.zero_grad()
    loss.g_loss(d(g(z))).backward()
    g_opt.step()
    n_params = sum(p.numel() for p in g.parameters()) + sum(p.numel() for p in d.parameters())
    print(f"networks: dcgan G+D, {n_params / 1e6:.2f} M parameters")

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        state = {
            "step": 0,
            "epoch": 0,
            "images_seen": 0,
            "elapsed_seconds": 0.0,
            "hardware": "cpu",
            "last_losses": {},
        }
        times = []
        for step in range(1, repeats + 1):
            state["step"] = step
            times.append(
                _timed(
                    lambda: checkpoint.save_checkpoint(
                        run,
                        checkpoint.TrainingState(
                            g,
                            d,
                            g_opt,
                            d_opt,
                            progress=dict(state),
                            rng={"torch": torch.get_rng_state()},
                            samples=torch.zeros(1, 242, 242, dtype=torch.uint8),
                        ),
                        config,
                        keep=2,
                    )
                )
            )
        ckpt = checkpoint.resolve_checkpoint(run)
        size = sum(p.stat().st_size for p in ckpt.iterdir())
        save = statistics.median(times)
        print(
            f"save_checkpoint: {save * 1000:.0f} ms median of {repeats}, "
            f"{size / 1e6:.1f} MB, {size / 1e6 / save:.0f} MB/s"
        )

        resume = statistics.median(
            _timed(
                lambda: checkpoint.load_training_state(
                    run, generator=g, discriminator=d, g_optimizer=g_opt, d_optimizer=d_opt
                )
            )
            for _ in range(repeats)
        )
        print(f"load_training_state: {resume * 1000:.0f} ms")
        load = statistics.median(_timed(lambda: gan_zoo.load(run)) for _ in range(repeats))
        print(f"gan_zoo.load: {load * 1000:.0f} ms")
        info = statistics.median(_timed(lambda: describe(run)) for _ in range(repeats))
        print(f"describe (gan-zoo info): {info * 1000:.1f} ms")

        # Sample.
        sampler = gan_zoo.load(run)
        batch = 256
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter, torch.no_grad():
            sampler(torch.randn(batch, 100))
        flops = counter.get_total_flops()
        sampler.sample(batch, seed=0)  # warm up
        n = batch * (4 if args.quick else 16)
        seconds = _timed(lambda: sampler.sample(n, seed=0, batch_size=batch))
        rate = n / seconds
        print(
            f"sample (batch {batch}): {rate:.0f} img/s, {flops / batch / 1e6:.1f} MFLOP/img, "
            f"{flops / batch * rate / 1e9 / peak * 100:.0f}% of matmul peak"
        )
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
