"""Built-in plugin: datasets (no torch import until one is loaded)."""

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
