"""The GPU check: one script for the day a CUDA GPU is at hand (not a test; nothing is assumed).

Every CUDA-only branch of the trainer was written to PyTorch's documentation and proved on the
CPU through stand-ins; this script runs the real thing and says, check by check, whether it
holds. It makes its own small data set (IDX files of random images, no network), runs the
command line as a user would (``python -m gan_zoo train ...`` in subprocesses, the source
checkout on ``PYTHONPATH``) and the training step in-process where it counts compiles:

* ``resume``: a fresh run, the same run stopped by SIGTERM after its first checkpoint and
  resumed, compared tensor by tensor with the uninterrupted one (``--deterministic``);
* ``bf16`` / ``fp16``: a few steps in each precision; fp16 must have a GradScaler state;
* ``ema-wgan-gp``: the wgan-gp preset with a generator EMA and its gradient penalty;
* ``compile``: the step compiled (``reduce-overhead`` on CUDA: CUDA graphs), warmed up, then
  ten steps in which any recompile is counted (dynamo's graph count) with cudagraph skips;
* ``torchrun``: two processes with ``--sync-batchnorm`` and EMA (NCCL on two GPUs; gloo and
  gan-zoo's CPU SyncBatchNorm in the CPU half);
* ``speed``: img/s of the default recipe (``gan-zoo train dcgan``: batch 128, precision and
  layout auto) next to a plain eager loop of the same networks in the same precision.

Without CUDA it runs the CPU half (the same checks on ``cpu``, tiny networks) and says so on one
line. It prints one PASS / FAIL / SKIP line per check, a speed table, and writes JSON
(``--out``, default ``gpu_check.json``; schema in docs/benchmarks.md). Exit code 1 when a check
failed, else 0.

Run it from a source checkout: ``python benchmarks/gpu_check.py`` (``--only resume,speed`` for
some checks). On one H100 the GPU half takes about five minutes; the CPU half two on two cores.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's gan_zoo, installed or not

import torch  # noqa: E402

SCHEMA = "gan-zoo/gpu-check/1"
CHECKS = ("resume", "bf16", "fp16", "ema-wgan-gp", "compile", "torchrun", "speed")


class Report:
    """The checks' outcomes and the speed rows, printed as they come and written as JSON."""

    def __init__(self) -> None:
        self.checks: list[dict[str, Any]] = []
        self.speed: list[dict[str, Any]] = []

    def run(self, name: str, device: str, fn: Callable[[], str | None]) -> None:
        start = time.perf_counter()
        try:
            detail, status = fn() or "", "pass"
        except Skip as skip:
            detail, status = str(skip), "skip"
        except Exception as exc:  # noqa: BLE001 - a failed check is reported, the rest go on
            detail, status = f"{type(exc).__name__}: {exc}", "fail"
            traceback.print_exc(file=sys.stderr)
        seconds = round(time.perf_counter() - start, 1)
        self.checks.append(
            {"name": name, "device": device, "status": status, "seconds": seconds, "detail": detail}
        )
        print(f"{status.upper():4}  {device:5} {name:12} {seconds:7.1f} s  {detail}", flush=True)

    @property
    def ok(self) -> bool:
        return all(c["status"] != "fail" for c in self.checks)


class Skip(Exception):
    """A check that does not apply here (one GPU for torchrun, say)."""


# The data set and the command line.
def make_data(folder: Path, n_train: int, n_test: int = 256) -> Path:
    """Fashion-MNIST-format IDX files of random 28x28 images with 10 labels."""
    from gan_zoo.testing import write_idx

    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        pixels = torch.randint(0, 256, (n, 28, 28), generator=gen, dtype=torch.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", pixels.numpy().tobytes(), (n, 28, 28))
        labels = (torch.arange(n) % 10).to(torch.uint8)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels.numpy().tobytes(), (n,))
    return folder


def env() -> dict[str, str]:
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def train_args(ctx: dict[str, Any], *args: str, resume: bool = False) -> list[str]:
    """``python -m gan_zoo train ARGS`` on the check's data and device, quiet, no evaluation
    (a resume keeps the run's own network options)."""
    tiny = [] if resume else ctx["tiny"]
    return [
        sys.executable,
        "-m",
        "gan_zoo",
        "train",
        *args,
        "--data-dir",
        str(ctx["data"]),
        "--device",
        ctx["device"],
        "--eval-metric",
        "none",
        "--quiet",
        *tiny,
    ]


def run_cli(cmd: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=timeout)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        ours = [line for line in lines if "Error: " in line and "ChildFailed" not in line]
        errors = ours or [line for line in lines if "Error" in line and "ChildFailed" not in line]
        raise RuntimeError(f"exit {result.returncode}: {' | '.join((errors or lines)[-2:])}")
    return result


def latest(run: Path) -> Path:
    return run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()


def tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(path)


def losses_finite(run: Path) -> int:
    """The number of logged records; raises when a loss is not finite."""
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    records = [r for r in records if "loss/d" in r]
    bad = [r["step"] for r in records if not all(map(_finite, (r["loss/d"], r["loss/g"])))]
    if not records or bad:
        raise RuntimeError(f"losses not finite at steps {bad}" if bad else "no losses logged")
    return len(records)


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


# The checks.
def check_resume(ctx: dict[str, Any]) -> str:
    """Uninterrupted vs SIGTERM + resume, same seed: every tensor of G and D equal."""
    steps, every = ctx["resume_steps"], ctx["resume_steps"] // 4
    common = [
        "dcgan",
        "fashion-mnist",
        "--steps",
        str(steps),
        "--checkpoint-every",
        str(every),
        "--batch-size",
        str(ctx["batch"]),
        "--log-every",
        "1",
        "--deterministic",
    ]
    fresh, stopped = ctx["tmp"] / "resume-fresh", ctx["tmp"] / "resume-stopped"
    run_cli(train_args(ctx, *common, "--out", str(fresh)))
    proc = subprocess.Popen(
        train_args(ctx, *common, "--out", str(stopped)),
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not (stopped / "checkpoints" / "latest").exists() and proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("no first checkpoint within 300 s")
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    if proc.returncode == 0:
        raise RuntimeError("the run finished before SIGTERM reached it; raise --resume-steps")
    if "Interrupted at step" not in err:
        raise RuntimeError(f"SIGTERM: exit {proc.returncode}, {err.strip()[-300:]}")
    stopped_at = int(latest(stopped).name.split("-")[1])
    run_cli(train_args(ctx, "--resume", str(stopped), "--steps", str(steps), resume=True))
    for part in ("generator", "discriminator"):
        a = tensors(latest(fresh) / f"{part}.safetensors")
        b = tensors(latest(stopped) / f"{part}.safetensors")
        differ = [k for k in a if not torch.equal(a[k], b[k])]
        if differ or a.keys() != b.keys():
            raise RuntimeError(
                f"{part} differs after resume in {len(differ)} tensors: {differ[:3]}"
            )
    return f"stopped at step {stopped_at} of {steps}, resumed: G and D equal bit for bit"


def check_precision(ctx: dict[str, Any], precision: str) -> str:
    out = ctx["tmp"] / f"precision-{precision}"
    run_cli(
        train_args(
            ctx,
            "dcgan",
            "fashion-mnist",
            "--steps",
            "20",
            "--log-every",
            "5",
            "--batch-size",
            str(ctx["batch"]),
            "--precision",
            precision,
            "--out",
            str(out),
        )
    )
    n = losses_finite(out)
    doc = json.loads((latest(out) / "training-state.json").read_text())
    if precision == "fp16" and not doc.get("scaler"):
        raise RuntimeError("fp16 checkpoint has no GradScaler state")
    scaler = doc.get("scaler") or {}
    scale = (
        f", GradScaler scale {scaler['scale']}"
        if isinstance(scaler.get("scale"), (int, float))
        else ""
    )
    record = json.loads((out / "config.json").read_text())
    return f"{n} finite loss records, precision {record['precision']}{scale}"


def check_ema_wgan_gp(ctx: dict[str, Any]) -> str:
    out = ctx["tmp"] / "ema-wgan-gp"
    run_cli(
        train_args(
            ctx,
            "wgan-gp",
            "fashion-mnist",
            "--steps",
            "10",
            "--log-every",
            "5",
            "--batch-size",
            str(ctx["batch"]),
            "--ema",
            "0.999",
            "--out",
            str(out),
        )
    )
    state = json.loads((latest(out) / "training-state.json").read_text())
    if not state.get("ema"):
        raise RuntimeError("the checkpoint holds no EMA generator")
    return f"{losses_finite(out)} finite loss records; EMA generator saved"


def check_compile(ctx: dict[str, Any]) -> str:
    """Compile the step, warm it up, then count recompiles and cudagraph skips over 10 steps."""
    from torch._dynamo.utils import counters

    from gan_zoo.training import resolve
    from gan_zoo.training.build import build_networks, fit_to_data
    from gan_zoo.training.step import TrainStep

    device = torch.device(ctx["device"])
    mode = "reduce-overhead" if device.type == "cuda" else "default"
    options = {
        "device": str(device),
        "precision": "auto" if device.type == "cuda" else "fp32",
        "compile": True,
        "compile_mode": mode,
    }
    overrides = [o for o in ctx["tiny"] if o != "--set"]
    config = resolve.build_config("dcgan", "fashion-mnist", options, overrides)
    config = resolve_precision_and_layout(config, device)
    config, G, D, loss, reg = build_networks(fit_to_data(config, 28, 1, 10), device)
    step = TrainStep(
        config, G, D, loss, reg, noise=torch.Generator(device).manual_seed(0), device=device
    )
    batches = device_batches(ctx["batch"], device)
    torch._dynamo.reset()
    counters.clear()
    for _ in range(3):
        step(batches)
    graphs, skips = (
        counters["stats"]["unique_graphs"],
        sum(counters["inductor"].get(k, 0) for k in counters["inductor"] if "skip" in k),
    )
    synchronize(device)
    start = time.perf_counter()
    for _ in range(10):
        result = step(batches)
    synchronize(device)
    per_step = (time.perf_counter() - start) / 10
    recompiles = counters["stats"]["unique_graphs"] - graphs
    if recompiles:
        raise RuntimeError(f"{recompiles} recompiles after warm-up ({mode})")
    if not (torch.isfinite(result.d_loss) and torch.isfinite(result.g_loss)):
        raise RuntimeError("losses not finite")
    memory = ""
    if device.type == "cuda":
        memory = f", peak CUDA memory {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB"
    return (
        f"{mode}: {graphs} graphs at warm-up, 0 recompiles after, {skips} cudagraph "
        f"skips, {per_step * 1000:.1f} ms/step{memory}"
    )


def check_torchrun(ctx: dict[str, Any]) -> str:
    device = torch.device(ctx["device"])
    if device.type == "cuda" and torch.cuda.device_count() < 2:
        raise Skip(f"{torch.cuda.device_count()} GPU: torchrun needs 2")
    out = ctx["tmp"] / "torchrun"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        *train_args(
            ctx,
            "dcgan",
            "fashion-mnist",
            "--steps",
            "10",
            "--log-every",
            "5",
            "--batch-size",
            str(ctx["batch"]),
            "--sync-batchnorm",
            "--ema",
            "0.999",
            "--out",
            str(out),
        )[1:],
    ]
    result = run_cli(cmd, timeout=600)
    record = json.loads((out / "config.json").read_text())
    backend = "NCCL" if device.type == "cuda" else "gloo"
    return (
        f"2 processes ({backend}), SyncBatchNorm + EMA: {losses_finite(out)} finite records, "
        f"batch {record['batch_size']} per process; "
        f"{result.stdout.count('Done:')} 'Done' line"
    )


# Speed: the default recipe through gan_zoo.train against a plain eager loop.
def check_speed(ctx: dict[str, Any], report: Report) -> str:
    device = torch.device(ctx["device"])
    warm, measure = ctx["speed_steps"]
    rows = [speed_gan_zoo(ctx, warm, measure), speed_eager(ctx, warm, measure)]
    report.speed.extend(rows)
    ratio = rows[0]["img_per_s"] / rows[1]["img_per_s"]
    return (
        f"gan-zoo {rows[0]['img_per_s']:.0f} img/s, "
        f"eager loop {rows[1]['img_per_s']:.0f} img/s ({ratio:.2f}x) on {device}"
    )


def speed_gan_zoo(ctx: dict[str, Any], warm: int, measure: int) -> dict[str, Any]:
    from gan_zoo.training import resolve
    from gan_zoo.training.loop import run_training
    from gan_zoo.training.reporter import Sink

    device = torch.device(ctx["device"])
    marks: dict[int, float] = {}

    class Timer(Sink):
        def step(self, step: int) -> None:
            if step in (warm, warm + measure):
                synchronize(device)
                marks[step] = time.perf_counter()

    reset_peak(device)
    options = {
        "steps": warm + measure,
        "data_dir": str(ctx["data"]),
        "device": str(device),
        "eval_metric": "none",
        "sample_every": 10**6,
        "checkpoint_every": 10**6,
        "log_every": 10**6,
    }
    config = resolve.build_config("dcgan", "fashion-mnist", options)
    run = run_training(config, run_dir=ctx["tmp"] / "speed", progress="quiet", sinks=[Timer()])
    seconds = marks[warm + measure] - marks[warm]
    return {
        "case": "gan-zoo train dcgan (default recipe)",
        "device": str(device),
        "precision": run.config.precision,
        "channels_last": run.config.channels_last,
        "batch": run.config.batch_size,
        "img_per_s": round(measure * run.config.batch_size / seconds, 1),
        "peak_memory_mb": peak_memory(device),
    }


def speed_eager(ctx: dict[str, Any], warm: int, measure: int) -> dict[str, Any]:
    """The same networks, precision and layout in the plainest loop: BCE with logits, two
    Adams, autocast, a GradScaler only for fp16, data already on the device."""
    from gan_zoo import create_discriminator, create_generator
    from gan_zoo.training.precision import resolve_channels_last, resolve_precision

    device = torch.device(ctx["device"])
    precision = resolve_precision("auto", device)
    torch.manual_seed(0)
    G = create_generator("dcgan", z_dim=100, image_size=28, channels=1).to(device)
    D = create_discriminator("dcgan", image_size=28, channels=1).to(device)
    layout = resolve_channels_last(None, device, precision, G, D)
    fmt = torch.channels_last if layout else torch.contiguous_format
    G, D = G.to(memory_format=fmt), D.to(memory_format=fmt)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    bce, batch = torch.nn.BCEWithLogitsLoss(), 128
    real = (torch.rand(batch, 1, 28, 28, device=device) * 2 - 1).contiguous(memory_format=fmt)
    ones, zeros = torch.ones(batch, device=device), torch.zeros(batch, device=device)

    def step() -> None:
        z = torch.randn(batch, 100, device=device)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            fake = G(z)
            d_loss = bce(D(real).float(), ones) + bce(D(fake.detach()).float(), zeros)
        opt_d.zero_grad(set_to_none=True)
        scaler.scale(d_loss).backward()
        scaler.step(opt_d)
        scaler.update()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            g_loss = bce(D(fake).float(), ones)
        opt_g.zero_grad(set_to_none=True)
        scaler.scale(g_loss).backward()
        scaler.step(opt_g)
        scaler.update()

    reset_peak(device)
    for _ in range(warm):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(measure):
        step()
    synchronize(device)
    seconds = time.perf_counter() - start
    return {
        "case": "plain eager loop, same networks",
        "device": str(device),
        "precision": precision,
        "channels_last": layout,
        "batch": batch,
        "img_per_s": round(measure * batch / seconds, 1),
        "peak_memory_mb": peak_memory(device),
    }


# Device helpers.
def resolve_precision_and_layout(config: Any, device: torch.device) -> Any:
    import dataclasses

    from gan_zoo.training.precision import resolve_precision

    return dataclasses.replace(
        config, precision=resolve_precision(config.precision, device), channels_last=False
    )


def device_batches(batch: int, device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(1)
    while True:
        images = torch.rand(batch, 1, 28, 28, generator=gen) * 2 - 1
        yield images.to(device), torch.randint(10, (batch,), generator=gen).to(device)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: torch.device) -> float:
    """Peak CUDA memory allocated (MiB) on a GPU, peak RSS of this process on the CPU."""
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# Running the halves.
def half(device: str, tmp: Path, report: Report, only: set[str]) -> None:
    cuda = device == "cuda"
    ctx = {
        "device": device,
        "tmp": tmp / device,
        "data": make_data(tmp / device / "fashion-mnist", 4096 if cuda else 1024),
        # The CPU half runs tiny networks; the GPU half the real widths.
        "tiny": [] if cuda else ["--set", "generator.width=8", "--set", "discriminator.width=8"],
        "batch": 64 if cuda else 16,
        "resume_steps": 200 if cuda else 40,
        "speed_steps": (20, 100) if cuda else (3, 10),
    }
    checks: dict[str, Callable[[], str | None]] = {
        "resume": lambda: check_resume(ctx),
        "bf16": lambda: check_precision(ctx, "bf16"),
        "fp16": lambda: check_precision(ctx, "fp16"),
        "ema-wgan-gp": lambda: check_ema_wgan_gp(ctx),
        "compile": lambda: check_compile(ctx),
        "torchrun": lambda: check_torchrun(ctx),
        "speed": lambda: check_speed(ctx, report),
    }
    for name, fn in checks.items():
        if not only or name in only:
            report.run(name, device, fn)


def versions() -> dict[str, Any]:
    import gan_zoo

    commit = (
        subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        or None
    )
    info = {
        "gan_zoo": gan_zoo.__version__,
        "commit": commit,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": sys.version.split()[0],
    }
    if torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        info["capability"] = ".".join(map(str, torch.cuda.get_device_capability(0)))
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="gpu_check.json", help="where to write the JSON report")
    parser.add_argument(
        "--only", default="", help=f"comma-separated checks of: {', '.join(CHECKS)}"
    )
    parser.add_argument(
        "--cpu-half",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run the CPU half when CUDA is there (default: only without CUDA)",
    )
    args = parser.parse_args(argv)
    only = {c.strip() for c in args.only.split(",") if c.strip()}
    if unknown := only - set(CHECKS):
        parser.error(
            f"unknown check(s) {', '.join(sorted(unknown))}; choose from {', '.join(CHECKS)}"
        )
    report, started = Report(), datetime.datetime.now(datetime.timezone.utc)
    meta = versions()
    print(
        f"gan-zoo {meta['gan_zoo']} ({meta['commit']}), torch {meta['torch']}, CUDA {meta['cuda']}"
    )
    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory(prefix="gan-zoo-gpu-check-") as tmp:
        if cuda:
            print(f"GPU: {', '.join(meta['gpus'])} (compute capability {meta['capability']})")
            half("cuda", Path(tmp), report, only)
        else:
            print("no CUDA device (torch.cuda.is_available() is False): running the CPU half only")
        if not cuda or args.cpu_half:
            half("cpu", Path(tmp), report, only)
    print_speed(report.speed)
    doc = {
        "schema": SCHEMA,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(
            (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(), 1
        ),
        "versions": meta,
        "cpu": cpu_info(),
        "cuda_available": cuda,
        "ok": report.ok,
        "checks": report.checks,
        "speed": report.speed,
    }
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
    failed = [c["name"] for c in report.checks if c["status"] == "fail"]
    print(
        f"{'FAIL' if failed else 'PASS'}: {len(report.checks) - len(failed)} of "
        f"{len(report.checks)} checks passed or skipped"
        f"{'; failed: ' + ', '.join(failed) if failed else ''}; "
        f"report in {args.out}"
    )
    return 1 if failed else 0


def print_speed(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    print(
        f"\n{'case':40} {'device':7} {'precision':9} {'layout':6} "
        f"{'batch':>5} {'img/s':>9} {'peak MiB':>9}"
    )
    for r in rows:
        layout = "NHWC" if r["channels_last"] else "NCHW"
        print(
            f"{r['case']:40} {r['device']:7} {r['precision']:9} {layout:6} {r['batch']:>5} "
            f"{r['img_per_s']:>9.1f} {r['peak_memory_mb']:>9.1f}"
        )
    print()


def cpu_info() -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import hardware

    return hardware()


if __name__ == "__main__":
    sys.exit(main())
