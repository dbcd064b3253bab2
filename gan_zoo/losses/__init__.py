"""Built-in plugin: GAN losses and regularizers (no torch import until one is built)."""

from ..hookspecs import hookimpl


@hookimpl
def register_losses(register):
    register(
        "bce",
        "gan_zoo.losses.bce:BCELoss",
        description="Non-saturating binary cross-entropy (Goodfellow et al. 2014).",
    )
