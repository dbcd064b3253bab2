"""Unit tests of the trainer's parts: EMA, DiffAugment, learning-rate schedule, config resolution,
precision choice and the reporter sinks. No training here (see test_train.py)."""

from __future__ import annotations

import io
import json

import pytest
import torch
from helpers import auto_cpu_precision
from torch import nn

import gan_zoo
from gan_zoo.config import TrainConfig
from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.training import augment, resolve
from gan_zoo.training.ema import EMA
from gan_zoo.training.precision import (
    Precision,
    resolve_channels_last,
    resolve_device,
    resolve_precision,
)
from gan_zoo.training.reporter import JSONLines, PlainLines, Progress, Reporter, truncate_jsonl
from gan_zoo.training.schedule import lr_at


def test_ema_update_is_the_exponential_average():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = EMA(net, decay=0.9)
    start = [p.detach().clone() for p in ema.module.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
        net[1].running_mean.fill_(3.0)
    ema.update(net, images_seen=100)
    for e, s, p in zip(ema.module.parameters(), start, net.parameters(), strict=True):
        torch.testing.assert_close(e, 0.9 * s + 0.1 * p)
        assert not e.requires_grad
    assert torch.equal(ema.module[1].running_mean, net[1].running_mean)  # buffers are copied
    assert not ema.module.training


def test_ema_warmup_ramps_the_decay_from_copy_to_target():
    ema = EMA(nn.Linear(2, 2), decay=0.999, warmup=1000)
    assert ema.beta(0) == 0.0
    assert ema.beta(500) == pytest.approx(0.4995)
    assert ema.beta(5000) == 0.999
    net = nn.Linear(2, 2)
    ema.update(net, images_seen=0)  # beta 0: a plain copy
    assert torch.equal(ema.module.weight, net.weight)


def _pre_norm_statistics(module: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-channel mean and variance of the input to ``module``'s first BatchNorm, in train
    mode on the batch ``z`` (what BatchNorm normalizes with while training)."""
    seen = {}
    norm = next(m for m in module.modules() if isinstance(m, nn.BatchNorm2d))
    hook = norm.register_forward_pre_hook(lambda _, args: seen.setdefault("x", args[0].detach()))
    was = module.training
    module.train()
    with torch.no_grad():
        module(z)
    module.train(was)
    hook.remove()
    x = seen["x"]  # (B, C, H, W)
    return x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3))


def test_ema_batchnorm_statistics_are_re_estimated_for_the_averaged_weights():
    """The live generator's statistics describe the live weights, not the average: averaged()
    re-estimates them for the average's own activations (standing statistics)."""
    from gan_zoo.models.dcgan import DCGANGenerator

    torch.manual_seed(0)
    live = DCGANGenerator(z_dim=16, width=8)
    ema = EMA(live, decay=0.5, calibration_batches=16, batch_size=64, seed=3)
    with torch.no_grad():
        for p in live.parameters():
            p.mul_(3.0).add_(0.05)  # the live weights move far from the average
        live.train()
        for _ in range(20):  # the live statistics follow the live weights
            live(torch.randn(64, 16))
    ema.update(live, images_seen=640)
    norm = next(m for m in ema.module.modules() if isinstance(m, nn.BatchNorm2d))
    copied = norm.running_var.clone()
    mean, var = _pre_norm_statistics(ema.module, torch.randn(4096, 16))
    assert not torch.allclose(copied, var, rtol=0.2)  # the copy is wrong for the average

    rng = torch.get_rng_state()
    sampler = ema.averaged()
    assert sampler is ema.module and not sampler.training and ema.calibrated
    assert torch.equal(torch.get_rng_state(), rng)  # the training's random stream is untouched
    torch.testing.assert_close(norm.running_var, var, rtol=0.1, atol=1e-3)
    torch.testing.assert_close(norm.running_mean, mean, rtol=0.1, atol=0.02)
    assert norm.momentum == 0.1  # the layer's own momentum is back

    calls = []
    ema.module.register_forward_hook(lambda *_: calls.append(1))
    ema.averaged()
    assert not calls  # once per update, not once per use
    ema.update(live, images_seen=1280)
    assert torch.equal(norm.running_var, live.net[1].running_var)  # training copies them again
    ema.averaged()
    assert len(calls) == 16


def test_ema_calibration_is_deterministic_conditional_and_skipped_without_batchnorm():
    from gan_zoo.models.conditional import CDCGANGenerator

    def calibrated(seed: int) -> torch.Tensor:
        torch.manual_seed(0)
        g = CDCGANGenerator(z_dim=8, num_classes=3, width=8)
        ema = EMA(g, decay=0.9, calibration_batches=4, batch_size=16, seed=seed)
        ema.update(g, images_seen=16)
        return torch.cat([b.flatten().float() for b in ema.averaged().buffers()])

    assert torch.equal(calibrated(1), calibrated(1))
    assert not torch.equal(calibrated(1), calibrated(2))
    mlp = nn.Sequential(nn.Linear(2, 2))
    ema = EMA(mlp, decay=0.9)
    ema.update(mlp, images_seen=8)
    assert ema.averaged() is ema.module  # nothing to re-estimate, nothing run


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "translation,cutout,color"])
def test_diffaugment_keeps_shape_is_seeded_and_differentiable(policy):
    x = (torch.rand(4, 3, 16, 16) * 2 - 1).requires_grad_()
    a = augment.DiffAugment(policy, torch.Generator().manual_seed(1))(x)
    b = augment.DiffAugment(policy, torch.Generator().manual_seed(1))(x)
    assert a.shape == x.shape and torch.equal(a, b)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_diffaugment_translation_moves_pixels_and_cutout_zeroes_a_square():
    x = torch.ones(8, 1, 16, 16)
    cut = augment.cutout(x, torch.Generator().manual_seed(0))
    zeros = (cut == 0).flatten(1).sum(1)
    assert (zeros > 0).all() and (zeros <= 64).all()  # at most an 8x8 square
    img = torch.zeros(64, 1, 16, 16)
    img[:, :, 8, 8] = 1.0
    moved = augment.translation(img, torch.Generator().manual_seed(0))
    assert (moved.flatten(1).argmax(1) != img.flatten(1).argmax(1)).any()


def test_unknown_augment_policy_suggests():
    with pytest.raises(ConfigError, match="did you mean 'cutout'"):
        augment.parse_policy("translation,cutuot")
    assert not augment.DiffAugment("")


def test_lr_schedules():
    c = TrainConfig(lr_decay="linear")
    assert lr_at(1.0, 0, 100, c) == 1.0 and lr_at(1.0, 50, 100, c) == 0.5
    c = TrainConfig(lr_decay="step", lr_decay_every=10, lr_decay_gamma=0.5)
    assert lr_at(1.0, 9, 100, c) == 1.0 and lr_at(1.0, 25, 100, c) == 0.25
    assert lr_at(1.0, 99, 100, TrainConfig()) == 1.0


def test_build_config_applies_options_shorthands_and_sets():
    c = resolve.build_config(
        "dcgan",
        "fashion-mnist",
        {"steps": 10, "lr_d": 4e-4, "ema": 0.99, "batch_size": None, "betas": (0.0, 0.9)},
        ["generator.width=32", "d_optim.weight_decay=0.01"],
    )
    assert c.steps == 10 and c.batch_size == 128
    assert c.d_optim.lr == 4e-4 and c.g_optim.lr == 2e-4 and c.g_optim.betas == (0.0, 0.9)
    assert c.generator.options == {"width": 32} and c.d_optim.weight_decay == 0.01
    assert c.ema == 0.99


@pytest.mark.parametrize(
    ("options", "sets", "match"),
    [
        ({"batch_size": 0}, [], "batch size must be at least 1"),
        ({"ema": 1.5}, [], "ema decay"),
        ({"lr_decay": "step"}, [], "lr_decay_every"),
        ({}, ["genrator.width=3"], "did you mean 'generator'"),
        ({}, ["width"], "--set takes key=value"),
        ({"loss": "bcee"}, [], "unknown loss 'bcee'; did you mean 'bce'"),
        ({"compile_mode": "reduce-overhed"}, [], "did you mean 'reduce-overhead'"),
    ],
)
def test_build_config_rejects_bad_input_in_one_line(options, sets, match):
    with pytest.raises(GanZooError, match=match) as info:
        resolve.build_config("dcgan", "fashion-mnist", options, sets)
    assert "\n" not in str(info.value)


def test_compile_mode_implies_compile_unless_compile_is_turned_off():
    c = resolve.build_config("dcgan", "fashion-mnist", {"compile_mode": "reduce-overhead"})
    assert c.compile and c.compile_mode == "reduce-overhead"
    c = resolve.build_config(
        "dcgan", "fashion-mnist", {"compile_mode": "max-autotune", "compile": False}
    )
    assert not c.compile
    assert not resolve.build_config("dcgan", "fashion-mnist").compile


def test_channels_last_auto_picks_the_faster_layout():
    conv, mlp = nn.Conv2d(1, 4, 3), nn.Sequential(nn.Flatten(), nn.Linear(4, 4))
    cpu, cuda, mps = torch.device("cpu"), torch.device("cuda", 0), torch.device("mps")
    assert resolve_channels_last(None, cpu, "fp32", mlp, conv)  # oneDNN prefers NHWC
    assert not resolve_channels_last(None, cpu, "fp32", mlp, mlp)  # nothing to gain
    assert resolve_channels_last(None, cuda, "bf16", conv) and resolve_channels_last(
        None, cuda, "fp16", conv
    )
    assert not resolve_channels_last(None, cuda, "fp32", conv)
    assert not resolve_channels_last(None, mps, "fp16", conv)
    assert resolve_channels_last(True, mps, "fp32", mlp) and not resolve_channels_last(
        False, cpu, "fp32", conv
    )


def test_unknown_model_and_dataset_suggest():
    with pytest.raises(GanZooError, match="did you mean 'dcgan'"):
        resolve.build_config("dcgn", "fashion-mnist")
    with pytest.raises(GanZooError, match="did you mean 'fashion-mnist'"):
        resolve.build_config("dcgan", "fashion-mnst")


def test_precision_resolution_on_cpu():
    cpu = resolve_device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    assert resolve_precision("auto", cpu) == auto_cpu_precision()
    assert resolve_precision("bf16", cpu) == "bf16"
    assert Precision("fp16", cpu).scaler.is_enabled()
    assert not Precision("bf16", cpu).scaler.is_enabled()
    with Precision("bf16", cpu).autocast():
        y = nn.Linear(4, 4)(torch.randn(2, 4))
    assert y.dtype == torch.bfloat16
    with pytest.raises(ConfigError, match="unknown device 'gpu'"):
        resolve_device("gpu")
    with pytest.raises(ConfigError, match="unknown precision"):
        resolve_precision("fp8", cpu)


def test_reporter_plain_lines_and_jsonl(tmp_path):
    stream = io.StringIO()
    reporter = Reporter([PlainLines(stream), JSONLines(tmp_path / "metrics.jsonl")])
    reporter.start(Progress(total_steps=20, steps_per_epoch=10), "Training x")
    reporter.step(5)
    reporter.report(10, 1, {"loss/d": 1.25, "loss/g": 0.5, "lr": 2e-4, "img/s": 1000.0})
    reporter.warn("health: something")
    reporter.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "Training x"
    assert lines[1].startswith("epoch 1/2  step 10/20  loss/d 1.250  loss/g 0.500  1,000 img/s")
    assert lines[2] == "Warning: health: something"
    record = json.loads((tmp_path / "metrics.jsonl").read_text())
    assert record["step"] == 10 and record["loss/d"] == 1.25 and "time" in record
    assert reporter.warnings == ["health: something"]


def test_truncate_jsonl_drops_steps_after_a_checkpoint(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": s}) + "\n" for s in (5, 10, 15)) + '{"step": 2')
    truncate_jsonl(path, 10)
    assert [json.loads(x)["step"] for x in path.read_text().splitlines()] == [5, 10]


def test_rich_progress_shows_epoch_step_losses_and_rate():
    from rich.console import Console

    from gan_zoo.training.reporter import RichProgress

    out = io.StringIO()
    sink = RichProgress(Console(file=out, force_terminal=True, width=120))
    reporter = Reporter([sink])
    reporter.start(Progress(total_steps=20, steps_per_epoch=10), "Training x")
    reporter.step(12)
    reporter.report(
        12,
        2,
        {"loss/d": 1.25, "loss/g": 0.5, "d/real_acc": 0.75, "d/fake_acc": 0.5, "img/s": 1234.0},
    )
    reporter.warn("health: something")
    reporter.close()
    text = out.getvalue()
    for expected in (
        "Training x",
        "epoch 2/2",
        "12/20",
        "loss d 1.250 g 0.500",
        "acc 0.75/0.50",
        "1,234 img/s",
        "Warning: health: something",
    ):
        assert expected in text


def test_step_stats_window_means_and_health_warnings():
    from gan_zoo.training import distributed as ddp
    from gan_zoo.training.step_stats import STUCK_WINDOWS, StepStats

    stats = StepStats(
        torch.device("cpu"), ddp.DistInfo(), images_per_step=16, log_every=10, probabilities=True
    )
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([-3.0, 1.0])  # (B,) logits
    stats.add(torch.tensor(1.0), torch.tensor(2.0), real, fake)
    stats.add(torch.tensor(3.0), torch.tensor(4.0), real, fake)
    assert stats.steps == 2 and stats.nonfinite() == []
    values = stats.flush()
    assert values["loss/d"] == pytest.approx(2.0) and values["loss/g"] == pytest.approx(3.0)
    assert values["d/real"] == pytest.approx(float(real.sigmoid().mean()))
    assert values["d/real_acc"] == 0.5 and values["d/fake_acc"] == 0.5 and values["img/s"] > 0
    assert stats.steps == 0 and stats.last_losses == {"loss/d": 2.0, "loss/g": 3.0}
    stats.add(torch.tensor(float("nan")), torch.tensor(0.0), real, fake)
    assert stats.nonfinite() == ["loss/d"]

    perfect = {"d/real_acc": 1.0, "d/fake_acc": 1.0}
    warnings = [stats.d_stuck(perfect) for _ in range(STUCK_WINDOWS + 2)]
    assert warnings[: STUCK_WINDOWS - 1] == [None] * (STUCK_WINDOWS - 1)
    assert "perfectly" in warnings[STUCK_WINDOWS - 1] and "30 steps" in warnings[STUCK_WINDOWS - 1]
    assert warnings[STUCK_WINDOWS:] == [None, None]  # once
    same = torch.zeros(8, 1, 4, 4)
    assert stats.collapsed(torch.randn(8, 1, 4, 4), step=5) is None
    assert "nearly identical" in stats.collapsed(same, step=5)
    assert stats.collapsed(same, step=6) is None


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_on_a_cpu_is_bf16_only_with_native_bf16(monkeypatch, native):
    from gan_zoo.training import precision

    monkeypatch.setattr(precision, "native_cpu_support", lambda name: native and name == "bf16")
    assert precision.resolve_precision("auto", resolve_device("cpu")) == (
        "bf16" if native else "fp32"
    )
    assert precision.resolve_precision("fp32", resolve_device("cpu")) == "fp32"  # asked for: kept


@pytest.mark.parametrize("native", [True, False])
def test_emulated_cpu_precisions_are_warned_about(monkeypatch, native):
    from gan_zoo.training import precision

    monkeypatch.setattr(precision, "native_cpu_support", lambda name: native)
    cpu = resolve_device("cpu")
    assert precision.precision_warning("fp32", cpu) is None
    for name in ("bf16", "fp16"):
        warning = precision.precision_warning(name, cpu)
        if native:
            assert warning is None
        else:
            assert warning.startswith(f"{name} on this CPU (") and warning.endswith(
                "use --precision fp32"
            )
    assert precision.precision_warning("bf16", torch.device("meta")) is None  # not a CPU


def test_a_cpu_run_in_emulated_bf16_says_so(idx_dir, tmp_path, monkeypatch):
    from gan_zoo.training import precision

    monkeypatch.setattr(precision, "native_cpu_support", lambda name: False)
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        data_dir=str(idx_dir),
        steps=1,
        batch_size=8,
        precision="bf16",
        out=str(tmp_path / "r"),
        progress="quiet",
        overrides=["generator.width=8", "discriminator.width=8"],
    )
    assert any(w.startswith("bf16 on this CPU") for w in run.warnings)
