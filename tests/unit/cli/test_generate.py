"""``gan-zoo generate / interpolate / info`` and the sampling API on real checkpoints."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from helpers import FASHION_MNIST_CLASSES, ROOT, make_conditional_run, make_run, outputs
from PIL import Image

import gan_zoo
from gan_zoo import images, sample_files
from gan_zoo.cli import build_cli
from gan_zoo.errors import ConfigError
from gan_zoo.images import make_grid, to_uint8
from gan_zoo.progress import progress_bar
from gan_zoo.sampling import slerp, truncated_normal


def cli(*args):
    result = CliRunner().invoke(build_cli(), [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def run(tmp_path):
    return make_run(tmp_path)[0]


def test_generate_grid_has_the_right_size(run, tmp_path):
    out = tmp_path / "grid.png"
    assert "Wrote a grid of 10 images" in cli("generate", run, "--n", "10", "--out", out)
    image = Image.open(out)
    assert image.mode == "L" and image.size == (4 * 30 + 2, 3 * 30 + 2)  # 4 per row, 2 px padding
    cli("generate", run, "--n", "10", "--nrow", "5", "--out", out)
    assert Image.open(out).size == (5 * 30 + 2, 2 * 30 + 2)


def test_generate_default_is_64_images_in_grid_png(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli("generate", run)
    assert Image.open(tmp_path / "grid.png").size == (8 * 30 + 2, 8 * 30 + 2)


def test_generate_out_dir_writes_one_png_per_image(run, tmp_path):
    folder = tmp_path / "fakes"
    assert "Wrote 7 PNG files" in cli(
        "generate", run, "--n", "7", "--out-dir", folder, "--batch-size", "3"
    )
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [f"{i:06d}.png" for i in range(7)]
    assert all(Image.open(f).size == (28, 28) and Image.open(f).mode == "L" for f in files)


def test_generate_npz(run, tmp_path):
    out = tmp_path / "fakes.npz"
    cli("generate", run, "--n", "12", "--out", out)  # the format follows the suffix
    with np.load(out, allow_pickle=False) as data:
        assert data["images"].shape == (12, 28, 28, 1) and data["images"].dtype == np.uint8
        assert data["labels"].tolist() == [-1] * 12
        images = data["images"]
    expected = to_uint8(gan_zoo.load(run).sample(12, seed=0)).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(images, expected)  # --seed 0 is the default
    folder = tmp_path / "npz"
    cli("generate", run, "--n", "3", "--out-dir", folder, "--format", "npz")
    assert sorted(f.name for f in folder.iterdir()) == ["000000.npz", "000001.npz", "000002.npz"]
    expected = to_uint8(gan_zoo.load(run).sample(3, seed=0)).permute(0, 2, 3, 1).numpy()
    with np.load(folder / "000001.npz", allow_pickle=False) as data:
        assert data["images"].shape == (1, 28, 28, 1) and np.array_equal(
            data["images"][0], expected[1]
        )


def test_generate_seed_and_truncation(run, tmp_path):
    a, b, c = (tmp_path / f"{n}.png" for n in "abc")
    cli("generate", run, "--n", "8", "--seed", "1", "--out", a)
    cli("generate", run, "--n", "8", "--seed", "1", "--out", b)
    cli("generate", run, "--n", "8", "--seed", "2", "--truncation", "0.5", "--out", c)
    assert a.read_bytes() == b.read_bytes() and a.read_bytes() != c.read_bytes()


class _WSpaceGenerator(torch.nn.Module):
    """A toy generator with an intermediate latent w and its running mean, as StyleGAN has."""

    def __init__(self):
        super().__init__()
        self.z_dim, self.image_size, self.channels = 8, 4, 1
        self.mapping = torch.nn.Linear(8, 8)
        self.synthesis = torch.nn.Linear(8, 16)
        self.register_buffer("w_avg", torch.linspace(-0.5, 0.5, 8))

    def forward(self, z, labels=None, truncation_psi=1.0):
        w = self.mapping(z)  # (B, 8)
        w = self.w_avg + truncation_psi * (w - self.w_avg)
        return torch.tanh(self.synthesis(w)).view(-1, 1, 4, 4)


def test_psi_truncates_in_the_generators_own_latent_space(tmp_path):
    from gan_zoo.sampling import LoadedGenerator

    g = LoadedGenerator(_WSpaceGenerator().eval(), {"generator": {"name": "toy"}}, [], tmp_path)
    assert g.supports_psi
    plain = g.sample(6, seed=3)
    assert torch.equal(g.sample(6, seed=3, psi=1.0), plain)  # psi 1: no truncation
    average = g.sample(6, seed=3, psi=0.0)  # psi 0: every latent becomes w_avg
    assert torch.allclose(average, average[:1].expand_as(average)) and not torch.equal(
        average, plain
    )
    half = g.sample(6, seed=3, psi=0.5)
    assert (half - average).abs().mean() < (plain - average).abs().mean()  # nearer the average
    # Other batch sizes draw the same latents; a CPU's GEMM may round the last bit differently
    # for another number of rows (seen on an AMD EPYC with AVX512), so the images are close.
    assert torch.allclose(g.sample(6, seed=3, psi=0.5, batch_size=4), half, rtol=0, atol=1e-6)
    frames = g.interpolate(3, walks=2, seed=1, psi=0.0)  # (steps, walks, C, H, W)
    assert torch.allclose(frames, average[:1].expand(3, 2, 1, 4, 4))
    out = tmp_path / "psi.npz"
    sample_files.save_samples(g, out, n=6, seed=3, psi=0.5)
    with np.load(out) as saved:
        assert np.array_equal(saved["images"], to_uint8(half).permute(0, 2, 3, 1).numpy())
    for bad in (float("nan"), float("inf"), "0.5", True):
        with pytest.raises(ConfigError, match="psi must be a finite number"):
            g.sample(2, psi=bad)


def test_psi_on_a_generator_without_a_w_space_is_one_line_and_writes_nothing(run, tmp_path):
    g = gan_zoo.load(run)
    assert not g.supports_psi
    with pytest.raises(ConfigError, match="generator 'dcgan' has no intermediate latent space"):
        g.sample(2, psi=0.7)
    for args in (
        ["generate", run, "--psi", "0.7", "--out", tmp_path / "g.png"],
        ["generate", run, "--psi", "0.7", "--out-dir", tmp_path / "files"],
        ["interpolate", run, "--psi", "0.7", "--out", tmp_path / "w.gif"],
    ):
        result = CliRunner().invoke(build_cli(), [str(a) for a in args])
        assert result.exit_code == 2, result.output
        assert result.output.count("\n") == 1 and "use --truncation" in result.output
    assert (
        list(tmp_path.glob("g.png")) + list(tmp_path.glob("files")) + list(tmp_path.glob("w.gif"))
        == []
    )


def test_generate_conditional_by_name_and_number(tmp_path):
    run, _ = make_conditional_run(tmp_path)
    out = tmp_path / "sneakers.npz"
    cli("generate", run, "--class", "sneaker", "--n", "4", "--out", out)
    cli("generate", run, "--class", "7", "--n", "4", "--out", tmp_path / "seven.npz")
    with np.load(out) as by_name, np.load(tmp_path / "seven.npz") as by_number:
        assert by_name["labels"].tolist() == [7, 7, 7, 7]
        assert np.array_equal(by_name["images"], by_number["images"])
    g = gan_zoo.load(run)
    assert g.num_classes == 10 and g.class_names == FASHION_MNIST_CLASSES
    assert g.labels_for(12).tolist() == [i % 10 for i in range(12)]  # no labels: cycle the classes
    assert g.labels_for(2, ["Ankle boot", "t-shirt/top"]).tolist() == [9, 0]
    assert torch.equal(g.sample(3, labels="bag", seed=4), g.sample(3, labels=8, seed=4))


def test_interpolate_gif_has_steps_frames(run, tmp_path):
    out = tmp_path / "walk.gif"
    assert "Wrote a 6-frame animation" in cli("interpolate", run, "--steps", "6", "--out", out)
    gif = Image.open(out)
    assert gif.n_frames == 6 and gif.size == (28, 28)
    cli("interpolate", run, "--steps", "4", "--walks", "3", "--scale", "2", "--out", out)
    gif = Image.open(out)
    assert gif.n_frames == 4 and gif.size == (2 * (3 * 30 + 2), 2 * 30 + 2 * 2)


def test_interpolate_png_strip(run, tmp_path):
    out = tmp_path / "strip.png"
    cli("interpolate", run, "--steps", "5", "--walks", "2", "--out", out)
    assert Image.open(out).size == (5 * 30 + 2, 2 * 30 + 2)


def test_interpolation_ends_at_the_two_latents(run):
    g = gan_zoo.load(run)
    frames = g.interpolate(5, walks=2, seed=7)  # (steps, walks, C, H, W)
    assert frames.shape == (5, 2, 1, 28, 28)
    ends = g.latents(4, seed=7)
    with torch.no_grad():
        assert torch.allclose(frames[0], g(ends[:2]).clamp(-1, 1), atol=1e-6)
        assert torch.allclose(frames[-1], g(ends[2:]).clamp(-1, 1), atol=1e-6)


def test_slerp():
    a, b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    assert torch.allclose(slerp(a, b, 0.0), a) and torch.allclose(slerp(a, b, 1.0), b)
    mid = slerp(a, b / 2, 0.5)[0]  # on the unit circle, halfway
    assert torch.allclose(mid, torch.tensor([1.0, 1.0]) / math.sqrt(2))
    assert torch.allclose(slerp(a, 3 * a, 0.5), 2 * a)  # parallel: falls back to lerp
    z = torch.randn(1000, 64, generator=torch.Generator().manual_seed(0))
    w = torch.randn(1000, 64, generator=torch.Generator().manual_seed(1))
    lerp_norm, slerp_norm = ((z + w) / 2).norm(dim=1).mean(), slerp(z, w, 0.5).norm(dim=1).mean()
    assert slerp_norm > 0.95 * z.norm(dim=1).mean() > lerp_norm  # slerp keeps latents typical


def test_truncated_normal():
    z = truncated_normal((2000, 16), 0.7, torch.Generator().manual_seed(0))
    assert z.abs().max() <= 0.7 and z.std() > 0.3
    assert torch.equal(z, truncated_normal((2000, 16), 0.7, torch.Generator().manual_seed(0)))


def test_sample_api(run):
    g = gan_zoo.load(run, device="cpu")
    x = g.sample(5, seed=0, batch_size=2)
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert torch.allclose(x, g.sample(5, seed=0), atol=1e-5)  # the same latents in any batch size
    assert not torch.equal(x, g.sample(5, seed=1))
    pil = g.to_pil(x, scale=2)
    assert len(pil) == 5 and pil[0].size == (56, 56) and pil[0].mode == "L"
    assert torch.equal(outputs(g), outputs(g.net))


def test_make_grid_places_images():
    images = torch.arange(3, dtype=torch.uint8).view(3, 1, 1, 1).expand(3, 1, 2, 2).contiguous() + 1
    grid = make_grid(images, nrow=2, padding=1)  # (1, 7, 7)
    assert grid.shape == (1, 7, 7)
    assert grid[0, 1, 1] == 1 and grid[0, 1, 4] == 2 and grid[0, 4, 1] == 3 and grid[0, 4, 4] == 0


def test_info_panel_and_json(run):
    text = cli("info", run)
    for fragment in (
        "dcgan",
        "fashion-mnist",
        "step",
        "generator.safetensors",
        "step-0000002 (latest)",
        "CPU (test)",
    ):
        assert fragment in text, fragment
    info = json.loads(cli("info", run, "--json"))
    ckpt = Path(info["checkpoint"])
    assert info["step"] == 2 and info["model"] == "dcgan" and info["dataset"] == "fashion-mnist"
    assert info["files"] == {p.name: p.stat().st_size for p in ckpt.iterdir()}
    lone = json.loads(cli("info", ckpt / "generator.safetensors", "--json"))
    assert (
        lone["generator"] == "dcgan"
        and lone["step"] == 2
        and list(lone["files"]) == ["generator.safetensors"]
    )


def test_commands_do_not_import_torch_at_start_up():
    code = (
        "import sys, gan_zoo, gan_zoo.cli.generate, gan_zoo.checkpoint, gan_zoo.sample_files; "
        "from gan_zoo.cli import build_cli; build_cli(); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_docs_cover_every_command_and_option():
    from gan_zoo.cli.generate import COMMANDS

    text = (ROOT / "docs" / "checkpoints.md").read_text()
    for command in COMMANDS:
        assert f"gan-zoo {command.name}" in text, command.name
        for param in command.params:
            flags = [o for o in param.opts if o.startswith("--")]
            found = [f for f in flags if re.search(re.escape(f) + r"(?![\w-])", text)]
            assert found or not flags, (
                f"gan-zoo {command.name} {flags[0]} is not in docs/checkpoints.md"
            )


# The Python side of the commands: writers, sample_files, the progress bar.
def _pictures(n: int, channels: int = 1, size: int = 4) -> torch.Tensor:
    """(n, C, size, size) uint8 images, image i filled with 10 * i + 1."""
    fill = torch.arange(n, dtype=torch.uint8).mul(10).add(1).view(n, 1, 1, 1)
    return fill.expand(n, channels, size, size).contiguous()


def test_image_writers(tmp_path):
    batch = _pictures(5)
    grid = images.save_grid(batch, tmp_path / "grid.png", nrow=2)
    assert Image.open(grid.path).size == (2 * 6 + 2, 3 * 6 + 2) == (grid.width, grid.height)
    npz = images.save_npz(_pictures(3, channels=3), torch.tensor([4, 0, 9]), tmp_path / "a.npz")
    with np.load(npz.path, allow_pickle=False) as data:
        assert data["images"].shape == (3, 4, 4, 3) and data["images"][2, 0, 0, 0] == 21
        assert data["labels"].dtype == np.int64 and data["labels"].tolist() == [4, 0, 9]
    with np.load(images.save_npz(batch, None, tmp_path / "u.npz").path) as data:
        assert data["labels"].tolist() == [-1] * 5  # unconditional
    files = images.save_image_files(batch[:2], None, tmp_path / "files", "npz", start=7)
    assert files.count == 2 and sorted(p.name for p in files.path.iterdir()) == [
        "000007.npz",
        "000008.npz",
    ]
    with np.load(files.path / "000008.npz") as data:
        assert data["images"].shape == (1, 4, 4, 1) and data["labels"].tolist() == [-1]
    with pytest.raises(ConfigError, match="unknown image file format 'jpg'"):
        images.save_image_files(batch, None, tmp_path / "files", "jpg")
    frames = _pictures(6).view(3, 2, 1, 4, 4)  # (steps, walks, C, H, W)
    gif = images.save_walk(frames, tmp_path / "walk.gif", fps=4, scale=2)
    assert (gif.count, gif.width, gif.height) == (3, 2 * (2 * 6 + 2), 2 * 6 + 2 * 2)
    assert Image.open(gif.path).n_frames == 3 and Image.open(gif.path).info["duration"] == 250
    strip = images.save_walk(frames, tmp_path / "strip.png")
    assert Image.open(strip.path).size == (3 * 6 + 2, 2 * 6 + 2)  # one row per walk
    assert not list(tmp_path.glob("*.tmp"))


def test_sample_files_api_writes_what_the_commands_write(run, tmp_path):
    g = gan_zoo.load(run)
    cli("generate", run, "--n", "9", "--out", tmp_path / "cli.npz")
    written = sample_files.save_samples(g, tmp_path / "api.npz", n=9)
    assert written.count == 9 and (written.width, written.height) == (28, 28)
    with np.load(tmp_path / "cli.npz") as a, np.load(tmp_path / "api.npz") as b:
        assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["labels"], b["labels"])
    cli("generate", run, "--out", tmp_path / "cli.png")
    sample_files.save_samples(g, tmp_path / "api.png", batch_size=5)  # defaults: 64 images, seed 0
    assert (tmp_path / "cli.png").read_bytes() == (tmp_path / "api.png").read_bytes()
    folder = sample_files.save_sample_files(g, tmp_path / "one-each", n=3)
    assert folder.count == 3 and len(list(folder.path.glob("*.png"))) == 3
    walk = sample_files.save_interpolation(g, tmp_path / "w.gif", steps=5, walks=2)
    assert walk.count == 5 and Image.open(walk.path).n_frames == 5


def test_sample_files_check_paths_before_any_work(tmp_path):
    assert sample_files.sample_format("x.NPZ") == "npz" and sample_files.sample_format("x") == "png"
    assert sample_files.sample_format("x.bin", "npz") == "npz"
    with pytest.raises(ConfigError, match=r"ends in \.png but --format is npz; make them agree"):
        sample_files.sample_format("x.png", "npz")
    with pytest.raises(ConfigError, match="must end in .gif"):
        sample_files.save_interpolation(None, tmp_path / "walk.avi")  # fails before using g
    with pytest.raises(ConfigError, match="make them agree"):
        sample_files.save_samples(None, tmp_path / "a.npz", fmt="png")
    assert not list(tmp_path.iterdir())


def test_command_defaults_are_the_python_defaults():
    import inspect

    from gan_zoo.cli.evaluate import evaluate_cmd
    from gan_zoo.cli.generate import generate_cmd, interpolate_cmd
    from gan_zoo.evaluation import evaluate

    def defaults(command):
        return {p.name: p.default for p in command.params}

    def signature(function):
        return {k: p.default for k, p in inspect.signature(function).parameters.items()}

    python = signature(sample_files.save_samples)
    cli_generate = defaults(generate_cmd)
    for name in ("n", "seed", "batch_size"):
        assert cli_generate[name] == python[name], name
    python, cli_walk = signature(sample_files.save_interpolation), defaults(interpolate_cmd)
    for name in ("steps", "walks", "seed", "fps", "scale"):
        assert cli_walk[name] == python[name], name
    python, cli_eval = signature(evaluate), defaults(evaluate_cmd)
    for name in ("metrics", "num_samples", "split", "batch_size", "device", "seed"):
        assert cli_eval[name] == python[name], name


def test_progress_bar_only_on_a_terminal_and_for_long_runs():
    import io

    from rich.console import Console

    def run_bar(total: int, terminal: bool) -> str:
        stream = io.StringIO()
        console = Console(file=stream, force_terminal=terminal, width=100)
        with progress_bar(total, "generate", console=console) as advance:
            for _ in range(4):
                advance(total // 4)
        return stream.getvalue()

    shown = run_bar(4096, terminal=True)
    assert "generate" in shown and "4096/4096" in shown and "img/s" in shown
    assert run_bar(4096, terminal=False) == ""  # logs and pipes get no bar
    assert run_bar(100, terminal=True) == ""  # over before a bar is worth drawing


def test_a_sample_request_is_one_frozen_value_through_the_layers(run, tmp_path):
    """SampleRequest carries n, labels, seed, truncation, batch_size and psi from the command to
    the generator; the keyword API builds the same request."""
    import dataclasses

    g = gan_zoo.load(run)
    request = sample_files.SampleRequest(6, seed=3, truncation=0.8, batch_size=4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.n = 7
    by_request = torch.cat([x for x, _ in g.iter_requested(request)])
    assert torch.equal(by_request, g.sample(6, seed=3, truncation=0.8, batch_size=4))
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    sample_files.save_samples(g, a, request=request)
    sample_files.save_samples(g, b, n=6, seed=3, truncation=0.8, batch_size=4)
    assert a.read_bytes() == b.read_bytes()
