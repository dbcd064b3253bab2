"""Benchmark the metrics' feature networks (not a test: nothing is asserted).

Measures, on this machine's CPU, with real Fashion-MNIST test images:

* the eager TF-Inception (gan-zoo-fid's default) and the shipped TorchScript module: img/s
  including pre-processing, GFLOP/s (FLOPs counted by ``torch.utils.flop_counter``) and % of
  the measured fp32 matmul peak (``common.matmul_peak_gflops``);
* the Fashion-MNIST classifier behind ``classifier-fd``: img/s over the 10,000 test images;
* with ``--floor N``: the real-data floor, FID / KID / precision / recall / density / coverage
  of N training images against N test images (the standard protocol at N = 10,000), with the
  wall time of each side's feature pass (a side already in the on-disk feature cache, e.g.
  written by ``gan-zoo ref-stats``, is read back instead and takes about a second);
* the CPU model, the load average before and after, and the process's peak RSS.

Run: ``PYTHONPATH=.:plugins/gan-zoo-fid .venv/bin/python benchmarks/bench_features.py``
(``--batches 4 --batch-size 50`` by default; ``--floor 10000`` for the docs' floor numbers,
``--floor 10000 --image-size 128`` for the floor a 128 px run is read against).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time

import torch
from common import matmul_peak_gflops, peak_rss_mb


def cpu_model() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def flops_per_image(net, x: torch.Tensor) -> float:
    """FLOPs of one image; the fused oneDNN op is invisible to the counter, so count unfused."""
    from gan_zoo_fid import inception
    from torch.utils.flop_counter import FlopCounterMode

    inception.Conv.fused = False
    try:
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            net(x[:1])
    finally:
        inception.Conv.fused = inception._has_fused_conv()
    return counter.get_total_flops()


def rate(run, images: torch.Tensor, batch_size: int, batches: int) -> float:
    """Best-of-two img/s of ``run`` over ``batches`` batches (after one warm-up batch)."""
    run(images[:batch_size])
    best = 0.0
    for _ in range(2):
        start = time.perf_counter()
        for i in range(batches):
            run(images[i * batch_size : (i + 1) * batch_size])
        best = max(best, batches * batch_size / (time.perf_counter() - start))
    return best


def note(report: dict, key: str, value) -> None:
    """Record and print one number as soon as it is measured."""
    report[key] = value
    print(f"{key}: {value}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument(
        "--floor", type=int, default=0, help="also measure the real-data floor at N images"
    )
    parser.add_argument(
        "--image-size",
        type=int,
        default=None,
        help="the floor's images resized to this size at load, as the reference of a run "
        "trained at that size is (default: 28, Fashion-MNIST's own)",
    )
    parser.add_argument("--skip-torchscript", action="store_true")
    args = parser.parse_args()

    from gan_zoo_fid import inception

    from gan_zoo.datasets.idx import fashion_mnist
    from gan_zoo.metrics import classifier

    inception.use_all_cores()
    report: dict = {
        "cpu": cpu_model(),
        "threads": torch.get_num_threads(),
        "load_before": load_average(),
    }
    print(
        f"cpu: {report['cpu']}, threads {report['threads']}, load {report['load_before']}",
        flush=True,
    )
    note(report, "matmul_peak_gflops", round(matmul_peak_gflops(), 1))
    test = fashion_mnist(split="test", data_dir=args.data_dir)
    need = args.batch_size * args.batches
    images = test.sample(need, torch.Generator().manual_seed(0))[0]  # (need, 1, 28, 28) in [-1, 1]

    # Inception, eager and TorchScript.
    flops = flops_per_image(inception.load_network(), inception.preprocess(images[:1]))
    note(report, "inception_gflop_per_image", round(flops / 1e9, 2))
    backends = ["eager"] + ([] if args.skip_torchscript else ["torchscript"])
    for backend in backends:
        r = rate(
            lambda x, b=backend: inception.features(x, backend=b),
            images,
            args.batch_size,
            args.batches,
        )
        note(report, f"inception_{backend}_img_s", round(r, 2))
        note(
            report,
            f"inception_{backend}_pct_peak",
            round(100 * r * flops / 1e9 / report["matmul_peak_gflops"], 1),
        )
        note(report, f"inception_{backend}_10k_minutes", round(10000 / r / 60, 1))

    # The real-data floor under the standard protocol (N = 10,000), through the FID metric's
    # own reference path: features come from (and go to) the on-disk cache that `gan-zoo
    # ref-stats` and `evaluate` use, so a cached side costs nothing and is not re-timed.
    if args.floor:
        from gan_zoo_fid.metrics import FID

        from gan_zoo.metrics import stats

        n = args.floor
        size = args.image_size
        train = fashion_mnist(split="train", data_dir=args.data_dir, image_size=size)
        real_test = (
            test
            if size is None
            else fashion_mnist(split="test", data_dir=args.data_dir, image_size=size)
        )  # the 28 px split is already loaded above
        metric = FID(num_samples=n, batch_size=args.batch_size)
        timings, feats = {}, {}
        for name, data in (("test", real_test), ("train", train)):
            start = time.perf_counter()
            feats[name] = metric.real_outputs(data)["features"].double()
            timings[name] = time.perf_counter() - start
            print(f"floor: {name} features of {n} images in {timings[name]:.0f} s", flush=True)
        start = time.perf_counter()
        fid = stats.frechet_distance(feats["test"], feats["train"])
        kid, kid_std = stats.kernel_distance(feats["test"], feats["train"])
        manifold = stats.manifold_metrics(feats["test"], feats["train"])
        report["floor"] = floor = {
            "n": n,
            "image_size": size or 28,
            "fid": round(fid, 3),
            "kid": round(kid, 6),
            "kid_std": round(kid_std, 6),
            **{k: round(v, 4) for k, v in manifold.items()},
            "feature_seconds_test": round(timings["test"], 0),
            "feature_seconds_train": round(timings["train"], 0),
            "scoring_seconds": round(time.perf_counter() - start, 1),
        }
        print(f"floor: {floor}", flush=True)

    # The classifier over the whole test split.
    ext = classifier.ClassifierExtractor("fashion-mnist")
    x = test.images.float() / 127.5 - 1
    ext(x[:500])
    start = time.perf_counter()
    for i in range(0, len(x), 500):
        ext(x[i : i + 500])
    note(report, "classifier_img_s", round(len(x) / (time.perf_counter() - start), 0))

    report["load_after"] = load_average()
    report["peak_rss_mb"] = round(peak_rss_mb(), 0)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
