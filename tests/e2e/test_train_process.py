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
from helpers import ROOT, TINY, needs_fashion_mnist, set_args, write_idx


def _env():
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    env.pop("GAN_ZOO_LOAD_PLUGINS", None)
    return env


def test_sigint_finishes_the_step_writes_a_checkpoint_and_exits_130(idx_dir, tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "gan_zoo",
        "train",
        "dcgan",
        "fashion-mnist",
        "--steps",
        "100000",
        "--log-every",
        "1",
        "--batch-size",
        "16",
        "--data-dir",
        str(idx_dir),
        "--out",
        str(out),
        *set_args(TINY),
    ]
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


def _torchrun(
    nproc: int,
    *args: str,
    timeout: float = 240,
    target: tuple[str, ...] = ("-m", "gan_zoo", "train"),
) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc-per-node N TARGET ARGS`` (``gan-zoo train`` unless a
    script is the ``target``) in a session of its own, with this checkout's gan_zoo; on timeout
    (a hang) the whole session, workers included, is killed and the test fails."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        str(nproc),
        *target,
        *args,
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(_env(), PYTHONPATH=str(ROOT)),
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"torchrun with {nproc} processes hung for {timeout} s: {' '.join(args)}")
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


@pytest.mark.slow
@pytest.mark.parametrize(
    "ddp_batch, batch, steps_per_epoch",
    [("per-process", 32, 4), ("global", 16, 8)],  # 256 images, 128 per rank
)
def test_ddp_gloo_two_processes(idx_dir_256, tmp_path, ddp_batch, batch, steps_per_epoch):
    out = tmp_path / "ddp"
    result = _torchrun(
        2,
        "dcgan",
        "fashion-mnist",
        "--steps",
        "6",
        "--log-every",
        "2",
        "--batch-size",
        "32",
        "--ddp-batch",
        ddp_batch,
        "--data-dir",
        str(idx_dir_256),
        "--out",
        str(out),
        *set_args(TINY),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("Done: 6 steps") == 1  # only rank 0 speaks
    assert result.stdout.count("Training dcgan on fashion-mnist (256 images") == 1
    line = f"DDP: 2 processes x batch {batch} = global batch {2 * batch} ({ddp_batch}; "
    assert result.stdout.count(line) == 1
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4, 6]  # one writer, no duplicates
    assert all(torch.isfinite(torch.tensor([r["loss/d"], r["loss/g"]])).all() for r in records)
    epoch_ends = [f"step-{s:07d}" for s in range(steps_per_epoch, 6, steps_per_epoch)]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "latest",
        *epoch_ends,
        "step-0000006",
    ]
    config = json.loads((out / "config.json").read_text())
    assert (config["batch_size"], config["ddp_batch"], config["device"]) == (32, ddp_batch, "cpu")
    checkpoint = out / "checkpoints" / "step-0000006"
    state = json.loads((checkpoint / "training-state.json").read_text())["state"]
    assert state["steps_per_epoch"] == steps_per_epoch  # an epoch is still one pass over the data
    assert state["images_seen"] == 6 * 2 * batch  # global images
    assert (state["world_size"], state["batch_per_process"]) == (2, batch)
    assert (
        f"- data parallel: 2 processes (DDP) x batch {batch} per process = global batch "
        f"{2 * batch} (--ddp-batch {ddp_batch})" in (checkpoint / "README.md").read_text()
    )


# Counts the DDP wrappers still alive when the process group is destroyed. A wrapper that
# outlives it keeps the gloo group until interpreter shutdown, where its threads can abort the
# process ("terminate called without an active exception", exit -6) once in ~15 runs.
DDP_TEARDOWN = """
import gc, sys
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from gan_zoo import train

destroy, alive = dist.destroy_process_group, []

def counting_destroy(*args, **kwargs):
    alive.append(sum(isinstance(o, DistributedDataParallel) for o in gc.get_objects()))
    destroy(*args, **kwargs)

dist.destroy_process_group = counting_destroy
run = train(
    "dcgan", "fashion-mnist", steps=2, batch_size=16, data_dir=sys.argv[1], out=sys.argv[2],
    device="cpu", progress="quiet", overrides=["generator.width=8", "discriminator.width=8"],
)
print(f"rank {run.rank}: step {run.step}, DDP wrappers alive at destroy: {alive}")
"""


@pytest.mark.slow
def test_ddp_frees_its_wrappers_before_it_destroys_the_process_group(idx_dir_256, tmp_path):
    script = tmp_path / "teardown.py"
    script.write_text(DDP_TEARDOWN)
    run = tmp_path / "run"
    result = _torchrun(2, str(idx_dir_256), str(run), timeout=180, target=(str(script),))
    assert result.returncode == 0, result.stderr[-3000:]
    for rank in (0, 1):
        assert f"rank {rank}: step 2, DDP wrappers alive at destroy: [0]" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("nproc", [2, 3])
def test_ddp_sync_batchnorm_with_ema_and_penalties_runs_and_resumes(idx_dir_256, tmp_path, nproc):
    # G's BatchNorm is synchronised over gloo (the CPU stand-in); wgan-gp's critic has none, so
    # its penalty and R1 are allowed. The EMA generator samples, calibrates its BatchNorm in
    # train mode and is saved on rank 0 alone: with synced layers it would wait forever.
    out = tmp_path / "sync"
    args = [
        "--log-every",
        "1",
        "--batch-size",
        "8",
        "--ema",
        "0.999",
        "--set",
        "regularizer=r1",
        "--sync-batchnorm",
        "--data-dir",
        str(idx_dir_256),
        "--out",
        str(out),
        *set_args(TINY),
    ]
    first = _torchrun(nproc, "wgan-gp", "fashion-mnist", "--steps", "2", *args, timeout=180)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.count("Done: 2 steps") == 1
    resumed = _torchrun(nproc, "--resume", str(out), "--steps", "3", timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stdout.count("Done: 3 steps") == 1
    assert json.loads((out / "config.json").read_text())["sync_batchnorm"] is True
    assert (out / "checkpoints" / "latest").read_text().strip() == "step-0000003"
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]


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
    run = train(
        "dcgan",
        "fashion-mnist",
        epochs=1,
        batch_size=64,
        data_dir=str(folder),
        device="cpu",
        log_every=8,
        ema=0.99,
        out=str(tmp_path / "run"),
        overrides=["generator.width=32", "discriminator.width=32"],
        progress="quiet",
    )
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
    """Each registered recipe (its loss, regularizer, n_critic, size, conditioning) runs in the
    loop."""
    from gan_zoo import train

    run = train(
        model,
        "fashion-mnist",
        steps=1,
        batch_size=8,
        data_dir=str(idx_dir),
        device="cpu",
        channels_last=channels_last,
        progress="quiet",
        out=str(tmp_path / "run"),
    )
    assert run.step == 1 and run.checkpoint is not None
    assert all(torch.isfinite(torch.tensor(v)) for v in run.last_losses.values())


@pytest.mark.slow
def test_compiled_training_in_reduce_overhead_mode(idx_dir, tmp_path):
    """torch.compile of G and D (reduce-overhead: CUDA graphs on CUDA, plain inductor on the CPU)
    trains, resumes and saves plain weights (no ``_orig_mod.`` names)."""
    from safetensors.torch import load_file

    from gan_zoo import train

    options = dict(
        batch_size=16,
        data_dir=str(idx_dir),
        device="cpu",
        progress="quiet",
        compile_mode="reduce-overhead",
        overrides=["generator.width=8", "discriminator.width=8"],
    )
    run = train("dcgan", "fashion-mnist", steps=3, out=str(tmp_path / "run"), **options)
    assert run.config.compile and run.config.compile_mode == "reduce-overhead"
    assert all(torch.isfinite(torch.tensor(v)) for v in run.last_losses.values())
    names = load_file(str(run.checkpoint / "generator.safetensors")).keys()
    assert names and not any("_orig_mod" in n for n in names)
    resumed = train(resume=str(run.dir), steps=4, progress="quiet")
    assert resumed.step == 4 and resumed.config.compile_mode == "reduce-overhead"
