"""Unit tests of the DDP helpers without a GPU: the device and backend a torchrun process picks,
the CPU stand-in for SyncBatchNorm and its local copy for the EMA, the refusal of sync
BatchNorm under a gradient penalty, the per-rank global RNG and the DDP batch choice. The runs
over real gloo processes are in test_train_process.py (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import nn

import gan_zoo
from gan_zoo.checkpoint import render_card
from gan_zoo.checkpoint.record import record_to_config
from gan_zoo.checkpoint.schema import check_state
from gan_zoo.config import NetSpec, TrainConfig, to_dict
from gan_zoo.errors import CheckpointError, ConfigError
from gan_zoo.training import distributed as ddp
from gan_zoo.training import loop, resolve
from gan_zoo.training.build import build_networks, plan_steps
from gan_zoo.training.ema import EMA
from gan_zoo.training.precision import resolve_device
from gan_zoo.training.streams import Streams
from gan_zoo.training.syncbn import (
    GlooSyncBatchNorm,
    convert_sync_batchnorm,
    is_sync,
    revert_sync_batchnorm,
)

CPU = torch.device("cpu")


@pytest.fixture
def two_gpus(monkeypatch):
    """Rank 1 of 2 under torchrun on a machine with 2 (pretend) GPUs; records what init asks."""
    calls: dict[str, list] = {"backend": [], "set_device": []}
    for key, value in {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", lambda d: calls["set_device"].append(str(d)))
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(
        dist, "init_process_group", lambda backend, **kw: calls["backend"].append(backend)
    )
    return calls


@pytest.mark.parametrize(
    "device, backend, gpu",
    [
        ("cpu", "gloo", None),
        ("auto", "nccl", "cuda:1"),
        ("cuda", "nccl", "cuda:1"),
        ("cuda:0", "nccl", "cuda:1"),
    ],
)
def test_init_picks_the_backend_and_gpu_of_the_device_the_run_uses(two_gpus, device, backend, gpu):
    info = ddp.init(device)
    assert (info.rank, info.world_size, info.local_rank) == (1, 2, 1)
    assert two_gpus["backend"] == [backend]  # --device cpu on a GPU machine: gloo, not NCCL
    assert two_gpus["set_device"] == ([gpu] if gpu else [])


def test_under_torchrun_a_recorded_gpu_index_does_not_pin_every_rank(two_gpus):
    # A single-GPU run records "cuda:0"; resumed under torchrun, rank 1 takes its own GPU.
    assert resolve_device("cuda:0", 1, distributed=True) == torch.device("cuda", 1)
    assert resolve_device("cuda:1", 2, distributed=True) == torch.device("cuda", 0)  # 2 % 2
    assert resolve_device("cuda", 3, distributed=True) == torch.device("cuda", 1)
    assert resolve_device("cuda:1", 0) == torch.device("cuda", 1)  # one process: as asked


def test_train_joins_the_process_group_for_the_configured_device(monkeypatch):
    asked = []

    def init(device):
        asked.append(device)
        raise KeyboardInterrupt  # stop before any set-up

    monkeypatch.setattr(ddp, "init", init)
    with pytest.raises(KeyboardInterrupt):
        loop.run_training(TrainConfig(device="cuda:0"))
    assert asked == ["cuda:0"]


def _bn_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 3, 1),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(12, 4),
        nn.BatchNorm1d(4),
    )


def test_the_cpu_stand_in_keeps_batchnorm_keys_and_works_without_a_group():
    net = _bn_net()
    x = torch.randn(5, 2, 2, 2)  # (B, C, H, W)
    expected = net(x)
    synced = convert_sync_batchnorm(_bn_net(), CPU)
    assert [type(m) for m in synced.modules() if is_sync(m)] == [GlooSyncBatchNorm] * 2
    assert list(synced.state_dict()) == list(net.state_dict())
    torch.testing.assert_close(synced(x), expected)  # no process group: plain BatchNorm
    torch.testing.assert_close(synced.state_dict(), net.state_dict())
    synced.load_state_dict(net.state_dict())  # interchangeable checkpoints


def test_the_ema_module_holds_no_sync_layer():
    generator = convert_sync_batchnorm(_bn_net(), CPU)
    ema = EMA(generator, decay=0.9)
    assert not any(is_sync(m) for m in ema.module.modules())
    assert [type(ema.module[1]), type(ema.module[5])] == [nn.BatchNorm2d, nn.BatchNorm1d]
    assert list(ema.module.state_dict()) == list(generator.state_dict())
    assert any(is_sync(m) for m in generator.modules())  # the live generator stays synced
    with torch.no_grad():
        generator[1].running_mean.fill_(2.0)
    ema.update(generator, images_seen=10)  # buffers still pair up one to one
    assert torch.equal(ema.module[1].running_mean, torch.full((3,), 2.0))


def test_revert_falls_back_to_a_batchnorm_of_any_rank():
    reverted = revert_sync_batchnorm(nn.Sequential(nn.SyncBatchNorm(3)))
    assert isinstance(reverted[0], nn.modules.batchnorm._BatchNorm) and not is_sync(reverted[0])
    assert reverted[0](torch.randn(4, 3, 2, 2)).shape == (4, 3, 2, 2)


SYNC_CHECK = """
import torch, torch.distributed as dist
from torch import nn
from gan_zoo.training.syncbn import convert_sync_batchnorm
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)
x = torch.randn(3 * world + 1, 3, 4, 4)  # (B, C, H, W), split unevenly over the ranks
ref = nn.BatchNorm2d(3)
with torch.no_grad():
    ref.weight.uniform_(0.5, 2.0), ref.bias.uniform_(-1.0, 1.0)
sync = convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(3)), torch.device("cpu"))
sync.load_state_dict({"0." + k: v for k, v in ref.state_dict().items()})
parts = x.tensor_split(world)
mine = parts[rank].clone().requires_grad_(True)
weights = torch.randn_like(x)  # a loss that is not symmetric in the batch
out = sync(mine)
(out * weights.tensor_split(world)[rank]).sum().backward()
full = x.clone().requires_grad_(True)
expected = ref(full)
(expected * weights).sum().backward()
torch.testing.assert_close(out, expected.tensor_split(world)[rank])
torch.testing.assert_close(mine.grad, full.grad.tensor_split(world)[rank])
grads = torch.cat([sync[0].weight.grad, sync[0].bias.grad])
dist.all_reduce(grads)  # DDP would average; the sum over ranks is the full batch's gradient
torch.testing.assert_close(grads, torch.cat([ref.weight.grad, ref.bias.grad]))
torch.testing.assert_close(sync[0].running_mean, ref.running_mean)
torch.testing.assert_close(sync[0].running_var, ref.running_var)
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_the_cpu_stand_in_normalises_with_the_global_batch(tmp_path):
    script = tmp_path / "sync_check.py"
    script.write_text(SYNC_CHECK)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        str(script),
    ]
    root = str(Path(gan_zoo.__file__).parent.parent)  # this checkout's gan_zoo, not another
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=root)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]


def _tiny(**options) -> TrainConfig:
    config = resolve.build_config(
        options.pop("model", "dcgan"),
        "fashion-mnist",
        options,
        ["generator.width=8", "discriminator.width=8"],
    )
    config.image_size, config.channels = 28, 1
    config.device, config.precision = "cpu", "fp32"
    return config


@pytest.mark.parametrize(
    "options, sets, penalty",
    [
        ({"loss": "wgan-gp"}, [], "wgan-gp"),
        ({}, ["regularizer=r1"], "r1"),
        ({"loss": "r1"}, [], "r1"),
    ],
)
def test_sync_batchnorm_is_refused_under_a_penalty_on_a_batchnorm_critic(
    idx_dir_256, tmp_path, options, sets, penalty
):
    with pytest.raises(ConfigError) as err:
        gan_zoo.train(
            "dcgan",
            "fashion-mnist",
            overrides=sets,
            sync_batchnorm=True,
            steps=1,
            data_dir=str(idx_dir_256),
            device="cpu",
            out=str(tmp_path / "run"),
            progress="quiet",
            **options,
        )
    message = str(err.value)
    assert "\n" not in message and f"'{penalty}'" in message
    assert "--set discriminator.norm=none" in message and "--sync-batchnorm" in message
    assert not (tmp_path / "run").exists()  # refused at set-up, before the run directory


def test_sync_batchnorm_is_allowed_when_the_critic_has_no_batchnorm():
    config = _tiny(model="wgan-gp", sync_batchnorm=True)
    config.regularizer = NetSpec("r1")
    build_networks(config, CPU)  # wgan-gp's critic has norm none: only G would be synced
    build_networks(_tiny(loss="wgan-gp"), CPU)  # a penalty without --sync-batchnorm: fine


def test_ranks_share_initial_weights_but_not_the_global_random_stream():
    config = _tiny(model="wgan-gp")
    draws, weights = {}, {}
    for rank, info in (
        (None, None),
        (0, ddp.DistInfo(0, 2)),
        (1, ddp.DistInfo(1, 2)),
        (2, ddp.DistInfo(2, 3)),
    ):
        _, G, D, _, _ = build_networks(config, CPU, info)
        params = [*G.parameters(), *D.parameters()]
        weights[rank] = torch.cat([p.detach().flatten() for p in params])
        draws[rank] = torch.rand(8)  # what WGAN-GP's interpolation weights would be
    assert all(torch.equal(weights[None], w) for w in weights.values())
    assert torch.equal(draws[None], draws[0])  # rank 0 is a single process, bit for bit
    assert not torch.equal(draws[0], draws[1]) and not torch.equal(draws[1], draws[2])


def test_non_main_ranks_reseed_the_global_stream_on_resume():
    config = _tiny()
    rank0 = Streams(config, ddp.DistInfo(0, 2), CPU)
    rank1 = Streams(config, ddp.DistInfo(1, 2), CPU)
    rng = rank0.state(at_epoch_start=True)
    torch.manual_seed(123)
    rank1.restore(rng, step=7)
    after7 = torch.rand(8)
    rank1.restore(rng, step=9)
    after9 = torch.rand(8)
    rank1.restore(rng, step=7)
    assert torch.equal(torch.rand(8), after7)  # a function of the rank and the step
    rank0.restore(rng, step=7)  # rank 0 takes the checkpoint's own state
    assert torch.equal(torch.get_rng_state(), rng["torch"])
    assert not torch.equal(after7, after9) and not torch.equal(after7, torch.rand(8))


@pytest.mark.parametrize(
    "ddp_batch, world, batch, per_step",
    [
        ("per-process", 2, 16, 64),
        ("global", 2, 8, 32),
        ("per-process", 1, 16, 32),
        ("global", 1, 16, 32),
    ],
)
def test_the_ddp_batch_choice(ddp_batch, world, batch, per_step):
    class Shard:  # this rank's share of 256 images
        def __len__(self):
            return 256 // world

    config = _tiny(batch_size=16, ddp_batch=ddp_batch, n_critic=2)
    plan = plan_steps(config, Shard(), ddp.DistInfo(0, world))
    assert (plan.batch, plan.images_per_step) == (batch, per_step)  # global images per step
    assert plan.steps_per_epoch == 256 // world // batch // 2  # an epoch is one pass


def test_ddp_batch_is_checked_and_described():
    with pytest.raises(ConfigError, match="^ddp_batch must be per-process or global, got 'all'$"):
        _tiny(ddp_batch="all")
    line = ddp.describe_batch(64, ddp.DistInfo(0, 2), _tiny(batch_size=64))
    assert line.startswith(
        "DDP: 2 processes x batch 64 = global batch 128 (per-process; --ddp-batch global keeps 64)"
    )
    with pytest.raises(ConfigError, match="does not split evenly over 3 processes"):
        ddp.per_rank_batch(16, ddp.DistInfo(0, 3), "global")


def test_a_config_json_from_before_ddp_batch_loads_and_resumes_with_the_global_batch(tmp_path):
    record = to_dict(TrainConfig())
    del record["ddp_batch"]
    assert record_to_config(record).ddp_batch == "per-process"  # loads: the field's default
    ckpt = tmp_path / "run" / "checkpoints" / "step-0000001"
    ckpt.mkdir(parents=True)
    (ckpt / "config.json").write_text(json.dumps(record))
    (ckpt / "generator.safetensors").touch()  # a checkpoint's marker; resolving reads no weights
    config, _, _ = resolve.resume_config(ckpt)
    assert config.ddp_batch == "global"  # how DDP read batch_size before the field existed


def test_the_model_card_says_how_the_batch_was_split():
    record = {
        "model": "dcgan",
        "dataset": "fashion-mnist",
        "batch_size": 64,
        "ddp_batch": "per-process",
    }
    state = {"step": 10, "world_size": 4, "batch_per_process": 64, "hardware": "GPU x4"}
    card = render_card(record, state=state, samples=None)
    assert (
        "- data parallel: 4 processes (DDP) x batch 64 per process = global batch 256 "
        "(--ddp-batch per-process)" in card
    )
    assert "data parallel" not in render_card(record, state={"step": 10}, samples=None)
    check_state({"state": state}, "training-state.json")
    with pytest.raises(CheckpointError, match="state.world_size must be a positive whole number"):
        check_state({"state": {"world_size": 0}}, "training-state.json")
