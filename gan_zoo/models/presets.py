"""The built-in presets (the ``models`` kind): recipes as data, no torch needed to list them.

Each preset is a :class:`gan_zoo.config.Preset` instance: the generator, discriminator and loss
by registry name with their options, and the recipe's hyper-parameters. ``gan-zoo train PRESET
DATASET --set ...`` starts from a copy of one of these. Presets without ``image_size`` train at
the dataset's own size (28x28x1 for Fashion-MNIST); the others declare the size they are
written for and the trainer resizes the data to it.

The last three reproduce the recipes of the classic Fashion-GAN write-ups (Keras scripts) so
they can be run side by side with the others.
"""

from __future__ import annotations

from ..config import NetSpec, OptimizerConfig, Preset

#: Keras' Adam defaults, which the write-ups used.
_KERAS_BETAS = (0.9, 0.999)

DCGAN = Preset(
    generator=NetSpec("dcgan"),
    discriminator=NetSpec("dcgan"),
    loss=NetSpec("bce"),
    z_dim=100,
    batch_size=128,
    epochs=25,
    g_optim=OptimizerConfig(lr=2e-4, betas=(0.5, 0.999)),
    d_optim=OptimizerConfig(lr=2e-4, betas=(0.5, 0.999)),
)

# Gulrajani et al. 2017, the DCGAN-style experiments: no BatchNorm in the critic (the penalty
# is per sample), 5 critic steps per G step, Adam 1e-4, betas (0.5, 0.9), lambda 10.
WGAN_GP = Preset(
    generator=NetSpec("dcgan"),
    discriminator=NetSpec("dcgan", {"norm": "none"}),
    loss=NetSpec("wgan-gp", {"gp_weight": 10.0}),
    z_dim=128,
    batch_size=64,
    epochs=25,
    n_critic=5,
    g_optim=OptimizerConfig(lr=1e-4, betas=(0.5, 0.9)),
    d_optim=OptimizerConfig(lr=1e-4, betas=(0.5, 0.9)),
)

# Miyato et al. 2018, CIFAR-10 ResNet with the hinge loss: Adam 2e-4, betas (0, 0.9), n_dis 5.
SNGAN = Preset(
    generator=NetSpec("resnet"),
    discriminator=NetSpec("resnet", {"spectral_norm": True}),
    loss=NetSpec("hinge"),
    z_dim=128,
    batch_size=64,
    epochs=50,
    n_critic=5,
    g_optim=OptimizerConfig(lr=2e-4, betas=(0.0, 0.9)),
    d_optim=OptimizerConfig(lr=2e-4, betas=(0.0, 0.9)),
    image_size=32,
)

# Conditional-BatchNorm DCGAN + spectrally normalized projection discriminator (Miyato & Koyama
# 2018), hinge loss, DCGAN's Adam settings: with this DCGAN-sized G they gave clearer samples
# on Fashion-MNIST after 400 steps than SAGAN's TTUR (1e-4 / 4e-4, betas (0, 0.9)).
CGAN = Preset(
    generator=NetSpec("cdcgan"),
    discriminator=NetSpec("projection"),
    loss=NetSpec("hinge"),
    z_dim=100,
    batch_size=64,
    epochs=25,
    g_optim=OptimizerConfig(lr=2e-4, betas=(0.5, 0.999)),
    d_optim=OptimizerConfig(lr=2e-4, betas=(0.5, 0.999)),
)

# Goodfellow et al. 2014: fully connected G and D, with today's usual Adam settings.
GAN = Preset(
    generator=NetSpec("mlp"),
    discriminator=NetSpec("mlp"),
    loss=NetSpec("bce"),
    z_dim=100,
    batch_size=64,
    epochs=50,
    g_optim=OptimizerConfig(lr=2e-4, betas=(0.5, 0.999)),
    d_optim=OptimizerConfig(lr=2e-4, betas=(0.5, 0.999)),
)

# Write-up "Fashion Item Generator using GANs": G = dense, three transposed convs with ReLU, a
# final tanh conv; D = flatten, dense ReLU, dense ReLU, sigmoid; BCE; Adam 1e-4; batch 128;
# 50 epochs; images in [-1, 1].
CONV_MLP = Preset(
    generator=NetSpec("dcgan-dense", {"activation": "relu", "final_conv": True}),
    discriminator=NetSpec("mlp-relu"),
    loss=NetSpec("bce"),
    z_dim=100,
    batch_size=128,
    epochs=50,
    g_optim=OptimizerConfig(lr=1e-4, betas=_KERAS_BETAS),
    d_optim=OptimizerConfig(lr=1e-4, betas=_KERAS_BETAS),
)

# Write-up "Fashion Image Generation using GANs" (Polyvore photos, Saed & Kalashi): 128x128
# grayscale, noise 100, dense to 8x8x512, transposed convs, tanh; D = convs, flatten, dense
# sigmoid; BCE; Adam with learning-rate decay; batch 32; 150 epochs.
DCGAN_128 = Preset(
    generator=NetSpec("dcgan-128"),
    discriminator=NetSpec("dcgan-128"),
    loss=NetSpec("bce"),
    z_dim=100,
    batch_size=32,
    epochs=150,
    g_optim=OptimizerConfig(lr=2e-4, betas=(0.5, 0.999)),
    d_optim=OptimizerConfig(lr=2e-4, betas=(0.5, 0.999)),
    lr_decay="linear",
    image_size=128,
    channels=1,
)

# Write-up "Fashion-MNIST Generative Adversarial Network": data in [-1, 1], G = dense, reshape,
# transposed convs with LeakyReLU, tanh; D = convs with LeakyReLU, flatten, dense sigmoid; BCE;
# Adam. The layout is the TensorFlow DCGAN tutorial's, whose settings (Adam 1e-4, batch 256,
# 50 epochs) fill in what the write-up leaves open.
DCGAN_LEAKY = Preset(
    generator=NetSpec("dcgan-dense", {"activation": "leaky-relu"}),
    discriminator=NetSpec("dcgan-dense"),
    loss=NetSpec("bce"),
    z_dim=100,
    batch_size=256,
    epochs=50,
    g_optim=OptimizerConfig(lr=1e-4, betas=_KERAS_BETAS),
    d_optim=OptimizerConfig(lr=1e-4, betas=_KERAS_BETAS),
)
