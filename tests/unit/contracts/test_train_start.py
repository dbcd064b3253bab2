"""The plugin contract is checked where plugin code is first called: before training (see
test_plugin_faults.py) and when a checkpoint's generator is loaded back."""

from __future__ import annotations

import pytest
import torch

import gan_zoo
from gan_zoo.contracts import ContractError
from gan_zoo.hookspecs import hookimpl

BAD = {"on": False}


class Switching(torch.nn.Module):
    """A generator that keeps the contract while it trains and breaks it later (as a plugin
    upgraded between training and loading might)."""

    def __init__(self, z_dim=8, image_size=28, channels=1):
        super().__init__()
        self.z_dim, self.image_size, self.channels, self.num_classes = (
            z_dim,
            image_size,
            channels,
            0,
        )
        self.fc = torch.nn.Linear(z_dim, channels * image_size * image_size)

    def forward(self, z, labels=None):
        x = torch.tanh(self.fc(z)).view(-1, self.channels, self.image_size, self.image_size)
        return x * 3 if BAD["on"] else x


class SwitchingPlugin:
    @hookimpl
    def register_generators(self, register):
        register(
            "switching",
            Switching,
            description="Breaks the range after training.",
            image_sizes=(28,),
        )


def test_loading_a_generator_checks_its_output(idx_dir, tmp_path, register_plugin):
    register_plugin(SwitchingPlugin(), "switching")
    BAD["on"] = False
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        generator="switching",
        overrides=["z_dim=8", "discriminator.width=4"],
        progress="quiet",
        data_dir=str(idx_dir),
        batch_size=16,
        device="cpu",
        steps=2,
        out=str(tmp_path / "run"),
    )
    assert gan_zoo.load(run.dir).sample(2).shape == (2, 1, 28, 28)
    BAD["on"] = True
    try:
        with pytest.raises(
            ContractError,
            match=r"generator 'switching' \(test 0\) breaks the plugin "
            r"contract: its images range over",
        ):
            gan_zoo.load(run.dir)
    finally:
        BAD["on"] = False
