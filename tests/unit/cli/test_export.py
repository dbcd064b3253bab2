"""``gan-zoo export`` (``gan_zoo/cli/export.py``): what it prints, its JSON, one-line errors."""

from __future__ import annotations

import json

import torch
from helpers import cli_in_process, make_run
from torch import nn

from gan_zoo.exporting import read_metadata
from gan_zoo.hookspecs import hookimpl


def test_export_prints_the_check_and_where_it_is_recorded(tmp_path):
    run, _ = make_run(tmp_path)
    out = tmp_path / "g.pt2"
    result = cli_in_process("export", run, "--format", "exported-program", "--out", out)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Exported the generator of {run} to {out} (exported-program)")
    assert "max |export - eager|" in lines[0] and "tolerance 0.0001" in lines[0]
    assert lines[1].startswith("Recorded in ") and "exports.json" in lines[1]
    assert read_metadata(out)["check"]["passed"] is True


def test_export_json_is_the_files_metadata_and_no_record_leaves_the_run_alone(tmp_path):
    run, _ = make_run(tmp_path)
    card = next(run.glob("checkpoints/step-*/README.md"))
    before = card.read_bytes()
    out = tmp_path / "g.pt"
    result = cli_in_process(
        "export", run, "--format", "torchscript", "--out", out, "--json", "--no-record"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == read_metadata(out)
    assert card.read_bytes() == before and not (card.parent / "exports.json").exists()


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    run, _ = make_run(tmp_path)
    result = cli_in_process("export", run, "--format", "onx", "--out", tmp_path / "g.onnx")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith("Error: Invalid value for '--format'")
    result = cli_in_process("export", tmp_path / "nothing", "--out", tmp_path / "g.onnx")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "does not exist" in result.output


class KthCliGenerator(nn.Module):
    """A plugin generator whose operator (aten.kthvalue) ONNX cannot translate."""

    def __init__(self, z_dim=100, image_size=28, channels=1, **_):
        super().__init__()
        self.z_dim, self.image_size, self.channels, self.num_classes = z_dim, image_size, 1, 0
        self.fc = nn.Linear(z_dim, image_size * image_size)

    def forward(self, z, labels=None):
        x = self.fc(z)
        x = x - torch.kthvalue(x, 2, dim=1, keepdim=True).values
        return torch.tanh(x).view(-1, 1, self.image_size, self.image_size)


class Plugin:
    @hookimpl
    def register_generators(self, register):
        register("kth-cli", KthCliGenerator, description="Uses kthvalue (tests).")


def test_a_generator_that_cannot_be_exported_is_one_error_line(tmp_path, register_plugin):
    from helpers import Parts

    register_plugin(Plugin(), "kth", distribution="gan-zoo-kth", version="1.0")
    Parts(generator="kth-cli", g_options={}).save(tmp_path / "run", 2)
    result = cli_in_process("export", tmp_path / "run", "--out", tmp_path / "g.onnx")
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(
        "Error: generator 'kth-cli' (gan-zoo-kth 1.0) cannot be exported to onnx: "
        "operator aten.kthvalue.default is not supported"
    )
