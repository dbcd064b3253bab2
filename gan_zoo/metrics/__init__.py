"""Built-in plugin: metrics on the small classifiers shipped in the wheel (no torch import here).

``classifier.py`` holds the Fashion-MNIST CNN and its three metrics; ``base.py`` the machinery
every feature metric shares (sampling, caches, the protocol, reference statistics); ``stats.py``
the math (Frechet and kernel distances, k-NN precision/recall/density/coverage). The Inception
metrics (``fid``, ``kid``, ...) are the separately installed ``gan-zoo-fid`` plugin, built on
the same two modules. See docs/metrics.md.
"""

from ..errors import GanZooError
from ..hookspecs import hookimpl


class MetricError(GanZooError):
    """A metric cannot be computed as asked (bad settings, unsupported dataset, bad stats file)."""


@hookimpl
def register_metrics(register):
    register(
        "classifier-fd",
        "gan_zoo.metrics.classifier:ClassifierFD",
        description="Frechet distance in the penultimate features of gan-zoo's Fashion-MNIST CNN "
        "(128-d); seconds for 10k samples; lower is better.",
        image_sizes=(28,),
        channels=(1,),
    )
    register(
        "class-coverage",
        "gan_zoo.metrics.classifier:ClassCoverage",
        description="Normalised entropy of the classes the Fashion-MNIST CNN predicts for the "
        "samples: 1 = all classes equally, 0 = one class (mode collapse); higher is better.",
        image_sizes=(28,),
        channels=(1,),
    )
    register(
        "class-accuracy",
        "gan_zoo.metrics.classifier:ClassAccuracy",
        description="Conditional generators: share of samples the Fashion-MNIST CNN classifies "
        "as the class asked for; higher is better.",
        image_sizes=(28,),
        channels=(1,),
        conditional=True,
    )
