"""An exported ONNX generator runs where PyTorch is not: ``gan-zoo export`` in a real process,
then onnxruntime in a second Python process in which importing torch is impossible."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import make_run

import gan_zoo
from gan_zoo.exporting import TOLERANCES

#: Runs in ``python -I`` (no PYTHONPATH, no user site): torch cannot be imported, onnxruntime
#: runs the file on the latents the test wrote, and the images go back as an .npy file.
WITHOUT_TORCH = """
import importlib.abc, json, sys

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this process")
        return None

sys.meta_path.insert(0, NoTorch())
import numpy as np
import onnxruntime

model, z_file, out_file = sys.argv[1:4]
session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
meta = json.loads(session.get_modelmeta().custom_metadata_map["gan_zoo_export"])
images = session.run(None, {"z": np.load(z_file)})[0]
np.save(out_file, images)
try:
    import torch  # noqa: F401
except ImportError:
    blocked = True
else:
    blocked = False
print(json.dumps({"blocked": blocked, "torch_loaded": "torch" in sys.modules,
                  "shape": list(images.shape), "passed": meta["check"]["passed"]}))
"""


def test_an_exported_onnx_generator_runs_in_onnxruntime_without_torch(tmp_path):
    run, _ = make_run(tmp_path)
    out = tmp_path / "dcgan.onnx"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    exported = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_zoo",
            "export",
            str(run),
            "--format",
            "onnx",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert exported.returncode == 0, exported.stderr
    assert f"to {out} (onnx)" in exported.stdout and exported.stderr == ""
    z = torch.randn(6, 100, generator=torch.Generator().manual_seed(11))  # a batch never traced
    np.save(tmp_path / "z.npy", z.numpy())
    ran = subprocess.run(
        [sys.executable, "-I", "-c", WITHOUT_TORCH, out, tmp_path / "z.npy", tmp_path / "x.npy"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert report == {
        "blocked": True,
        "torch_loaded": False,
        "shape": [6, 1, 28, 28],
        "passed": True,
    }
    with torch.no_grad():
        eager = gan_zoo.load(run).net(z, None).numpy()
    assert np.abs(np.load(tmp_path / "x.npy") - eager).max() <= TOLERANCES["onnx"]


@pytest.mark.parametrize("fmt", ["exported-program", "torchscript"])
def test_the_torch_formats_load_in_a_fresh_process_without_gan_zoo(tmp_path, fmt):
    """A .pt2 / TorchScript file needs torch only: it loads where gan_zoo cannot be imported."""
    run, _ = make_run(tmp_path)
    out = gan_zoo.export(run, fmt, tmp_path / f"g.{fmt}").path
    loader = (
        "torch.export.load(path).module()" if fmt == "exported-program" else "torch.jit.load(path)"
    )
    code = (
        "import sys; sys.modules['gan_zoo'] = None\n"
        "import torch\n"
        f"path = sys.argv[1]; g = {loader}\n"
        "print(tuple(g(torch.zeros(3, 100)).shape))"
    )
    ran = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "(3, 1, 28, 28)"
