"""End-to-end tests of the trainer on tiny networks and the small ``idx_dir`` dataset.

Each run is a few steps of a width-8 DCGAN on 256 random 28x28 images (16 steps per epoch at
batch 16), so the whole file takes well under a minute on two CPU cores.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import signal

import pytest
import torch
from click.testing import CliRunner
from helpers import TINY, auto_cpu_precision
from safetensors.torch import load_file

import gan_zoo
from gan_zoo.checkpoint.record import portable_config
from gan_zoo.cli import build_cli
from gan_zoo.config import TrainConfig, to_dict
from gan_zoo.errors import GanZooError
from gan_zoo.hookspecs import hookimpl
from gan_zoo.losses.bce import BCELoss
from gan_zoo.training import loop, resolve
from gan_zoo.training.reporter import Sink

#: The fields the trainer decides before the loop (build.build).
RESOLVED = (
    "device",
    "precision",
    "image_size",
    "channels",
    "conditional",
    "num_classes",
    "channels_last",
    "eval_metric",
)


def tiny(idx_dir, tmp_path, name="run", **options):
    """Keyword arguments of gan_zoo.train for a tiny, quiet CPU run."""
    base = dict(
        data_dir=str(idx_dir), batch_size=16, device="cpu", log_every=2, out=str(tmp_path / name)
    )
    base.update(options)
    return base


def weights(path):
    return load_file(str(path))


def test_train_writes_the_run_directory(idx_dir_256, tmp_path):
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir_256, tmp_path, steps=20),
    )
    assert run.step == 20 and run.epoch == 2 and not run.interrupted
    assert run.images_seen == 20 * 16
    assert run.dir == tmp_path / "run"
    record = json.loads((run.dir / "config.json").read_text())
    assert (
        record["steps"] == 20
        and record["precision"] == auto_cpu_precision()
        and record["device"] == "cpu"
    )
    assert record["image_size"] == 28 and record["channels"] == 1 and record["gan_zoo_version"]
    assert record["plugins"]["generator"].startswith("gan-zoo ")
    lines = [json.loads(x) for x in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(2, 21, 2))
    for key in (
        "loss/d",
        "loss/g",
        "d/real",
        "d/fake",
        "d/real_acc",
        "d/fake_acc",
        "lr",
        "img/s",
        "epoch",
    ):
        assert key in lines[-1]
    assert all(0 <= r["d/real"] <= 1 for r in lines)  # probabilities for the bce loss
    # Samples every epoch (16 steps) and at the end; checkpoint at the epoch end and the end.
    assert sorted(p.name for p in (run.dir / "samples").iterdir()) == [
        "step-0000016.png",
        "step-0000020.png",
    ]
    assert (run.dir / "checkpoints" / "latest").read_text().strip() == "step-0000020"
    assert run.checkpoint == run.dir / "checkpoints" / "step-0000020"
    state = json.loads((run.checkpoint / "training-state.json").read_text())["state"]
    assert state["step"] == 20 and state["step_in_epoch"] == 4 and state["last_losses"]
    assert (run.dir / "losses.png").stat().st_size > 0 and (
        run.dir / "accuracy.png"
    ).stat().st_size > 0
    assert torch.equal(
        run.generator.net[0].weight.cpu(),
        weights(run.checkpoint / "generator.safetensors")["net.0.weight"],
    )


def test_tensorboard_sink_writes_events(idx_dir, tmp_path):
    pytest.importorskip("tensorboard")
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        tensorboard=True,
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, steps=2),
    )
    assert list((run.dir / "tensorboard").glob("events.out.tfevents.*"))


def test_same_seed_same_weights_bit_for_bit(idx_dir, tmp_path):
    a = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, "a", steps=5),
    )
    b = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, "b", steps=5),
    )
    c = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, "c", steps=5, seed=1),
    )
    wa, wb, wc = (weights(r.checkpoint / "generator.safetensors") for r in (a, b, c))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


class SignalAt(Sink):
    """Send this process a signal when the loop reaches a step (as Ctrl-C would)."""

    def __init__(self, step, signum=signal.SIGINT):
        self.at, self.signum = step, signum

    def step(self, step):
        if step == self.at:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize(
    ("signum", "channels_last"),
    [(signal.SIGINT, None), (signal.SIGTERM, False)],
    ids=["sigint-auto-layout", "sigterm-nchw"],
)
def test_interrupted_and_resumed_run_is_bit_identical(idx_dir, tmp_path, signum, channels_last):
    """Stop mid-epoch 1 with EMA, DiffAugment, n_critic 2 and linear decay; resume; compare.

    The auto layout on the CPU is channels_last: the Adam moments read back from safetensors
    must get their parameter's layout again, or fused Adam pairs the wrong elements.
    """
    sigint_before = signal.getsignal(signal.SIGINT)  # SIG_IGN under nohup / a background job
    options = dict(
        channels_last=channels_last,
        steps=12,
        n_critic=2,
        ema=0.9,
        ema_warmup=64,
        augment="translation,cutout,color",
        lr_decay="linear",
    )
    full = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, "full", **options),
    )

    config = resolve.build_config(
        "dcgan", "fashion-mnist", tiny(idx_dir, tmp_path, "cut", **options), TINY
    )
    cut = loop.run_training(
        config, run_dir=tmp_path / "cut", progress="quiet", sinks=[SignalAt(5, signum)]
    )
    assert cut.interrupted and cut.step == 5
    assert (tmp_path / "cut" / "checkpoints" / "latest").read_text().strip() == "step-0000005"
    assert signal.getsignal(signal.SIGINT) is sigint_before  # handlers restored

    resumed = gan_zoo.train(resume=str(tmp_path / "cut"), progress="quiet")
    assert resumed.step == 12 and not resumed.interrupted and resumed.dir == tmp_path / "cut"
    for name in (
        "generator.safetensors",
        "discriminator.safetensors",
        "training-state.safetensors",
    ):
        w_full, w_res = weights(full.checkpoint / name), weights(resumed.checkpoint / name)
        assert w_full.keys() == w_res.keys()
        for key in w_full:
            assert torch.equal(w_full[key], w_res[key]), f"{name}:{key}"
    steps = [
        json.loads(x)["step"] for x in (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()
    ]
    assert steps == [2, 4, 6, 8, 10, 12]  # the log continues, without duplicates


class LazyPenaltyBCE(BCELoss):
    """BCE with an R1 penalty on every 3rd D step, counted in the loss (lazy R1's pattern)."""

    def __init__(self):
        self.calls = 0

    def regularizer(self, discriminator, real, fake, labels=None):
        from gan_zoo.losses.base import input_gradients

        due, self.calls = self.calls % 3 == 0, self.calls + 1
        if not due:
            return None
        return 3.0 * input_gradients(discriminator, real, labels).square().sum() / real.shape[0]

    def training_state(self):
        return {"calls": self.calls}

    def load_training_state(self, state):
        self.calls = state["calls"]


class BadStateBCE(BCELoss):
    def training_state(self):
        return {"calls": torch.tensor(1)}  # not JSON


class StatefulLossPlugin:
    @hookimpl
    def register_losses(self, register):
        register("lazy-bce", LazyPenaltyBCE, description="BCE + R1 every 3rd D step.")
        register("bad-state-bce", BadStateBCE, description="BCE with a tensor state.")


def test_a_loss_state_is_saved_and_given_back_so_resume_stays_exact(
    idx_dir, tmp_path, register_plugin
):
    """Without its count a resumed lazy penalty fires on other steps; with it the weights match."""
    register_plugin(StatefulLossPlugin(), "stateful", "stateful-losses", "1.0")
    options = dict(loss="lazy-bce", steps=7, precision="fp32")
    full = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, "full", **options),
    )
    doc = json.loads((full.checkpoint / "training-state.json").read_text())
    assert doc["state"]["loss_state"] == {"loss": {"calls": 7}}

    config = resolve.build_config(
        "dcgan", "fashion-mnist", tiny(idx_dir, tmp_path, "cut", **options), TINY
    )
    cut = loop.run_training(
        config, run_dir=tmp_path / "cut", progress="quiet", sinks=[SignalAt(4, signal.SIGTERM)]
    )
    assert cut.step == 4  # calls 0..3 done: the next penalty is due at call 6, not at 0
    resumed = gan_zoo.train(resume=str(tmp_path / "cut"), progress="quiet")
    for name in ("generator.safetensors", "discriminator.safetensors"):
        w_full, w_res = weights(full.checkpoint / name), weights(resumed.checkpoint / name)
        assert all(torch.equal(w_full[k], w_res[k]) for k in w_full), name

    # A state that is not JSON is one line naming the loss and its plugin.
    with pytest.raises(
        GanZooError,
        match=r"loss 'bad-state-bce' \(stateful-losses 1.0\) breaks the plugin contract: "
        r"training_state\(\) must return a JSON object",
    ):
        gan_zoo.train(
            "dcgan",
            "fashion-mnist",
            loss="bad-state-bce",
            overrides=TINY,
            progress="quiet",
            **tiny(idx_dir, tmp_path, "bad", steps=2),
        )

    # A checkpoint whose loss state was tampered with is refused before anything is read.
    state_file = resumed.checkpoint / "training-state.json"
    doc = json.loads(state_file.read_text())
    doc["state"]["loss_state"] = {"loss": [1, 2]}
    state_file.write_text(json.dumps(doc))
    with pytest.raises(GanZooError, match="state.loss_state"):
        gan_zoo.train(resume=str(resumed.checkpoint), steps=9, progress="quiet")


def test_resume_extends_a_finished_run_and_refuses_trajectory_changes(idx_dir, tmp_path):
    gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, steps=3),
    )
    run = gan_zoo.train(resume=str(tmp_path / "run"), steps=5, progress="quiet")
    assert run.step == 5
    with pytest.raises(GanZooError, match="has already trained its 5 steps; pass a larger --steps"):
        gan_zoo.train(resume=str(tmp_path / "run"), progress="quiet")
    with pytest.raises(GanZooError, match="cannot change batch_size when resuming"):
        gan_zoo.train(resume=str(tmp_path / "run"), batch_size=32, progress="quiet")
    with pytest.raises(GanZooError, match="trains model 'dcgan', not 'other'"):
        gan_zoo.train("other", resume=str(tmp_path / "run"), progress="quiet")


class CountingBCE(BCELoss):
    calls = {"d": 0, "g": 0}

    def d_loss(self, real_logits, fake_logits):
        CountingBCE.calls["d"] += 1
        return super().d_loss(real_logits, fake_logits)

    def g_loss(self, fake_logits):
        CountingBCE.calls["g"] += 1
        return super().g_loss(fake_logits)


class SyncingBCE(BCELoss):
    """BCE that reads a value back every G step, as a careless loss would."""

    def g_loss(self, fake_logits):
        if float(fake_logits.detach().mean()) > 1e9:  # a host sync
            raise AssertionError
        return super().g_loss(fake_logits)


class ScoreBCE(BCELoss):
    """BCE whose logits the trainer is told are plain scores."""

    logits_are_log_odds = False


class CountingPlugin:
    @hookimpl
    def register_losses(self, register):
        register("counting-bce", CountingBCE, description="BCE that counts its calls.")
        register("score-bce", ScoreBCE, description="BCE reported as raw scores.")
        register("syncing-bce", SyncingBCE, description="BCE that syncs every step.")


def test_n_critic_counts_d_updates_per_g_update(idx_dir_256, tmp_path, register_plugin):
    register_plugin(CountingPlugin(), "counting")
    CountingBCE.calls.update(d=0, g=0)
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        loss="counting-bce",
        n_critic=3,
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir_256, tmp_path, steps=4),
    )
    # 12 D and 4 G updates, plus one call each by the contract check before training starts.
    assert CountingBCE.calls == {"d": 12 + 1, "g": 4 + 1}
    assert run.images_seen == 4 * 3 * 16
    # One epoch of 16 batches holds 5 steps of 3 D batches each.
    assert (
        json.loads((run.checkpoint / "training-state.json").read_text())["state"]["steps_per_epoch"]
        == 5
    )


def test_a_loss_declares_whether_d_real_is_a_probability(idx_dir, tmp_path, register_plugin):
    register_plugin(CountingPlugin(), "counting")

    def logged(loss):
        run = gan_zoo.train(
            "dcgan",
            "fashion-mnist",
            loss=loss,
            overrides=TINY,
            progress="quiet",
            **tiny(idx_dir, tmp_path, loss, steps=4),
        )
        return [json.loads(x) for x in (run.dir / "metrics.jsonl").read_text().splitlines()]

    probabilities, scores = logged("counting-bce"), logged("score-bce")
    assert [r["loss/d"] for r in probabilities] == [r["loss/d"] for r in scores]  # same run
    for p, s in zip(probabilities, scores, strict=True):
        assert 0 < p["d/real"] < 1 and p["d/real"] != s["d/real"]


def test_channels_last_is_the_cpu_default_for_conv_nets_and_recorded(idx_dir, tmp_path):
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, steps=1),
    )
    assert run.config.channels_last is True
    assert json.loads((run.dir / "config.json").read_text())["channels_last"] is True
    run = gan_zoo.train(
        "gan", "fashion-mnist", progress="quiet", **tiny(idx_dir, tmp_path, "mlp", steps=1)
    )
    assert run.config.channels_last is False  # an MLP GAN has no convolutions


class _SyncProbe(Sink):
    """Counts the tensor ops that make the host wait for the device (``.item()``, ``bool(t)``,
    ``nonzero``), keyed by the last finished step; arms itself when the loop starts."""

    SYNC_OPS = ("_local_scalar_dense", "is_nonzero", "nonzero", "equal", "allclose")

    def __init__(self):
        from torch.utils._python_dispatch import TorchDispatchMode

        probe = self
        self.armed, self.last, self.calls = False, 0, []

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                if probe.armed and func.__name__.split(".")[0] in probe.SYNC_OPS:
                    probe.calls.append((probe.last, func.__name__))
                return func(*args, **(kwargs or {}))

        self.mode = Mode()

    def start(self, progress, title):
        self.armed = True

    def step(self, step):
        self.last = step


@pytest.mark.parametrize(
    ("model", "options"),
    [
        ("dcgan", {}),
        ("dcgan", {"ema": 0.99, "augment": "translation,cutout,color", "n_critic": 2}),
        ("dcgan", {"precision": "bf16"}),
        ("dcgan", {"precision": "fp16"}),
        ("wgan-gp", {}),
        ("cgan", {}),
    ],
    ids=["dcgan", "ema-augment-ncritic", "bf16", "fp16-gradscaler", "wgan-gp", "cgan"],
)
def test_a_training_step_never_waits_for_the_host(idx_dir_256, tmp_path, model, options):
    """What lets CUDA graphs capture a step, checked on the CPU: between two log steps no op
    reads a tensor's value back to Python (statistics stay on the device until log_every)."""
    probe = _SyncProbe()
    overrides = TINY if model == "dcgan" else []
    config = resolve.build_config(
        model,
        "fashion-mnist",
        tiny(
            idx_dir_256,
            tmp_path,
            steps=8,
            log_every=4,
            sample_every=100,
            checkpoint_every=100,
            **options,
        ),
        overrides,
    )
    with probe.mode:
        loop.run_training(config, progress="quiet", sinks=[probe])
    # Steps 2-4 and 6-8 run after steps 1-3 and 5-7: only the logs after 4 and 8 (and the final
    # checkpoint after 8) may read values.
    assert all(last in (4, 8) for last, _ in probe.calls), probe.calls


def test_the_host_sync_probe_sees_a_sync_in_the_step(idx_dir, tmp_path, register_plugin):
    register_plugin(CountingPlugin(), "counting")
    probe = _SyncProbe()
    config = resolve.build_config(
        "dcgan", "fashion-mnist", tiny(idx_dir, tmp_path, steps=3, loss="syncing-bce"), TINY
    )
    with probe.mode:
        loop.run_training(config, progress="quiet", sinks=[probe])
    assert [last for last, name in probe.calls if "local_scalar" in name] == [0, 1, 2]


def test_channels_last_trains_and_saves_plain_weights(idx_dir, tmp_path):
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        channels_last=True,
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, steps=2),
    )
    assert run.generator.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    g = weights(run.checkpoint / "generator.safetensors")
    assert all(torch.isfinite(t).all() for t in g.values() if t.is_floating_point())


def test_after_d_step_hook_runs_after_each_d_update(idx_dir, tmp_path):
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        loss="wgan",
        overrides=[*TINY, "loss.clip=0.005"],
        progress="quiet",
        **tiny(idx_dir, tmp_path, steps=2),
    )
    assert all(p.abs().max() <= 0.005 for p in run.discriminator.parameters())


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_on_cpu(idx_dir, tmp_path, precision):
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        precision=precision,
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, steps=2),
    )
    assert run.config.precision == precision
    assert all(torch.isfinite(torch.tensor(v)) for v in run.last_losses.values())
    doc = json.loads((run.checkpoint / "training-state.json").read_text())
    assert (doc["scaler"] is not None) == (precision == "fp16")
    g = weights(run.checkpoint / "generator.safetensors")
    assert all(t.dtype == torch.float32 for t in g.values() if t.is_floating_point())


class NaNLoss(BCELoss):
    """Fine for the contract check and 4 generator steps, NaN from the 5th step on."""

    calls = 0

    def g_loss(self, fake_logits):
        NaNLoss.calls += 1
        return super().g_loss(fake_logits) * (float("nan") if NaNLoss.calls > 1 + 4 else 1.0)


class ConstantGenerator(torch.nn.Module):
    """Ignores z: every sample is the same image (a collapsed generator)."""

    def __init__(self, z_dim=100, image_size=28, channels=1):
        super().__init__()
        self.z_dim, self.image_size, self.channels, self.num_classes = (
            z_dim,
            image_size,
            channels,
            0,
        )
        self.image = torch.nn.Parameter(torch.zeros(1, channels, image_size, image_size))

    def forward(self, z, labels=None):
        return torch.tanh(self.image).expand(z.shape[0], -1, -1, -1) + 0 * z.sum()


class BrokenPlugin:
    @hookimpl
    def register_losses(self, register):
        register("nan-loss", NaNLoss, description="Becomes NaN.")

    @hookimpl
    def register_generators(self, register):
        register("constant", ConstantGenerator, description="Collapsed.", image_sizes=(28,))


def test_nan_loss_stops_with_one_line_and_keeps_the_last_good_checkpoint(
    idx_dir_256, tmp_path, register_plugin
):
    register_plugin(BrokenPlugin(), "broken")
    NaNLoss.calls = 0
    runner = CliRunner()
    args = [
        "train",
        "dcgan",
        "fashion-mnist",
        "--loss",
        "nan-loss",
        "--steps",
        "40",
        "--checkpoint-every",
        "2",
        "--log-every",
        "4",
        "--quiet",
        *sum((["--set", s] for s in TINY), []),
    ]
    args += ["--data-dir", str(idx_dir_256), "--batch-size", "16", "--out", str(tmp_path / "run")]
    result = runner.invoke(build_cli(), args)
    assert result.exit_code == 2
    assert (
        "Error: loss/d and loss/g of loss 'nan-loss' (test 0) became NaN or Inf by step 6; "
        "training "
        "stopped and the last good checkpoint is" in result.output
    )
    assert len(result.output.strip().splitlines()) == 1
    assert (tmp_path / "run" / "checkpoints" / "latest").read_text().strip() == "step-0000004"


def test_collapsed_generator_gets_a_health_warning(idx_dir_256, tmp_path, register_plugin):
    register_plugin(BrokenPlugin(), "broken")
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        generator="constant",
        overrides=["discriminator.width=8"],
        progress="quiet",
        **tiny(idx_dir_256, tmp_path, steps=16),
    )
    assert [w for w in run.warnings if "at step 16 the samples are nearly identical" in w]


class VarianceDiscriminator(torch.nn.Module):
    """Tells noisy real images from flat fakes perfectly: logit = scale * (variance - 0.1)."""

    def __init__(self, image_size=28, channels=1):
        super().__init__()
        self.image_size, self.channels, self.num_classes = image_size, channels, 0
        self.scale = torch.nn.Parameter(torch.tensor(100.0))

    def forward(self, x, labels=None):
        return self.scale * (x.flatten(1).var(dim=1) - 0.1)


def write_noise_fashion_mnist(folder):
    """A Fashion-MNIST-format folder of uniform noise (256 train, 64 test): every real image's
    variance is far above a flat fake's."""
    import random

    from gan_zoo.testing import write_idx

    rng = random.Random(0)
    folder.mkdir(parents=True)
    for prefix, n in (("train", 256), ("t10k", 64)):
        pixels = bytes(rng.randrange(256) for _ in range(n * 28 * 28))
        write_idx(folder / f"{prefix}-images-idx3-ubyte", pixels, (n, 28, 28))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", bytes(i % 10 for i in range(n)), (n,))
    return folder


class PerfectDPlugin:
    @hookimpl
    def register_discriminators(self, register):
        register("variance", VarianceDiscriminator, description="Perfect on noise.")


def test_perfect_discriminator_gets_a_health_warning(tmp_path, register_plugin):
    noise = write_noise_fashion_mnist(tmp_path / "noise")  # real images of high variance
    register_plugin(BrokenPlugin(), "broken")
    register_plugin(PerfectDPlugin(), "perfect")
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        generator="constant",
        discriminator="variance",
        progress="quiet",
        **tiny(noise, tmp_path, steps=4, log_every=1),
    )
    stuck = [w for w in run.warnings if "D has told real from fake perfectly" in w]
    assert len(stuck) == 1  # warned once
    records = [json.loads(x) for x in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert all(r["d/real_acc"] == 1.0 and r["d/fake_acc"] == 1.0 for r in records)


class CondGenerator(torch.nn.Module):
    def __init__(self, z_dim=100, image_size=28, channels=1, num_classes=0):
        super().__init__()
        self.z_dim, self.image_size, self.channels, self.num_classes = (
            z_dim,
            image_size,
            channels,
            num_classes,
        )
        self.embed = torch.nn.Embedding(num_classes, z_dim)
        self.fc = torch.nn.Linear(z_dim, channels * image_size * image_size)

    def forward(self, z, labels=None):
        h = self.fc(z * self.embed(labels))
        return torch.tanh(h).view(-1, self.channels, self.image_size, self.image_size)


class CondDiscriminator(torch.nn.Module):
    def __init__(self, image_size=28, channels=1, num_classes=0):
        super().__init__()
        self.image_size, self.channels, self.num_classes = image_size, channels, num_classes
        self.fc = torch.nn.Linear(channels * image_size * image_size, num_classes)

    def forward(self, x, labels=None):
        return self.fc(x.flatten(1)).gather(1, labels[:, None]).squeeze(1)


class CondPlugin:
    @hookimpl
    def register_generators(self, register):
        register("cond-mlp", CondGenerator, description="Conditional.", conditional=True)

    @hookimpl
    def register_discriminators(self, register):
        register("cond-mlp", CondDiscriminator, description="Conditional.", conditional=True)


def test_conditional_models_get_num_classes_and_labelled_samples(
    idx_dir, tmp_path, register_plugin
):
    register_plugin(CondPlugin(), "cond")
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        generator="cond-mlp",
        discriminator="cond-mlp",
        progress="quiet",
        **tiny(idx_dir, tmp_path, steps=3),
    )
    assert run.config.conditional and run.config.num_classes == 10
    assert run.generator.num_classes == 10
    from PIL import Image

    grid = Image.open(run.dir / "samples" / "step-0000003.png")
    assert grid.height == 10 * 30 + 2  # one row of 28 px (+2 padding) per class
    assert grid.width > 8 * 30 + 2  # plus the margin with the class names


def test_unsupported_image_size_is_one_line(idx_dir, tmp_path, register_plugin):
    class Only64:
        @hookimpl
        def register_generators(self, register):
            register("only64", ConstantGenerator, description="64 px.", image_sizes=(64,))

    register_plugin(Only64(), "only64")
    with pytest.raises(
        GanZooError,
        match=r"generator 'only64' supports 64 px but dataset 'fashion-mnist' gives 28 px",
    ):
        gan_zoo.train(
            "dcgan",
            "fashion-mnist",
            generator="only64",
            progress="quiet",
            **tiny(idx_dir, tmp_path, steps=1),
        )


def test_out_dir_with_a_run_refuses_to_overwrite(idx_dir, tmp_path):
    gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, steps=1),
    )
    with pytest.raises(GanZooError, match="already holds a run; continue it with --resume"):
        gan_zoo.train(
            "dcgan",
            "fashion-mnist",
            overrides=TINY,
            progress="quiet",
            **tiny(idx_dir, tmp_path, steps=1),
        )


def test_cli_plain_log_mode_when_not_a_terminal(idx_dir_256, tmp_path):
    args = [
        "train",
        "dcgan",
        "fashion-mnist",
        "--steps",
        "4",
        "--log-every",
        "2",
        "--data-dir",
        str(idx_dir_256),
        "--batch-size",
        "16",
        "--out",
        str(tmp_path / "run"),
        *sum((["--set", s] for s in TINY), []),
    ]
    result = CliRunner().invoke(build_cli(), args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(
        "Training dcgan on fashion-mnist (256 images, 28 px): 4 steps of batch 16"
    )
    assert lines[1].startswith("epoch 1/1  step 2/4  loss/d ")
    assert " img/s  lr 2.00e-04  eta " in lines[2]
    assert lines[-1].startswith("Done: 4 steps, checkpoint ")
    quiet = CliRunner().invoke(
        build_cli(), [*args[:-6], "--out", str(tmp_path / "q"), "--quiet", *args[-4:]]
    )
    assert quiet.exit_code == 0 and quiet.output == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "dcgn", "fashion-mnist"], "Error: unknown model 'dcgn'; did you mean 'dcgan'"),
        (
            ["train", "dcgan", "fashion-mnst"],
            "Error: unknown dataset 'fashion-mnst'; did you mean 'fashion-mnist'",
        ),
        (["train", "dcgan"], "Error: name a MODEL and a DATASET"),
        (
            ["train", "dcgan", "fashion-mnist", "--set", "generator.widht=8", "--steps", "1"],
            "has no option 'widht'",
        ),
        (
            ["train", "dcgan", "fashion-mnist", "--augment", "flip"],
            "Error: unknown augment policy 'flip'",
        ),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(idx_dir_256, tmp_path, args, message):
    result = CliRunner().invoke(
        build_cli(), [*args, "--data-dir", str(idx_dir_256), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_recipe_channels_reach_the_dataset(tmp_path):
    """A grayscale recipe on a folder of RGB photos trains on 1 channel; fixed data refuses."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(20):
        Image.fromarray((rng.random((40, 36, 3)) * 255).astype("uint8")).save(tmp_path / f"{i}.png")
    common = dict(data_dir=str(tmp_path), batch_size=8, device="cpu", steps=2, image_size=28)
    run = gan_zoo.train(
        "dcgan",
        "image-folder",
        overrides=TINY,
        progress="quiet",
        channels=1,
        out=str(tmp_path / "gray"),
        **common,
    )
    record = json.loads((run.dir / "config.json").read_text())
    assert (record["channels"], record["image_size"]) == (1, 28)
    assert run.generator(torch.randn(2, 100)).shape == (2, 1, 28, 28)
    with pytest.raises(
        GanZooError, match="written for 3-channel images but dataset 'fashion-mnist' gives 1"
    ):
        gan_zoo.train(
            "dcgan",
            "fashion-mnist",
            overrides=TINY,
            progress="quiet",
            channels=3,
            **{**common, "out": str(tmp_path / "rgb"), "data_dir": None},
        )


def test_dataset_options_reach_the_dataset(tmp_path):
    """--set dataset_options.* goes to the dataset factory: image-folder's split and
    test_fraction."""
    import numpy as np
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(20):
        Image.fromarray((rng.random((30, 30)) * 255).astype("uint8")).save(photos / f"{i}.png")
    common = dict(
        data_dir=str(photos),
        batch_size=2,
        device="cpu",
        steps=1,
        image_size=28,
        channels=1,
        progress="quiet",
        overrides=TINY,
    )

    def steps_per_epoch(name, **options):
        run = gan_zoo.train("dcgan", "image-folder", out=str(tmp_path / name), **common, **options)
        assert json.loads((run.dir / "config.json").read_text())["dataset_options"] == options.get(
            "dataset_options", {}
        )
        state = json.loads((run.checkpoint / "training-state.json").read_text())["state"]
        return state["steps_per_epoch"]

    assert steps_per_epoch("default") == 9  # 18 of 20 images: 10% held out for the test split
    assert steps_per_epoch("all", dataset_options={"split": "all"}) == 10
    assert steps_per_epoch("half", dataset_options={"test_fraction": 0.5}) == 5


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "dataset_options.test_fractoin=0.2",
            "has no option 'test_fractoin'; did you mean 'test_fraction'",
        ),
        (
            "dataset_options.image_size=32",
            "dataset option 'image_size' is a run setting; use --image-size",
        ),
    ],
)
def test_bad_dataset_options_are_one_line(idx_dir, tmp_path, setting, message):
    result = CliRunner().invoke(
        build_cli(),
        [
            "train",
            "dcgan",
            "image-folder",
            "--data-dir",
            str(idx_dir),
            "--steps",
            "1",
            "--set",
            setting,
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_license_reaches_the_model_card_and_bad_ids_are_one_line(idx_dir, tmp_path):
    import yaml

    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        license="cc-by-4.0",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, steps=1),
    )
    card = (run.checkpoint / "README.md").read_text()
    assert yaml.safe_load(card.split("---")[1])["license"] == "cc-by-4.0"
    with pytest.raises(GanZooError, match="license must be a lowercase Hub identifier"):
        gan_zoo.train(
            "dcgan",
            "fashion-mnist",
            license="CC BY 4.0",
            progress="quiet",
            **tiny(idx_dir, tmp_path, "bad", steps=1),
        )


@dataclasses.dataclass
class SealedConfig(TrainConfig):
    """A TrainConfig that refuses any assignment once built (``dataclasses.replace`` builds
    anew)."""

    def __post_init__(self):
        object.__setattr__(self, "_sealed", True)

    def __setattr__(self, name, value):
        if getattr(self, "_sealed", False):
            raise AttributeError(f"config.{name} assigned after the config was built")
        super().__setattr__(name, value)


def test_the_config_is_resolved_once_and_the_loop_never_writes_to_it(idx_dir, tmp_path):
    options = tiny(idx_dir, tmp_path, steps=3, ema=0.9, augment="translation")
    plain = resolve.build_config("dcgan", "fashion-mnist", options, TINY)
    config = SealedConfig(**{f.name: getattr(plain, f.name) for f in dataclasses.fields(plain)})
    before = copy.deepcopy(config)
    run = loop.run_training(config, run_dir=tmp_path / "run", progress="quiet")
    assert config == before and config.precision == "auto" and config.channels_last is None
    resolved = run.config
    assert isinstance(resolved, SealedConfig)
    assert (resolved.device, resolved.precision, resolved.image_size, resolved.channels) == (
        "cpu",
        auto_cpu_precision(),
        28,
        1,
    )
    assert (resolved.conditional, resolved.num_classes, resolved.channels_last) == (False, 0, True)
    record = json.loads((run.dir / "config.json").read_text())
    recorded = to_dict(portable_config(resolved))  # `out` relative or not at all
    assert {k: v for k, v in record.items() if k in recorded} == recorded
    assert dataclasses.replace(before, **{k: getattr(resolved, k) for k in RESOLVED}) == resolved


def test_build_resolves_a_new_config_without_touching_the_old_one(idx_dir_256, tmp_path):
    from gan_zoo.training.build import build
    from gan_zoo.training.distributed import DistInfo

    config = resolve.build_config(
        "cgan", "fashion-mnist", tiny(idx_dir_256, tmp_path), ["generator.width=8"]
    )
    before = copy.deepcopy(config)
    resolved, parts = build(config, DistInfo())
    assert config == before
    assert (resolved.conditional, resolved.num_classes, resolved.image_size) == (True, 10, 28)
    assert parts.G.num_classes == 10 and parts.plan.steps_per_epoch == 256 // 16
    assert parts.plan.total_steps == config.epochs * 16 and parts.plan.images_per_step == 16


def test_init_from_a_run_without_ema_loads_its_generator(idx_dir, tmp_path):
    """A source without EMA keeps no ``generator_raw/``: --init takes generator.safetensors
    (it used to compare the run's G with the empty raw entries and refuse)."""
    source = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, "src", steps=2),
    )
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        **tiny(idx_dir, tmp_path, "dst", steps=1, init=str(source.dir)),
    )
    assert run.config.init["loaded"] == "generator, discriminator"
