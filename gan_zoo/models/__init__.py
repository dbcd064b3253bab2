"""Built-in plugin: generator and discriminator architectures and the presets that pair them.

This module is what the plugin manager registers; it imports no torch. Each entry points at
its family file (``dcgan.py``, ...) with a lazy ``"module:attribute"`` reference.
"""

from ..hookspecs import hookimpl
from . import presets


@hookimpl
def register_generators(register):
    register(
        "dcgan",
        "gan_zoo.models.dcgan:DCGANGenerator",
        description="DCGAN generator (Radford et al. 2015): transposed convs, BatchNorm, ReLU, tanh.",
        image_sizes=(28,),
        channels=(1, 3),
    )


@hookimpl
def register_discriminators(register):
    register(
        "dcgan",
        "gan_zoo.models.dcgan:DCGANDiscriminator",
        description="DCGAN discriminator: strided convs, BatchNorm, LeakyReLU 0.2, one logit.",
        image_sizes=(28,),
        channels=(1, 3),
    )


@hookimpl
def register_models(register):
    register(
        "dcgan",
        presets.DCGAN,
        description="DCGAN with the non-saturating BCE loss, Adam 2e-4, betas (0.5, 0.999), batch 128.",
        image_sizes=(28,),
    )
