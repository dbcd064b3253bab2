"""Checkpoints: save and load round trips, the atomic write under a crash, keep-K and best.

Everything runs on real networks from the registry, real Adam optimizers after real steps, and
real files. ``make_run`` and ``Parts`` live in tests/helpers.py (the generate tests use them too).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from helpers import (
    TESTS,
    Parts,
    make_run,
    outputs,
)

import gan_zoo
from gan_zoo import checkpoint
from gan_zoo.config import config_hash
from gan_zoo.errors import CheckpointError


def test_layout_and_pointers(tmp_path):
    run, _ = make_run(tmp_path)
    ckpt = run / "checkpoints" / "step-0000002"
    assert sorted(p.name for p in ckpt.iterdir()) == sorted(
        [
            "generator.safetensors",
            "discriminator.safetensors",
            "training-state.safetensors",
            "training-state.json",
            "config.json",
            "README.md",
            "samples.png",
        ]
    )
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-0000002"
    assert checkpoint.resolve_checkpoint(run) == ckpt
    assert checkpoint.resolve_checkpoint(ckpt) == ckpt
    assert (
        checkpoint.resolve_checkpoint(ckpt / "generator.safetensors")
        == ckpt / "generator.safetensors"
    )
    from PIL import Image

    assert Image.open(ckpt / "samples.png").size == (62, 62)


def test_save_load_gives_identical_generator_output(tmp_path):
    run, parts = make_run(tmp_path)
    expected = outputs(parts.g)
    for path in (run, run / "checkpoints" / "step-0000002", run / "checkpoints" / "latest"):
        g = gan_zoo.load(path)
        assert not g.training and g.device == torch.device("cpu")
        assert torch.equal(outputs(g), expected)


def test_load_needs_only_generator_config_and_card(tmp_path):
    run, parts = make_run(tmp_path)
    ckpt = run / "checkpoints" / "step-0000002"
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for name in ("generator.safetensors", "config.json", "README.md"):
        (shipped / name).write_bytes((ckpt / name).read_bytes())
    assert torch.equal(outputs(gan_zoo.load(shipped)), outputs(parts.g))


def test_lone_safetensors_rebuilds_from_its_metadata(tmp_path):
    run, parts = make_run(tmp_path)
    lone = tmp_path / "alone" / "my-model.safetensors"
    lone.parent.mkdir()
    lone.write_bytes((run / "checkpoints" / "step-0000002" / "generator.safetensors").read_bytes())
    g = gan_zoo.load(lone)
    assert torch.equal(outputs(g), outputs(parts.g))
    assert g.config["generator"] == {"name": "dcgan", "options": {"width": 8}}


def test_safetensors_metadata_says_what_the_file_is(tmp_path):
    run, parts = make_run(tmp_path)
    ckpt = run / "checkpoints" / "step-0000002"
    meta = checkpoint.read_metadata(ckpt / "generator.safetensors")
    assert meta["part"] == "generator" and meta["format"] == "gan-zoo"
    assert (
        meta["model"],
        meta["generator"],
        meta["discriminator"],
        meta["loss"],
        meta["dataset"],
    ) == ("dcgan", "dcgan", "dcgan", "bce", "fashion-mnist")
    assert meta["gan_zoo_version"] == gan_zoo.__version__
    assert meta["config_hash"] == config_hash(parts.config)
    assert json.loads(meta["generator_kwargs"]) == {
        "z_dim": 100,
        "image_size": 28,
        "channels": 1,
        "width": 8,
    }
    assert checkpoint.read_metadata(ckpt / "discriminator.safetensors")["part"] == "discriminator"
    record = json.loads((ckpt / "config.json").read_text())
    assert record["gan_zoo_version"] == gan_zoo.__version__
    assert record["plugins"]["generator"] == f"gan-zoo {gan_zoo.__version__}"
    assert checkpoint.record_to_config(record) == parts.config


def _assert_same_training_state(a: Parts, b: Parts) -> None:
    for ma, mb in ((a.g, b.g), (a.d, b.d)):
        for (ka, va), (kb, vb) in zip(
            ma.state_dict().items(), mb.state_dict().items(), strict=True
        ):
            assert ka == kb and torch.equal(va, vb), ka
    for oa, ob in ((a.g_opt, b.g_opt), (a.d_opt, b.d_opt)):
        sa, sb = oa.state_dict(), ob.state_dict()
        assert sa["param_groups"] == sb["param_groups"]
        assert sa["state"].keys() == sb["state"].keys()
        for idx in sa["state"]:
            for key, value in sa["state"][idx].items():
                assert torch.equal(value, sb["state"][idx][key]), (idx, key)


@pytest.mark.parametrize("ema", [False, True])
def test_training_state_round_trip_resumes_exactly(tmp_path, ema):
    run, saved = make_run(tmp_path, ema=ema)
    scaler = torch.amp.GradScaler("cpu", init_scale=512.0)
    saved_rng = {
        "torch": torch.get_rng_state(),
        "data": torch.Generator().manual_seed(5).get_state(),
    }
    saved.save(run, 3, scaler=scaler, rng=saved_rng)
    fresh = Parts(ema=ema, seed=123)
    fresh_scaler = torch.amp.GradScaler("cpu", init_scale=2.0)
    state, rng = checkpoint.load_training_state(
        run,
        generator=fresh.g,
        discriminator=fresh.d,
        g_optimizer=fresh.g_opt,
        d_optimizer=fresh.d_opt,
        ema_generator=fresh.ema,
        scaler=fresh_scaler,
    )
    assert state["step"] == 3 and state["last_losses"] == {"loss/d": 1.25, "loss/g": 0.75}
    assert rng.keys() == saved_rng.keys()
    assert all(torch.equal(rng[k], saved_rng[k]) and rng[k].dtype == torch.uint8 for k in rng)
    assert fresh_scaler.state_dict()["scale"] == 512.0
    _assert_same_training_state(saved, fresh)
    if ema:  # generator.safetensors holds the EMA weights, the raw G is in the training state
        assert torch.equal(outputs(gan_zoo.load(run)), outputs(saved.ema))
        assert not torch.equal(outputs(saved.ema), outputs(saved.g))
        for pa, pb in zip(
            saved.ema.state_dict().values(), fresh.ema.state_dict().values(), strict=True
        ):
            assert torch.equal(pa, pb)
    saved.g.train()
    fresh.g.train()
    saved.step()
    fresh.step()  # the same update on both: a resumed run continues bit for bit
    _assert_same_training_state(saved, fresh)


def test_keep_last_k_and_the_best(tmp_path):
    parts = Parts()
    run = tmp_path / "run"
    fids = {1: 5.0, 2: 3.0, 3: 4.0, 4: 6.0, 5: 7.0}
    for step, fid in fids.items():
        parts.save(run, step, keep=2, metric=("fid", fid, False))
    names = [p.name for p in checkpoint.list_checkpoints(run)]
    assert names == ["step-0000002", "step-0000004", "step-0000005"]
    root = run / "checkpoints"
    assert (root / "latest").read_text().strip() == "step-0000005"
    assert (root / "best").read_text().strip() == "step-0000002"
    assert checkpoint.resolve_checkpoint(root / "best") == root / "step-0000002"
    parts.save(run, 6, keep=2, metric=("fid", 1.0, False))
    assert (root / "best").read_text().strip() == "step-0000006"
    assert [p.name for p in checkpoint.list_checkpoints(run)] == ["step-0000005", "step-0000006"]
    assert not [p for p in root.iterdir() if p.name.startswith(".")]


def test_keep_zero_keeps_everything_and_same_step_is_replaced(tmp_path):
    parts = Parts()
    run = tmp_path / "run"
    for step in (1, 2, 3, 3):
        parts.save(run, step, keep=0)
    assert [p.name for p in checkpoint.list_checkpoints(run)] == [
        "step-0000001",
        "step-0000002",
        "step-0000003",
    ]


def test_atomic_write_helpers(tmp_path):
    target = tmp_path / "sub" / "config.json"
    checkpoint.atomic_write_json(target, {"a": [1, 2.5]})
    checkpoint.atomic_write_text(target, '{"a": 3}\n')
    assert json.loads(target.read_text()) == {"a": 3}
    assert [p.name for p in target.parent.iterdir()] == ["config.json"]
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from gan_zoo import checkpoint, plugins
    from gan_zoo.checkpoint import save as checkpoint_save
    from helpers import Parts

    run, phase = Path(sys.argv[1]), sys.argv[2]
    parts = Parts()
    parts.save(run, 1)
    parts.step()
    if phase == "mid-file":  # die halfway through writing the discriminator weights
        real_write = checkpoint_save.write_durable
        def dying_write(path, data):
            if path.name == "discriminator.safetensors":
                with open(path, "wb") as f:
                    f.write(data[: len(data) // 2])
                    f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            real_write(path, data)
        checkpoint_save.write_durable = dying_write
    else:  # die after the rename, while `latest` is being replaced
        def dying_pointer(path, text):
            Path(path).with_name(".latest.partial").write_text(text[:3])
            os.kill(os.getpid(), signal.SIGKILL)
        checkpoint_save.atomic_write_text = dying_pointer
    parts.save(run, 2)
    print("not killed")
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["mid-file", "pointer"])
def test_kill_9_mid_save_never_leaves_a_half_checkpoint_as_latest(tmp_path, phase):
    run = tmp_path / "run"
    script = tmp_path / "crash.py"
    script.write_text(CRASH_SCRIPT.format(tests=str(TESTS)))
    env = {**os.environ, "GAN_ZOO_LOAD_PLUGINS": ""}
    proc = subprocess.run(
        [sys.executable, str(script), str(run), phase],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    root = run / "checkpoints"
    assert (root / "latest").read_text().strip() == "step-0000001"
    assert checkpoint.resolve_checkpoint(run) == root / "step-0000001"
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".tmp-")]
    assert bool(leftovers) == (phase == "mid-file")  # the half-written save stayed in its temp dir
    fresh = Parts(seed=9)
    state, _ = checkpoint.load_training_state(
        run,
        generator=fresh.g,
        discriminator=fresh.d,
        g_optimizer=fresh.g_opt,
        d_optimizer=fresh.d_opt,
    )
    assert state["step"] == 1
    gan_zoo.load(run).sample(2, seed=0)
    Parts().save(run, 2)  # the next save succeeds and clears what the crash left
    assert (root / "latest").read_text().strip() == "step-0000002"
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]


def test_wrapped_networks_are_saved_without_prefixes(tmp_path):
    parts = Parts()
    expected = outputs(parts.g)
    parts.g, parts.d = torch.nn.DataParallel(parts.g), torch.nn.DataParallel(parts.d)
    parts.save(tmp_path / "run", 1)
    ckpt = tmp_path / "run" / "checkpoints" / "step-0000001"
    names = checkpoint.read_header(ckpt / "generator.safetensors").keys()
    assert "net.0.weight" in names and not any(n.startswith("module.") for n in names)
    assert torch.equal(outputs(gan_zoo.load(ckpt)), expected)
    fresh = Parts(seed=5)
    wrapped = torch.nn.DataParallel(fresh.g)
    checkpoint.load_training_state(
        ckpt,
        generator=wrapped,
        discriminator=fresh.d,
        g_optimizer=fresh.g_opt,
        d_optimizer=fresh.d_opt,
    )
    assert torch.equal(outputs(fresh.g), expected)


def test_a_full_disk_is_a_one_line_error_and_keeps_latest(tmp_path, monkeypatch):
    import errno

    from gan_zoo.checkpoint import save as checkpoint_save

    run, parts = make_run(tmp_path)
    real_write = checkpoint_save.write_durable

    def full_disk(path, data):
        if path.name == "training-state.safetensors":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_write(path, data)

    monkeypatch.setattr(checkpoint_save, "write_durable", full_disk)
    with pytest.raises(CheckpointError) as info:
        parts.save(run, 3)
    assert "No space left on device" in str(
        info.value
    ) and "step-0000002 is still the latest" in str(info.value)
    root = run / "checkpoints"
    assert sorted(p.name for p in root.iterdir()) == ["latest", "step-0000002"]


@pytest.mark.parametrize("as_record", [False, True])
def test_a_save_builds_the_record_once_and_hashes_it_once(tmp_path, monkeypatch, as_record):
    """The trainer passes a record, tests a TrainConfig: either way one record, one hash."""
    from gan_zoo.checkpoint import record

    parts = Parts()
    calls = {"config_hash": 0, "to_dict": 0}

    def counting(name):
        real = getattr(record, name)

        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    config = checkpoint.config_record(parts.config) if as_record else parts.config
    monkeypatch.setattr(record, "config_hash", counting("config_hash"))
    monkeypatch.setattr(record, "to_dict", counting("to_dict"))
    parts.config = config
    ckpt = parts.save(tmp_path / "run", 1)
    assert calls == {"config_hash": 1, "to_dict": 0 if as_record else 1}
    hashes = {
        checkpoint.read_metadata(ckpt / name)["config_hash"]
        for name in (
            "generator.safetensors",
            "discriminator.safetensors",
            "training-state.safetensors",
        )
    }
    assert hashes == {config_hash(Parts().config)}


def test_training_state_round_trips_through_state_dict_and_load_state_dict():
    """``load_state_dict(*state_dict())`` into fresh objects gives back every tensor."""
    saved = Parts(ema=True)
    rng = {"torch": torch.get_rng_state()}
    state = checkpoint.TrainingState(
        saved.g,
        saved.d,
        saved.g_opt,
        saved.d_opt,
        ema_generator=saved.ema,
        progress={"step": 2},
        rng=rng,
    )
    tensors, doc = state.state_dict()
    assert set(tensors) == {
        "generator.safetensors",
        "discriminator.safetensors",
        "training-state.safetensors",
    }
    assert doc["ema"] is True and doc["rng"] == ["torch"] and doc["state"] == {"step": 2}
    assert any(
        k.startswith(checkpoint.RAW_GENERATOR_PREFIX) for k in tensors["training-state.safetensors"]
    )
    json.dumps(doc)  # the document is JSON as it is

    fresh = Parts(ema=True, seed=7)
    back = checkpoint.TrainingState(
        fresh.g, fresh.d, fresh.g_opt, fresh.d_opt, ema_generator=fresh.ema
    )
    copied = {name: {k: v.clone() for k, v in part.items()} for name, part in tensors.items()}
    back.load_state_dict(copied, json.loads(json.dumps(doc)))
    assert back.progress == {"step": 2} and torch.equal(back.rng["torch"], rng["torch"])
    for a, b in ((saved.g, fresh.g), (saved.d, fresh.d), (saved.ema, fresh.ema)):
        for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.equal(x, y), name
    assert torch.equal(
        fresh.g_opt.state_dict()["state"][0]["exp_avg"],
        saved.g_opt.state_dict()["state"][0]["exp_avg"],
    )


def test_resume_and_init_and_load_share_one_reader(tmp_path, monkeypatch):
    """Every read of a checkpoint's files goes through CheckpointReader."""
    from gan_zoo.checkpoint import reader as reader_module

    run, parts = make_run(tmp_path, ema=True)
    opened = []
    real = reader_module.CheckpointReader.__init__

    def spy(self, path):
        opened.append(path)
        real(self, path)

    monkeypatch.setattr(reader_module.CheckpointReader, "__init__", spy)
    gan_zoo.load(run)
    checkpoint.load_training_state(
        run,
        generator=parts.g,
        discriminator=parts.d,
        g_optimizer=parts.g_opt,
        d_optimizer=parts.d_opt,
    )
    assert opened == [run / "checkpoints" / "step-0000002"] * 2


def test_file_names_and_key_prefixes_are_spelled_only_in_layout():
    """``generator_raw/``, ``rng/`` and the file names are layout.py's constants everywhere."""
    package = Path(gan_zoo.__file__).parent
    names = (
        '"generator_raw/',
        '"rng/',
        '"generator.safetensors"',
        '"training-state.json"',
        '"training-state.safetensors"',
        '"metrics.jsonl"',
    )
    spelled = [
        f"{path.relative_to(package)}: {name}"
        for path in package.rglob("*.py")
        if path.name != "layout.py"
        for name in names
        if name in path.read_text()
    ]
    assert spelled == []
