"""The installed distribution through gan-zoo's public face: entries, ``gan-zoo list``, two real
training steps of the preset (fp32 and CPU bf16 autocast), and loading the trained weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import DISTRIBUTION, TINY_D, TINY_G

import gan_zoo
from gan_zoo import plugins
from gan_zoo.cli import build_cli
from gan_zoo.hookspecs import hookimpl

ENTRIES = {
    "models": ["stylegan2", "stylegan2-64"],
    "generators": ["stylegan2"],
    "discriminators": ["stylegan2"],
    "losses": ["stylegan2"],
}


def test_entries_come_from_the_installed_distribution():
    status = next(s for s in plugins.statuses() if s.distribution == DISTRIBUTION)
    assert status.ok and status.source == "entry point" and status.version == "0.1.0"
    assert status.entries == ENTRIES
    for kind, names in ENTRIES.items():
        for name in names:
            assert plugins.registry(kind).get(name).plugin.distribution == DISTRIBUTION
    preset = gan_zoo.get_preset("stylegan2")
    assert preset.image_size == 32 and preset.loss.name == "stylegan2"
    assert preset.g_optim.betas == (0.0, 0.99) and preset.ema > 0


def test_gan_zoo_list_models_shows_it_without_importing_torch():
    code = (
        "import sys; sys.argv = ['gan-zoo', 'list', 'models', '--json']; "
        "from gan_zoo.cli import main; main()"
    )
    env = {**os.environ, "GAN_ZOO_LOAD_PLUGINS": DISTRIBUTION}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr[-500:]
    models = {e["name"]: e for e in json.loads(out.stdout)}
    assert models["stylegan2"]["distribution"] == DISTRIBUTION
    assert models["stylegan2"]["image_sizes"] == [32]
    assert models["stylegan2-64"]["image_sizes"] == [64]
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines()}
    assert "gan_zoo_stylegan2.presets" in imported  # the plugin was loaded, its presets listed
    assert not {m for m in imported if m == "torch" or m.startswith("torch.")}


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_preset_trains_two_steps_and_its_weights_load_back(idx_dir, tmp_path, precision):
    tiny = [f"generator.{k}={v}" for k, v in TINY_G.items()]
    tiny += [f"discriminator.{k}={v}" for k, v in TINY_D.items()]
    run = gan_zoo.train(
        "stylegan2",
        "fashion-mnist",
        data_dir=str(idx_dir),
        steps=2,
        batch_size=6,
        z_dim=16,
        device="cpu",
        precision=precision,
        log_every=1,
        out=str(tmp_path / "run"),
        overrides=tiny,
        progress="quiet",
    )
    assert run.step == 2 and not run.interrupted
    record = json.loads((run.dir / "config.json").read_text())
    # Fashion-MNIST's 28 px are resized to the preset's 32; the batch of 6 does not divide by
    # the minibatch-std group of 4.
    assert record["image_size"] == 32 and record["channels"] == 1
    assert record["precision"] == precision and record["loss"]["name"] == "stylegan2"
    assert record["plugins"]["generator"].startswith(f"{DISTRIBUTION} 0.1.0")
    lines = [json.loads(x) for x in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2]
    for r in lines:
        assert all(torch.isfinite(torch.tensor(r[k])) for k in ("loss/d", "loss/g"))
        assert 0 <= r["d/real"] <= 1  # the logistic loss declares log-odds logits
    # The samples are written by the EMA generator and the weights reload by name.
    assert (run.dir / "samples" / "step-0000002.png").stat().st_size > 0
    loaded = gan_zoo.load(run.dir, device="cpu")
    z = torch.randn(3, 16)
    with torch.no_grad():
        images = loaded(z)
        expected = run.generator.eval()(z)  # fixed noise buffers travel with the weights
    assert images.shape == (3, 1, 32, 32)
    torch.testing.assert_close(images, expected)
    assert images.min() >= -1 and images.max() <= 1
    # gan-zoo's --psi reaches the mapping network's w_avg: psi 0 draws the average image only.
    assert loaded.supports_psi
    torch.testing.assert_close(loaded.sample(3, seed=1, psi=1.0), loaded.sample(3, seed=1))
    out = tmp_path / "average.npz"
    result = CliRunner().invoke(
        build_cli(),
        ["generate", str(run.dir), "--psi", "0", "--n", "4", "--out", str(out), "--device", "cpu"],
    )
    assert result.exit_code == 0, result.output
    with np.load(out) as saved:
        assert (saved["images"] == saved["images"][:1]).all()


class _CountingLoss:
    """A plugin registering a StyleGAN2 loss that records which regularizer calls fired."""

    def __init__(self):
        self.fired: list[int] = []

    @hookimpl
    def register_losses(self, register):
        from gan_zoo_stylegan2.loss import StyleGAN2Loss

        fired = self.fired

        class Recording(StyleGAN2Loss):
            def regularizer(self, discriminator, real, fake, labels=None):
                call = self.calls
                penalty = super().regularizer(discriminator, real, fake, labels)
                if penalty is not None:
                    fired.append(call)
                return penalty

        register("stylegan2-recording", Recording, description="test: records lazy R1")


@pytest.fixture
def recording(idx_dir, tmp_path):
    """The recording loss registered for one test, and a tiny lazy-R1 training (interval 4,
    3 D steps per G step) into tmp_path/run: ``train(steps, **more)``."""
    probe = _CountingLoss()
    plugins.host().register(probe, "recording")
    tiny = [f"generator.{k}={v}" for k, v in TINY_G.items()]
    tiny += [f"discriminator.{k}={v}" for k, v in TINY_D.items()]
    tiny += ["loss=stylegan2-recording", "loss.r1_interval=4"]

    def train(steps):
        return gan_zoo.train(
            "stylegan2",
            "fashion-mnist",
            data_dir=str(idx_dir),
            steps=steps,
            n_critic=3,
            batch_size=4,
            z_dim=16,
            device="cpu",
            out=str(tmp_path / "run"),
            overrides=tiny,
            progress="quiet",
        )

    try:
        yield probe, train
    finally:
        plugins.host().unregister("recording")


def test_the_trainer_calls_the_regularizer_once_per_d_step(recording):
    """Lazy R1 counts regularizer calls; that is a count of D steps only if the trainer makes
    one call per D update, n_critic included."""
    probe, train = recording
    train(3)
    assert probe.fired == [0, 4, 8]  # 9 D steps, R1 on every 4th from the first


def test_a_resumed_run_keeps_counting_d_steps_for_lazy_r1(recording, tmp_path):
    """The count is the loss's training state: saved with the checkpoint, given back on resume,
    so R1 fires on D steps 0, 4, 8 across the two processes (not on 0, 4, then 0 again)."""
    probe, train = recording
    run = train(2)
    doc = json.loads((run.checkpoint / "training-state.json").read_text())
    assert doc["state"]["loss_state"] == {"loss": {"calls": 6}}
    gan_zoo.train(resume=str(tmp_path / "run"), steps=4, progress="quiet")
    assert probe.fired == [0, 4, 8]


def test_a_bad_saved_count_is_one_line():
    from gan_zoo_stylegan2.loss import StyleGAN2Loss

    from gan_zoo.errors import ConfigError

    loss = StyleGAN2Loss()
    loss.load_training_state({"calls": 35})
    assert loss.calls == 35 and loss.training_state() == {"calls": 35}
    for bad in (-1, 2.5, "7", True):
        with pytest.raises(ConfigError, match="not a count of D steps"):
            loss.load_training_state({"calls": bad})
