"""gan-zoo plugin: the FID and KID metrics (no torch import until a metric is built)."""

from gan_zoo.hookspecs import hookimpl


@hookimpl
def register_metrics(register):
    register(
        "fid",
        "gan_zoo_fid.metrics:FID",
        description="Frechet Inception Distance (Heusel et al. 2017), TF-Inception pool3 2048-d; lower is better.",
    )
    register(
        "kid",
        "gan_zoo_fid.metrics:KID",
        description="Kernel Inception Distance (Binkowski et al. 2018), unbiased cubic-kernel MMD; lower is better.",
    )
