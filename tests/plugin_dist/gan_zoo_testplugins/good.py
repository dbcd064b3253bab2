"""A well-behaved plugin: a tiny generator, a preset and a command."""

import click

from gan_zoo.config import NetSpec, Preset
from gan_zoo.hookspecs import hookimpl


def tiny_generator(z_dim: int = 8, image_size: int = 28, channels: int = 1, width: int = 4):
    import torch
    from torch import nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.z_dim, self.image_size, self.channels, self.num_classes = (
                z_dim,
                image_size,
                channels,
                0,
            )
            self.fc = nn.Linear(z_dim, channels * image_size * image_size)

        def forward(self, z, labels=None):
            return torch.tanh(self.fc(z)).view(-1, channels, image_size, image_size)

    return Tiny()


@hookimpl
def register_generators(register):
    register(
        "tiny-linear", tiny_generator, description="A one-layer test generator.", image_sizes=(28,)
    )


@hookimpl
def register_models(register):
    register(
        "tiny-gan",
        Preset(generator=NetSpec("tiny-linear"), discriminator=NetSpec("dcgan"), z_dim=8),
        description="Test preset from an installed plugin.",
    )


@hookimpl
def register_commands(cli):
    @cli.command("hello-plugin")
    def hello():
        """Say hello from an installed plugin."""
        click.echo("hello from gan-zoo-testplugins")
