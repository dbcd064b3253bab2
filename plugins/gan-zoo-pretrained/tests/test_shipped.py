"""The tags this checkout ships, used the way a user would: a grid generated offline in a fresh
process, and the card's fast metrics measured again. (The Inception metrics of the cards are
re-measured by ``benchmarks/check_pretrained.py``: 20-40 minutes per tag on a 2-core CPU.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import gan_zoo_pretrained
import pytest
from conftest import DISTRIBUTION, DISTRIBUTION_DIR, gan_zoo_cli

REPO = DISTRIBUTION_DIR.parent.parent
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
SHIPPED = sorted(gan_zoo_pretrained.tags())
tags = pytest.mark.parametrize(
    "tag", SHIPPED or [pytest.param(None, marks=pytest.mark.skip(reason="no tags shipped"))]
)


def site_of_distribution() -> Path:
    return Path(gan_zoo_pretrained.__file__).resolve().parent.parent


@tags
def test_a_grid_is_generated_offline_in_a_fresh_process(tag, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing may reach for the network
    out = tmp_path / "grid.png"
    done = gan_zoo_cli(
        site_of_distribution(),
        "generate",
        tag,
        "--n",
        "64",
        "--out",
        str(out),
        cache=tmp_path / "cache",
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.skipif(not FASHION_MNIST.exists(), reason="the real Fashion-MNIST is not installed")
@tags
def test_the_cards_classifier_metrics_are_measured_again(tag, monkeypatch):
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", DISTRIBUTION)
    from gan_zoo import plugins

    plugins.reset()
    spec = importlib.util.spec_from_file_location(
        "check_pretrained", REPO / "benchmarks" / "check_pretrained.py"
    )
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    rows = check.check_tag(tag, ["classifier-fd", "class-coverage"], tolerance=0.02)
    assert {row["metric"] for row in rows} == {"classifier-fd", "class-coverage"}
    assert all(row["ok"] for row in rows), rows
