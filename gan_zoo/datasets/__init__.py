"""Built-in plugin: datasets (no torch import until one is loaded).

Each entry points at its family file with a lazy ``"module:attribute"`` reference: ``idx.py``
(Fashion-MNIST, MNIST), ``cifar.py`` (CIFAR-10, binary version) and ``folder.py`` (your own
images). Every factory takes ``split``, ``data_dir`` and ``download`` and returns an object of
the :class:`gan_zoo.datasets.base.Dataset` protocol; see docs/datasets.md.
"""

from ..hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    register(
        "fashion-mnist",
        "gan_zoo.datasets.idx:fashion_mnist",
        description="Fashion-MNIST (Zalando, 2017): 60k/10k 28x28 grayscale clothes, 10 classes.",
        image_sizes=(28,),
        channels=(1,),
        conditional=True,
    )
    register(
        "mnist",
        "gan_zoo.datasets.idx:mnist",
        description="MNIST (LeCun et al., 1998): 60k/10k 28x28 grayscale digits, 10 classes.",
        image_sizes=(28,),
        channels=(1,),
        conditional=True,
    )
    register(
        "cifar10",
        "gan_zoo.datasets.cifar:cifar10",
        description="CIFAR-10 (Krizhevsky, 2009), binary version: 50k/10k 32x32 RGB, 10 classes.",
        image_sizes=(32,),
        channels=(3,),
        conditional=True,
    )
    register(
        "image-folder",
        "gan_zoo.datasets.folder:image_folder",
        description="Your PNG/JPEG/WebP images, flat or in class sub-folders; "
        "resized, center-cropped, cached.",
        channels=(1, 3),
    )
