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
            if not isinstance(obj[_TENSOR], str) or obj[_TENSOR] not in tensors:
                raise CheckpointError(
                    f"{source} lacks tensor {str(obj[_TENSOR])[:80]!r}; "
                    "the checkpoint is incomplete"
                )
            return tensors[obj[_TENSOR]]
        return {k: join_state(v, tensors, source) for k, v in obj.items()}
    if isinstance(obj, list):
        return [join_state(v, tensors, source) for v in obj]
    return obj


#: What loading untrusted optimizer or scaler state can raise besides our own errors.
_STATE_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError, RuntimeError)


def load_optimizer(opt: Any, data: dict[str, Any], tensors: dict[str, Any], source: str) -> None:
    """Restore ``opt`` from its split state (JSON ``data`` + ``tensors``) in place; state that
    does not fit this optimizer (other groups, settings missing or of other types, moments of
    other shapes) is a one-line CheckpointError and leaves ``opt`` as it was."""
    try:
        groups = data.get("param_groups", [])
        live = opt.state_dict()["param_groups"]
        for group, current in zip(groups, live, strict=False):
            for key, value in group.items():
                if key != "params" and isinstance(value, list):  # JSON made tuples (betas) lists
                    group[key] = value = tuple(value)
                if key in current and not _same_kind(value, current[key]):
                    raise ValueError(f"param_groups setting '{key[:40]}' is {value!r:.40}")
        state = join_state(data, tensors, source)
        state["state"] = {int(k): v for k, v in state["state"].items()}  # JSON keys are strings
        saved = opt.state_dict()
        opt.load_state_dict(state)
        bad = _missing_setting(opt, saved) or _bad_moment(opt)
        if bad:
            opt.load_state_dict(saved)
            raise ValueError(bad)
    except CheckpointError:
        raise
    except _STATE_ERRORS as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise CheckpointError(f"{source}: the optimizer state does not fit ({reason})") from None
    match_layouts(opt)


def _same_kind(value: Any, current: Any) -> bool:
    """Whether an optimizer setting read from a file has the type of the live one."""
    if isinstance(current, bool) or current is None:
        return value is None or isinstance(value, bool)
    if isinstance(current, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(current, tuple):
        return (
            isinstance(value, tuple)
            and len(value) == len(current)
            and all(_same_kind(v, c) for v, c in zip(value, current, strict=True))
        )
    return type(value) is type(current) or current is None


def _missing_setting(opt: Any, saved: dict[str, Any]) -> str | None:
    """The first setting the optimizer had that a loaded group lacks, once the optimizer's own
    ``__setstate__`` gave settings newer than the file their defaults (its step would fail)."""
    for group, before in zip(opt.param_groups, saved["param_groups"], strict=False):
        missing = sorted(set(before) - set(group))
        if missing:
            return f"param_groups lacks setting '{missing[0][:40]}'"
    return None


def _bad_moment(opt: Any) -> str | None:
    """The first state tensor of ``opt`` whose shape or dtype cannot go with its parameter."""
    import torch

    params = [p for group in opt.param_groups for p in group["params"]]
    kinds = {frozenset(opt.state[p]) for p in params if p in opt.state}
    if len(kinds) > 1 or (kinds and sum(p in opt.state for p in params) != len(params)):
        return "its parameters have different kinds of state (some missing)"
    for param, state in opt.state.items():
        for key, value in state.items():
            if not isinstance(value, torch.Tensor):  # Adam keeps every state value as a tensor
                return f"'{str(key)[:40]}' is not a tensor"
            if value.dim() and tuple(value.shape) != tuple(param.shape):
                return f"'{key}' has shape {tuple(value.shape)}, its parameter {tuple(param.shape)}"
            if not value.is_floating_point():
                return f"'{key}' is {value.dtype}, not a floating-point tensor"
    return None


def load_scaler(scaler: Any, data: Any, source: str) -> None:
    """Restore a GradScaler; state of other types is a one-line CheckpointError."""
    live = scaler.state_dict()
    if not isinstance(data, dict) or any(
        key in live and not _same_kind(value, live[key]) for key, value in data.items()
    ):
        raise CheckpointError(
            f"{source}: the GradScaler state does not fit; the checkpoint is corrupt"
        )
    try:
        scaler.load_state_dict(data)
    except _STATE_ERRORS as exc:
        raise CheckpointError(
            f"{source}: the GradScaler state does not fit ({str(exc)[:120]})"
        ) from None


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
