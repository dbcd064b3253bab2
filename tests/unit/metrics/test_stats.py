"""gan_zoo.metrics.stats checked against independent code: scipy's sqrtm, torchmetrics' FID,
and properties any implementation must have."""

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_zoo.metrics import MetricError, stats


def scipy_frechet(mu1, s1, mu2, s2) -> float:
    """pytorch-fid's formula: the matrix square root of S1 S2 by scipy."""
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    return float(
        np.square(mu1 - mu2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real)
    )


@pytest.mark.parametrize("dim", [4, 64, 256])
def test_frechet_matches_scipy_sqrtm_on_random_covariances(dim):
    g = torch.Generator().manual_seed(dim)
    a = torch.randn(dim, dim, generator=g, dtype=torch.float64)
    b = torch.randn(dim, 2 * dim, generator=g, dtype=torch.float64)
    s1, s2 = a @ a.T / dim, b @ b.T / (2 * dim)  # random SPD covariances
    mu1, mu2 = (
        torch.randn(dim, generator=g, dtype=torch.float64),
        torch.randn(dim, generator=g, dtype=torch.float64),
    )
    ours = stats.frechet_from_stats(mu1, s1, mu2, s2)
    theirs = scipy_frechet(mu1.numpy(), s1.numpy(), mu2.numpy(), s2.numpy())
    assert ours == pytest.approx(theirs, rel=1e-8)


@pytest.mark.slow  # importing torchmetrics alone takes seconds
def test_frechet_matches_torchmetrics_given_the_same_features():
    from torchmetrics.image.fid import (
        _compute_fid,  # the math behind torchmetrics' FrechetInceptionDistance
    )

    g = torch.Generator().manual_seed(1)
    real = torch.randn(500, 32, generator=g, dtype=torch.float64)
    fake = (
        torch.randn(400, 32, generator=g, dtype=torch.float64)
        @ torch.randn(32, 32, generator=g, dtype=torch.float64)
        * 0.3
        + 0.2
    )
    mu1, s1 = stats.mean_cov(real)
    mu2, s2 = stats.mean_cov(fake)
    assert stats.frechet_distance(real, fake) == pytest.approx(
        float(_compute_fid(mu1, s1, mu2, s2)), rel=1e-6
    )


def test_frechet_of_a_set_against_itself_is_zero_and_a_shift_adds_its_square():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(800, 8, generator=g, dtype=torch.float64)
    assert stats.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert stats.frechet_distance(a, a + 0.5) == pytest.approx(8 * 0.25, rel=1e-6)


def test_kernel_distance_is_unbiased_near_zero_for_one_distribution_and_reports_its_spread():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 1000, 16, generator=g, dtype=torch.float64)
    mean, std = stats.kernel_distance(a, b, subsets=20, subset_size=200)
    assert abs(mean) < 3 * std / 20**0.5 + 1e-3 and std > 0
    shifted, _ = stats.kernel_distance(a, b + 0.5, subsets=20, subset_size=200)
    assert shifted > 10 * std


@pytest.mark.slow
def test_kernel_distance_matches_torchmetrics_unbiased_mmd():
    from torchmetrics.image.kid import poly_mmd

    g = torch.Generator().manual_seed(2)
    a = torch.randn(300, 16, generator=g, dtype=torch.float64)
    b = torch.randn(300, 16, generator=g, dtype=torch.float64) * 1.2 + 0.1
    mean, _ = stats.kernel_distance(a, b, subsets=1, subset_size=300)  # one subset: the whole sets
    assert mean == pytest.approx(float(poly_mmd(a, b, degree=3, gamma=None, coef=1.0)), rel=1e-9)


def test_manifold_metrics_of_a_set_against_itself_are_perfect():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(600, 10, generator=g)
    m = stats.manifold_metrics(a, a.clone())
    assert m["precision"] == m["recall"] == m["coverage"] == 1.0
    # Each sample sits in its own ball and in the balls of the k others it is a neighbour of.
    assert m["density"] == pytest.approx((5 + 1) / 5, abs=1e-6)


def test_manifold_metrics_against_brute_force_and_for_disjoint_sets():
    g = torch.Generator().manual_seed(3)
    real, fake = torch.randn(300, 5, generator=g), torch.randn(200, 5, generator=g) * 1.5 + 0.3
    m = stats.manifold_metrics(real, fake, k_pr=3, k_dc=5, chunk=64)
    d_rr, d_ff, d_rf = torch.cdist(real, real), torch.cdist(fake, fake), torch.cdist(real, fake)
    r3 = d_rr.sort(1).values[:, 3]
    f3 = d_ff.sort(1).values[:, 3]
    r5 = d_rr.sort(1).values[:, 5]
    assert m["precision"] == pytest.approx(
        float((d_rf <= r3[:, None]).any(0).float().mean()), abs=1e-6
    )
    assert m["recall"] == pytest.approx(
        float((d_rf <= f3[None, :]).any(1).float().mean()), abs=1e-6
    )
    assert m["density"] == pytest.approx(float((d_rf <= r5[:, None]).sum() / (5 * 200)), abs=1e-6)
    assert m["coverage"] == pytest.approx(
        float((d_rf <= r5[:, None]).any(1).float().mean()), abs=1e-6
    )
    far = stats.manifold_metrics(real, fake + 100)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_class_coverage_is_one_when_balanced_and_zero_when_collapsed():
    assert stats.class_coverage(torch.arange(1000) % 10, 10) == pytest.approx(1.0)
    assert stats.class_coverage(torch.full((1000,), 3), 10) == 0.0
    half = stats.class_coverage(torch.arange(1000) % 2, 10)  # two classes of ten
    assert half == pytest.approx(np.log(2) / np.log(10))


def test_too_few_samples_is_a_one_line_error():
    with pytest.raises(MetricError, match="more than k=3"):
        stats.knn_radii(torch.randn(3, 2), 3)
