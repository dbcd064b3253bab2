"""gan-zoo's built-ins pass the conformance kit that plugin authors run (gan_zoo.testing).

The same generated cases as a third party's: every network at every declared size and channel
count, every loss, preset, dataset (on tiny real files) and metric (computed: the built-in ones
are cheap); then the kit's own behaviour, run by pytest as an author runs it, on real
pip-installed distributions: one whose entries break the contract on purpose, and gan-zoo-fid.
"""

from __future__ import annotations

from pathlib import Path

from helpers import ROOT, TESTS

from gan_zoo.testing import conformance, write_cifar10, write_fashion_mnist, write_image_folder

test_builtins_conform = conformance(
    "gan-zoo",
    data={
        "fashion-mnist": write_fashion_mnist,
        "mnist": write_fashion_mnist,
        "cifar10": write_cifar10,
        "image-folder": lambda folder: write_image_folder(Path(folder) / "images"),
    },
    compute_metrics=True,  # the built-in classifier metrics are cheap on 8 samples
)


#: An author's tests of the kit's fixtures (gan_zoo.testing.plugin), run by pytest with it.
FIXTURE_TESTS = """
import gan_zoo
from gan_zoo import plugins
from gan_zoo.hookspecs import hookimpl


class Extra:
    @hookimpl
    def register_losses(self, register):
        register("fixture-loss", "gan_zoo.losses.bce:BCELoss", description="From the fixture.")


def test_register_plugin(register_plugin):
    register_plugin(Extra(), "extra", "gan-zoo-extra", "2.0")
    entry = plugins.registry("losses").get("fixture-loss")
    assert (entry.plugin.distribution, entry.plugin.version) == ("gan-zoo-extra", "2.0")


def test_load_plugins(load_plugins):
    load_plugins("gan-zoo-testplugins")
    assert plugins.registry("models").get("tiny-gan").plugin.distribution == "gan-zoo-testplugins"
    assert "fixture-loss" not in plugins.registry("losses")
    load_plugins()
    assert "tiny-gan" not in plugins.registry("models") and "dcgan" in plugins.registry("models")


def test_idx_dir(idx_dir):
    dataset = gan_zoo.create_dataset("fashion-mnist", data_dir=str(idx_dir))
    assert (len(dataset), dataset.image_size, dataset.channels) == (64, 28, 1)
    assert dataset.class_counts() == [7, 7, 7, 7, 6, 6, 6, 6, 6, 6]
"""


def test_the_kit_imports_neither_torch_nor_pytest_until_used():
    import subprocess
    import sys

    code = (
        "import sys, gan_zoo.testing, gan_zoo.plugin_check, gan_zoo.scaffold; "
        "print(sorted(m for m in ('torch', 'pytest') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    code = "import sys, gan_zoo.testing.plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _run_kit(folder: Path, files: dict[str, str]) -> dict[str, str | None]:
    """Run pytest with the kit's plugin on ``files`` in a subprocess, as an author does;
    ``{test id: failure message or None}`` from its JUnit report."""
    import os
    import subprocess
    import sys
    import xml.etree.ElementTree as ET

    for name, text in files.items():
        (folder / name).write_text(text)
    report = folder / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "gan_zoo.testing.plugin",
            f"--junitxml={report}",
            *map(str, (folder / n for n in files)),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=600,
    )
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        failure = case.find("failure")
        results[case.get("name").split("[", 1)[-1].rstrip("]")] = (
            None if failure is None else failure.get("message", "")
        )
    return results


def test_the_kit_fails_exactly_the_entries_that_break_the_contract(use_distribution, tmp_path):
    """The kit run by pytest, as an author runs it, on a real installed distribution whose
    plugins break the contract on purpose: every broken entry fails with a line naming it."""
    use_distribution(TESTS / "plugin_dist")
    results = _run_kit(
        tmp_path,
        {
            "test_kit.py": "from gan_zoo.testing import conformance\n"
            "test_conformance = conformance('gan-zoo-testplugins')\n",
            "test_fixtures.py": FIXTURE_TESTS,
        },
    )
    failed = {name for name, message in results.items() if message is not None}
    assert failed == {
        "plugin-testplugin-badname-loads",
        "plugin-testplugin-broken-loads",
        *{
            f"generator-{g}-{check}"
            for g in ("missing-target", "raising-gen", "wrong-size")
            for check in ("contract", "forward-28px-1ch", "forward-28px-3ch", "moves")
        },
        *{f"generator-missing-target-forward-32px-{c}ch" for c in (1, 3)},
        "generator-missing-target-safetensors",
        "generator-raising-gen-safetensors",
        "generator-ignores-psi-forward-28px-1ch",
        "generator-ignores-psi-forward-28px-3ch",
        *{
            f"loss-{loss}-{check}"
            for loss in ("nan-loss", "vector-loss")
            for check in ("contract", "properties", "trains-fp32", "trains-bf16")
        },
    }
    passed = set(results) - failed
    assert {"test_register_plugin", "test_load_plugins", "test_idx_dir"} <= passed
    assert {
        "generator-tiny-linear-forward-28px-3ch",
        "generator-tiny-linear-safetensors",
        "model-tiny-gan-trains-bf16",
        "loss-bce-trains-fp32",
        "loss-my-other-loss-properties",
    } <= passed
    messages = results["generator-wrong-size-forward-28px-1ch"]
    assert (
        "generator 'wrong-size' (gan-zoo-testplugins 1.2.3) breaks the plugin contract" in messages
    )
    assert "must be a scalar" in results["loss-vector-loss-properties"]
    assert "is nan on the first batch" in results["loss-nan-loss-trains-bf16"]
    assert "broken on purpose" in results["plugin-testplugin-broken-loads"]
    assert (
        "truncation_psi=0.0 must map every latent to the average image"
        in (results["generator-ignores-psi-forward-28px-1ch"])
    )
    assert {"generator-ignores-psi-moves", "generator-ignores-psi-safetensors"} <= passed


def test_the_metrics_of_gan_zoo_fid_conform(use_distribution, tmp_path):
    """A real metric plugin through the kit: factory options, higher_is_better, a JSON-able
    protocol (structure only: computing FID is not cheap), for every metric it registers."""
    use_distribution(ROOT / "plugins" / "gan-zoo-fid")
    results = _run_kit(
        tmp_path,
        {
            "test_fid.py": "from gan_zoo.testing import conformance\n"
            "test_conformance = conformance('gan-zoo-fid')\n",
        },
    )
    assert {
        f"metric-{m}-{check}" for m in ("fid", "kid") for check in ("contract", "protocol")
    } <= set(results)
    assert {name: message for name, message in results.items() if message is not None} == {}
