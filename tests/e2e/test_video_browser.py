"""A latent walk written as H.264 (``gan-zoo interpolate --out walk.mp4``) plays in headless
Chromium's ``<video>``: its metadata loads, with the duration and size the file was written with."""

from __future__ import annotations

import pytest
from helpers import browser_probe, cli_in_process, make_run, needs_chromium

pytestmark = needs_chromium
pytest.importorskip("av", reason="PyAV is the optional 'video' extra")

PROBE = """
var video = document.querySelector("video");
function report() {
  done({duration: video.duration, width: video.videoWidth, height: video.videoHeight,
        error: video.error ? video.error.code : null});
}
video.addEventListener("loadedmetadata", report);
video.addEventListener("error", report);
if (video.readyState >= 1) { report(); }
"""


def test_the_walk_plays_in_chromium(tmp_path):
    run, _ = make_run(tmp_path)
    out = tmp_path / "walk.mp4"
    result = cli_in_process(
        "interpolate", run, "--out", out, "--steps", 24, "--fps", 12, "--walks", 4, "--nrow", 2
    )
    assert result.exit_code == 0, result.output
    page = tmp_path / "video.html"
    page.write_text('<!DOCTYPE html><html><body><video src="walk.mp4" muted></video></body></html>')
    played = browser_probe(page, PROBE)
    assert played["error"] is None
    assert played["duration"] == pytest.approx(24 / 12, abs=0.1)
    assert (played["width"], played["height"]) == (2 * 30 + 2, 2 * 30 + 2)
