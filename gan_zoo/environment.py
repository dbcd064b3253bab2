"""What a bug report needs to know about this installation, for ``gan-zoo --version`` and
``gan-zoo doctor``.

:func:`versions` reads package metadata only (no torch import, so ``--version`` stays fast);
:func:`describe` also imports torch and asks the device: CUDA and cuDNN, the GPUs and their
compute capability, the CPU's bf16 / fp16 support, and what ``--device auto`` and
``--precision auto`` resolve to here.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata
from typing import Any

from ._version import __version__

#: The oldest release of each dependency gan-zoo runs with, as pyproject.toml declares them
#: (a test keeps the two equal). torch: fused Adam on the CPU and torch.amp.GradScaler("cpu")
#: (see gan_zoo.torch_floor); torchvision: the release paired with torch 2.4.
FLOORS = {
    "torch": (2, 4),
    "torchvision": (0, 19),
    "pluggy": (1, 3),
    "click": (8, 1),
    "safetensors": (0, 4),
    "rich": (13, 0),
}
CORE_DEPENDENCIES = tuple(FLOORS)


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def plugin_distributions() -> dict[str, str]:
    """``{distribution: version}`` of every installed package with a gan_zoo entry point
    (gan-zoo itself left out), read from metadata without importing them."""
    from .plugins import ENTRY_POINT_GROUP

    found: dict[str, str] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        if dist is not None and dist.metadata["Name"] != "gan-zoo":
            found[dist.metadata["Name"]] = dist.version
    return dict(sorted(found.items()))


def versions() -> dict[str, Any]:
    """gan-zoo, its plugins, its dependencies, Python and the OS, from metadata alone."""
    return {
        "gan-zoo": __version__,
        "plugins": plugin_distributions(),
        "dependencies": {name: _version(name) for name in CORE_DEPENDENCIES},
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
    }


def describe() -> dict[str, Any]:
    """:func:`versions` plus the device facts (imports torch)."""
    import torch

    from .training.precision import native_cpu_support, resolve_device, resolve_precision

    info = versions()
    cuda: dict[str, Any] = {
        "built_with": torch.version.cuda,
        "available": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        cuda["cudnn"] = torch.backends.cudnn.version()
        cuda["gpus"] = [
            f"{torch.cuda.get_device_name(i)} (compute capability "
            f"{'.'.join(map(str, torch.cuda.get_device_capability(i)))})"
            for i in range(torch.cuda.device_count())
        ]
    device = resolve_device("auto")
    info.update(
        {
            "torch": torch.__version__,
            "cuda": cuda,
            "cpu": {
                "capability": torch.backends.cpu.get_cpu_capability(),
                "native_bf16": native_cpu_support("bf16"),
                "native_fp16": native_cpu_support("fp16"),
                "threads": torch.get_num_threads(),
            },
            "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
            "auto": {"device": str(device), "precision": resolve_precision("auto", device)},
        }
    )
    return info


def version_lines(info: dict[str, Any]) -> list[str]:
    """``info`` (from :func:`versions` or :func:`describe`) as lines to paste into a report."""
    plugins = ", ".join(f"{k} {v}" for k, v in info["plugins"].items()) or "none"
    deps = ", ".join(f"{k} {v or 'missing'}" for k, v in info["dependencies"].items())
    lines = [
        f"gan-zoo {info['gan-zoo']}",
        f"plugins: {plugins}",
        f"dependencies: {deps}",
        f"python {info['python']} on {info['platform']}",
    ]
    if "auto" in info:
        cuda = info["cuda"]
        if cuda["available"]:
            lines.append(
                f"CUDA {cuda['built_with']}, cuDNN {cuda['cudnn']}: {'; '.join(cuda['gpus'])}"
            )
        else:
            built = (
                f"torch built with CUDA {cuda['built_with']}"
                if cuda["built_with"]
                else "CPU-only torch"
            )
            lines.append(f"CUDA: not available ({built})")
        cpu = info["cpu"]
        bf16 = "native" if cpu["native_bf16"] else "emulated (slow)"
        lines.append(
            f"CPU: {cpu['capability']}, bf16 {bf16}, {cpu['threads']} threads"
            + ("; MPS available" if info["mps"] else "")
        )
        lines.append(
            f"--device auto -> {info['auto']['device']}, "
            f"--precision auto -> {info['auto']['precision']}"
        )
    return lines


def _release(text: str) -> tuple[int, ...]:
    """``"2.6.0rc1+cu124"`` -> ``(2, 6, 0)``: the leading numbers of a version."""
    parts = []
    for piece in text.split("+")[0].split("."):
        match = re.match(r"\d+", piece)
        if not match:
            break
        parts.append(int(match[0]))
        if match[0] != piece:  # 0rc1: a pre-release of this number ends the release part
            break
    return tuple(parts)


def dependency_error() -> str | None:
    """One line naming the first installed dependency older than its floor (None when all fit).

    Read from package metadata, so it costs milliseconds: the CLI checks it before anything."""
    for name, floor in FLOORS.items():
        found = _version(name)
        if found is not None and _release(found) and _release(found) < floor:
            want = ".".join(map(str, floor))
            return (
                f"gan-zoo needs {name} >= {want}, but {name} {found} is installed; upgrade it "
                f"with: pip install -U '{name}>={want}'"
            )
    return None
