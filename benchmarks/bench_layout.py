"""Which memory layout trains each preset faster here: channels_last or NCHW (nothing asserted).

``gan-zoo train`` picks channels_last for convolutional networks on the CPU (``--channels-last``
auto). This script checks that choice per preset on the machine it runs on: it builds each
preset's generator, discriminator and loss twice, once per layout, and times one training
step of each in turn (D update on a real and a fake batch, then the G update with D frozen,
fused Adam, the preset's batch size and image size). Alternating the two in one process
cancels the drift of a shared machine's speed, which between separate runs is larger than the
difference being measured; the median step counts.

For each preset it prints img/s in both layouts, their ratio, the step's FLOPs as a share of
the machine's fp32 GEMM peak, and the process's peak RSS.

Run: ``.venv/bin/python benchmarks/bench_layout.py [PRESET ...] [--steps 8]`` (default: the
convolutional presets that train at most at 64 px; ``sngan`` and ``dcgan-128`` take minutes).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from common import matmul_peak_gflops, peak_rss_mb

DEFAULT = ("dcgan", "dcgan-leaky", "conv-mlp", "cgan", "wgan-gp")


def build_step(preset_name: str, channels_last: bool):
    """One training step of ``preset_name`` on random data, in the given layout."""
    from gan_zoo import create_discriminator, create_generator, create_loss, get_preset, plugins

    preset = get_preset(preset_name)
    size, batch = preset.image_size or 28, preset.batch_size
    torch.manual_seed(0)
    g_kw = dict(z_dim=preset.z_dim, image_size=size, channels=1, **preset.generator.options)
    d_kw = dict(image_size=size, channels=1, **preset.discriminator.options)
    conditional = plugins.registry("generators").get(preset.generator.name).supports.conditional
    if conditional:
        g_kw["num_classes"] = d_kw["num_classes"] = 10
    G = create_generator(preset.generator.name, **g_kw)
    D = create_discriminator(preset.discriminator.name, **d_kw)
    loss = create_loss(preset.loss.name, **preset.loss.options)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    G, D = G.to(memory_format=fmt), D.to(memory_format=fmt)
    g_opt = torch.optim.Adam(G.parameters(), 2e-4, fused=True)
    d_opt = torch.optim.Adam(D.parameters(), 2e-4, fused=True)
    real = torch.rand(batch, 1, size, size).mul(2).sub(1).contiguous(memory_format=fmt)
    labels = torch.randint(10, (batch,)) if conditional else None

    def step() -> None:
        fake = G(torch.randn(batch, preset.z_dim), labels)
        d_loss = loss.d_loss(D(real, labels), D(fake.detach(), labels))
        penalty = loss.regularizer(D, real, fake.detach(), labels)
        d_opt.zero_grad(set_to_none=True)
        (d_loss if penalty is None else d_loss + penalty).backward()
        d_opt.step()
        D.requires_grad_(False)
        g_loss = loss.g_loss(D(fake, labels))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        D.requires_grad_(True)

    return step, batch, size


def step_flops(step) -> int | None:
    """FLOPs of one step, or None where the counter cannot follow (double backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    try:
        with FlopCounterMode(display=False) as counter:
            step()
    except RuntimeError:  # FlopCounterMode's module hooks and autograd.grad (WGAN-GP, R1)
        return None
    return counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*", default=list(DEFAULT))
    parser.add_argument("--steps", type=int, default=8, help="timed steps per layout")
    args = parser.parse_args()
    peak = matmul_peak_gflops()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"fp32 GEMM peak {peak:.1f} GFLOP/s"
    )
    header = (
        f"{'preset':<12} {'size':>4} {'batch':>5} {'CL img/s':>9} {'NCHW img/s':>10} "
        f"{'CL/NCHW':>8} {'% peak CL':>9} {'RSS MB':>7}"
    )
    print(header)
    print("-" * len(header))
    for name in args.presets:
        steps = {cl: build_step(name, cl) for cl in (True, False)}
        flops = step_flops(steps[True][0])
        for step, _, _ in steps.values():
            step()  # warm-up (oneDNN primitive caches, allocator)
        times: dict[bool, list[float]] = {True: [], False: []}
        for i in range(args.steps):
            for cl in (True, False) if i % 2 else (False, True):
                start = time.perf_counter()
                steps[cl][0]()
                times[cl].append(time.perf_counter() - start)
        median = {cl: statistics.median(t) for cl, t in times.items()}
        _, batch, size = steps[True]
        share = f"{100 * flops / median[True] / 1e9 / peak:.1f}%" if flops else "-"
        print(
            f"{name:<12} {size:>4} {batch:>5} "
            f"{batch / median[True]:>9.0f} {batch / median[False]:>10.0f} "
            f"{median[False] / median[True]:>7.2f}x {share:>9} {peak_rss_mb():>7.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
