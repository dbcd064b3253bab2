"""Exporting generators (``gan_zoo.exporting``): every registered generator and the StyleGAN2
plugin's, to every format, checked against eager; the metadata in the file and the card; the
one-line errors of a generator that cannot be exported.

Parametrized over the generators registry (timm's ``tests/test_models.py``): a new generator is
tested the moment it is registered. Widths are shrunk to keep the CPU tests fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from helpers import install_tiny_plugin, make_run
from torch import nn

import gan_zoo
from gan_zoo import plugins
from gan_zoo.checkpoint import resolve_checkpoint
from gan_zoo.errors import ExportError, UnknownNameError
from gan_zoo.exporting import (
    FORMATS,
    METADATA_KEY,
    TOLERANCES,
    TRACE_BATCH,
    check_export,
    export,
    export_bytes,
    read_metadata,
)
from gan_zoo.hookspecs import hookimpl

REPO = Path(__file__).resolve().parents[2]
STYLEGAN2 = REPO / "plugins" / "gan-zoo-stylegan2"
Z_DIM, CLASSES = 16, 3


def _generator_cases() -> list:
    cases = []
    for entry in plugins.registry("generators"):
        for fmt in FORMATS:
            cases.append(pytest.param(entry.name, fmt, id=f"{entry.name}-{fmt}"))
    return cases


def _build(name: str) -> nn.Module:
    """The entry at its first declared size and channel count, narrow, in eval mode."""
    entry = plugins.registry("generators").get(name)
    size = (entry.supports.image_sizes or (28,))[0]
    channels = (entry.supports.channels or (1,))[0]
    options = {"z_dim": Z_DIM, "image_size": size, "channels": channels}
    if "width" in entry.options():
        options["width"] = 8
    if "hidden" in entry.options():
        options["hidden"] = [32, 16]
    if entry.supports.conditional:
        options["num_classes"] = CLASSES
    torch.manual_seed(0)
    return entry.create(**options).eval()


@pytest.mark.parametrize(("name", "fmt"), _generator_cases())
def test_every_registered_generator_exports_and_matches_eager(name, fmt):
    net = _build(name)
    classes = CLASSES if plugins.registry("generators").get(name).supports.conditional else 0
    data, opset = export_bytes(net, fmt, Z_DIM, classes)
    assert (opset is not None) == (fmt == "onnx")
    check = check_export(data, fmt, net, Z_DIM, classes)
    # Checked at batch sizes other than the traced one: the batch size is dynamic.
    assert TRACE_BATCH not in check["batch_sizes"] and len(check["batch_sizes"]) >= 2
    assert check["passed"], check
    assert 0 <= check["max_abs_diff"] <= TOLERANCES[fmt]


@pytest.fixture
def stylegan2(use_distribution, monkeypatch):
    use_distribution(STYLEGAN2)
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", "gan-zoo-stylegan2")
    plugins.reset()
    return plugins.registry("generators").get("stylegan2")


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_stylegan2_plugin_generator_exports_and_matches_eager(stylegan2, fmt):
    torch.manual_seed(0)
    tiny = {"w_dim": 32, "channel_base": 256, "channel_max": 32, "mapping_layers": 2}
    net = stylegan2.create(z_dim=Z_DIM, image_size=32, channels=3, **tiny).eval()
    data, _ = export_bytes(net, fmt, Z_DIM, 0)
    check = check_export(data, fmt, net, Z_DIM, 0)
    assert check["passed"], check


# The whole path: a run, the file, its metadata, the card.
@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_carries_its_check_and_is_recorded_in_the_card(tmp_path, fmt):
    run, _ = make_run(tmp_path)
    ckpt = resolve_checkpoint(run)
    before = {p.name: p.read_bytes() for p in ckpt.iterdir() if p.name != "README.md"}
    result = gan_zoo.export(run, fmt, tmp_path / f"g.{fmt}")
    meta = read_metadata(result.path)
    assert meta == result.metadata and meta["format"] == fmt
    assert meta["check"]["passed"] and meta["check"]["tolerance"] == TOLERANCES[fmt]
    assert meta["inputs"] == {"z": ["batch", 100, "float32"]}
    assert meta["generator"] == "dcgan" and meta["generator_plugin"].startswith("gan-zoo ")
    # The run's files are untouched; exports.json and the card are new or rewritten.
    assert result.recorded_in == ckpt
    assert {n: (ckpt / n).read_bytes() for n in before} == before
    recorded = json.loads((ckpt / "exports.json").read_text())
    assert recorded[fmt]["check"] == meta["check"]
    card = (ckpt / "README.md").read_text()
    assert "## Exports" in card and f"| {fmt} | `{tmp_path / f'g.{fmt}'}` |" in card


def test_a_conditional_generator_takes_labels_and_a_dynamic_batch(tmp_path):
    import onnx

    install_tiny_plugin()
    from helpers import Parts

    Parts(generator="tiny-cond").save(tmp_path / "run", 2)
    result = export(tmp_path / "run", "onnx", tmp_path / "c.onnx")
    model = onnx.load(str(result.path))
    inputs = {i.name: i.type.tensor_type for i in model.graph.input}
    assert list(inputs) == ["z", "labels"]
    assert inputs["labels"].elem_type == onnx.TensorProto.INT64
    assert inputs["z"].shape.dim[0].dim_param and not inputs["z"].shape.dim[0].dim_value
    assert {p.key for p in model.metadata_props} >= {METADATA_KEY}
    assert result.metadata["inputs"]["labels"] == ["batch", "int64", "0..9"]


def test_metrics_recorded_later_keep_the_exports_in_the_card(tmp_path):
    from gan_zoo.checkpoint import record_metrics

    run, _ = make_run(tmp_path)
    export(run, "torchscript", tmp_path / "g.pt")
    record_metrics(run, {"classifier-fd": {"value": 3.5, "protocol": {"num_samples": 8}}})
    card = (resolve_checkpoint(run) / "README.md").read_text()
    assert "## Exports" in card and "| torchscript |" in card and "3.5" in card


def test_a_tag_is_exported_but_never_written_into(tmp_path, register_plugin):
    run, _ = make_run(tmp_path)
    folder = resolve_checkpoint(run)

    class Tags:
        @hookimpl
        def register_pretrained(self, register):
            register("dcgan.testexport", lambda: folder, description="A test tag.")

    register_plugin(Tags(), "tags", distribution="gan-zoo-testtags")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = export("dcgan.testexport", "exported-program", tmp_path / "g.pt2")
    assert result.recorded_in is None and result.metadata["source"] == "dcgan.testexport"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# One-line errors.
def test_an_unknown_format_is_one_line_with_did_you_mean(tmp_path):
    run, _ = make_run(tmp_path)
    with pytest.raises(UnknownNameError, match=r"unknown export format 'onx'; did you mean 'onnx'"):
        export(run, "onx", tmp_path / "g.onnx")


def test_an_export_never_replaces_a_file_of_the_run(tmp_path):
    run, _ = make_run(tmp_path)
    target = resolve_checkpoint(run) / "generator.safetensors"
    before = target.read_bytes()
    with pytest.raises(ExportError, match="is a file of the run being exported"):
        export(run, "onnx", target)
    with pytest.raises(ExportError, match="is a folder"):
        export(run, "onnx", tmp_path)
    assert target.read_bytes() == before


class KthGenerator(nn.Module):
    """A generator that uses an operator ONNX has no translation for (aten.kthvalue)."""

    def __init__(self, z_dim=100, image_size=28, channels=1, **_):
        super().__init__()
        self.z_dim, self.image_size, self.channels, self.num_classes = z_dim, image_size, 1, 0
        self.fc = nn.Linear(z_dim, image_size * image_size)

    def forward(self, z, labels=None):
        x = self.fc(z)  # (B, H*W)
        x = x - torch.kthvalue(x, 3, dim=1, keepdim=True).values
        return torch.tanh(x).view(-1, 1, self.image_size, self.image_size)


class BatchBakedGenerator(KthGenerator):
    """A generator whose trace bakes the batch size in (``int(z.shape[0])`` is a constant)."""

    def forward(self, z, labels=None):
        scale = torch.ones(int(z.shape[0]), 1)  # (B, 1) at trace time, then always that B
        return torch.tanh(self.fc(z) * scale).view(-1, 1, self.image_size, self.image_size)


class OddPlugin:
    @hookimpl
    def register_generators(self, register):
        register("kth", KthGenerator, description="Uses kthvalue (tests).")
        register("baked", BatchBakedGenerator, description="Bakes its batch size (tests).")


@pytest.fixture
def odd_plugin(register_plugin):
    register_plugin(OddPlugin(), "odd", distribution="gan-zoo-odd", version="0.3.0")


def test_a_generator_that_cannot_be_exported_is_one_line_naming_it_and_the_operator(
    tmp_path, odd_plugin
):
    from helpers import Parts

    Parts(generator="kth", g_options={}).save(tmp_path / "run", 2)
    with pytest.raises(ExportError) as caught:
        export(tmp_path / "run", "onnx", tmp_path / "g.onnx")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "generator 'kth' (gan-zoo-odd 0.3.0) cannot be exported to onnx: "
        "operator aten.kthvalue.default is not supported"
    )
    assert not os.path.lexists(tmp_path / "g.onnx")


def test_an_export_that_does_not_match_eager_is_refused(tmp_path, odd_plugin):
    from helpers import Parts

    Parts(generator="baked", g_options={}).save(tmp_path / "run", 2)
    with pytest.raises(
        ExportError,
        match=r"generator 'baked' \(gan-zoo-odd 0\.3\.0\) exported to "
        r"torchscript differs from the eager generator at batch 1: shape",
    ):
        export(tmp_path / "run", "torchscript", tmp_path / "g.pt")
    assert not os.path.lexists(tmp_path / "g.pt")


def test_a_corrupt_exports_json_is_one_line_and_the_card_is_left_alone(tmp_path):
    from gan_zoo.errors import CheckpointError

    run, _ = make_run(tmp_path)
    ckpt = resolve_checkpoint(run)
    (ckpt / "exports.json").write_text('{"onnx": [1, 2]}')
    card = (ckpt / "README.md").read_bytes()
    with pytest.raises(CheckpointError, match=r"exports\.json: exports\.onnx must be") as caught:
        export(run, "torchscript", tmp_path / "g.pt")
    assert "\n" not in str(caught.value)
    assert (ckpt / "README.md").read_bytes() == card
    assert (ckpt / "exports.json").read_text() == '{"onnx": [1, 2]}'
