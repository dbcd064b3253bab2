"""gan-zoo plugin: FID, KID, precision, recall, density and coverage on TF-Inception features.

No torch import until a metric is built. Python API for reference statistics:
``gan_zoo_fid.metrics.write_reference_stats(dataset, path)`` and
``gan_zoo.create_metric("fid", ref_stats=path)``.
"""

from gan_zoo.hookspecs import hookimpl

_METRICS = (
    (
        "fid",
        "FID",
        "Frechet Inception Distance (Heusel et al. 2017), TF-Inception pool3 2048-d; "
        "lower is better.",
    ),
    (
        "kid",
        "KID",
        "Kernel Inception Distance (Binkowski et al. 2018), unbiased cubic-kernel MMD^2; "
        "lower is better.",
    ),
    (
        "precision",
        "Precision",
        "Improved precision (Kynkaanniemi et al. 2019), k=3, Inception features; higher is better.",
    ),
    (
        "recall",
        "Recall",
        "Improved recall (Kynkaanniemi et al. 2019), k=3, Inception features; higher is better.",
    ),
    (
        "density",
        "Density",
        "Density (Naeem et al. 2020), k=5, Inception features; about 1 when matched.",
    ),
    (
        "coverage",
        "Coverage",
        "Coverage (Naeem et al. 2020), k=5, Inception features; higher is better.",
    ),
)


@hookimpl
def register_metrics(register):
    for name, cls, description in _METRICS:
        register(name, f"gan_zoo_fid.metrics:{cls}", description=description, channels=(1, 3))
