"""The plugin conformance kit: test your gan-zoo plugin with pytest, the way gan-zoo tests its own.

In a plugin's tests (see docs/writing-plugins.md)::

    # tests/test_conformance.py
    from gan_zoo.testing import conformance

    test_conformance = conformance("gan-zoo-mygan")

one test per check of every entry the distribution registers: networks at every declared size
and channel count (shapes, range, backward, dtype and device moves, a safetensors round trip),
losses (fp32 scalars from bf16 logits, finite gradients, regularizers), presets (two real
training steps in fp32 and bf16 through gan-zoo's ``TrainStep``), datasets and metrics through
their protocols, and every entry's registry metadata. The fixtures of
:mod:`gan_zoo.testing.plugin` (``idx_dir``, ``register_plugin``, ``load_plugins``) come with it;
:mod:`gan_zoo.testing.data` writes tiny datasets as real files.

Importing this package imports neither torch nor pytest.
"""

from ..plugin_check import Problem, check_plugins
from .conformance import Case, Suite, conformance
from .data import write_cifar10, write_fashion_mnist, write_idx, write_image_folder, write_png

__all__ = [
    "Case",
    "Problem",
    "Suite",
    "check_plugins",
    "conformance",
    "write_cifar10",
    "write_fashion_mnist",
    "write_idx",
    "write_image_folder",
    "write_png",
]
