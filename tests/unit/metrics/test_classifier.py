"""The built-in classifier metrics (gan_zoo.metrics): the shipped Fashion-MNIST CNN, its
accuracy, and the metrics computed from it on real data."""

import pytest
import torch
from helpers import REAL_FASHION_MNIST, needs_fashion_mnist

import gan_zoo
from gan_zoo import plugins
from gan_zoo.errors import GanZooError
from gan_zoo.metrics import classifier, stats

CLASSIFIER_METRICS = {"classifier-fd", "class-coverage", "class-accuracy"}


def test_classifier_metrics_are_built_in_plugins():
    entries = {e.name: e for e in plugins.registry("metrics").list()}
    assert CLASSIFIER_METRICS <= set(entries)
    assert {entries[n].plugin.distribution for n in CLASSIFIER_METRICS} == {"gan-zoo"}
    assert entries["class-accuracy"].supports.conditional


def test_shipped_weights_are_small_safetensors_with_their_accuracy():
    path = classifier.weights_path("fashion-mnist")
    assert path.is_file() and path.stat().st_size < 3 * 2**20
    meta = classifier.read_metadata(path)
    assert (
        float(meta["test_accuracy"]) >= 0.93 and meta["trained_by"] == "scripts/train_classifier.py"
    )


@pytest.fixture(scope="module")
def fmnist():
    if not (REAL_FASHION_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(
            "the real Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
        )
    from gan_zoo.datasets.idx import fashion_mnist

    return {s: fashion_mnist(split=s, data_dir=str(REAL_FASHION_MNIST)) for s in ("train", "test")}


def outputs(images_uint8: torch.Tensor) -> dict[str, torch.Tensor]:
    ext = classifier.ClassifierExtractor("fashion-mnist")
    parts = [
        ext(images_uint8[i : i + 2000].float() / 127.5 - 1)
        for i in range(0, len(images_uint8), 2000)
    ]
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


@pytest.mark.slow
@needs_fashion_mnist
def test_shipped_classifier_accuracy_on_the_real_test_set(fmnist):
    test = fmnist["test"]
    logits = outputs(test.images)["logits"]
    accuracy = float((logits.argmax(1) == test.labels).double().mean())
    meta = classifier.read_metadata(classifier.weights_path("fashion-mnist"))
    assert accuracy >= 0.93
    assert accuracy == pytest.approx(float(meta["test_accuracy"]), abs=1e-4)


@pytest.mark.slow
@needs_fashion_mnist
def test_real_data_behaves_as_it_must_in_the_classifier_space(fmnist):
    test = outputs(fmnist["test"].images)["features"]  # (10000, 128)
    order = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))
    a, b = test[order[:5000]], test[order[5000:]]
    # KID of two disjoint halves of the test set is zero within its spread.
    kid, kid_std = stats.kernel_distance(a, b, subsets=50, subset_size=1000)
    assert abs(kid) < 3 * kid_std
    # The Frechet distance grows monotonically as noise is added to the real images.
    images = fmnist["test"].images[order[5000:]].float()
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(images.shape, generator=g)
    fds = [stats.frechet_distance(a, b)]
    for sigma in (8, 24, 64):
        noisy = (images + sigma * noise).round().clamp(0, 255).to(torch.uint8)
        fds.append(stats.frechet_distance(a, outputs(noisy)["features"]))
    assert fds == sorted(fds) and fds[0] < 0.1 * fds[-1]
    # Precision and recall: 1 for a set against itself, high for two halves of one split.
    same = stats.manifold_metrics(a, a.clone())
    assert same["precision"] == same["recall"] == 1.0
    halves = stats.manifold_metrics(a, b)
    assert (
        halves["precision"] > 0.8 and halves["recall"] > 0.8 and halves["coverage"] > 0.8
    )  # 0.87 measured


class ReplayGenerator(torch.nn.Module):
    """A 'conditional generator' that returns real images of the class asked for."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, num_classes: int = 10):
        super().__init__()
        self.z_dim, self.image_size, self.channels, self.num_classes = 8, 28, 1, num_classes
        self.by_class = [images[labels == c] for c in range(num_classes)]

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if labels is None:
            labels = torch.zeros(len(z), dtype=torch.long)
        index = (z[:, 0].abs() * 1e4).long()  # (B,): a pseudo-random image per latent
        picked = [
            self.by_class[c][i % len(self.by_class[c])]
            for c, i in zip(labels.tolist(), index.tolist(), strict=True)
        ]
        return torch.stack(picked).float() / 127.5 - 1  # (B, 1, 28, 28)


@pytest.mark.slow
@needs_fashion_mnist
def test_metrics_on_a_generator_that_replays_real_training_images(fmnist):
    train, test = fmnist["train"], fmnist["test"]
    generator = ReplayGenerator(train.images, train.labels)
    scores = {
        n: gan_zoo.create_metric(n, num_samples=5000).compute(generator, test)
        for n in sorted(CLASSIFIER_METRICS)
    }
    assert (
        scores["class-accuracy"] > 0.9
    )  # training images: about the classifier's training accuracy
    assert scores["class-coverage"] > 0.99  # uniform labels
    torch.manual_seed(0)
    untrained = gan_zoo.create_metric("classifier-fd", num_samples=5000).compute(
        gan_zoo.create_generator("dcgan"), test
    )
    assert 0 <= scores["classifier-fd"] < 0.05 * untrained
    collapsed = ReplayGenerator(
        train.images, torch.where(train.labels == 3, 0, 1)
    )  # one class only, as class 0
    collapsed.num_classes = 0
    assert (
        gan_zoo.create_metric("class-coverage", num_samples=2000).compute(collapsed, test) < 0.15
    )  # a few dresses pass for shirts or coats
    protocol = gan_zoo.create_metric("classifier-fd").protocol(test)
    assert protocol["name"] == "gan-zoo/fashion-mnist-cnn-10k-test"
    assert protocol["network_sha256"] == classifier.weights_hash("fashion-mnist")


def test_datasets_and_generators_without_a_classifier_are_one_line_errors(idx_dir):
    test = gan_zoo.create_dataset("fashion-mnist", split="test", data_dir=str(idx_dir))
    mnist_like = gan_zoo.create_dataset("mnist", split="test", data_dir=str(idx_dir))
    with pytest.raises(GanZooError, match="ships a classifier for fashion-mnist only, not 'mnist'"):
        gan_zoo.create_metric("class-coverage").compute(
            gan_zoo.create_generator("dcgan"), mnist_like
        )
    with pytest.raises(GanZooError, match="needs a conditional generator"):
        gan_zoo.create_metric("class-accuracy", num_samples=8).compute(
            gan_zoo.create_generator("dcgan"), test
        )
    with pytest.raises(GanZooError, match="28x28 grayscale samples"):
        big = gan_zoo.create_generator("dcgan", image_size=32, channels=3)
        gan_zoo.create_metric("classifier-fd", num_samples=8).compute(big, test)


def test_classifier_metrics_on_an_untrained_conditional_generator(idx_dir):
    test = gan_zoo.create_dataset("fashion-mnist", split="test", data_dir=str(idx_dir))
    torch.manual_seed(0)
    generator = gan_zoo.create_generator("cdcgan", num_classes=10)
    accuracy = gan_zoo.create_metric("class-accuracy", num_samples=64).compute(generator, test)
    coverage = gan_zoo.create_metric("class-coverage", num_samples=64).compute(generator, test)
    fd = gan_zoo.create_metric("classifier-fd", num_samples=64).compute(generator, test)
    assert 0 <= accuracy <= 1 and 0 <= coverage <= 1 and fd > 0
