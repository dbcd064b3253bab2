"""How much the BatchNorm statistics of an EMA generator matter: one metric, two ways.

    python benchmarks/ema_batchnorm.py CHECKPOINT [--metric classifier-fd] [--n 2000]

CHECKPOINT is a checkpoint (or run) of a training with ``--ema`` and a BatchNorm generator,
written by gan-zoo 0.1 with the re-estimated ("standing") statistics. Its
``generator.safetensors`` holds the averaged weights with statistics re-estimated for them; the
raw generator in ``training-state.safetensors`` holds the live statistics the average used to
be saved with. The script scores the averaged weights with each set of statistics, same latents
and reference, and prints both (lower is better for the distance metrics). No pickle: the
tensors are read with safetensors.
"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--metric", default="classifier-fd")
    parser.add_argument("--n", type=int, default=2000, help="generated images (default 2000)")
    args = parser.parse_args(argv)

    import torch
    from safetensors import safe_open

    import gan_zoo
    from gan_zoo.errors import GanZooError
    from gan_zoo.training.ema import tracking_norms

    try:
        generator = gan_zoo.load(args.checkpoint)
        folder = generator.source if generator.source.is_dir() else generator.source.parent
        state = folder / "training-state.safetensors"
        if not generator.config.get("ema") or not state.is_file():
            raise GanZooError(f"{args.checkpoint} is not a checkpoint of a run with --ema")
        dataset = gan_zoo.open_split(
            generator.config["dataset"],
            "test",
            image_size=generator.image_size,
            channels=generator.channels,
        )
        metric = gan_zoo.create_metric(args.metric, num_samples=args.n, device="cpu")
    except GanZooError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    norms = tracking_norms(generator.net)
    if not norms:
        print(f"Error: the generator of {args.checkpoint} has no BatchNorm layers", file=sys.stderr)
        return 2

    def score(label: str) -> float:
        start = time.perf_counter()
        value = float(metric.compute(generator, dataset, seed=0))
        print(f"{label:<44} {args.metric} {value:8.2f}  ({time.perf_counter() - start:.0f} s)")
        return value

    print(f"{args.checkpoint}: {len(norms)} BatchNorm layers, {args.n} samples")
    saved = score("re-estimated for the average (saved)")
    # Only the live statistics are read from the state file, not its optimizer moments.
    with torch.no_grad(), safe_open(str(state), framework="pt") as raw:
        for name, norm in norms.items():
            for buffer in ("running_mean", "running_var"):
                getattr(norm, buffer).copy_(raw.get_tensor(f"generator_raw/{name}.{buffer}"))
    copied = score("copied from the live generator (before)")
    print(f"difference: {copied - saved:+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
