"""benchmarks/gpu_check.py on a machine without CUDA: the CPU half runs, says so, and passes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import ROOT

ROOT = ROOT
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


@pytest.mark.slow
def test_the_gpu_check_runs_its_cpu_half_without_cuda(tmp_path):
    out = tmp_path / "gpu_check.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert "no CUDA device (torch.cuda.is_available() is False): running the CPU half only" in lines
    doc = json.loads(out.read_text())
    assert (
        doc["schema"] == "gan-zoo/gpu-check/1"
        and doc["ok"] is True
        and doc["cuda_available"] is False
    )
    names = [c["name"] for c in doc["checks"]]
    assert names == ["resume", "bf16", "fp16", "ema-wgan-gp", "compile", "torchrun", "speed"]
    for check in doc["checks"]:
        assert check["device"] == "cpu" and check["status"] == "pass", check
        assert any(line.startswith(f"PASS  cpu   {check['name']} ") for line in lines), check
    assert "equal bit for bit" in doc["checks"][0]["detail"]
    assert "0 recompiles after" in doc["checks"][4]["detail"]
    assert [r["case"] for r in doc["speed"]] == [
        "gan-zoo train dcgan (default recipe)",
        "plain eager loop, same networks",
    ]
    assert all(r["img_per_s"] > 0 and r["peak_memory_mb"] > 0 for r in doc["speed"])
    assert (
        set(doc["versions"]) >= {"gan_zoo", "commit", "torch", "cuda", "python"}
        and doc["cpu"]["cpu"]
    )
    assert lines[-1].startswith("PASS: 7 of 7 checks passed or skipped")


def test_an_unknown_check_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "resme"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2 and "unknown check(s) resme" in result.stderr
