"""A plugin that registers a name the built-ins already have."""

from gan_zoo.hookspecs import hookimpl


@hookimpl
def register_losses(register):
    register(
        "my-other-loss",
        "gan_zoo.losses.bce:BCELoss",
        description="Would land if not for the clash.",
    )
    register("bce", "gan_zoo.losses.bce:BCELoss", description="A second 'bce'.")
