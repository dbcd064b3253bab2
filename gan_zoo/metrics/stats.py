"""The math of the feature metrics, in torch alone (no scipy at run time).

Every function takes real features (N, D) and generated features (M, D) from the same network
and returns plain floats:

- Frechet distance (Heusel et al. 2017, arXiv:1706.08500): ``|mu_r - mu_g|^2 +
  tr(S_r + S_g - 2 (S_r S_g)^(1/2))`` in float64, from features or from ``(mu, sigma)``.
- Kernel distance (Binkowski et al. 2018, arXiv:1801.01401): the unbiased MMD^2 with the cubic
  kernel ``(x.y / d + 1)^3``, mean and standard deviation over random subsets.
- Improved precision and recall (Kynkaanniemi et al. 2019, arXiv:1904.06991): each set's
  manifold is the union of balls reaching each sample's k-th nearest neighbour (k = 3).
- Density and coverage (Naeem et al. 2020, arXiv:2002.09797): the same balls around the real
  samples only (k = 5), counted with multiplicity (density) or as "is this real ball hit"
  (coverage).
"""

from __future__ import annotations

import torch

from . import MetricError


def mean_cov(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and unbiased covariance (D, D) in float64 (what pytorch-fid stores)."""
    x = features.double()
    return x.mean(0), torch.cov(x.T)


def frechet_from_stats(
    mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor
) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), covariances symmetric PSD."""
    mu1, mu2, sigma1, sigma2 = (t.double() for t in (mu1, mu2, sigma1, sigma2))
    # tr((S1 S2)^(1/2)) = sum of sqrt eigenvalues of S1^(1/2) S2 S1^(1/2), a symmetric PSD matrix,
    # so two symmetric eigendecompositions replace scipy's general (and complex) sqrtm.
    vals, vecs = torch.linalg.eigh((sigma1 + sigma1.T) / 2)
    root1 = (vecs * vals.clamp(min=0).sqrt()) @ vecs.T
    middle = root1 @ sigma2 @ root1
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    return float((mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * trace_sqrt)


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets."""
    return frechet_from_stats(*mean_cov(real), *mean_cov(fake))


def kernel_distance(
    real: torch.Tensor,
    fake: torch.Tensor,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Unbiased MMD^2 with the cubic polynomial kernel: (mean, std) over random subsets."""
    m = min(subset_size, len(real), len(fake))
    if m < 2:
        raise MetricError("the kernel distance needs at least 2 samples on each side")
    real, fake = real.double(), fake.double()
    d = real.shape[1]
    g = torch.Generator().manual_seed(seed)
    values = torch.empty(subsets, dtype=torch.float64)
    for s in range(subsets):
        x = real[torch.randperm(len(real), generator=g)[:m]]  # (m, D)
        y = fake[torch.randperm(len(fake), generator=g)[:m]]  # (m, D)
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        off = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m - 1)
        values[s] = off / m - 2 * kxy.mean()
    std = float(values.std()) if subsets > 1 else 0.0
    return float(values.mean()), std


def _sq_norms(x: torch.Tensor) -> torch.Tensor:
    return x.square().sum(1)


def _distances(a: torch.Tensor, b: torch.Tensor, b_sq: torch.Tensor) -> torch.Tensor:
    """Euclidean distances (len(a), len(b)) through one matrix product."""
    d2 = _sq_norms(a)[:, None] + b_sq[None, :] - 2 * (a @ b.T)
    return d2.clamp_(min=0).sqrt_()


def knn_radii(x: torch.Tensor, k: int, chunk: int = 1024) -> torch.Tensor:
    """Distance (N,) from each row of ``x`` to its k-th nearest other row."""
    if len(x) <= k:
        raise MetricError(f"k-nearest-neighbour metrics need more than k={k} samples, not {len(x)}")
    x = x.float()
    x_sq = _sq_norms(x)
    out = torch.empty(len(x))
    for start in range(0, len(x), chunk):
        d = _distances(x[start : start + chunk], x, x_sq)  # (c, N)
        out[start : start + chunk] = d.topk(k + 1, dim=1, largest=False).values[:, k]  # [0] is self
    return out


def manifold_metrics(
    real: torch.Tensor, fake: torch.Tensor, k_pr: int = 3, k_dc: int = 5, chunk: int = 1024
) -> dict[str, float]:
    """Precision and recall (k = ``k_pr``), density and coverage (k = ``k_dc``) in one pass."""
    real, fake = real.float(), fake.float()
    r_real_pr, r_fake_pr = knn_radii(real, k_pr, chunk), knn_radii(fake, k_pr, chunk)
    r_real_dc = r_real_pr if k_dc == k_pr else knn_radii(real, k_dc, chunk)
    fake_sq = _sq_norms(fake)
    fake_in_real = torch.zeros(len(fake), dtype=torch.bool)  # precision: fake inside a real ball
    real_in_fake = torch.zeros(len(real), dtype=torch.bool)  # recall: real inside a fake ball
    density_hits = 0
    covered = 0
    for start in range(0, len(real), chunk):
        d = _distances(real[start : start + chunk], fake, fake_sq)  # (c, M)
        r_pr = r_real_pr[start : start + chunk, None]
        r_dc = r_real_dc[start : start + chunk, None]
        fake_in_real |= (d <= r_pr).any(0)
        real_in_fake[start : start + chunk] = (d <= r_fake_pr[None, :]).any(1)
        inside_dc = d <= r_dc  # (c, M)
        density_hits += int(inside_dc.sum())
        covered += int(inside_dc.any(1).sum())
    return {
        "precision": float(fake_in_real.float().mean()),
        "recall": float(real_in_fake.float().mean()),
        "density": density_hits / (k_dc * len(fake)),
        "coverage": covered / len(real),
    }


def class_coverage(predicted: torch.Tensor, num_classes: int) -> float:
    """Normalised entropy of the predicted-class histogram: 1 = all classes equally often,
    0 = one class only (mode collapse)."""
    if num_classes < 2:
        raise MetricError("class coverage needs at least 2 classes")
    p = torch.bincount(predicted.long().flatten(), minlength=num_classes).double()
    p = p / p.sum()
    entropy = -(p[p > 0] * p[p > 0].log()).sum()
    return float(entropy / torch.log(torch.tensor(float(num_classes), dtype=torch.float64)))
