"""Our own plugin distribution plugins/gan-zoo-fid, installed with pip and loaded by entry point."""

import pytest
import torch
from conftest import REPO

from gan_zoo import plugins

FID_PLUGIN = REPO / "plugins" / "gan-zoo-fid"


@pytest.fixture
def fid_plugin(use_distribution, monkeypatch):
    use_distribution(FID_PLUGIN)
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", "gan-zoo-fid")
    plugins.reset()


def test_metrics_registered_from_the_installed_distribution(fid_plugin):
    entries = {e.name: e for e in plugins.registry("metrics").list()}
    assert set(entries) == {"fid", "kid"}
    assert entries["fid"].plugin.distribution == "gan-zoo-fid"


def test_distances_on_known_features():
    import sys

    sys.path.insert(0, str(FID_PLUGIN))
    try:
        from gan_zoo_fid.metrics import frechet_distance, kernel_distance
    finally:
        sys.path.remove(str(FID_PLUGIN))
    g = torch.Generator().manual_seed(0)
    a = torch.randn(800, 8, generator=g, dtype=torch.float64)
    b = a + 0.5  # same covariance, mean shifted by 0.5 in 8 dimensions
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(a, b) == pytest.approx(8 * 0.25, rel=1e-6)
    assert abs(kernel_distance(a, a, subsets=5, subset_size=200)) < 0.05
    assert kernel_distance(a, b, subsets=5, subset_size=200) > 0.1


@pytest.mark.slow
def test_fid_of_a_generator_on_real_files(fid_plugin, idx_dir):
    import gan_zoo

    data = gan_zoo.create_dataset("fashion-mnist", split="test", data_dir=str(idx_dir))
    torch.manual_seed(0)
    generator = gan_zoo.create_generator("dcgan")
    fid = gan_zoo.create_metric("fid", num_samples=16, batch_size=16)
    score = fid.compute(generator, data)
    assert score > 0 and score == pytest.approx(fid.compute(generator, data), rel=1e-6)  # cached reals, seeded fakes
    assert fid.protocol(data)["reference"] == "16 images of fashion-mnist/test"
    with torch.no_grad():  # a generator that changed is sampled again, not served from memory
        next(generator.parameters()).mul_(0.5)
    halved = fid.compute(generator, data)
    assert halved != score
    # Fused Adam (the trainer's optimizer) updates weights without bumping version counters.
    opt = torch.optim.Adam(generator.parameters(), lr=0.05, fused=True)
    generator(torch.randn(4, 100), None).mean().backward()
    opt.step()
    stepped = fid.compute(generator, data)
    assert stepped != halved
    generator.train()  # batch-norm statistics change what eval-mode sampling gives
    with torch.no_grad():
        generator(torch.randn(64, 100) * 3, None)
    assert fid.compute(generator, data) != stepped
