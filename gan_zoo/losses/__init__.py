"""Built-in plugin: GAN losses and regularizers (no torch import until one is built).

Every entry is a factory returning a :class:`gan_zoo.losses.base.GANLoss`; ``r1`` is also meant
to be used as ``TrainConfig.regularizer`` next to any loss (see ``docs/losses.md``).
"""

from ..hookspecs import hookimpl


@hookimpl
def register_losses(register):
    register(
        "bce",
        "gan_zoo.losses.bce:BCELoss",
        description="Non-saturating binary cross-entropy (Goodfellow et al. 2014).",
    )
    register(
        "bce-minimax",
        "gan_zoo.losses.bce:BCEMinimaxLoss",
        description="The original minimax BCE: G minimises log(1 - D(G(z))) "
        "(Goodfellow et al. 2014).",
    )
    register(
        "hinge",
        "gan_zoo.losses.hinge:HingeLoss",
        description="Hinge loss (Lim & Ye 2017), as in SNGAN, SAGAN and BigGAN.",
    )
    register(
        "wgan",
        "gan_zoo.losses.wgan:WGANLoss",
        description="Wasserstein loss with weight clipping of D after each step "
        "(Arjovsky et al. 2017).",
    )
    register(
        "wgan-gp",
        "gan_zoo.losses.wgan:WGANGPLoss",
        description="Wasserstein loss with gradient penalty, lambda 10, fp32 "
        "(Gulrajani et al. 2017).",
    )
    register(
        "lsgan",
        "gan_zoo.losses.lsgan:LSGANLoss",
        description="Least-squares GAN loss with 0/1 targets (Mao et al. 2017).",
    )
    register(
        "ragan",
        "gan_zoo.losses.relativistic:RaGANLoss",
        description="Relativistic average GAN loss, BCE form (Jolicoeur-Martineau 2019).",
    )
    register(
        "ralsgan",
        "gan_zoo.losses.relativistic:RaLSGANLoss",
        description="Relativistic average least-squares GAN loss (Jolicoeur-Martineau 2019).",
    )
    register(
        "r1",
        "gan_zoo.losses.r1:R1Penalty",
        description=(
            "R1 penalty on real data (Mescheder et al. 2018); use as the regularizer with any "
            "loss, or as a loss: non-saturating BCE + R1."
        ),
    )


def __getattr__(name):
    """``gan_zoo.losses.GANLoss`` and ``input_gradients``, imported (with torch) on first use."""
    if name in ("GANLoss", "input_gradients"):
        from . import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
