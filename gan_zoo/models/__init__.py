"""Built-in plugin: generator and discriminator architectures and the presets that pair them.

This module is what the plugin manager registers; it imports no torch. Each entry points at
its family file with a lazy ``"module:attribute"`` reference:

* ``dcgan.py``: DCGAN (Radford et al. 2015) at 28, 32 and 64 px;
* ``dcgan_dense.py``: the Keras-style DCGAN with a dense stem (``dcgan-dense``, ``dcgan-128``);
* ``mlp.py``: the fully connected GAN (Goodfellow et al. 2014) and the write-ups' MLP critic;
* ``resnet.py``: SNGAN's residual networks (Miyato et al. 2018);
* ``conditional.py``: conditional-BatchNorm DCGAN and the projection discriminator;
* ``presets.py``: the recipes (the ``models`` kind).
"""

from ..hookspecs import hookimpl
from . import presets

_RGB_OR_GRAY = (1, 3)


@hookimpl
def register_generators(register):
    register(
        "dcgan",
        "gan_zoo.models.dcgan:DCGANGenerator",
        description="DCGAN generator (Radford et al. 2015): transposed convs, BatchNorm, "
        "ReLU, tanh; the PyTorch reference layout at 64 px.",
        image_sizes=(28, 32, 64),
        channels=_RGB_OR_GRAY,
    )
    register(
        "dcgan-dense",
        "gan_zoo.models.dcgan_dense:DenseDCGANGenerator",
        description="Keras-style DCGAN generator: dense stem, 5x5 transposed convs, tanh "
        "(the TensorFlow tutorial layout at 28 px).",
        image_sizes=(28, 32, 64, 128),
        channels=_RGB_OR_GRAY,
    )
    register(
        "dcgan-128",
        "gan_zoo.models.dcgan_dense:dcgan_128_generator",
        description="128x128 grayscale generator: noise 100, dense to 8x8x512, "
        "transposed convs to 128.",
        image_sizes=(128,),
        channels=_RGB_OR_GRAY,
    )
    register(
        "mlp",
        "gan_zoo.models.mlp:MLPGenerator",
        description="Fully connected generator of the original GAN (Goodfellow et al. 2014), "
        "any size.",
    )
    register(
        "resnet",
        "gan_zoo.models.resnet:ResNetGenerator",
        description="SNGAN residual generator (Miyato et al. 2018): up-sampling ResBlocks, "
        "32 px CIFAR layout.",
        image_sizes=(28, 32, 64),
        channels=_RGB_OR_GRAY,
    )
    register(
        "cdcgan",
        "gan_zoo.models.conditional:CDCGANGenerator",
        description="Class-conditional DCGAN generator: conditional BatchNorm from the label.",
        image_sizes=(28, 32, 64),
        channels=_RGB_OR_GRAY,
        conditional=True,
    )


@hookimpl
def register_discriminators(register):
    register(
        "dcgan",
        "gan_zoo.models.dcgan:DCGANDiscriminator",
        description="DCGAN discriminator: strided convs, BatchNorm, LeakyReLU 0.2, one logit; "
        "optional spectral norm or no BatchNorm.",
        image_sizes=(28, 32, 64),
        channels=_RGB_OR_GRAY,
    )
    register(
        "dcgan-dense",
        "gan_zoo.models.dcgan_dense:DenseDCGANDiscriminator",
        description="Keras-style DCGAN discriminator: 5x5 strided convs, LeakyReLU, dropout, "
        "flatten, dense logit.",
        image_sizes=(28, 32, 64, 128),
        channels=_RGB_OR_GRAY,
    )
    register(
        "dcgan-128",
        "gan_zoo.models.dcgan_dense:dcgan_128_discriminator",
        description="128x128 discriminator: four strided convs to 8x8x512, flatten, dense logit.",
        image_sizes=(128,),
        channels=_RGB_OR_GRAY,
    )
    register(
        "mlp",
        "gan_zoo.models.mlp:MLPDiscriminator",
        description="Fully connected discriminator of the original GAN: LeakyReLU 0.2, dropout, "
        "any size.",
    )
    register(
        "mlp-relu",
        "gan_zoo.models.mlp:mlp_relu_discriminator",
        description="The write-ups' MLP discriminator: flatten, dense 512 ReLU, dense 256 ReLU, "
        "logit.",
    )
    register(
        "resnet",
        "gan_zoo.models.resnet:ResNetDiscriminator",
        description="SNGAN residual discriminator with spectral norm and global sum pooling "
        "(Miyato et al. 2018).",
        image_sizes=(28, 32, 64),
        channels=_RGB_OR_GRAY,
    )
    register(
        "projection",
        "gan_zoo.models.conditional:ProjectionDiscriminator",
        description="Projection discriminator (Miyato & Koyama 2018): logit + <embed(y), "
        "features>, spectral norm.",
        image_sizes=(28, 32, 64),
        channels=_RGB_OR_GRAY,
        conditional=True,
    )


@hookimpl
def register_models(register):
    register(
        "dcgan",
        presets.DCGAN,
        description="DCGAN with the non-saturating BCE loss, Adam 2e-4, betas (0.5, 0.999), "
        "batch 128.",
        image_sizes=(28, 32, 64),
        channels=_RGB_OR_GRAY,
    )
    register(
        "wgan-gp",
        presets.WGAN_GP,
        description="WGAN-GP (Gulrajani et al. 2017): DCGAN G, critic without BatchNorm, "
        "lambda 10, n_critic 5, Adam 1e-4, betas (0.5, 0.9).",
        image_sizes=(28, 32, 64),
        channels=_RGB_OR_GRAY,
    )
    register(
        "sngan",
        presets.SNGAN,
        description="SNGAN (Miyato et al. 2018): ResNet G/D at 32 px, spectral norm, hinge, "
        "Adam 2e-4, betas (0, 0.9), n_dis 5.",
        image_sizes=(32,),
        channels=_RGB_OR_GRAY,
    )
    register(
        "cgan",
        presets.CGAN,
        description="Class-conditional GAN: conditional-BatchNorm DCGAN G, projection D "
        "(Miyato & Koyama 2018), hinge, Adam 2e-4.",
        image_sizes=(28, 32, 64),
        channels=_RGB_OR_GRAY,
        conditional=True,
    )
    register(
        "gan",
        presets.GAN,
        description="The original GAN (Goodfellow et al. 2014): MLP G and D, BCE, Adam 2e-4.",
    )
    register(
        "conv-mlp",
        presets.CONV_MLP,
        description="Write-up 'Fashion Item Generator using GANs': conv G (dense, "
        "3 transposed convs, tanh conv) + MLP D, BCE, Adam 1e-4, batch 128, 50 epochs.",
        image_sizes=(28, 32, 64, 128),
        channels=_RGB_OR_GRAY,
    )
    register(
        "dcgan-128",
        presets.DCGAN_128,
        description="Write-up 'Fashion Image Generation using GANs' (Polyvore): 128x128 grayscale, "
        "dense 8x8x512 G, conv D, BCE, Adam with linear decay, batch 32.",
        image_sizes=(128,),
        channels=_RGB_OR_GRAY,
    )
    register(
        "dcgan-leaky",
        presets.DCGAN_LEAKY,
        description="Write-up 'Fashion-MNIST GAN': LeakyReLU DCGAN (TensorFlow tutorial layout) on "
        "data in [-1, 1], BCE, Adam 1e-4, batch 256.",
        image_sizes=(28, 32, 64, 128),
        channels=_RGB_OR_GRAY,
    )
