"""Checkpoints that move between devices, and the CUDA-only choices proved through CPU stand-ins.

No GPU runs here: a CUDA noise stream is a stand-in with the interface and the 16-byte state of
``torch.Generator("cuda")`` (Philox: seed and offset), ``torch.cuda`` queries are monkeypatched,
and a CUDA run's checkpoint is the one a CPU run writes with the CUDA-sized states put in, which
is byte for byte what ``Streams.state`` writes on a GPU.
"""

from __future__ import annotations

import re
import struct

import pytest
import torch
from helpers import ROOT, TINY_4
from safetensors import safe_open
from safetensors.torch import save_file

from gan_zoo.checkpoint.training_state import PHILOX_STATE_BYTES, check_rng, rng_state_device
from gan_zoo.config import TrainConfig
from gan_zoo.errors import CheckpointError
from gan_zoo.training import distributed as ddp
from gan_zoo.training.streams import Streams


class FakePhilox:
    """``torch.Generator("cuda")`` as the streams use it: seed, state of 16 bytes, restore."""

    def __init__(self, seed: int = 0):
        self.seed, self.offset = seed, 0

    def manual_seed(self, seed: int) -> FakePhilox:
        self.seed, self.offset = int(seed), 0
        return self

    def get_state(self) -> torch.Tensor:
        return torch.tensor(list(struct.pack("<QQ", self.seed, self.offset)), dtype=torch.uint8)

    def set_state(self, state: torch.Tensor) -> None:
        assert state.dtype == torch.uint8 and state.numel() == PHILOX_STATE_BYTES, state.shape
        self.seed, self.offset = struct.unpack("<QQ", bytes(state.tolist()))


@pytest.fixture
def fake_cuda(monkeypatch):
    """The global CUDA generator's calls, recorded: ``calls`` lists (name, value)."""
    calls = []
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device=None: FakePhilox(99).get_state())
    monkeypatch.setattr(
        torch.cuda, "set_rng_state", lambda s, device=None: calls.append(("set", s))
    )
    monkeypatch.setattr(torch.cuda, "manual_seed", lambda seed: calls.append(("seed", seed)))
    return calls


def _streams(device: str) -> Streams:
    """Streams of a default run; on "cuda" the noise stream is the 16-byte stand-in."""
    streams = Streams(TrainConfig(seed=3), ddp.DistInfo(), torch.device("cpu"))
    if device == "cuda":
        streams.device = torch.device("cuda", 0)
        streams.noise = FakePhilox().manual_seed(streams._noise_seed(0))
    return streams


def test_a_cuda_state_passes_the_check_and_restores_exactly(fake_cuda):
    saved = _streams("cuda")
    saved.noise.offset = 4096  # the stream has drawn numbers
    rng = saved.state(at_epoch_start=True)
    assert rng["noise"].numel() == rng["cuda"].numel() == 16
    check_rng(rng, "training-state.safetensors")  # was: "not a uint8 vector of 5056 bytes"
    resumed = _streams("cuda")
    assert resumed.restore(rng, step=7) is None  # nothing re-seeded: bit-exact
    assert (resumed.noise.seed, resumed.noise.offset) == (saved.noise.seed, 4096)
    assert fake_cuda == [("set", rng["cuda"])]


def test_a_cpu_checkpoint_resumed_on_cuda_reseeds_its_noise_with_one_warning(fake_cuda):
    rng = _streams("cpu").state(at_epoch_start=True)
    resumed = _streams("cuda")
    warning = resumed.restore(rng, step=7)
    assert "drawn on CPU" in warning and "re-seeded from step 7" in warning
    assert "\n" not in warning
    assert (resumed.noise.seed, resumed.noise.offset) == (resumed._noise_seed(7), 0)
    assert fake_cuda == [("seed", resumed._noise_seed(7))]
    # The data order and the global CPU stream carry over exactly.
    assert torch.equal(resumed.data.get_state(), rng["data"])
    assert torch.equal(torch.get_rng_state(), rng["torch"])


def test_a_cuda_checkpoint_resumed_on_the_cpu_reseeds_deterministically(fake_cuda):
    rng = _streams("cuda").state(at_epoch_start=True)
    draws = []
    for _ in range(2):
        resumed = _streams("cpu")
        assert "drawn on CUDA" in resumed.restore(rng, step=5)
        draws.append(torch.randn(4, generator=resumed.noise))
    assert torch.equal(*draws)
    assert torch.equal(
        draws[0], torch.randn(4, generator=torch.Generator().manual_seed(resumed._noise_seed(5)))
    )


@pytest.mark.parametrize(
    "name, size", [("noise", 17), ("noise", 0), ("cuda", 5056), ("data", 16), ("torch", 16)]
)
def test_rng_states_of_no_generator_are_still_corrupt(name, size):
    rng = {
        "data": torch.get_rng_state(),
        "torch": torch.get_rng_state(),
        "noise": torch.get_rng_state(),
    }
    rng[name] = torch.zeros(size, dtype=torch.uint8)
    with pytest.raises(
        CheckpointError, match=f"RNG state '{name}' is not a uint8 vector of .*corrupt"
    ):
        check_rng(rng, "training-state.safetensors")


def test_rng_state_device_tells_the_kinds_apart():
    assert rng_state_device(torch.Generator().get_state()) == "cpu"
    assert rng_state_device(FakePhilox().get_state()) == "cuda"
    assert rng_state_device(torch.zeros(3, dtype=torch.uint8)) == "?"


def _as_if_trained_on_cuda(checkpoint):
    """Put CUDA-sized noise and CUDA states into a checkpoint, as a GPU run writes them."""
    path = checkpoint / "training-state.safetensors"
    with safe_open(path, "pt") as f:
        tensors, meta = {k: f.get_tensor(k) for k in f.keys()}, f.metadata()
    tensors["rng/noise"] = FakePhilox(123).get_state()
    tensors["rng/cuda"] = FakePhilox(456).get_state()
    save_file(tensors, path, metadata=meta)


def test_a_cuda_run_resumes_on_the_cpu_through_real_files(idx_dir, tmp_path):
    from gan_zoo import train

    common = dict(data_dir=str(idx_dir), device="cpu", progress="quiet")
    run = train(
        "dcgan",
        "fashion-mnist",
        steps=3,
        out=str(tmp_path / "run"),
        batch_size=8,
        overrides=TINY_4,
        **common,
    )
    _as_if_trained_on_cuda(run.checkpoint)
    resumed = train(None, None, steps=6, resume=run.dir, **common)
    assert resumed.step == 6
    notes = [w for w in resumed.warnings if "re-seeded from step 3" in w]
    assert len(notes) == 1 and "drawn on CUDA" in notes[0], resumed.warnings


# Precision and backends on CUDA, through monkeypatched device queries.
@pytest.fixture
def gpu(monkeypatch):
    """A CUDA device whose compute capability the test sets: ``gpu(7, 0)`` is a V100."""

    def make(major: int, minor: int = 0) -> torch.device:
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (major, minor))
        monkeypatch.setattr(
            torch.cuda, "get_device_name", lambda device=None: f"GPU sm_{major}{minor}"
        )
        # What torch answers by default on a V100 or T4 too: bf16 "supported" (emulated).
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
        return torch.device("cuda", 0)

    return make


@pytest.mark.parametrize(
    "capability, expected", [((7, 0), "fp16"), ((7, 5), "fp16"), ((8, 0), "bf16"), ((9, 0), "bf16")]
)
def test_auto_precision_on_cuda_is_bf16_only_where_it_is_native(gpu, capability, expected):
    from gan_zoo.training.precision import resolve_precision

    assert resolve_precision("auto", gpu(*capability)) == expected


def test_bf16_forced_on_a_pre_ampere_gpu_gets_one_warning(gpu):
    from gan_zoo.training.precision import precision_warning

    v100 = gpu(7, 0)
    warning = precision_warning("bf16", v100)
    assert "bf16 on GPU sm_70 (compute capability 7.0, before Ampere) is emulated" in warning
    assert "--precision fp16" in warning and "\n" not in warning
    assert precision_warning("fp16", v100) is None
    assert precision_warning("bf16", gpu(8, 0)) is None


@pytest.fixture
def cuda_backends():
    """Put the process-wide backend flags back as they were."""
    conv = torch.backends.cudnn.conv
    saved = (
        torch.backends.cudnn.benchmark,
        torch.backends.cuda.matmul.fp32_precision,
        conv.fp32_precision,
    )
    yield
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False
    torch.backends.cudnn.benchmark = saved[0]
    torch.backends.cuda.matmul.fp32_precision, conv.fp32_precision = saved[1], saved[2]


@pytest.mark.parametrize("tf32", [False, True])
def test_tf32_and_cudnn_benchmark_are_set_explicitly(cuda_backends, tf32):
    from gan_zoo.training.precision import set_cuda_backends, tf32_enabled

    set_cuda_backends(tf32=tf32, cudnn_benchmark=True)
    assert torch.backends.cudnn.benchmark is True
    want = "tf32" if tf32 else "ieee"
    assert torch.backends.cuda.matmul.fp32_precision == want
    assert torch.backends.cudnn.conv.fp32_precision == want
    assert tf32_enabled() is tf32


def test_the_tf32_choice_is_recorded_in_config_and_card(idx_dir, tmp_path):
    import json

    from gan_zoo import train

    run = train(
        "dcgan",
        "fashion-mnist",
        steps=1,
        batch_size=8,
        out=str(tmp_path / "run"),
        data_dir=str(idx_dir),
        device="cpu",
        progress="quiet",
        overrides=TINY_4,
    )
    record = json.loads((run.dir / "config.json").read_text())
    assert record["tf32"] is False and record["cudnn_benchmark"] is True
    card = (run.checkpoint / "README.md").read_text()
    assert "| `tf32` | `false` |" in card and "| `cudnn_benchmark` | `true` |" in card


@pytest.mark.parametrize("policy", ["translation", "cutout", "color", "translation,cutout,color"])
def test_diffaugment_keeps_channels_last(policy):
    from gan_zoo.training.augment import DiffAugment

    x = torch.randn(4, 3, 16, 16).contiguous(memory_format=torch.channels_last)
    out = DiffAugment(policy, torch.Generator().manual_seed(0))(x)
    assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()
    plain = DiffAugment(policy, torch.Generator().manual_seed(0))(x.contiguous())
    assert plain.is_contiguous() and torch.allclose(plain, out, atol=1e-6)  # either layout


def test_deterministic_turns_the_autotuner_off_and_deterministic_kernels_on(
    cuda_backends, monkeypatch
):
    import os

    from gan_zoo.training.precision import set_cuda_backends

    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    set_cuda_backends(tf32=False, cudnn_benchmark=True, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.deterministic
    assert torch.backends.cudnn.benchmark is False
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


def test_real_feature_caches_are_kept_apart_by_device_and_precision(cuda_backends):
    from gan_zoo.metrics.classifier import ClassifierExtractor
    from gan_zoo.metrics.numerics import full_fp32, numerics

    ext = ClassifierExtractor("fashion-mnist")
    assert numerics(ext, "cpu") == "cpu-float32"
    assert numerics(ext, "cuda:1") == "cuda-float32-no-tf32"
    torch.backends.cudnn.conv.fp32_precision = "tf32"  # what a --tf32 run set
    with full_fp32("cuda:0"):  # Inception on a GPU runs in IEEE fp32 whatever the run chose
        assert torch.backends.cudnn.conv.fp32_precision == "ieee"
        assert torch.backends.cuda.matmul.fp32_precision == "ieee"
    assert torch.backends.cudnn.conv.fp32_precision == "tf32"


# torch.compile: the compiled step settles after warm-up, and CUDA graphs are marked per step.
def _real_batches(seed=1, batch=8):
    gen = torch.Generator().manual_seed(seed)
    while True:
        yield (
            torch.rand(batch, 1, 28, 28, generator=gen) * 2 - 1,
            torch.randint(10, (batch,), generator=gen),
        )


@pytest.mark.slow
@pytest.mark.parametrize("model", ["dcgan", "wgan-gp"])
def test_the_compiled_step_never_recompiles_after_warm_up_and_marks_each_step(monkeypatch, model):
    """What reduce-overhead runs on CUDA, minus the graphs: inductor compiles G, D and frozen D
    once (D twice: with and without gradients for its weights), and the step marks the start of
    every step for CUDA graphs exactly once (cudagraph_mark_step_begin, counted here)."""
    import torch._dynamo

    from gan_zoo.training import resolve
    from gan_zoo.training.build import build_networks, fit_to_data
    from gan_zoo.training.step import TrainStep

    options = {
        "device": "cpu",
        "precision": "fp32",
        "channels_last": False,
        "compile": True,
        "n_critic": 2,
    }
    config = resolve.build_config(model, "fashion-mnist", options, TINY_4)
    config, G, D, loss, regularizer = build_networks(
        fit_to_data(config, 28, 1, 10), torch.device("cpu")
    )
    step = TrainStep(config, G, D, loss, regularizer, noise=torch.Generator().manual_seed(0))
    marks = []
    monkeypatch.setattr(torch.compiler, "cudagraph_mark_step_begin", lambda: marks.append(1))
    step.cuda_graphs = True  # as on CUDA with --compile-mode reduce-overhead
    batches = _real_batches()
    torch._dynamo.reset()
    for _ in range(2):  # warm-up: the compiles
        step(batches)
    with torch._dynamo.config.patch(error_on_recompile=True):
        for _ in range(3):
            result = step(batches)
    assert len(marks) == 5
    assert torch.isfinite(result.d_loss) and torch.isfinite(result.g_loss)


@pytest.mark.parametrize(
    "version, ok",
    [
        ("2.3.1+cu121", False),
        ("2.1.0", False),
        ("2.4.0", True),
        ("2.11.0+cu130", True),
        ("2.14.1", True),
        ("3.0.0a0", True),
    ],
)
def test_the_torch_floor_is_one_line_naming_it(monkeypatch, idx_dir, version, ok):
    from gan_zoo.errors import GanZooError
    from gan_zoo.torch_floor import check_torch

    monkeypatch.setattr(torch, "__version__", version)
    if ok:
        check_torch()
        return
    with pytest.raises(
        GanZooError,
        match=rf"gan-zoo needs torch >= 2.4 to train, but torch {re.escape(version)} "
        r"is installed; upgrade",
    ) as err:
        gan_zoo_train_one_step(idx_dir)
    assert "\n" not in str(err.value)


def gan_zoo_train_one_step(idx_dir):
    from gan_zoo import train

    return train(
        "dcgan",
        "fashion-mnist",
        steps=1,
        batch_size=8,
        data_dir=str(idx_dir),
        device="cpu",
        progress="quiet",
        overrides=TINY_4,
    )


def test_pyproject_declares_the_same_floor():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    from gan_zoo.torch_floor import TORCH_FLOOR

    root = ROOT
    for project in [root, *sorted((root / "plugins").glob("gan-zoo-*"))]:
        deps = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
        torch_deps = [d for d in deps if d.startswith("torch>") or d.startswith("torch ")]
        assert torch_deps in ([], [f"torch>={'.'.join(map(str, TORCH_FLOOR))}"]), (project, deps)
