"""``gan-zoo report`` pages opened in headless Chromium (no network): every image decodes, every
curve has its points, the slider moves, a hostile run renders as text, and a real Fashion-MNIST
run's page looks right in a screenshot.

The screenshot in the docs (docs/img/report.png) comes from this module's own command, on a real
one-epoch run (a few minutes on a CPU)::

    GAN_ZOO_REPORT_EPOCHS=1 GAN_ZOO_REPORT_SCREENSHOT=docs/img/report.png \\
        pytest tests/e2e/test_report_browser.py -m slow -k real

Without those variables the real-data test trains a short run (slow, but well under a minute).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import (
    browser_probe,
    browser_screenshot,
    cli_in_process,
    needs_chromium,
    needs_fashion_mnist,
)
from PIL import Image

pytestmark = needs_chromium

#: Runs in the page once it has loaded (every image with it): reports images, curves, sliders
#: and scripts.
PROBE = """
function probe() {
  var images = Array.from(document.images);
  var result = {
    images: images.length,
    broken: images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
      .map(function (i) { return i.alt; }),
    curves: Array.from(document.querySelectorAll("polyline[data-points]")).map(function (p) {
      return {series: p.dataset.series, expected: Number(p.dataset.points),
              drawn: p.points.numberOfItems, width: p.getBBox().width};
    }),
    scripts: document.scripts.length,
    bold: document.querySelectorAll("b, img[onerror]").length,
    pwned: window.__pwned === true,
    text: document.body.textContent,
  };
  result.sliders = Array.from(document.querySelectorAll(".samples")).map(function (box) {
    var slider = box.querySelector("input[type=range]");
    function visible() {
      return Array.from(box.querySelectorAll("figure"))
        .filter(function (f) { return !f.hidden; }).map(function (f) { return f.dataset.step; });
    }
    var before = visible();
    slider.value = 0;
    slider.dispatchEvent(new Event("input"));
    var first = visible(), label = box.querySelector("output").textContent;
    slider.value = slider.max;
    slider.dispatchEvent(new Event("input"));
    return {before: before, first: first, label: label, last: visible(),
            steps: Array.from(box.querySelectorAll("figure")).map(function (f) {
              return f.dataset.step; })};
  });
  done(result);
}
if (document.readyState === "complete") { probe(); }
else { window.addEventListener("load", probe); }
"""


def train(out: Path, *args) -> Path:
    result = cli_in_process("train", *args, "--out", out, "--device", "cpu", "--quiet")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory, data_dir) -> Path:
    """A real conditional run: 4 steps, a grid at each, a metric at each checkpoint."""
    return train(
        tmp_path_factory.mktemp("report") / "cgan-run",
        *("cgan", "fashion-mnist", "--data-dir", data_dir, "--steps", 4, "--batch-size", 8),
        *("--sample-every", 1, "--log-every", 1, "--checkpoint-every", 2),
        *("--eval-metric", "classifier-fd", "--eval-samples", 16),
    )


def check_page(page: Path) -> dict:
    """Open ``page`` and check what every report must pass; the probe's result."""
    result = browser_probe(page, PROBE)
    assert result["images"] > 0 and result["broken"] == []
    assert result["curves"], "no curve in the page"
    for curve in result["curves"]:
        assert curve["drawn"] == curve["expected"] > 0, curve
        assert curve["width"] > 0 or curve["expected"] == 1, curve
    assert result["pwned"] is False and result["bold"] == 0
    assert result["scripts"] == 2  # the page's slider script and the probe
    return result


def test_report_of_a_conditional_run(conditional_run, tmp_path):
    page = tmp_path / "report.html"
    assert cli_in_process("report", conditional_run, "--out", page).exit_code == 0
    result = check_page(page)
    (slider,) = result["sliders"]
    assert slider["steps"] == ["1", "2", "3", "4"]
    assert slider["before"] == ["4"]  # the latest grid first
    assert slider["first"] == ["1"] and slider["label"] == "1"  # the slider moved
    assert slider["last"] == ["4"]
    assert result["images"] == 4
    drawn = {curve["series"] for curve in result["curves"]}
    wanted = {"loss/d", "loss/g", "d/real_acc", "d/fake_acc", "lr", "lr/d", "img/s"}
    assert wanted | {"eval/classifier-fd"} <= drawn
    text = result["text"]
    assert "T-shirt/top" in text and "Ankle boot" in text  # class names under the grid
    assert "classifier-fd" in text and "tracked during training" in text  # with its protocol
    # The training wrote its own report too, and the page shows the same run.
    own = check_page(conditional_run / "report.html")
    assert own["images"] == 4


def test_runs_side_by_side(conditional_run, trained, tmp_path):
    page = tmp_path / "compare.html"
    result = cli_in_process("report", conditional_run, trained, "--out", page)
    assert result.exit_code == 0, result.output
    probed = check_page(page)
    assert len(probed["sliders"]) == 2
    names = {curve["series"] for curve in probed["curves"]}
    assert {f"1: {conditional_run.name}", f"2: {trained.name}"} <= names


HOSTILE = "<script>window.__pwned = true</script><b>bold</b>"


def test_a_hostile_run_renders_as_text(trained, tmp_path):
    run = tmp_path / "hostile"
    shutil.copytree(trained, run, symlinks=True)
    config = json.loads((run / "config.json").read_text())
    config["data_dir"] = HOSTILE
    config["plugins"]["model"] = HOSTILE
    (run / "config.json").write_text(json.dumps(config))
    with (run / "metrics.jsonl").open("a") as log:
        log.write(json.dumps({"step": 3, HOSTILE: 1.0, "loss/d": 0.5}) + "\n")
    with (run / "events.jsonl").open("a") as log:
        log.write(json.dumps({"step": 3, "level": HOSTILE, "message": HOSTILE}) + "\n")
    (run / "samples" / "step-0000003.png").write_text(HOSTILE)  # not a PNG: left out
    page = tmp_path / "hostile.html"
    assert cli_in_process("report", run, "--out", page).exit_code == 0
    result = check_page(page)
    assert result["text"].count(HOSTILE) >= 4  # config, plugin, curve, event: as text


@needs_fashion_mnist
@pytest.mark.slow
def test_report_of_a_real_run(tmp_path):
    """A real Fashion-MNIST run (a short one, or one epoch with GAN_ZOO_REPORT_EPOCHS=1): its
    own report opens with every image and curve, and its screenshot shows them."""
    epochs = os.environ.get("GAN_ZOO_REPORT_EPOCHS")
    length = (
        ("--epochs", epochs, "--sample-every", 50)
        if epochs
        else ("--steps", 60, "--sample-every", 20)
    )
    run = train(
        tmp_path / "run",
        *("dcgan", "fashion-mnist", *length, "--batch-size", 128, "--log-every", 10),
        *("--set", "generator.width=16", "--set", "discriminator.width=16"),
        *("--eval-metric", "classifier-fd", "--eval-samples", 500),
    )
    result = check_page(run / "report.html")
    assert len(result["sliders"]) == 1 and len(result["sliders"][0]["steps"]) >= 1
    shot = Path(os.environ.get("GAN_ZOO_REPORT_SCREENSHOT") or tmp_path / "report.png")
    browser_screenshot(run / "report.html", shot, height=1800)
    picture = Image.open(shot).convert("L")
    assert picture.size == (1400, 1800)
    histogram = picture.histogram()
    assert sum(histogram[:128]) > 0.01 * sum(histogram)  # text, grids and curves, not blank
