"""The oldest torch gan-zoo runs on, checked where training starts.

2.4 is the first release with every API the trainer uses: fused Adam on the CPU (2.4) and
``torch.amp.GradScaler("cpu")`` for fp16 on the CPU (2.3). ``pyproject.toml`` declares the same
floor, so pip never installs an older torch; this check is for a torch that was already there
(a source checkout run with ``PYTHONPATH=.``, a cluster's module system), where the failure would
otherwise be a TypeError deep inside the optimizer.
"""

from __future__ import annotations

import re

from .environment import FLOORS
from .errors import GanZooError

TORCH_FLOOR = FLOORS["torch"]


def parse_version(text: str) -> tuple[int, int]:
    """``"2.11.0+cu130"`` -> ``(2, 11)``; an unreadable version counts as new enough."""
    match = re.match(r"(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2])) if match else (999, 0)


def check_torch() -> None:
    """One-line error when the installed torch is older than :data:`TORCH_FLOOR`."""
    import torch

    if parse_version(torch.__version__) < TORCH_FLOOR:
        floor = ".".join(map(str, TORCH_FLOOR))
        raise GanZooError(
            f"gan-zoo needs torch >= {floor} to train, but torch {torch.__version__} is installed; "
            f"upgrade it with: pip install -U 'torch>={floor}'"
        )
