"""Nested training state (optimizers, GradScaler) as flat tensors plus JSON, and back.

Safetensors stores only named tensors and pickle is not an option, so a ``state_dict()`` is
split as ``accelerate``'s ``save_state`` does: every tensor goes to the safetensors file under its
path (``g_optimizer/state/0/exp_avg``) and the JSON keeps ``{"__tensor__": path}`` in its place.
Importing this module does not import torch.
"""

from __future__ import annotations

from typing import Any

from ..errors import CheckpointError

_TENSOR = "__tensor__"


def split_state(obj: Any, prefix: str, tensors: dict[str, Any]) -> Any:
    """``obj`` with every tensor moved into ``tensors`` under its path and replaced by a marker."""
    import torch

    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj
        return {_TENSOR: prefix}
    if isinstance(obj, dict):
        return {str(k): split_state(v, f"{prefix}/{k}", tensors) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [split_state(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]
    return obj


def join_state(obj: Any, tensors: dict[str, Any], source: str) -> Any:
    """The inverse of :func:`split_state`; a missing tensor is a one-line CheckpointError."""
    if isinstance(obj, dict):
        if set(obj) == {_TENSOR}:
            if obj[_TENSOR] not in tensors:
                raise CheckpointError(
                    f"{source} lacks tensor '{obj[_TENSOR]}'; the checkpoint is incomplete"
                )
            return tensors[obj[_TENSOR]]
        return {k: join_state(v, tensors, source) for k, v in obj.items()}
    if isinstance(obj, list):
        return [join_state(v, tensors, source) for v in obj]
    return obj


def load_optimizer(opt: Any, data: dict[str, Any], tensors: dict[str, Any], source: str) -> None:
    """Restore ``opt`` from its split state (JSON ``data`` + ``tensors``) in place."""
    for group in data.get("param_groups", []):
        for key, value in group.items():
            if key != "params" and isinstance(value, list):  # JSON turned tuples (betas) into lists
                group[key] = tuple(value)
    state = join_state(data, tensors, source)
    state["state"] = {int(k): v for k, v in state["state"].items()}  # JSON keys are strings
    try:
        opt.load_state_dict(state)
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"{source}: the optimizer state does not fit ({exc})") from None
    match_layouts(opt)


def match_layouts(opt: Any) -> None:
    """Give each loaded state tensor its parameter's memory layout (e.g. channels_last).

    Safetensors stores tensors row-major, and ``load_state_dict`` keeps that layout; fused Adam
    walks a parameter and its moments as flat memory, so a channels_last weight with row-major
    moments would be updated with another element's moments.
    """
    import torch

    for param, state in opt.state.items():
        for key, value in state.items():
            if (
                isinstance(value, torch.Tensor)
                and value.shape == param.shape
                and value.stride() != param.stride()
            ):
                state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


def unwrap(module: Any) -> Any:
    """The plain network inside DDP/DataParallel or ``torch.compile`` wrappers, so that weight
    names never carry ``module.`` or ``_orig_mod.`` prefixes."""
    from torch.nn.parallel import DataParallel, DistributedDataParallel

    while True:
        if isinstance(module, (DataParallel, DistributedDataParallel)):
            module = module.module
        elif type(module).__name__ == "OptimizedModule" and hasattr(module, "_orig_mod"):
            module = module._orig_mod
        else:
            return module
