"""Latent walks as H.264 video (``gan-zoo interpolate --out walk.mp4``), decoded with PyAV, the
package that wrote them: frame count, frame size, the walk's path and walks between classes.
Chromium plays the same file: tests/e2e/test_video_browser.py."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from helpers import cli_in_process, make_conditional_run, make_run

from gan_zoo import sample_files
from gan_zoo.sampling import load

av = pytest.importorskip("av", reason="PyAV is the optional 'video' extra")


def decode(path) -> list[np.ndarray]:
    """Every frame of a video as an RGB array (H, W, 3)."""
    with av.open(str(path)) as video:
        assert video.streams.video[0].codec_context.name == "h264"
        return [frame.to_ndarray(format="rgb24") for frame in video.decode(video=0)]


def test_walks_in_a_grid_as_mp4(tmp_path):
    run, _ = make_run(tmp_path)
    out = tmp_path / "walk.mp4"
    result = cli_in_process(
        "interpolate", run, "--out", out, "--steps", 9, "--walks", 4, "--nrow", 2, "--scale", 2
    )
    assert result.exit_code == 0, result.output
    frames = decode(out)
    # 2 x 2 walks of 28 px, scaled twice, with 2 px of padding around each: 124 px.
    side = 2 * (2 * 28 + 2 * 2) + 2 * 2
    assert len(frames) == 9 and frames[0].shape == (side, side, 3)
    assert "9-frame animation (124x124 px)" in result.output
    assert not np.array_equal(frames[0], frames[-1])  # it walks


def test_odd_sizes_are_padded_to_even(tmp_path):
    from PIL import Image

    from gan_zoo.images import save_video

    pictures = [Image.new("L", (27, 15), color) for color in (0, 128, 255)]
    written = save_video(pictures, tmp_path / "odd.mp4", fps=4)
    frames = decode(written.path)
    assert (written.width, written.height, written.count) == (28, 16, 3)
    assert len(frames) == 3 and frames[0].shape == (16, 28, 3)
    assert frames[2][7, 13].min() > 200 and frames[2][15, 27].max() < 40  # the image, the pad


def test_slerp_and_lerp_paths(tmp_path):
    run, _ = make_run(tmp_path)
    g = load(run)
    slerp = g.interpolate(5, 2, seed=1, path="slerp")
    lerp = g.interpolate(5, 2, seed=1, path="lerp")
    torch.testing.assert_close(slerp[0], lerp[0])  # the same ends
    torch.testing.assert_close(slerp[-1], lerp[-1])
    assert not torch.allclose(slerp[2], lerp[2])  # different ways between them
    result = cli_in_process("interpolate", run, "--path", "arc", "--out", tmp_path / "w.mp4")
    assert result.exit_code == 2 and "'arc'" in result.output


def test_a_walk_between_classes(tmp_path):
    run, _ = make_conditional_run(tmp_path)
    g = load(run)
    walk = g.interpolate(4, 1, labels="Sandal", to_labels="Sneaker", seed=2)
    ends = g.latents(2, seed=2)
    with torch.no_grad():
        first = g(ends[:1], torch.tensor([5]))
        last = g(ends[1:], torch.tensor([7]))
    torch.testing.assert_close(walk[0], first)  # from a sandal at the first latent ...
    torch.testing.assert_close(walk[-1], last)  # ... to a sneaker at the second
    out = tmp_path / "morph.mp4"
    result = cli_in_process(
        "interpolate", run, "--class", "sandal", "--to-class", "sneaker", "--out", out
    )
    assert result.exit_code == 0, result.output
    assert len(decode(out)) == sample_files.STEPS
    bad = cli_in_process("interpolate", run, "--to-class", "boot", "--out", tmp_path / "x.mp4")
    assert bad.exit_code == 2 and "unknown class 'boot'" in bad.output
    assert not (tmp_path / "x.mp4").exists()


def test_unconditional_generators_have_no_class_walk(tmp_path):
    run, _ = make_run(tmp_path)
    result = cli_in_process("interpolate", run, "--to-class", "1", "--out", tmp_path / "x.mp4")
    assert result.exit_code == 2 and "conditional generator" in result.output


def test_without_pyav_the_error_says_what_to_install(tmp_path, monkeypatch):
    run, _ = make_run(tmp_path)
    monkeypatch.setitem(sys.modules, "av", None)
    result = cli_in_process("interpolate", run, "--out", tmp_path / "w.mp4")
    assert result.exit_code == 2 and "gan-zoo[video]" in result.output
    assert not (tmp_path / "w.mp4").exists()
