"""StyleGAN2's building blocks: equalized learning rate, the [1, 3, 3, 1] resampling filter,
modulated convolution and the minibatch standard deviation layer.

Karras, Laine, Aittala, Hellsten, Lehtinen and Aila, 2020, "Analyzing and Improving the Image
Quality of StyleGAN" (arXiv:1912.04958). The layout follows NVlabs stylegan2-ada-pytorch's
``training/networks.py`` (``FullyConnectedLayer``, ``Conv2dLayer``, ``modulated_conv2d``,
``MinibatchStdLayer``), written anew in plain PyTorch without its custom CUDA kernels:

* Equalized learning rate (Karras et al. 2018, ProGAN): weights are stored N(0, 1) / lr_mul and
  scaled at run time by ``lr_mul / sqrt(fan_in)``, so Adam's per-parameter step is the same for
  every layer whatever its fan-in, and ``lr_mul`` slows a whole network down (the mapping
  network's 0.01) without a second optimizer.
* Resampling uses the separable FIR filter [1, 3, 3, 1] with zero padding, as ``upfirdn2d``
  does, as a fixed depthwise (transposed) convolution: plain ``conv2d``, so R1's double
  backward works on every device. Upsampling happens before the generator's 3x3 convolution
  instead of the reference's fused ``transposed conv -> blur``; both are linear, with the same
  filter and receptive field.
* The leaky ReLU (slope 0.2) is followed by a gain of sqrt(2), which keeps activations at unit
  variance with N(0, 1) weights (He initialisation, folded into the activation).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: The gain after a leaky ReLU of slope 0.2 that keeps the signal's variance.
LRELU_GAIN = math.sqrt(2.0)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


def _fir_kernel(channels: int, gain: float, device=None, dtype=None) -> torch.Tensor:
    """The 4x4 kernel outer([1,3,3,1], [1,3,3,1]) / 64 * gain, one per channel (C, 1, 4, 4)."""
    f = torch.tensor([1.0, 3.0, 3.0, 1.0], device=device, dtype=torch.float32)
    k = torch.outer(f, f)
    k = k / k.sum() * gain
    return k.to(dtype).expand(channels, 1, 4, 4)


def blur(x: torch.Tensor, padding: int, stride: int = 1) -> torch.Tensor:
    """(B, C, H, W) filtered with [1, 3, 3, 1] per channel, zero padding, optional stride."""
    c = x.shape[1]
    kernel = _fir_kernel(c, 1.0, x.device, x.dtype)
    return F.conv2d(x, kernel, stride=stride, padding=padding, groups=c)


def downsample2d(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H/2, W/2): blur with [1, 3, 3, 1] (zero padding 1), stride 2."""
    return blur(x, padding=1, stride=2)


def upsample2d(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, 2H, 2W): zero-stuff, blur with [1, 3, 3, 1] x 4 (keeps the mean)."""
    c = x.shape[1]
    # A transposed conv with stride 2 is zero-stuffing followed by the conv; padding 1 of the
    # 4-tap filter gives exactly 2H (upfirdn2d with up=2 and the filter's default padding).
    kernel = _fir_kernel(c, 4.0, x.device, x.dtype)
    return F.conv_transpose2d(x, kernel, stride=2, padding=1, groups=c)


class EqualLinear(nn.Module):
    """A fully connected layer with equalized learning rate, bias and optional leaky ReLU."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: bool = False,
        lr_mul: float = 1.0,
        bias_init: float = 0.0,
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.bias_gain = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)  # (B, out)
        return lrelu(x) if self.activation else x

    def extra_repr(self) -> str:
        out, inp = self.weight.shape
        return f"in={inp}, out={out}, activation={self.activation}, lr_mul={self.bias_gain}"


class EqualConv2d(nn.Module):
    """A convolution with equalized learning rate; ``down=True`` halves the size as the
    reference's ``conv2d_resample`` does: a 1x1 conv after a blurred stride-2 decimation, a
    larger kernel as a stride-2 conv over the blurred input (padded by 2, so 3x3 maps H to H/2)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: bool = True,
        down: bool = False,
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.activation, self.down, self.padding = activation, down, kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight * self.weight_gain
        if not self.down:
            x = F.conv2d(x, weight, self.bias, padding=self.padding)  # (B, Cout, H, W)
        elif self.padding == 0:
            x = F.conv2d(downsample2d(x), weight, self.bias)  # (B, Cout, H/2, W/2)
        else:
            x = blur(x, padding=self.padding + 1)  # (B, Cin, H + 2p - 1, ...): H + 1 for 3x3
            x = F.conv2d(x, weight, self.bias, stride=2)  # (B, Cout, H/2, W/2)
        return lrelu(x) if self.activation else x


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    padding: int = 1,
) -> torch.Tensor:
    """StyleGAN2's weight (de)modulation as one grouped convolution.

    x (B, Cin, H, W); weight (Cout, Cin, k, k); styles (B, Cin). Each sample's weights are
    ``weight * styles[b]`` over the input channels, and with ``demodulate`` each output filter
    is rescaled to unit L2 norm, which replaces AdaIN's instance normalization (the cause of
    StyleGAN's droplet artifacts) by its expected effect on the statistics. The B per-sample
    convolutions run as one conv with ``groups=B`` (the reference's ``fused_modconv``);
    while a graph is exported the styles scale the activations instead (:func:`exporting`).
    Returns (B, Cout, H, W).
    """
    if exporting():
        return _modulated_conv2d_per_channel(x, weight, styles, demodulate, padding)
    b, cin, h, w = x.shape
    cout, _, kh, kw = weight.shape
    wts = weight.unsqueeze(0) * styles.reshape(b, 1, cin, 1, 1)  # (B, Cout, Cin, k, k)
    if demodulate:
        # The epsilon keeps an all-zero style (never seen in practice) from dividing by zero.
        d = torch.rsqrt(wts.square().sum(dim=(2, 3, 4)) + 1e-8)  # (B, Cout)
        wts = wts * d.reshape(b, cout, 1, 1, 1)
    x = x.reshape(1, b * cin, h, w)  # (1, B*Cin, H, W): the batch becomes the groups
    out = F.conv2d(x, wts.reshape(b * cout, cin, kh, kw).to(x.dtype), padding=padding, groups=b)
    return out.reshape(b, cout, *out.shape[2:])  # (B, Cout, H, W)


def exporting() -> bool:
    """True while ``torch.export`` (also under ``torch.onnx``) or ``torch.jit.trace`` records the
    graph. The batch size is then a symbol, and a convolution's number of groups cannot be."""
    is_exporting = getattr(torch.compiler, "is_exporting", None)  # torch >= 2.5
    return torch.jit.is_tracing() or bool(is_exporting is not None and is_exporting())


def _modulated_conv2d_per_channel(
    x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool, padding: int
) -> torch.Tensor:
    """:func:`modulated_conv2d` with the styles applied to the activations instead of the
    weights (the reference's ``fused_modconv=False``): the same function, one shared convolution
    for every sample, so the graph holds for any batch size (what an export needs)."""
    cout, cin = weight.shape[:2]
    x = x * styles.reshape(-1, cin, 1, 1).to(x.dtype)  # (B, Cin, H, W)
    out = F.conv2d(x, weight.to(x.dtype), padding=padding)  # (B, Cout, H, W)
    if demodulate:
        # sum over (Cin, k, k) of (weight * style)^2, as a matmul: (B, Cin) @ (Cin, Cout)
        d = torch.rsqrt(styles.square() @ weight.square().sum(dim=(2, 3)).T + 1e-8)  # (B, Cout)
        out = out * d.reshape(-1, cout, 1, 1).to(out.dtype)
    return out


def minibatch_std(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """Append one feature map: the mean over features of the standard deviation of each group
    of samples (ProGAN, Karras et al. 2018), so D can see a lack of variety in a batch.

    x (B, C, H, W) -> (B, C + 1, H, W). Sample ``i`` belongs to group ``i % n_groups`` with
    ``n_groups = max(1, B // group_size)`` (the reference's strided grouping). Unlike the
    reference, B need not be divisible by ``group_size``: the remainder is spread over the
    groups, so every group has at least ``min(B, group_size)`` members and none is a lone
    sample with a meaningless zero deviation. For B divisible by ``group_size`` this is the
    reference's statistic exactly.
    """
    b, c, h, w = x.shape
    n_groups = max(1, b // group_size)
    group = torch.arange(b, device=x.device) % n_groups  # (B,)
    # Group membership as a matrix, so the per-group means are matmuls: differentiable twice
    # (R1) and the same code for any group sizes.
    member = F.one_hot(group, n_groups).to(x.dtype).T  # (G, B)
    counts = member.sum(dim=1, keepdim=True)  # (G, 1)
    flat = x.reshape(b, -1)  # (B, C*H*W)
    mean = (member @ flat) / counts  # (G, C*H*W)
    deviation = (flat - mean[group]).square()  # (B, C*H*W)
    var = (member @ deviation) / counts  # (G, C*H*W), biased as in the reference
    stat = (var + 1e-8).sqrt().mean(dim=1)  # (G,)
    feature = stat[group].reshape(b, 1, 1, 1).expand(b, 1, h, w)  # (B, 1, H, W)
    return torch.cat([x, feature.to(x.dtype)], dim=1)  # (B, C + 1, H, W)
