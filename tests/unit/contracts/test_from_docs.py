"""Plugins written from the docs alone, with only the documented members and no gan-zoo base
class, work everywhere: training, evaluation, ``gan-zoo plugins --check`` and the kit."""

from __future__ import annotations

import math
import types

import pytest
import torch
from click.testing import CliRunner
from helpers import ROOT

import gan_zoo
from gan_zoo import plugins
from gan_zoo.cli import build_cli
from gan_zoo.contracts import CONTRACTS, LOSS, METRIC, ContractError
from gan_zoo.hookspecs import hookimpl
from gan_zoo.plugin_check import check_plugins
from gan_zoo.testing.protocols import check_dataset, check_metric
from gan_zoo.testing.training import check_loss_properties, loss_config, train_two_steps

DOCS = ROOT / "docs"
RUN_OPTIONS = dict(
    progress="quiet",
    batch_size=16,
    device="cpu",
    steps=2,
    overrides=["generator.width=4", "discriminator.width=4", "z_dim=8"],
)


def docs_metric_plugin() -> types.ModuleType:
    """The metric plugin of docs/writing-plugins.md, executed as its module."""
    text = (DOCS / "writing-plugins.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    (example,) = [b for b in blocks if "def register_metrics" in b]
    module = types.ModuleType("gan_zoo_brightness")
    exec(compile(example, "docs/writing-plugins.md", "exec"), module.__dict__)
    return module


def test_the_metric_example_in_the_docs_works_everywhere(idx_dir, tmp_path, register_plugin):
    register_plugin(docs_metric_plugin(), "brightness")
    assert not hasattr(
        plugins.registry("metrics").create(
            "mean-brightness", num_samples=4, batch_size=2, device="cpu"
        ),
        "check_dataset",
    )
    run = gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        data_dir=str(idx_dir),
        out=str(tmp_path / "run"),
        eval_metric="mean-brightness",
        eval_samples=8,
        **RUN_OPTIONS,
    )
    results = gan_zoo.evaluate(
        run.dir,
        ["mean-brightness"],
        num_samples=8,
        batch_size=4,
        device="cpu",
        data_dir=str(idx_dir),
    )
    assert math.isfinite(results["mean-brightness"]["value"])
    assert results["mean-brightness"]["protocol"]["name"] == "mean-brightness"
    out = CliRunner().invoke(
        build_cli(),
        [
            "evaluate",
            str(run.dir),
            "--metric",
            "mean-brightness",
            "--n",
            "4",
            "--data-dir",
            str(idx_dir),
        ],
    )
    assert out.exit_code == 0, out.output
    assert check_plugins("test") == []
    check_metric(plugins.registry("metrics").get("mean-brightness"), {}, compute=True)


class DocsLoss:
    """The non-saturating loss with only the required members of the Loss protocol."""

    def d_loss(self, real_logits, fake_logits):
        softplus = torch.nn.functional.softplus
        return softplus(-real_logits.float()).mean() + softplus(fake_logits.float()).mean()

    def g_loss(self, fake_logits):
        return torch.nn.functional.softplus(-fake_logits.float()).mean()


class DocsDataset:
    """Blobs in memory with only the members of the Dataset protocol."""

    name, split, source = "docs-data", "train", "memory"
    class_names = ["dark", "light"]
    image_size, channels, num_classes = 28, 1, 2

    def __init__(
        self, split="train", data_dir=None, download=False, image_size=None, channels=None
    ):
        g = torch.Generator().manual_seed(0)
        self.split = split
        self.images = torch.rand(64, 1, 28, 28, generator=g) * 2 - 1  # (N, C, H, W)
        self.labels = torch.arange(64) % 2  # (N,)

    def __len__(self):
        return len(self.images)

    def to(self, device):
        self.images, self.labels = self.images.to(device), self.labels.to(device)
        return self

    def batches(self, batch_size, generator=None, drop_last=True):
        order = torch.randperm(len(self), generator=generator).to(self.images.device)
        stop = len(self) - len(self) % batch_size if drop_last else len(self)
        for start in range(0, stop, batch_size):
            index = order[start : start + batch_size]
            yield self.images[index], self.labels[index]

    def sample(self, n, generator=None):
        return next(self.batches(min(n, len(self)), generator))

    def class_counts(self):
        return [int((self.labels == k).sum()) for k in range(2)]


class DocsPlugin:
    @hookimpl
    def register_losses(self, register):
        register("docs-loss", DocsLoss, description="A loss with only the required members.")

    @hookimpl
    def register_datasets(self, register):
        register(
            "docs-data",
            DocsDataset,
            description="A dataset with only the protocol members.",
            image_sizes=(28,),
            channels=(1,),
        )


def test_a_loss_and_a_dataset_from_the_docs_alone_train(tmp_path, register_plugin):
    register_plugin(DocsPlugin(), "docs-plugin")
    run = gan_zoo.train(
        "dcgan", "docs-data", loss="docs-loss", out=str(tmp_path / "run"), **RUN_OPTIONS
    )
    assert all(math.isfinite(v) for v in run.last_losses.values())
    assert check_plugins("test") == []
    loss_entry = plugins.registry("losses").get("docs-loss")
    check_loss_properties(loss_entry, {})
    train_two_steps(loss_config(loss_entry, {}, "bf16"), "docs-loss in bf16")
    check_dataset(plugins.registry("datasets").get("docs-data"), None, tmp_path / "data", {})


def test_optional_members_come_from_the_contract_when_missing():
    bare = DocsLoss()
    assert LOSS.get(bare, "regularizer")(None, None, None) is None
    assert (
        LOSS.get(bare, "training_state")() == {}
        and LOSS.get(bare, "uses_real_logits_in_g") is False
    )
    assert LOSS.get(bare, "after_d_step")(None) is None
    metric = types.SimpleNamespace(higher_is_better=True, extra={"std": 1.0})
    assert METRIC.get(metric, "extra") == {"std": 1.0}  # its own member wins
    assert dict(METRIC.get(types.SimpleNamespace(), "extra")) == {}
    assert METRIC.get(metric, "write_reference_stats") is None
    with pytest.raises(AttributeError, match="not a member of the metric contract"):
        METRIC.get(metric, "score")
    assert set(CONTRACTS) == {
        "generators",
        "discriminators",
        "losses",
        "datasets",
        "metrics",
        "models",
    }


def test_a_check_names_the_breach():
    class NoGLoss:
        def d_loss(self, real_logits, fake_logits):
            return real_logits.float().mean()

    with pytest.raises(
        ContractError,
        match=r"loss NoGLoss breaks the plugin contract: it lacks "
        r"g_loss of the Loss protocol",
    ):
        LOSS.check(NoGLoss(), "signature")
