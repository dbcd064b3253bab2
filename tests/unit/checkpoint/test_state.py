"""gan_zoo.checkpoint.state: optimizer and GradScaler state split into tensors plus JSON, through
real safetensors bytes and JSON text, and back; state that does not fit is one line."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load

from gan_zoo.checkpoint.state import (
    join_state,
    load_optimizer,
    load_scaler,
    match_layouts,
    split_state,
    unwrap,
)
from gan_zoo.errors import CheckpointError
from gan_zoo.safe_io import safetensors_bytes


def _net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.Linear(16, 1))


def _train(net: torch.nn.Module, opt: torch.optim.Optimizer, steps: int, seed: int = 1) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        loss = net(torch.randn(2, 1, 4, 4, generator=gen)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def _saved(opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    """What a checkpoint holds of ``opt``: JSON text parsed back, tensors through safetensors."""
    tensors: dict = {}
    data = split_state(opt.state_dict(), "g_optimizer", tensors)
    return json.loads(json.dumps(data)), load(safetensors_bytes(tensors, {}))


def _adam(net: torch.nn.Module) -> torch.optim.Adam:
    return torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999))


def test_split_state_moves_tensors_out_under_their_paths():
    tensors: dict = {}
    t1, t2 = torch.ones(2), torch.zeros(3)
    data = split_state({"a": {0: t1, "n": 3}, "b": (t2, "x", None)}, "p", tensors)
    assert data == {
        "a": {"0": {"__tensor__": "p/a/0"}, "n": 3},
        "b": [{"__tensor__": "p/b/0"}, "x", None],
    }
    assert tensors == {"p/a/0": t1, "p/b/0": t2}
    assert join_state(data, tensors, "state") == {"a": {"0": t1, "n": 3}, "b": [t2, "x", None]}


@pytest.mark.parametrize(
    "marker, shown",
    [("p/missing", "'p/missing'"), (7, "'7'"), ("x" * 200, repr("x" * 80))],
)
def test_join_state_with_a_missing_or_bad_marker_is_one_line(marker, shown):
    with pytest.raises(CheckpointError) as info:
        join_state({"a": [{"__tensor__": marker}]}, {"p/a": torch.ones(1)}, "state.safetensors")
    assert str(info.value) == (
        f"state.safetensors lacks tensor {shown}; the checkpoint is incomplete"
    )


def test_a_dict_with_more_than_the_marker_is_plain_data():
    data = {"__tensor__": "p", "other": 1}
    assert join_state(data, {"p": torch.ones(1)}, "s") == data


def test_an_adam_state_round_trips_and_continues_bit_exact():
    net = _net()
    opt = _adam(net)
    _train(net, opt, 3)
    data, tensors = _saved(opt)
    resumed_net = _net()
    resumed_net.load_state_dict(net.state_dict())
    resumed = _adam(resumed_net)
    load_optimizer(resumed, data, tensors, "training-state.safetensors")
    assert resumed.param_groups[0]["betas"] == (0.5, 0.999)  # a tuple again, as Adam keeps it
    _train(net, opt, 2, seed=5)
    _train(resumed_net, resumed, 2, seed=5)
    for a, b in zip(net.parameters(), resumed_net.parameters(), strict=True):
        assert torch.equal(a, b)


def _refused(opt, data, tensors) -> str:
    before = {k: v.clone() for k, v in _flat(opt).items()}
    with pytest.raises(CheckpointError) as info:
        load_optimizer(opt, data, tensors, "ckpt")
    after = _flat(opt)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)  # left as it was
    return str(info.value)


def _flat(opt) -> dict:
    return {
        f"{i}/{k}": v
        for i, state in enumerate(opt.state.values())
        for k, v in state.items()
        if isinstance(v, torch.Tensor)
    }


def test_moments_of_another_shape_are_refused_and_the_optimizer_kept():
    net = _net()
    opt = _adam(net)
    _train(net, opt, 1)
    data, tensors = _saved(opt)
    tensors["g_optimizer/state/0/exp_avg"] = torch.zeros(4, 1, 2, 2)
    target_net = _net(seed=3)
    target = _adam(target_net)
    _train(target_net, target, 1, seed=4)  # a state of its own, which must survive
    assert _refused(target, data, tensors) == (
        "ckpt: the optimizer state does not fit ('exp_avg' has shape (4, 1, 2, 2), its parameter "
        "(4, 1, 3, 3))"
    )


def test_a_setting_of_another_type_is_refused():
    net = _net()
    opt = _adam(net)
    _train(net, opt, 1)
    data, tensors = _saved(opt)
    data["param_groups"][0]["lr"] = "0.001; rm -rf ~"
    line = _refused(_adam(_net()), data, tensors)
    assert line.startswith("ckpt: the optimizer state does not fit (param_groups setting 'lr' is")
    data["param_groups"][0]["lr"] = 1e-3
    data["param_groups"][0]["betas"] = [0.5]
    assert "setting 'betas'" in _refused(_adam(_net()), data, tensors)


def test_state_for_only_some_parameters_is_refused():
    net = _net()
    opt = _adam(net)
    _train(net, opt, 1)
    data, tensors = _saved(opt)
    del data["state"]["1"]
    assert _refused(_adam(_net()), data, tensors) == (
        "ckpt: the optimizer state does not fit (its parameters have different kinds of state "
        "(some missing))"
    )


def test_an_integer_step_counter_is_refused():
    net = _net()
    opt = _adam(net)
    _train(net, opt, 1)
    data, tensors = _saved(opt)
    tensors = {k: (v.long() if k.endswith("/step") else v) for k, v in tensors.items()}
    assert "'step' is torch.int64, not a floating-point tensor" in _refused(
        _adam(_net()), data, tensors
    )


def test_a_group_without_a_setting_the_optimizer_steps_with_is_refused():
    # Was: loaded silently, and the next opt.step() raised KeyError: 'betas' mid-training.
    net = _net()
    opt = _adam(net)
    _train(net, opt, 1)
    data, tensors = _saved(opt)
    del data["param_groups"][0]["betas"]
    target_net = _net()
    target = _adam(target_net)
    _train(target_net, target, 1, seed=4)
    assert _refused(target, data, tensors) == (
        "ckpt: the optimizer state does not fit (param_groups lacks setting 'betas')"
    )
    assert target.param_groups[0]["betas"] == (0.5, 0.999)
    _train(target_net, target, 1)  # still steps


def test_a_group_from_an_older_torch_gets_the_new_settings_defaults():
    net = _net()
    opt = _adam(net)
    _train(net, opt, 1)
    data, tensors = _saved(opt)
    for key in ("decoupled_weight_decay", "fused", "differentiable", "capturable"):
        data["param_groups"][0].pop(key, None)  # settings newer torch versions added
    resumed_net = _net()
    resumed = _adam(resumed_net)
    load_optimizer(resumed, data, tensors, "ckpt")
    assert resumed.param_groups[0]["capturable"] is False
    _train(resumed_net, resumed, 1)


def test_state_of_another_optimizer_is_refused():
    net = _net()
    opt = _adam(net)
    _train(net, opt, 1)
    data, tensors = _saved(opt)
    sgd = torch.optim.SGD(_net().parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(CheckpointError) as info:
        load_optimizer(sgd, data, tensors, "ckpt")
    assert str(info.value) == (
        "ckpt: the optimizer state does not fit (param_groups lacks setting 'dampening')"
    )
    assert sgd.param_groups[0]["momentum"] == 0.9 and "betas" not in sgd.param_groups[0]


def test_loaded_moments_get_their_parameters_memory_layout():
    net = _net().to(memory_format=torch.channels_last)
    opt = _adam(net)
    _train(net, opt, 1)
    data, tensors = _saved(opt)  # safetensors stores row-major
    weight = net[0].weight
    assert tensors["g_optimizer/state/0/exp_avg"].is_contiguous()
    fresh = _net().to(memory_format=torch.channels_last)
    fresh.load_state_dict(net.state_dict())
    resumed = _adam(fresh)
    load_optimizer(resumed, data, tensors, "ckpt")
    moment = resumed.state[fresh[0].weight]["exp_avg"]
    assert moment.stride() == weight.stride() != tensors["g_optimizer/state/0/exp_avg"].stride()
    assert torch.equal(moment, opt.state[weight]["exp_avg"])


def test_match_layouts_leaves_scalars_and_matching_layouts_alone():
    net = _net()
    opt = _adam(net)
    _train(net, opt, 1)
    state = opt.state[net[0].weight]
    before = {k: v for k, v in state.items()}
    match_layouts(opt)
    assert all(state[k] is before[k] for k in before)  # nothing copied


def test_a_grad_scaler_round_trips_and_bad_state_is_refused():
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=7)
    data = json.loads(json.dumps(scaler.state_dict()))
    fresh = torch.amp.GradScaler("cpu")
    load_scaler(fresh, data, "ckpt")
    assert fresh.get_scale() == 1024.0 and fresh.get_growth_interval() == 7
    for bad in ({"scale": "1024"}, {"growth_interval": True}, [1.0]):
        with pytest.raises(CheckpointError) as info:
            load_scaler(torch.amp.GradScaler("cpu"), bad, "ckpt")
        assert (
            str(info.value) == "ckpt: the GradScaler state does not fit; the checkpoint is corrupt"
        )


def test_a_scaler_state_the_scaler_itself_refuses_is_one_line():
    disabled = torch.amp.GradScaler("cpu", enabled=False)
    enabled_state = torch.amp.GradScaler("cpu").state_dict()
    scaler = torch.amp.GradScaler("cpu")
    with pytest.raises(CheckpointError, match=r"^ckpt: the GradScaler state does not fit \("):
        load_scaler(scaler, {}, "ckpt")  # an enabled scaler needs its state
    load_scaler(disabled, enabled_state, "ckpt")  # a disabled one ignores any
    assert disabled.state_dict() == {}


def test_unwrap_removes_every_wrapper():
    net = _net()
    assert unwrap(net) is net
    assert unwrap(torch.nn.DataParallel(net)) is net
    compiled = torch.compile(net)  # not compiled until called: cheap
    assert type(compiled).__name__ == "OptimizedModule"
    assert unwrap(compiled) is net
    assert unwrap(torch.nn.DataParallel(compiled)) is net
    assert set(unwrap(compiled).state_dict()) == {"0.weight", "0.bias", "2.weight", "2.bias"}
