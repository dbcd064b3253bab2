"""The plugin contract.

A plugin is a module (or object) with functions marked ``@hookimpl``. gan-zoo calls each hook
once per plugin with a ``register`` callback::

    register(name, target, *, description, image_sizes=(), channels=(), conditional=False)

``target`` is a factory (a class or function taking keyword options), a ``"module:attribute"``
reference to one (imported on first use, so listing never imports torch), or, for ``models``,
a :class:`gan_zoo.config.Preset`. The built-in entries arrive through these same hooks.
"""

import pluggy

hookspec = pluggy.HookspecMarker("gan_zoo")
hookimpl = pluggy.HookimplMarker("gan_zoo")


@hookspec
def register_generators(register):
    """Register generators: factories ``(z_dim, image_size, channels, ...) -> nn.Module``."""


@hookspec
def register_discriminators(register):
    """Register discriminators: factories ``(image_size, channels, ...) -> nn.Module``."""


@hookspec
def register_losses(register):
    """Register losses and regularizers: factories returning a :class:`gan_zoo.losses.GANLoss`."""


@hookspec
def register_datasets(register):
    """Register datasets: factories ``(split, data_dir, download, ...) -> ImageDataset``."""


@hookspec
def register_models(register):
    """Register presets: :class:`gan_zoo.config.Preset` instances pairing G, D, loss and recipe."""


@hookspec
def register_metrics(register):
    """Register metrics: factories returning an object with ``compute(generator, dataset, ...)``."""


@hookspec
def register_pretrained(register):
    """Register pretrained tags (``dcgan.fashion-mnist``): checkpoint folders shipped in a
    package."""


@hookspec
def register_commands(cli):
    """Add commands to the ``gan-zoo`` click group ``cli``."""
