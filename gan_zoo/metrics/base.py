"""What every feature-based metric shares: sampling, feature extraction, caches, the protocol.

A :class:`FeatureMetric` runs a feature network (an :class:`Extractor`) over ``num_samples``
generated images and over the same number of real images of a dataset split (the whole split
when it is smaller), then scores the two sets. Two caches keep that cheap:

- **Real features** are cached on disk (``~/.cache/gan-zoo/features/``, safetensors), keyed by
  the feature network, the device kind and numeric precision it ran in (:func:`numerics`: a
  GPU's features differ from a CPU's in the last bits), the number of images and a digest of
  the dataset's images (or of its files' names, sizes and times for a streaming dataset).

Feature networks run in full fp32 on every device: on a CUDA GPU TF32 is switched off while
they run (cuDNN convolutions would use it by default), and the protocol says so.
- **Generated features** are kept in memory, one set per generator and feature network, keyed
  by the sampling settings and a digest of the generator's weights and buffers, so every metric
  on the same network (FID, KID, precision, ...) samples and extracts once per generator.

The standard protocol is ``num_samples = 10000`` against the ``test`` split; other settings
work and are labelled non-standard in :meth:`FeatureMetric.protocol`.
"""

from __future__ import annotations

import hashlib
import os
import warnings
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors.torch import load_file, save_file

from ..contracts import MetricDefaults
from ..progress import progress_bar
from . import MetricError
from .numerics import full_fp32, numerics

STANDARD_SAMPLES = 10000
STANDARD_SPLIT = "test"

#: generator -> {extractor id: [key, outputs, derived results]}; see FeatureMetric.fake_outputs.
_FAKE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Extractor(Protocol):
    """A feature network: images in [-1, 1] -> named outputs, one row per image."""

    tag: str  # short name in the protocol name, e.g. "inception"
    dim: int  # size of outputs["features"]

    def id(self) -> str: ...  # network name and weights hash, e.g. "tf-inception-v3-7ff4a85c3a63"
    def describe(self) -> dict[str, Any]: ...  # protocol parts: network, hash, resize
    def __call__(
        self, images: torch.Tensor
    ) -> dict[str, torch.Tensor]: ...  # (B, C, H, W) -> {"features": (B, D), ...}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gan-zoo" / "features"


# Dataset identity and iteration.
def dataset_digest(dataset, chunk: int = 1000) -> str:
    """A short digest of the dataset's images: their bytes when in memory, the files' names,
    sizes and modification times when streamed, else the bytes of one decoding pass."""
    h = hashlib.blake2b(digest_size=12)
    h.update(
        f"{dataset.name}:{dataset.split}:{dataset.image_size}:{dataset.channels}:{len(dataset)};".encode()
    )
    images = getattr(dataset, "images", None)
    files = getattr(getattr(dataset, "files", None), "files", None)
    if isinstance(images, torch.Tensor):
        for start in range(0, len(images), chunk * 10):
            h.update(images[start : start + chunk * 10].contiguous().cpu().numpy().tobytes())
    elif files is not None:
        for path in files:
            st = os.stat(path)
            h.update(f"{path}:{st.st_size}:{st.st_mtime_ns};".encode())
    else:
        for batch, _ in real_batches(dataset, len(dataset), chunk):
            h.update(((batch + 1) * 127.5).round().to(torch.uint8).cpu().numpy().tobytes())
    return h.hexdigest()


def real_batches(dataset, n: int, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The first ``n`` images of a seeded permutation of ``dataset`` (all of them if ``n`` is
    ``len(dataset)``), in batches in [-1, 1], for any dataset of the protocol (never
    ``.images``)."""
    taken = 0
    order = torch.Generator().manual_seed(0)
    for images, labels in dataset.batches(batch_size, generator=order, drop_last=False):
        if taken >= n:
            break
        images, labels = images[: n - taken], labels[: n - taken]
        taken += len(images)
        yield images, labels


def generated_batches(
    generator, n: int, batch_size: int, seed: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """``n`` images from seeded N(0, I) latents (uniform random labels when conditional)."""
    g = torch.Generator().manual_seed(seed)
    weight = next(generator.parameters(), None)
    device = weight.device if weight is not None else torch.device("cpu")
    num_classes = int(getattr(generator, "num_classes", 0) or 0)
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        z = torch.randn(b, generator.z_dim, generator=g).to(device)
        labels = torch.randint(num_classes, (b,), generator=g) if num_classes else None
        images = generator(z, labels.to(device) if labels is not None else None)
        yield images.float().clamp(-1, 1), labels


@torch.no_grad()
def fingerprint(module) -> str:
    """A digest of every parameter and buffer of ``module`` (names, dtypes, shapes, values)."""
    h = hashlib.blake2b(digest_size=16)
    for name, tensor in module.state_dict().items():
        h.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        h.update(tensor.detach().reshape(-1).contiguous().view(torch.uint8).cpu().numpy().tobytes())
    return h.hexdigest()


def _run(
    extractor: Extractor, batches, total: int, description: str, device: str
) -> dict[str, torch.Tensor]:
    """Concatenated extractor outputs over ``batches``; labels kept as ``outputs['labels']``."""
    parts: dict[str, list[torch.Tensor]] = {}
    with progress_bar(total, description, min_total=1, stderr=True) as advance, full_fp32(device):
        for images, labels in batches:
            out = extractor(images.to(device))
            if labels is not None:
                out = {**out, "labels": labels.cpu().long()}
            for key, value in out.items():
                parts.setdefault(key, []).append(value)
            advance(len(images))
    if not parts:
        raise MetricError("no images to extract features from")
    return {key: torch.cat(values) for key, values in parts.items()}


class FeatureMetric(MetricDefaults):
    """Base of every metric that compares feature sets; subclasses define :meth:`score`."""

    name = "feature-metric"
    higher_is_better = False
    needs_reference_features = True  # False for metrics a (mu, sigma) stats file is enough for

    def __init__(
        self,
        num_samples: int = STANDARD_SAMPLES,
        batch_size: int = 50,
        device: str = "cpu",
        ref_stats: str | os.PathLike | None = None,
    ):
        if num_samples < 2:
            raise MetricError(
                f"num_samples must be at least 2 to compare distributions, not {num_samples}"
            )
        if batch_size < 1:
            raise MetricError(f"batch_size must be at least 1, not {batch_size}")
        self.num_samples, self.batch_size, self.device = (
            int(num_samples),
            int(batch_size),
            str(device),
        )
        self.ref_stats = Path(ref_stats) if ref_stats is not None else None
        if self.ref_stats is not None and self.needs_reference_features:
            raise MetricError(
                f"{self.name} needs the reference features, not only mu and sigma; drop ref_stats"
            )
        self.extra: dict[str, float] = {}  # side results of the last compute (e.g. kid_std)

    # The feature network, built lazily by subclasses.
    def extractor(self) -> Extractor:
        raise NotImplementedError  # abstract

    def check_dataset(self, dataset) -> None:
        """Raise a :class:`MetricError` if the metric cannot measure this dataset."""

    # Protocol.
    def reference_size(self, dataset) -> int:
        return min(self.num_samples, len(dataset))

    def is_standard(self, dataset) -> bool:
        return (
            self.ref_stats is None
            and self.num_samples == STANDARD_SAMPLES
            and dataset.split == STANDARD_SPLIT
        )

    def protocol(self, dataset) -> dict[str, Any]:
        """How the number was measured, for the model card."""
        ext = self.extractor()
        n_ref = self.reference_size(dataset)
        standard = self.is_standard(dataset)
        name = (
            f"gan-zoo/{ext.tag}-10k-test"
            if standard
            else f"non-standard ({ext.tag}, {self.num_samples} generated)"
        )
        if self.ref_stats is not None:
            reference = f"stats file {self.ref_stats.name}"
        else:
            reference = f"{n_ref} images of {dataset.name}/{dataset.split}"
        return {
            "name": name,
            "standard": standard,
            **ext.describe(),
            "num_samples": self.num_samples,
            "reference": reference,
            "reference_split": dataset.split,
            "generated": "seeded N(0, I) latents, uniform labels if conditional, eval mode",
            "numerics": numerics(ext, self.device),
            **self.settings(),
        }

    def settings(self) -> dict[str, Any]:
        """Metric-specific settings for the protocol (k, subsets, ...)."""
        return {}

    # Features.
    def real_outputs(self, dataset) -> dict[str, torch.Tensor]:
        """The extractor's outputs on the reference images, cached on disk."""
        ext = self.extractor()
        n = self.reference_size(dataset)
        if self.num_samples > len(dataset):
            warnings.warn(
                f"{dataset.name}/{dataset.split} has {len(dataset)} images, fewer than the "
                f"{self.num_samples} generated; the whole split is the reference",
                stacklevel=3,
            )
        digest = dataset_digest(dataset)
        where = numerics(ext, self.device)
        path = (
            cache_dir()
            / f"{ext.id()}-{where}-{dataset.name}-{dataset.split}-{n}-{digest}.safetensors"
        )
        if path.is_file():
            try:
                return load_file(path)
            except Exception:  # a torn or foreign file: compute again
                pass
        batches = real_batches(dataset, n, self.batch_size)
        outputs = _run(
            ext, batches, n, f"{ext.tag} features, {dataset.name}/{dataset.split}", self.device
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        save_file({k: v.contiguous() for k, v in outputs.items()}, tmp)
        os.replace(tmp, path)
        return outputs

    def _fake_entry(self, generator, seed: int) -> list:
        ext = self.extractor()
        # Keyed by the weights' and buffers' content: a generator that trained on since (fused
        # Adam updates parameters without bumping their version counters) or whose batch-norm
        # statistics moved is sampled again.
        key = (seed, self.num_samples, self.batch_size, self.device, fingerprint(generator))
        per_generator = _FAKE.setdefault(generator, {})
        entry = per_generator.get(ext.id())
        if entry is None or entry[0] != key:
            batches = generated_batches(generator, self.num_samples, self.batch_size, seed)
            outputs = _run(
                ext, batches, self.num_samples, f"{ext.tag} features, generated", self.device
            )
            entry = per_generator[ext.id()] = [key, outputs, {}]
        return entry

    def fake_outputs(self, generator, seed: int = 0) -> dict[str, torch.Tensor]:
        """The extractor's outputs on ``num_samples`` generated images (memory cache)."""
        return self._fake_entry(generator, seed)[1]

    def shared(self, generator, seed: int, key: tuple, compute: Callable[[], Any]) -> Any:
        """A result derived from this generator's features, computed once (e.g. the k-NN
        metrics, which give precision, recall, density and coverage in one pass)."""
        derived = self._fake_entry(generator, seed)[2]
        if key not in derived:
            derived[key] = compute()
        return derived[key]

    # Scoring.
    @torch.no_grad()
    def compute(self, generator, dataset, seed: int = 0) -> float:
        self.check_dataset(dataset)
        was_training = generator.training
        generator.eval()
        try:
            fake = self.fake_outputs(generator, seed)
            return float(self.score(dataset, generator, fake, seed))
        finally:
            generator.train(was_training)

    def score(self, dataset, generator, fake: dict[str, torch.Tensor], seed: int) -> float:
        raise NotImplementedError  # abstract

    # Reference statistics (.npz with mu and sigma, the pytorch-fid / clean-fid layout).
    def reference_stats(self, dataset) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, sigma) of the reference: from ``ref_stats`` if given, else from the features."""
        if self.ref_stats is not None:
            return load_stats(self.ref_stats, self.extractor().dim)
        from .stats import mean_cov

        return mean_cov(self.real_outputs(dataset)["features"])

    def write_reference_stats(self, dataset, path: str | os.PathLike) -> Path:
        """Write ``mu``, ``sigma`` (float64) and the protocol of the reference to ``path``
        (.npz)."""
        import json

        import numpy as np

        from .stats import mean_cov

        self.check_dataset(dataset)
        mu, sigma = mean_cov(self.real_outputs(dataset)["features"])
        path = Path(path)
        if path.suffix != ".npz":
            raise MetricError(
                f"reference statistics are written as .npz, not '{path.suffix or path.name}'"
            )
        protocol = self.protocol(dataset)
        protocol["reference_digest"] = dataset_digest(dataset)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, mu=mu.numpy(), sigma=sigma.numpy(), protocol=np.array(json.dumps(protocol)))
        os.replace(tmp, path)
        return path


MAX_STATS_BYTES = 256 * 2**20


def load_stats(
    path: str | os.PathLike, dim: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``mu`` (D,) and ``sigma`` (D, D) float64 from a pytorch-fid / clean-fid style ``.npz``
    (no pickles: object arrays are refused)."""
    import zipfile

    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise MetricError(f"reference statistics '{path}' not found")
    if path.stat().st_size > MAX_STATS_BYTES:
        raise MetricError(
            f"{path} is larger than {MAX_STATS_BYTES >> 20} MB; not a statistics file"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            if "mu" not in data.files or "sigma" not in data.files:
                raise MetricError(
                    f"{path} has no 'mu' and 'sigma' arrays "
                    f"(found: {', '.join(data.files) or 'none'})"
                )
            mu, sigma = data["mu"], data["sigma"]
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise MetricError(f"{path} is not a readable .npz statistics file ({exc})") from None
    if mu.dtype.kind != "f" or sigma.dtype.kind != "f":
        raise MetricError(
            f"{path}: mu and sigma must be floating point, not {mu.dtype} and {sigma.dtype}"
        )
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise MetricError(f"{path}: mu {mu.shape} and sigma {sigma.shape} must be (D,) and (D, D)")
    if dim is not None and mu.shape[0] != dim:
        raise MetricError(
            f"{path} holds {mu.shape[0]}-d statistics; this metric's features are {dim}-d"
        )
    mu_t, sigma_t = torch.from_numpy(mu).double(), torch.from_numpy(sigma).double()
    if not (torch.isfinite(mu_t).all() and torch.isfinite(sigma_t).all()):
        raise MetricError(f"{path}: mu or sigma holds NaN or infinity")
    return mu_t, sigma_t


def stats_protocol(path: str | os.PathLike) -> dict[str, Any] | None:
    """The protocol a gan-zoo stats file was written with (None for foreign files)."""
    import json

    import numpy as np

    with np.load(Path(path), allow_pickle=False) as data:
        if "protocol" not in data.files:
            return None
        return json.loads(str(data["protocol"]))
