"""gan-zoo plugin: StyleGAN2 (Karras et al. 2020, arXiv:1912.04958) as a third-party distribution.

This module is what the ``gan_zoo`` entry point names. It registers, through gan-zoo's public
hooks only, the ``stylegan2`` generator and discriminator (:mod:`.networks`), the ``stylegan2``
loss (non-saturating logistic + lazy R1, :mod:`.loss`) and the ``stylegan2`` and
``stylegan2-64`` presets (:mod:`.presets`). Networks and the loss are lazy ``"module:attr"``
references and the presets import only gan-zoo's torch-free config, so ``gan-zoo list`` never
imports torch.
"""

from gan_zoo.hookspecs import hookimpl

from . import presets

_SIZES = (32, 64)
_CHANNELS = (1, 3)


@hookimpl
def register_generators(register):
    register(
        "stylegan2",
        "gan_zoo_stylegan2.networks:StyleGAN2Generator",
        description="StyleGAN2 generator (Karras et al. 2020): 8-layer mapping network, constant "
        "4x4 input, modulated/demodulated convs, noise inputs, skip toRGB outputs, style mixing.",
        image_sizes=_SIZES,
        channels=_CHANNELS,
    )


@hookimpl
def register_discriminators(register):
    register(
        "stylegan2",
        "gan_zoo_stylegan2.networks:StyleGAN2Discriminator",
        description="StyleGAN2 residual discriminator: equalized lr, [1,3,3,1] downsampling, "
        "minibatch standard deviation (group 4), one logit.",
        image_sizes=_SIZES,
        channels=_CHANNELS,
    )


@hookimpl
def register_losses(register):
    register(
        "stylegan2",
        "gan_zoo_stylegan2.loss:StyleGAN2Loss",
        description="Non-saturating logistic loss with lazy R1 on reals (every 16 D steps, "
        "scaled by 16, fp32), as in StyleGAN2; options r1_gamma, r1_interval.",
    )


@hookimpl
def register_models(register):
    register(
        "stylegan2",
        presets.STYLEGAN2,
        description="StyleGAN2 at 32 px, CPU-sized widths (64 ch): lazy R1 gamma 0.1, Adam 0.0025 "
        "betas (0, 0.99), EMA, batch 32; Fashion-MNIST is resized to 32.",
        image_sizes=(32,),
        channels=_CHANNELS,
    )
    register(
        "stylegan2-64",
        presets.STYLEGAN2_64,
        description="StyleGAN2 at 64 px, CPU-sized widths: lazy R1 gamma 0.4, Adam 0.0025 "
        "betas (0, 0.99), EMA, batch 32.",
        image_sizes=(64,),
        channels=_CHANNELS,
    )
