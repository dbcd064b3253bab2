"""StyleGAN2's generator and discriminator (Karras et al. 2020, arXiv:1912.04958).

The generator is config F of the paper, the layout of NVlabs stylegan2-ada-pytorch's
``training/networks.py``:

* a mapping network: z is normalized to unit second moment, then an MLP (8 layers by default,
  leaky ReLU, equalized learning rate with a 0.01 multiplier) gives the intermediate latent w;
  a running mean of w (``w_avg``) enables the truncation trick in w space;
* a synthesis network from a learned constant 4x4 input: per resolution two modulated and
  demodulated 3x3 convolutions (the first upsamples), per-pixel noise with a learned strength,
  and a toRGB 1x1 modulated convolution whose outputs are upsampled and summed (the "skip"
  architecture, which replaced progressive growing);
* style mixing regularization during training (StyleGAN, Karras et al. 2019): with probability
  ``mixing_prob`` a sample's later layers take the w of a second latent.

The discriminator is the paper's residual architecture: fromRGB at full resolution, residual
blocks (two 3x3 convs, the second downsampling, plus a 1x1 downsampling skip, summed and
scaled by 1/sqrt(2)), then the minibatch standard deviation layer, a 3x3 conv, a fully
connected layer and the logit.

Widths follow the reference: ``min(channel_base // resolution, channel_max)`` channels at each
resolution, so ``channel_base`` / ``channel_max`` shrink a network for the CPU or for tests.
The paper's CIFAR-10 (32 px) setting is ``channel_base=16384, channel_max=512``.

Differences from the reference, all for plain PyTorch on any device: no custom CUDA kernels
(``upfirdn2d``, ``bias_act``) and no fp16 ``conv_clamp``; the generator upsamples with the
[1, 3, 3, 1] filter before its 3x3 convolution rather than after a transposed one (see
:mod:`.layers`); noise is drawn fresh in training mode and read from a fixed per-layer buffer
in eval mode (the reference's ``noise_mode='const'``, which its image scripts use), so an eval
generator is a deterministic function of z; and eval-mode images are clamped to [-1, 1], the
range gan-zoo's generator contract promises (the paper's raw output is unbounded and clamped
only when saved).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_zoo.errors import ConfigError

from .layers import EqualConv2d, EqualLinear, lrelu, minibatch_std, modulated_conv2d, upsample2d

#: The image sizes these networks are declared (and tested) for.
SIZES = (32, 64)
#: Image channels: grayscale or RGB.
CHANNELS = (1, 3)


def check_size_and_channels(who: str, image_size: int, channels: int) -> None:
    """One-line errors for sizes and channel counts the networks are not declared for."""
    if image_size not in SIZES:
        hint = " (train Fashion-MNIST with --image-size 32)" if image_size == 28 else ""
        raise ConfigError(
            f"{who} supports image sizes {', '.join(map(str, SIZES))}, not {image_size}{hint}"
        )
    if channels not in CHANNELS:
        raise ConfigError(f"{who} supports 1 or 3 image channels, not {channels}")


def channel_widths(
    who: str, image_size: int, channel_base: int, channel_max: int
) -> dict[int, int]:
    """Channels per resolution 4, 8, ..., image_size: ``min(channel_base // res, channel_max)``."""
    if channel_max < 1 or channel_base // image_size < 1:
        raise ConfigError(
            f"{who} needs channel_base >= image_size ({image_size}) and channel_max >= 1, "
            f"got channel_base={channel_base}, channel_max={channel_max}"
        )
    resolutions = [2**i for i in range(2, int(math.log2(image_size)) + 1)]
    return {res: min(channel_base // res, channel_max) for res in resolutions}


class MappingNetwork(nn.Module):
    """z (B, z_dim) -> w (B, w_dim); tracks the mean of w for truncation."""

    def __init__(
        self,
        z_dim: int,
        w_dim: int,
        num_layers: int = 8,
        lr_mul: float = 0.01,
        w_avg_beta: float = 0.995,
    ):
        super().__init__()
        dims = [z_dim] + [w_dim] * num_layers
        self.layers = nn.Sequential(
            *[
                EqualLinear(a, b, activation=True, lr_mul=lr_mul)
                for a, b in zip(dims, dims[1:], strict=False)
            ]
        )
        self.w_avg_beta = w_avg_beta
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0) -> torch.Tensor:
        # Normalizing the second moment makes the scale of z irrelevant (and truncated z fine).
        x = z * torch.rsqrt(z.float().square().mean(dim=1, keepdim=True) + 1e-8)  # (B, z_dim)
        w = self.layers(x)  # (B, w_dim)
        if self.training:
            with torch.no_grad():
                batch_mean = w.detach().float().mean(dim=0)  # (w_dim,)
                self.w_avg.copy_(batch_mean + self.w_avg_beta * (self.w_avg - batch_mean))
        if truncation_psi != 1.0:
            w = self.w_avg + truncation_psi * (w - self.w_avg)  # pull w toward its mean
        return w


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (optionally upsampling 2x), per-pixel noise, bias, leaky ReLU."""

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool = False
    ):
        super().__init__()
        self.up = up
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)  # styles start at 1
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        # Starts at 0: noise is added only as far as training finds it useful.
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if self.up:
            x = upsample2d(x)  # (B, Cin, 2H, 2W)
        styles = self.affine(w)  # (B, Cin)
        x = modulated_conv2d(x, self.weight, styles, demodulate=True)  # (B, Cout, H, W)
        b, _, h, wd = x.shape
        if self.training:
            noise = torch.randn(b, 1, h, wd, device=x.device, dtype=x.dtype)  # (B, 1, H, W)
        else:
            noise = self.noise_const.to(x.dtype)  # (H, W): the same noise for every sample
        x = x + noise * self.noise_strength
        return lrelu(x + self.bias.reshape(1, -1, 1, 1))


class ToRGB(nn.Module):
    """Modulated 1x1 conv to image channels, without demodulation or activation."""

    def __init__(self, in_channels: int, channels: int, w_dim: int):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.weight_gain = 1.0 / math.sqrt(in_channels)  # equalized lr, folded into the styles

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain  # (B, Cin)
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, padding=0)  # (B, C, H, W)
        return x + self.bias.reshape(1, -1, 1, 1)


class SynthesisBlock(nn.Module):
    """One resolution: (upsampling) conv, conv, toRGB added to the upsampled image so far."""

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, resolution: int, channels: int
    ):
        super().__init__()
        self.first = resolution == 4
        if self.first:
            self.const = nn.Parameter(torch.randn(out_channels, 4, 4))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=True)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution)
        self.torgb = ToRGB(out_channels, channels, w_dim)
        #: Per-layer latents this block reads: its convs, plus toRGB (which shares the index
        #: of the next block's first conv, as in the reference).
        self.num_conv = 1 if self.first else 2

    def forward(
        self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # ws (B, num_conv + 1, w_dim)
        if self.first:
            x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)  # (B, C, 4, 4)
            x = self.conv1(x, ws[:, 0])
        else:
            x = self.conv1(self.conv0(x, ws[:, 0]), ws[:, 1])  # (B, C, 2H, 2W)
        y = self.torgb(x, ws[:, self.num_conv])  # (B, channels, H', W')
        img = y if img is None else upsample2d(img) + y
        return x, img


class StyleGAN2Generator(nn.Module):
    """z (B, z_dim) -> image (B, C, S, S), S in 32, 64; in [-1, 1] in eval mode."""

    def __init__(
        self,
        z_dim: int = 512,
        image_size: int = 32,
        channels: int = 1,
        w_dim: int = 512,
        mapping_layers: int = 8,
        mapping_lr_mul: float = 0.01,
        channel_base: int = 16384,
        channel_max: int = 512,
        mixing_prob: float = 0.9,
        w_avg_beta: float = 0.995,
    ):
        super().__init__()
        who = "stylegan2 generator"
        check_size_and_channels(who, image_size, channels)
        if not 0.0 <= mixing_prob <= 1.0:
            raise ConfigError(f"{who} mixing_prob must be in [0, 1], got {mixing_prob}")
        if mapping_layers < 1:
            raise ConfigError(f"{who} needs at least 1 mapping layer, got {mapping_layers}")
        self.z_dim, self.image_size, self.channels = z_dim, image_size, channels
        self.num_classes = 0  # unconditional
        self.mixing_prob = mixing_prob
        widths = channel_widths(who, image_size, channel_base, channel_max)
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, mapping_lr_mul, w_avg_beta)
        blocks, previous = [], 0
        for res, width in widths.items():
            blocks.append(SynthesisBlock(previous, width, w_dim, res, channels))
            previous = width
        self.blocks = nn.ModuleList(blocks)
        self.num_ws = sum(block.num_conv for block in self.blocks) + 1

    def forward(
        self, z: torch.Tensor, labels: torch.Tensor | None = None, truncation_psi: float = 1.0
    ) -> torch.Tensor:
        b = z.shape[0]
        w = self.mapping(z, truncation_psi)  # (B, w_dim)
        ws = w.unsqueeze(1).expand(b, self.num_ws, -1)  # (B, num_ws, w_dim)
        if self.training and self.mixing_prob > 0:
            # Style mixing per sample, without host syncs: layers from a random cutoff on take
            # the w of a second latent; samples that do not mix get the cutoff num_ws.
            w2 = self.mapping(torch.randn_like(z), truncation_psi)  # (B, w_dim)
            cutoff = torch.randint(1, self.num_ws, (b,), device=z.device)  # (B,)
            mixing = torch.rand(b, device=z.device) < self.mixing_prob  # (B,)
            cutoff = torch.where(mixing, cutoff, torch.full_like(cutoff, self.num_ws))
            later = torch.arange(self.num_ws, device=z.device) >= cutoff[:, None]  # (B, num_ws)
            ws = torch.where(later[:, :, None], w2.unsqueeze(1), ws)  # (B, num_ws, w_dim)
        x = img = None
        index = 0
        for block in self.blocks:
            x, img = block(x, img, ws[:, index : index + block.num_conv + 1])
            index += block.num_conv
        if not self.training:
            img = img.clamp(-1.0, 1.0)
        return img  # (B, C, S, S)


class DiscriminatorBlock(nn.Module):
    """Residual block: conv 3x3, conv 3x3 down, plus a 1x1 down skip; scaled by 1/sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, down=True)
        self.skip = EqualConv2d(
            in_channels, out_channels, 1, bias=False, activation=False, down=True
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.skip(x)  # (B, Cout, H/2, W/2)
        x = self.conv1(self.conv0(x))  # (B, Cout, H/2, W/2)
        return (x + y) * math.sqrt(0.5)  # keeps the variance of the sum of two unit signals


class StyleGAN2Discriminator(nn.Module):
    """image (B, C, S, S) -> logit (B,), S in 32, 64."""

    def __init__(
        self,
        image_size: int = 32,
        channels: int = 1,
        channel_base: int = 16384,
        channel_max: int = 512,
        mbstd_group_size: int = 4,
    ):
        super().__init__()
        who = "stylegan2 discriminator"
        check_size_and_channels(who, image_size, channels)
        if mbstd_group_size < 1:
            raise ConfigError(f"{who} mbstd_group_size must be at least 1, got {mbstd_group_size}")
        self.image_size, self.channels, self.num_classes = image_size, channels, 0
        self.mbstd_group_size = mbstd_group_size
        widths = channel_widths(who, image_size, channel_base, channel_max)
        self.from_rgb = EqualConv2d(channels, widths[image_size], 1)
        resolutions = sorted(widths, reverse=True)  # S, S/2, ..., 4
        self.blocks = nn.Sequential(
            *[DiscriminatorBlock(widths[res], widths[res // 2]) for res in resolutions[:-1]]
        )
        c4 = widths[4]
        self.conv = EqualConv2d(c4 + 1, c4, 3)
        self.fc = EqualLinear(c4 * 4 * 4, c4, activation=True)
        self.out = EqualLinear(c4, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self.blocks(self.from_rgb(x))  # (B, C4, 4, 4)
        x = minibatch_std(x, self.mbstd_group_size)  # (B, C4 + 1, 4, 4)
        x = self.conv(x)  # (B, C4, 4, 4)
        x = self.fc(x.flatten(1))  # (B, C4)
        return self.out(x).squeeze(1)  # (B,)
