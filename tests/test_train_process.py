"""The trainer as a process: Ctrl-C in a subprocess, DDP over 2 gloo processes, and one epoch on
a subset of the real Fashion-MNIST. The last two are ``slow``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import needs_fashion_mnist, write_idx

TINY = ["--set", "generator.width=8", "--set", "discriminator.width=8"]


def _env():
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    env.pop("GAN_ZOO_LOAD_PLUGINS", None)
    return env


def test_sigint_finishes_the_step_writes_a_checkpoint_and_exits_130(idx_dir, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "gan_zoo", "train", "dcgan", "fashion-mnist", "--steps", "100000",
           "--log-every", "1", "--batch-size", "16", "--data-dir", str(idx_dir), "--out", str(out), *TINY]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    try:
        for line in proc.stdout:  # plain lines: stdout is a pipe
            if line.startswith("epoch 1/") and " step 3/" in line:
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    latest = (out / "checkpoints" / "latest").read_text().strip()
    step = int(latest.split("-")[1])
    assert step >= 3
    assert f"Interrupted at step {step}; checkpoint " in stderr
    assert f"Continue with: gan-zoo train --resume {out}" in stderr
    state = json.loads((out / "checkpoints" / latest / "training-state.json").read_text())["state"]
    assert state["step"] == step
    assert not [p for p in (out / "checkpoints").iterdir() if p.name.startswith(".tmp")]


@pytest.mark.slow
def test_ddp_gloo_two_processes(idx_dir, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "gan_zoo", "train", "dcgan", "fashion-mnist", "--steps", "6", "--log-every", "2",
           "--batch-size", "32", "--data-dir", str(idx_dir), "--out", str(out), *TINY]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("Done: 6 steps") == 1  # only rank 0 speaks
    assert result.stdout.count("Training dcgan on fashion-mnist (256 images") == 1
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4, 6]  # one writer, no duplicates
    assert all(torch.isfinite(torch.tensor([r["loss/d"], r["loss/g"]])).all() for r in records)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["latest", "step-0000006"]
    assert json.loads((out / "config.json").read_text())["batch_size"] == 32
    # 256 images over 2 ranks at 16 per rank: 8 steps per epoch.
    state = json.loads((out / "checkpoints" / "step-0000006" / "training-state.json").read_text())[
        "state"
    ]
    assert state["steps_per_epoch"] == 8 and state["images_seen"] == 6 * 32


@pytest.mark.slow
@needs_fashion_mnist
def test_one_epoch_on_a_subset_of_real_fashion_mnist(tmp_path):
    from gan_zoo import create_dataset, train

    real = create_dataset("fashion-mnist")
    n = 2048
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    write_idx(
        folder / "train-images-idx3-ubyte",
        real.images[:n, 0].contiguous().numpy().tobytes(),
        (n, 28, 28),
    )
    write_idx(
        folder / "train-labels-idx1-ubyte", real.labels[:n].to(torch.uint8).numpy().tobytes(), (n,)
    )
    t0 = time.perf_counter()
    run = train("dcgan", "fashion-mnist", epochs=1, batch_size=64, data_dir=str(folder), device="cpu",
                log_every=8, ema=0.99, out=str(tmp_path / "run"), overrides=["generator.width=32", "discriminator.width=32"],
                progress="quiet")  # fmt: skip
    print(f"one epoch of {n} images: {time.perf_counter() - t0:.1f} s")
    assert run.step == 32 and run.epoch == 1
    assert (run.dir / "samples" / "step-0000032.png").exists()
    lines = [json.loads(x) for x in (run.dir / "metrics.jsonl").read_text().splitlines()]
    records = [r for r in lines if "loss/d" in r]
    assert all(torch.isfinite(torch.tensor([r["loss/d"], r["loss/g"]])).all() for r in records)
    assert records[-1]["d/real_acc"] > 0.5  # D has learned something about real clothes
    # The real test split is there, so the default --eval-metric auto scored the checkpoint.
    assert [r["eval/classifier-fd"] for r in lines if "eval/classifier-fd" in r][0] > 0
    samples = run.generator(torch.randn(64, 100), None)
    assert samples.std(dim=0).mean() > 0.05  # not collapsed
    assert Path(run.checkpoint, "README.md").exists()


def _presets():
    from gan_zoo import plugins

    return plugins.registry("models").names()


@pytest.mark.slow
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels-last"])
@pytest.mark.parametrize("model", _presets())
def test_every_preset_trains_one_step(idx_dir, tmp_path, model, channels_last):
    """Each registered recipe (its loss, regularizer, n_critic, size, conditioning) runs in the loop."""
    from gan_zoo import train

    run = train(model, "fashion-mnist", steps=1, batch_size=8, data_dir=str(idx_dir), device="cpu",
                channels_last=channels_last, progress="quiet", out=str(tmp_path / "run"))  # fmt: skip
    assert run.step == 1 and run.checkpoint is not None
    assert all(torch.isfinite(torch.tensor(v)) for v in run.last_losses.values())


@pytest.mark.slow
def test_compiled_training_in_reduce_overhead_mode(idx_dir, tmp_path):
    """torch.compile of G and D (reduce-overhead: CUDA graphs on CUDA, plain inductor on the CPU)
    trains, resumes and saves plain weights (no ``_orig_mod.`` names)."""
    from safetensors.torch import load_file

    from gan_zoo import train

    options = dict(batch_size=16, data_dir=str(idx_dir), device="cpu", progress="quiet",
                   compile_mode="reduce-overhead", overrides=["generator.width=8", "discriminator.width=8"])  # fmt: skip
    run = train("dcgan", "fashion-mnist", steps=3, out=str(tmp_path / "run"), **options)
    assert run.config.compile and run.config.compile_mode == "reduce-overhead"
    assert all(torch.isfinite(torch.tensor(v)) for v in run.last_losses.values())
    names = load_file(str(run.checkpoint / "generator.safetensors")).keys()
    assert names and not any("_orig_mod" in n for n in names)
    resumed = train(resume=str(run.dir), steps=4, progress="quiet")
    assert resumed.step == 4 and resumed.config.compile_mode == "reduce-overhead"
