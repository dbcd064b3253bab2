"""A small CNN trained on Fashion-MNIST, and three fast metrics from it.

The network (:class:`SmallCNN`, about 0.45M parameters) is trained on the training split by
``scripts/train_classifier.py`` and ships in the wheel as ``fashion-mnist-cnn.safetensors``
(loaded with safetensors only; its test accuracy is in the file's metadata and in
docs/metrics.md). It scores 10,000 samples in seconds on a CPU, so it suits scoring during
training where Inception would take minutes.

- ``classifier-fd``: Frechet distance between real and generated penultimate features (128-d):
  FID's formula with a feature network trained on the domain itself; lower is better. Not
  comparable with Inception FID.
- ``class-coverage``: normalised entropy of the predicted classes over the generated samples:
  1 when every class is produced equally often, 0 when all samples fall in one class, the
  signature of mode collapse (the class-histogram check of Santurkar et al. 2018,
  arXiv:1711.00970); higher is better.
- ``class-accuracy``: for conditional generators, the share of samples classified as the class
  they were asked for; higher is better.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import MetricError, stats
from .base import STANDARD_SAMPLES, FeatureMetric

#: Dataset name -> shipped weights file (package data of gan_zoo.metrics).
WEIGHTS = {"fashion-mnist": "fashion-mnist-cnn.safetensors"}
FEATURES = 128
IMAGE_SIZE = 28


class SmallCNN(nn.Module):
    """Three stages of two convs (16, 32, 64 channels; 28 -> 14 -> 7), a 128-d feature layer,
    logits."""

    def __init__(self, num_classes: int = 10, width: int = 16):
        super().__init__()

        def stage(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            )

        self.stage1 = stage(1, width)  # (B, w, 28, 28)
        self.stage2 = stage(width, 2 * width)  # (B, 2w, 14, 14)
        self.stage3 = stage(2 * width, 4 * width)  # (B, 4w, 7, 7)
        self.features = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(4 * width * 7 * 7, FEATURES),
            nn.ReLU(inplace=True),
        )  # the 7x7 layout matters on Fashion-MNIST: a global average pool loses ~4 points
        self.head = nn.Linear(FEATURES, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features (B, 128) of images (B, 1, 28, 28) in [-1, 1]."""
        x = self.stage1(x)
        x = self.stage2(F.max_pool2d(x, 2))
        x = self.stage3(F.max_pool2d(x, 2))
        return self.features(x)  # (B, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))  # (B, num_classes) logits


def weights_path(dataset_name: str) -> Path:
    if dataset_name not in WEIGHTS:
        known = ", ".join(sorted(WEIGHTS))
        raise MetricError(
            f"gan-zoo ships a classifier for {known} only, not '{dataset_name}'; "
            "use 'fid' (pip install gan-zoo-fid)"
        )
    return Path(str(resources.files(__package__) / WEIGHTS[dataset_name]))


def read_metadata(path: Path) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


@lru_cache(maxsize=4)
def load_classifier(dataset_name: str, device: str = "cpu") -> SmallCNN:
    """The shipped classifier for ``dataset_name``, in eval mode (safetensors, never pickle)."""
    from safetensors.torch import load_file

    path = weights_path(dataset_name)
    if not path.is_file():
        raise MetricError(f"{path} is missing from the gan-zoo install; reinstall gan-zoo")
    meta = read_metadata(path)
    net = SmallCNN(num_classes=int(meta.get("num_classes", 10)), width=int(meta.get("width", 16)))
    net.load_state_dict(load_file(str(path)))
    return net.eval().requires_grad_(False).to(device=device, memory_format=torch.channels_last)


@lru_cache(maxsize=4)
def weights_hash(dataset_name: str) -> str:
    return hashlib.sha256(weights_path(dataset_name).read_bytes()).hexdigest()[:12]


class ClassifierExtractor:
    """Penultimate features (128-d) and logits of the shipped classifier."""

    dim = FEATURES

    def __init__(self, dataset_name: str, device: str = "cpu"):
        self.dataset_name, self.device = dataset_name, device
        self.tag = f"{dataset_name}-cnn"

    def id(self) -> str:
        return f"{self.tag}-{weights_hash(self.dataset_name)}"

    def describe(self) -> dict[str, Any]:
        meta = read_metadata(weights_path(self.dataset_name))
        return {
            "network": f"gan-zoo {self.dataset_name} CNN, penultimate 128-d "
            f"(test accuracy {meta.get('test_accuracy', '?')})",
            "network_sha256": weights_hash(self.dataset_name),
            "resize": "none (28x28), uint8-quantised",
            "precision": "float32",
        }

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        net = load_classifier(self.dataset_name, self.device)
        x = ((images.float() + 1) * 127.5).round().clamp(
            0, 255
        ) / 127.5 - 1  # what a saved PNG holds
        feats = net.embed(x.contiguous(memory_format=torch.channels_last))  # (B, 128)
        return {"features": feats.double().cpu(), "logits": net.head(feats).float().cpu()}


class ClassifierMetric(FeatureMetric):
    """A metric on the shipped classifier of the dataset being measured."""

    name = "classifier"

    def __init__(
        self,
        num_samples: int = STANDARD_SAMPLES,
        batch_size: int = 500,
        device: str = "cpu",
        ref_stats=None,
    ):
        super().__init__(num_samples, batch_size, device, ref_stats)
        self._extractor: ClassifierExtractor | None = None
        self._dataset_name = "fashion-mnist"

    def extractor(self) -> ClassifierExtractor:
        if self._extractor is None or self._extractor.dataset_name != self._dataset_name:
            self._extractor = ClassifierExtractor(self._dataset_name, self.device)
        return self._extractor

    def check_dataset(self, dataset) -> None:
        weights_path(dataset.name)  # a one-line error for datasets without a classifier
        if dataset.channels != 1 or dataset.image_size != IMAGE_SIZE:
            raise MetricError(
                f"{self.name} needs {dataset.name} at 28x28 grayscale, not {dataset.image_size}x"
                f"{dataset.image_size} with {dataset.channels} channels; use 'fid' instead"
            )
        self._dataset_name = dataset.name

    def protocol(self, dataset) -> dict[str, Any]:
        self.check_dataset(dataset)
        return super().protocol(dataset)

    def check_generator(self, generator) -> None:
        if int(generator.image_size) != IMAGE_SIZE or int(generator.channels) != 1:
            raise MetricError(
                f"{self.name} needs 28x28 grayscale samples, not {generator.image_size}x"
                f"{generator.image_size} with {generator.channels} channels"
            )

    def compute(self, generator, dataset, seed: int = 0) -> float:
        self.check_dataset(dataset)
        self.check_generator(generator)
        return super().compute(generator, dataset, seed)


class ClassifierFD(ClassifierMetric):
    """Frechet distance in the classifier's 128-d feature space; lower is better."""

    name = "classifier-fd"
    needs_reference_features = False

    def score(self, dataset, generator, fake, seed) -> float:
        return stats.frechet_from_stats(
            *self.reference_stats(dataset), *stats.mean_cov(fake["features"])
        )


class ClassCoverage(ClassifierMetric):
    """Normalised entropy of predicted classes over the samples; 1 = balanced, 0 = collapsed."""

    name = "class-coverage"
    higher_is_better = True

    def score(self, dataset, generator, fake, seed) -> float:
        logits = fake["logits"]
        return stats.class_coverage(logits.argmax(1), logits.shape[1])


class ClassAccuracy(ClassifierMetric):
    """Share of a conditional generator's samples classified as the class asked for."""

    name = "class-accuracy"
    higher_is_better = True

    def check_generator(self, generator) -> None:
        super().check_generator(generator)
        if not int(getattr(generator, "num_classes", 0) or 0):
            raise MetricError(
                "class-accuracy needs a conditional generator (this one has no classes)"
            )

    def score(self, dataset, generator, fake, seed) -> float:
        return float((fake["logits"].argmax(1) == fake["labels"]).double().mean())
