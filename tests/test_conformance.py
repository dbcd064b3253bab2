"""gan-zoo's built-ins pass the conformance kit that plugin authors run (gan_zoo.testing).

The same generated cases as a third party's: every network at every declared size and channel
count, every loss, preset, dataset (on tiny real files) and the kit's own behaviour on a real
pip-installed distribution whose entries break the contract on purpose.
"""

from __future__ import annotations

from pathlib import Path

from gan_zoo.testing import conformance, write_cifar10, write_fashion_mnist, write_image_folder

test_builtins_conform = conformance(
    "gan-zoo",
    data={
        "fashion-mnist": write_fashion_mnist,
        "mnist": write_fashion_mnist,
        "cifar10": write_cifar10,
        "image-folder": lambda folder: write_image_folder(Path(folder) / "images"),
    },
)
