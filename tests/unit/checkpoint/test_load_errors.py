"""Bad checkpoints: every one is a one-line error with exit code 2, and nothing is ever
unpickled."""

from __future__ import annotations

import json
import pickle
import re
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from helpers import (
    FASHION_MNIST_CLASSES,
    Parts,
    make_conditional_run,
    make_run,
    outputs,
)

import gan_zoo
from gan_zoo import checkpoint, plugins
from gan_zoo.cli import build_cli
from gan_zoo.errors import CheckpointError, GanZooError, UnknownNameError


def cli(*args):
    return CliRunner().invoke(build_cli(), [str(a) for a in args])


def assert_one_line_exit_2(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def ckpt_of(run: Path) -> Path:
    return run / "checkpoints" / "step-0000002"


def test_missing_path(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        gan_zoo.load(tmp_path / "nope")
    for command in ("generate", "interpolate", "info"):
        assert_one_line_exit_2(cli(command, tmp_path / "nope"), "does not exist")


def test_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    assert_one_line_exit_2(
        cli("generate", tmp_path / "empty"), "is not a gan-zoo run or checkpoint"
    )
    (tmp_path / "early" / "checkpoints").mkdir(parents=True)
    assert_one_line_exit_2(cli("info", tmp_path / "early"), "no complete checkpoint yet")


def test_missing_weights_or_config_in_a_checkpoint(tmp_path):
    run, _ = make_run(tmp_path)
    (ckpt_of(run) / "training-state.json").unlink()
    fresh = Parts()
    with pytest.raises(CheckpointError, match="training-state.json does not exist"):
        checkpoint.load_training_state(
            run,
            generator=fresh.g,
            discriminator=fresh.d,
            g_optimizer=fresh.g_opt,
            d_optimizer=fresh.d_opt,
        )
    (ckpt_of(run) / "generator.safetensors").unlink()
    assert_one_line_exit_2(
        cli("generate", run), "step-0000002, which is missing or has no generator.safetensors"
    )


@pytest.mark.parametrize("cut", [4, 40, 0.5, -1])
def test_truncated_safetensors(tmp_path, cut):
    run, _ = make_run(tmp_path)
    weights = ckpt_of(run) / "generator.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: int(len(data) * cut) if isinstance(cut, float) else cut])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        gan_zoo.load(run)
    assert_one_line_exit_2(cli("generate", run), "generator.safetensors is truncated or corrupt")


def test_corrupted_safetensors_header(tmp_path):
    run, _ = make_run(tmp_path)
    weights = ckpt_of(run) / "generator.safetensors"
    data = bytearray(weights.read_bytes())
    data[8:12] = b"\xff\xfe]]"  # the JSON header is now garbage
    weights.write_bytes(bytes(data))
    assert_one_line_exit_2(cli("generate", run), "generator.safetensors is not a safetensors file")
    weights.write_bytes(b"\x00" * 64)
    assert_one_line_exit_2(cli("info", run), "generator.safetensors is")


def test_corrupted_tensor_table(tmp_path):
    run, _ = make_run(tmp_path)
    weights = ckpt_of(run) / "generator.safetensors"
    data = weights.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    first = next(k for k in header if k != "__metadata__")
    header[first]["dtype"] = "NOPE"  # a dtype safetensors does not know, same total size
    raw = json.dumps(header, separators=(",", ":")).encode().ljust(n)
    weights.write_bytes(data[:8] + raw + data[8 + n :])
    assert_one_line_exit_2(cli("generate", run), "generator.safetensors is corrupt")


def test_weights_of_another_architecture_name_the_tensor(tmp_path):
    run, _ = make_run(tmp_path)
    other, _ = make_run(tmp_path / "wide", width=16)
    shutil.copy(ckpt_of(other) / "generator.safetensors", ckpt_of(run) / "generator.safetensors")
    with pytest.raises(CheckpointError) as info:
        gan_zoo.load(run)
    assert "tensor 'net.0.weight' has shape (100, 64, 7, 7) in the file but (100, 32, 7, 7)" in str(
        info.value
    )
    assert_one_line_exit_2(cli("generate", run), "'net.0.weight'", "another architecture")
    fresh = Parts()
    with pytest.raises(CheckpointError, match="'net.0.weight'"):
        checkpoint.load_training_state(
            run,
            generator=fresh.g,
            discriminator=fresh.d,
            g_optimizer=fresh.g_opt,
            d_optimizer=fresh.d_opt,
        )


def test_discriminator_weights_are_not_a_generator(tmp_path):
    run, _ = make_run(tmp_path)
    assert_one_line_exit_2(
        cli("generate", ckpt_of(run) / "discriminator.safetensors"), "holds discriminator weights"
    )


def test_plugin_not_installed_names_plugin_and_version(tmp_path):
    run, _ = make_conditional_run(tmp_path)
    record = json.loads((ckpt_of(run) / "config.json").read_text())
    assert record["plugins"]["generator"] == "gan-zoo-tiny 1.2.3"
    plugins.reset()  # a fresh process without the plugin
    with pytest.raises(CheckpointError) as info:
        gan_zoo.load(run)
    assert "gan-zoo-tiny 1.2.3" in str(info.value) and "pip install 'gan-zoo-tiny==1.2.3'" in str(
        info.value
    )
    assert_one_line_exit_2(
        cli("generate", run), "generator 'tiny-cond' comes from the plugin gan-zoo-tiny 1.2.3"
    )


def test_unknown_class_name_suggests_close_ones(tmp_path):
    run, _ = make_conditional_run(tmp_path)
    g = gan_zoo.load(run)
    assert g.class_names == FASHION_MNIST_CLASSES
    with pytest.raises(
        UnknownNameError, match=r"unknown class 'snekers'; did you mean 'sneaker'\?"
    ):
        g.sample(2, labels="snekers")
    assert_one_line_exit_2(
        cli("generate", run, "--class", "sneakr"), "unknown class 'sneakr'; did you mean 'sneaker'?"
    )
    assert_one_line_exit_2(
        cli("generate", run, "--class", "12"), "class 12 is out of range", "0..9"
    )
    assert_one_line_exit_2(cli("interpolate", run, "--class", "shoe"), "unknown class 'shoe'")


def test_class_for_an_unconditional_model(tmp_path):
    run, _ = make_run(tmp_path)
    assert_one_line_exit_2(cli("generate", run, "--class", "3"), "unconditional")


def test_bad_options(tmp_path):
    run, _ = make_run(tmp_path)
    out = tmp_path / "x"
    assert_one_line_exit_2(
        cli("generate", run, "--out", out / "a.png", "--out-dir", out), "not both"
    )
    assert_one_line_exit_2(
        cli("generate", run, "--out", out / "a.npz", "--format", "png"), "make them agree"
    )
    assert_one_line_exit_2(cli("generate", run, "--truncation", "0"), "--truncation")
    assert_one_line_exit_2(cli("generate", run, "--device", "tpu9"), "unknown device 'tpu9'")
    assert_one_line_exit_2(cli("interpolate", run, "--out", out / "walk.avi"), "must end in .gif")
    assert_one_line_exit_2(cli("interpolate", run, "--steps", "1"), "--steps")
    assert not out.exists()


# No pickle, ever.
class Payload:
    """Unpickling this runs code that writes a marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def test_the_payload_is_live(tmp_path):
    marker = tmp_path / "proof"
    pickle.loads(pickle.dumps(Payload(marker)))  # what a pickle-based loader would do
    assert marker.read_text() == "pwned"


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
@pytest.mark.parametrize("target", ["generator.safetensors", "training-state.safetensors", "lone"])
def test_crafted_pickles_are_rejected_and_never_run(tmp_path, how, target):
    run, _ = make_run(tmp_path)
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.safetensors" if target == "lone" else ckpt_of(run) / target
    if how == "pickle":
        path.write_bytes(pickle.dumps({"net.0.weight": Payload(marker)}))
    else:
        torch.save({"net.0.weight": Payload(marker)}, path)  # a zip holding a pickle
    if target == "training-state.safetensors":
        fresh = Parts()
        with pytest.raises(CheckpointError, match="not a safetensors file|truncated or corrupt"):
            checkpoint.load_training_state(
                run,
                generator=fresh.g,
                discriminator=fresh.d,
                g_optimizer=fresh.g_opt,
                d_optimizer=fresh.d_opt,
            )
    else:
        source = path if target == "lone" else run
        with pytest.raises(CheckpointError, match="not a safetensors file|truncated or corrupt"):
            gan_zoo.load(source)
        for command in ("generate", "info"):
            assert_one_line_exit_2(
                cli(command, source, "--out", tmp_path / "g.png")
                if command == "generate"
                else cli(command, source),
                "safetensors",
            )
    assert not marker.exists()


def test_no_unpickling_anywhere_in_a_full_cycle(tmp_path, monkeypatch):
    """Save, resume, load, generate, interpolate and info with every unpickler booby-trapped."""

    def trap(*args, **kwargs):
        raise AssertionError("something tried to unpickle")

    monkeypatch.setattr(pickle, "load", trap)
    monkeypatch.setattr(pickle, "loads", trap)
    monkeypatch.setattr(pickle, "Unpickler", trap)
    monkeypatch.setattr(torch, "load", trap)
    run, _ = make_run(tmp_path, ema=True)
    fresh = Parts(ema=True)
    checkpoint.load_training_state(
        run,
        generator=fresh.g,
        discriminator=fresh.d,
        g_optimizer=fresh.g_opt,
        d_optimizer=fresh.d_opt,
        ema_generator=fresh.ema,
    )
    gan_zoo.load(run).sample(3, seed=0)
    for args in (
        ("generate", run, "--out", tmp_path / "g.png"),
        ("interpolate", run, "--out", tmp_path / "w.gif"),
        ("info", run),
    ):
        assert cli(*args).exit_code == 0


def test_no_pickle_path_in_the_source():
    """No module of gan_zoo imports pickle or calls torch.load without weights_only=True."""
    package = Path(gan_zoo.__file__).parent
    for source in package.rglob("*.py"):
        text = source.read_text()
        assert not re.search(r"^\s*(import|from)\s+(c?pickle|dill|joblib)\b", text, re.M), source
        for call in re.finditer(r"torch\.load\(", text):
            window = text[call.start() : text.find(")", call.start()) + 1]
            assert "weights_only=True" in window, f"{source}: {window}"


def test_errors_are_gan_zoo_errors_with_one_line(tmp_path):
    run, _ = make_run(tmp_path)
    (ckpt_of(run) / "config.json").write_text("{not json")
    with pytest.raises(GanZooError) as info:
        gan_zoo.load(run)
    assert "config.json is not valid JSON" in str(info.value) and "\n" not in str(info.value)


def test_generator_of_a_newer_gan_zoo(tmp_path):
    run, _ = make_run(tmp_path)
    config = ckpt_of(run) / "config.json"
    record = json.loads(config.read_text())
    record["generator"]["name"] = "dcgan-xl"
    record["plugins"]["generator"] = "gan-zoo 9.0.0"
    config.write_text(json.dumps(record))
    assert_one_line_exit_2(
        cli("generate", run),
        "'dcgan-xl' is built into gan-zoo 9.0.0",
        "pip install 'gan-zoo>=9.0.0'",
    )


def test_weights_without_metadata_use_the_config_beside_them(tmp_path):
    from safetensors.torch import save_file

    run, parts = make_run(tmp_path)
    plain = tmp_path / "export"
    plain.mkdir()
    save_file(parts.g.state_dict(), str(plain / "weights.safetensors"))  # another tool's export
    with pytest.raises(CheckpointError, match="carries no gan-zoo metadata and has no config.json"):
        gan_zoo.load(plain / "weights.safetensors")
    shutil.copy(ckpt_of(run) / "config.json", plain / "config.json")
    g = gan_zoo.load(plain / "weights.safetensors")
    with torch.no_grad():
        z = torch.randn(2, 100)
        assert torch.equal(g(z), parts.g.eval()(z))


def test_a_lone_file_trusts_its_metadata_over_an_unrelated_config(tmp_path):
    run, parts = make_run(tmp_path)
    folder = tmp_path / "downloads"
    folder.mkdir()
    shutil.copy(ckpt_of(run) / "generator.safetensors", folder / "dcgan.safetensors")
    (folder / "config.json").write_text(json.dumps({"generator": {"name": "something-else"}}))
    assert gan_zoo.load(folder / "dcgan.safetensors").config["generator"]["name"] == "dcgan"


def test_a_config_this_gan_zoo_cannot_read_falls_back_to_the_header(tmp_path):
    """A run whose config.json has a field this gan-zoo lacks still loads: the generator is built
    from the generator_kwargs its weights file recorded."""
    from safetensors.torch import save_file

    run, parts = make_run(tmp_path)
    config = ckpt_of(run) / "config.json"
    record = json.loads(config.read_text())
    record["a_field_from_the_future"] = True
    config.write_text(json.dumps(record))
    with pytest.raises(GanZooError):
        checkpoint.record_to_config(record)
    assert torch.equal(outputs(gan_zoo.load(run)), outputs(parts.g))
    plain = tmp_path / "export"
    plain.mkdir()
    save_file(parts.g.state_dict(), str(plain / "weights.safetensors"))  # no generator_kwargs
    shutil.copy(config, plain / "config.json")
    with pytest.raises(CheckpointError, match="cannot be read by this gan-zoo .*a_field_from_the"):
        gan_zoo.load(plain / "weights.safetensors")
