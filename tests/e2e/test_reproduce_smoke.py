"""``gan-zoo reproduce dcgan.fashion-mnist --steps 200``, end to end: the shipped pretrained tag
(plugins/gan-zoo-pretrained, pip-installed as a user installs it), the real Fashion-MNIST, three
real trainings of the card's recipe cut to 200 steps, each scored under the card's protocol
(classifier-fd and class-coverage on 10,000 samples; FID needs gan-zoo-fid and is skipped)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import REAL_FASHION_MNIST, ROOT, needs_fashion_mnist

PRETRAINED = ROOT / "plugins" / "gan-zoo-pretrained"
TAG_FOLDER = PRETRAINED / "gan_zoo_pretrained" / "weights" / "dcgan.fashion-mnist"


@pytest.mark.slow
@needs_fashion_mnist
def test_reproduce_the_shipped_dcgan_tag_as_a_smoke_check(use_distribution, tmp_path):
    use_distribution(PRETRAINED)
    env = {
        **os.environ,
        "GAN_ZOO_LOAD_PLUGINS": "gan-zoo-pretrained",
        "GAN_ZOO_DATA": str(REAL_FASHION_MNIST.parent),
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "gan_zoo",
        "reproduce",
        "dcgan.fashion-mnist",
        "--steps",
        "200",
    ]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    card = json.loads((TAG_FOLDER / "metrics.json").read_text())
    recipe = json.loads((TAG_FOLDER / "config.json").read_text())
    seeds = [recipe["seed"] + i for i in range(3)]  # the card's seed, then the next ones
    shown = ", ".join(map(str, seeds))
    assert f"Reproduced dcgan.fashion-mnist: 3 runs (seeds {shown}) in runs/reproduce-dcgan-" in out
    epochs = recipe["epochs"]
    assert f"Smoke check: 200 steps per run instead of the recipe's {epochs} epochs" in out
    assert "Versions: gan-zoo and every plugin as recorded with the card" in out
    assert "Skipped fid, kid, precision, recall: not installed here" in out
    (folder,) = (tmp_path / "runs").glob("reproduce-dcgan-fashion-mnist-*")
    report = json.loads((folder / "reproduction.json").read_text())
    assert report["smoke_check"] is True and report["seeds"] == seeds
    for name in ("classifier-fd", "class-coverage"):
        metric = report["metrics"][name]
        assert metric["card"] == card[name]["value"] and len(metric["values"]) == 3
        assert metric["protocol_differences"] == []  # scored exactly as the card was
        row = next(line for line in out.splitlines() if line.startswith(f"│ {name} "))
        assert f"{metric['card']:.4g}" in row and f"{metric['mean']:.4g} ± " in row
        assert "(smoke check)" in row
    for seed in seeds:  # each run trained 200 steps of the card's recipe with its seed
        config = json.loads((folder / f"seed-{seed}" / "config.json").read_text())
        assert (config["seed"], config["steps"], config["batch_size"]) == (seed, 200, 128)
