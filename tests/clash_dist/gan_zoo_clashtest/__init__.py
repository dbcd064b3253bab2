"""A plugin that registered a loss ``ragan`` before gan-zoo had a built-in one, and a preset
that names it: the preset must keep training with this plugin's ``ragan``."""

from gan_zoo.config import NetSpec, Preset
from gan_zoo.hookspecs import hookimpl


@hookimpl
def register_losses(register):
    register("ragan", "gan_zoo_clashtest.losses:ClashRaGAN", description="This plugin's own RaGAN.")


@hookimpl
def register_models(register):
    register(
        "clash-gan",
        Preset(loss=NetSpec("ragan"), z_dim=8, batch_size=8),
        description="DCGAN with this plugin's ragan.",
        image_sizes=(28,),
    )
