"""Entries that raise in their own code: a network, a loss, a dataset and a metric."""

from gan_zoo.hookspecs import hookimpl


class RaisingLoss:
    logits_are_log_odds = False
    uses_real_logits_in_g = False

    def d_loss(self, real_logits, fake_logits):
        raise RuntimeError("loss exploded")

    def g_loss(self, fake_logits):
        raise RuntimeError("loss exploded")

    def regularizer(self, discriminator, real, fake, labels=None):
        return None

    def after_d_step(self, discriminator):
        pass


def raising_discriminator(image_size: int = 28, channels: int = 1):
    from torch import nn

    class RaisingNet(nn.Module):
        def forward(self, x, labels=None):
            raise RuntimeError("network exploded")

    return RaisingNet()


def raising_dataset(split: str = "train", data_dir=None, download: bool = False):
    raise RuntimeError("dataset exploded")


class RaisingMetric:
    higher_is_better = False

    def __init__(self, num_samples: int = 10, batch_size: int = 10, device: str = "cpu"):
        pass

    def compute(self, generator, dataset, seed=0):
        raise RuntimeError("metric exploded")

    def protocol(self, dataset):
        return {}


@hookimpl
def register_discriminators(register):
    register("raising-net", raising_discriminator, description="Raises in forward.")


@hookimpl
def register_losses(register):
    register("raising-loss", RaisingLoss, description="Raises in d_loss.")


@hookimpl
def register_datasets(register):
    register("raising-data", raising_dataset, description="Raises when opened.")


@hookimpl
def register_metrics(register):
    register("raising-metric", RaisingMetric, description="Raises in compute.")
