"""A plugin whose entries break the contract on purpose, each in one way (tests name them)."""

from gan_zoo.hookspecs import hookimpl


def _tiny(z_dim: int, image_size: int, channels: int, out_size: int, explode: bool):
    import torch
    from torch import nn

    class FaultyGenerator(nn.Module):
        def __init__(self):
            super().__init__()
            self.z_dim, self.image_size, self.channels, self.num_classes = (
                z_dim,
                image_size,
                channels,
                0,
            )
            self.fc = nn.Linear(z_dim, channels * out_size * out_size)

        def forward(self, z, labels=None):
            if explode:
                raise RuntimeError("exploded on purpose")
            return torch.tanh(self.fc(z)).view(-1, channels, out_size, out_size)

    return FaultyGenerator()


def ignoring_psi_generator(z_dim: int = 8, image_size: int = 28, channels: int = 1):
    """Takes ``truncation_psi`` (so ``--psi`` reaches it) and ignores it."""
    import torch
    from torch import nn

    class IgnoresPsi(nn.Module):
        def __init__(self):
            super().__init__()
            self.z_dim, self.image_size, self.channels, self.num_classes = (
                z_dim,
                image_size,
                channels,
                0,
            )
            self.fc = nn.Linear(z_dim, channels * image_size * image_size)

        def forward(self, z, labels=None, truncation_psi=1.0):
            return torch.tanh(self.fc(z)).view(-1, channels, image_size, image_size)

    return IgnoresPsi()


def raising_generator(z_dim: int = 8, image_size: int = 28, channels: int = 1):
    return _tiny(z_dim, image_size, channels, image_size, explode=True)


def wrong_size_generator(z_dim: int = 8, image_size: int = 28, channels: int = 1):
    return _tiny(z_dim, image_size, channels, image_size + 4, explode=False)


class VectorLoss:
    """Returns one loss per image instead of a scalar."""

    logits_are_log_odds = False
    uses_real_logits_in_g = False

    def d_loss(self, real_logits, fake_logits):
        return (fake_logits - real_logits).float()

    def g_loss(self, fake_logits):
        return -fake_logits.float()

    def regularizer(self, discriminator, real, fake, labels=None):
        return None

    def after_d_step(self, discriminator):
        pass


class NaNLoss(VectorLoss):
    """A scalar, but NaN."""

    def d_loss(self, real_logits, fake_logits):
        return (fake_logits - real_logits).float().mean() * float("nan")

    def g_loss(self, fake_logits):
        return -fake_logits.float().mean() * float("nan")


@hookimpl
def register_generators(register):
    register("raising-gen", raising_generator, description="Raises in forward.", image_sizes=(28,))
    register(
        "wrong-size", wrong_size_generator, description="Says 28 px, makes 32.", image_sizes=(28,)
    )
    register(
        "missing-target",
        "gan_zoo_testplugins.nowhere:Generator",
        description="Lazy target that does not import.",
    )
    register(
        "ignores-psi",
        ignoring_psi_generator,
        description="Takes truncation_psi, ignores it.",
        image_sizes=(28,),
    )


@hookimpl
def register_losses(register):
    register("vector-loss", VectorLoss, description="Not a scalar.")
    register("nan-loss", NaNLoss, description="NaN.")
