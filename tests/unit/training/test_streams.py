"""gan_zoo.training.streams on the CPU: saving and restoring the streams is bit-exact, a resumed
epoch replays its order without the batches already used, ranks get streams of their own, and
only the main process warns when the noise stream cannot carry over. The CUDA stand-ins and the
warning's text are in tests/test_devices.py."""

from __future__ import annotations

import torch

from gan_zoo.config import TrainConfig
from gan_zoo.datasets.base import ImageDataset
from gan_zoo.training import distributed as ddp
from gan_zoo.training.build import Plan
from gan_zoo.training.streams import Streams

CPU = torch.device("cpu")


def _streams(seed: int = 3, rank: int = 0, world_size: int = 1, **config) -> Streams:
    info = ddp.DistInfo(rank=rank, world_size=world_size) if world_size > 1 else ddp.DistInfo()
    return Streams(TrainConfig(seed=seed, **config), info, CPU)


def _dataset(n: int = 24) -> ImageDataset:
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous()
    return ImageDataset("toy", "train", images, torch.arange(n) % 3, ["a", "b", "c"], "memory")


def _plan(batch: int = 4, n_critic: int = 1, n: int = 24) -> Plan:
    steps = n // (batch * n_critic)
    return Plan(
        batch=batch,
        n_critic=n_critic,
        steps_per_epoch=steps,
        total_steps=10 * steps,
        images_per_step=batch * n_critic,
    )


def _indices(batches) -> list[list[int]]:
    """Each batch as the indices of its images (the toy images hold their own index)."""
    return [images[:, 0, 0, 0].add(1).mul(127.5).round().long().tolist() for images, _ in batches]


def _draws(streams: Streams) -> tuple[torch.Tensor, ...]:
    return (
        torch.randn(5, generator=streams.noise),
        torch.randperm(10, generator=streams.data),
        torch.rand(3),  # the global stream
    )


def test_state_and_restore_continue_every_stream_bit_exact():
    saved = _streams()
    _draws(saved)  # the streams have moved on
    rng = saved.state(at_epoch_start=True)
    expected = _draws(saved)
    torch.manual_seed(12345)  # the global stream is elsewhere in the resumed process
    resumed = _streams()
    assert resumed.restore(rng, step=7) is None  # same kind of device: nothing re-seeded
    for got, want in zip(_draws(resumed), expected, strict=True):
        assert torch.equal(got, want)


def test_the_state_is_a_copy_not_a_view_of_the_live_streams():
    streams = _streams()
    rng = streams.state(at_epoch_start=True)
    before = {k: v.clone() for k, v in rng.items()}
    _draws(streams)
    assert all(torch.equal(rng[k], before[k]) for k in rng)
    assert set(rng) == {"data", "noise", "torch"}  # no CUDA state on the CPU


def test_streams_are_seeded_apart_and_reproducibly():
    a, b, other = _streams(seed=3), _streams(seed=3), _streams(seed=4)
    noise = torch.randn(4, generator=a.noise)
    assert torch.equal(noise, torch.randn(4, generator=b.noise))
    assert not torch.equal(noise, torch.randn(4, generator=other.noise))
    # The data stream and the noise stream are different streams of one seed.
    assert not torch.equal(a.data.get_state(), a.noise.get_state())


def test_the_fixed_sample_noise_ignores_the_global_stream():
    torch.manual_seed(1)
    a = _streams()
    torch.manual_seed(2)
    b = _streams()
    assert a.fixed_z.shape == (64, TrainConfig().z_dim) and a.fixed_c is None
    assert torch.equal(a.fixed_z, b.fixed_z)
    assert not torch.equal(a.fixed_z, _streams(seed=4).fixed_z)


def test_a_conditional_grid_has_one_row_of_eight_per_class():
    streams = _streams(conditional=True, num_classes=3)
    assert streams.fixed_z.shape[0] == 24
    assert streams.fixed_c.tolist() == [0] * 8 + [1] * 8 + [2] * 8


def test_a_resumed_epoch_replays_its_order_without_the_used_batches():
    dataset, plan = _dataset(), _plan(batch=4, n_critic=2)  # 3 steps per epoch
    run = _streams()
    first = _indices(run.epoch(dataset, plan, step=0))
    assert sorted(sum(first, [])) == list(range(24))  # one epoch: every image once
    rng = run.state(at_epoch_start=True)
    second = _indices(run.epoch(dataset, plan, step=3))
    assert second != first  # a new epoch draws a new order

    # Interrupted after step 4 (the first step of the second epoch): saved mid-epoch.
    interrupted = _streams()
    interrupted.restore(rng, step=3)
    batches = interrupted.epoch(dataset, plan, step=3)
    for _ in range(plan.n_critic):
        next(batches)
    mid = interrupted.state(at_epoch_start=False)
    assert torch.equal(mid["data"], rng["data"])  # the state at the start of that epoch

    resumed = _streams()
    resumed.restore(mid, step=4)
    assert _indices(resumed.epoch(dataset, plan, step=4)) == second[plan.n_critic :]


def test_other_ranks_reseed_from_the_step_and_never_warn(monkeypatch):
    saved = _streams(rank=0, world_size=3)
    rng = saved.state(at_epoch_start=True)
    rng["noise"] = torch.zeros(16, dtype=torch.uint8)  # written on a CUDA device
    seeded = []
    monkeypatch.setattr(ddp, "seed_rank", lambda *args: seeded.append(args))
    ranks = [_streams(rank=r, world_size=3) for r in (1, 2)]
    assert [s.restore(rng, step=5) for s in ranks] == [None, None]  # only the main process warns
    assert seeded == [(3, 1, 5), (3, 2, 5)]
    draws = [torch.randn(3, generator=s.noise) for s in ranks]
    assert not torch.equal(*draws)  # each rank a stream of its own
    again = _streams(rank=1, world_size=3)
    again.restore(rng, step=5)
    assert torch.equal(torch.randn(3, generator=again.noise), draws[0])  # deterministic
    assert torch.equal(ranks[0].epoch_start, ranks[0].data.get_state())


def test_a_reseeded_noise_stream_still_restores_the_data_order_and_epoch_start():
    saved = _streams()
    _draws(saved)
    rng = saved.state(at_epoch_start=True)
    rng["noise"] = torch.zeros(16, dtype=torch.uint8)  # a CUDA (Philox) state
    resumed = _streams()
    warning = resumed.restore(rng, step=9)
    assert warning.count("re-seeded") == 1 and "\n" not in warning
    assert torch.equal(resumed.data.get_state(), rng["data"])
    assert torch.equal(resumed.epoch_start, rng["data"])
    assert torch.equal(torch.get_rng_state(), rng["torch"])


def test_a_checkpoint_without_streams_reseeds_the_main_process_from_the_step():
    resumed = _streams()
    assert resumed.restore({"torch": torch.get_rng_state()}, step=2) is None
    fresh = _streams()
    expected = fresh.data.manual_seed(fresh._data_seed(2)).get_state()
    assert torch.equal(resumed.data.get_state(), expected)
