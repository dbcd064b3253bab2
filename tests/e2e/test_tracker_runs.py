"""Real tracker runs read back with the trackers' own readers: a W&B run in offline mode (no
account; its ``.wandb`` file of wandb's protobuf records) and an MLflow run in a local file store
(``MlflowClient``); and the real failure modes of each (not logged in, no server), which leave the
training going with one warning."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TINY

STEPS = 3
SCALARS = {"loss/d", "loss/g", "d/real_acc", "img/s", "lr"}


def train(tmp_path, idx_dir, *log, env=None):
    """``gan-zoo train`` in a process of its own, with ``--log`` trackers; returns the run."""
    run = tmp_path / "run"
    args = [
        sys.executable, "-m", "gan_zoo", "train", "dcgan", "fashion-mnist", "--steps", str(STEPS),
        "--batch-size", "16", "--log-every", "1", "--sample-every", "2", "--data-dir",
        str(idx_dir), "--eval-metric", "none", "--out", str(run), "--plain",
        *(a for s in TINY for a in ("--set", s)), *(a for name in log for a in ("--log", name)),
    ]  # fmt: skip
    isolated = {
        "HOME": str(tmp_path / "home"),  # no one's W&B login or settings
        "WANDB_CONFIG_DIR": str(tmp_path / "wandb-config"),
        "WANDB_CACHE_DIR": str(tmp_path / "wandb-cache"),
        "WANDB_DATA_DIR": str(tmp_path / "wandb-data"),
        "WANDB_SILENT": "true",
        "OMP_NUM_THREADS": "1",
    }
    env = {**os.environ, **isolated, **(env or {})}
    env.pop("WANDB_API_KEY", None)
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Done: {STEPS} steps" in done.stdout
    return run, done.stdout + done.stderr


def png(step: int) -> str:
    return f"step-{step:07d}.png"


def same_pixels(a: Path, b: Path) -> bool:
    """Whether two image files hold the same pixels (the tracker's copy and the run's PNG)."""
    import numpy as np
    from PIL import Image

    return np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))


# W&B: the offline run's records.
def wandb_records(path: Path):
    """The protobuf records of a ``.wandb`` file: a 7-byte header (``:W&B``, magic, version),
    then LevelDB-log blocks of 32 KiB holding records cut into chunks (checksum, length, type)."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    offset, pending = 7, b""
    while offset + 7 <= len(data):
        room = 32768 - offset % 32768
        if room < 7:  # the rest of a block is padding
            offset += room
            continue
        _, length, kind = struct.unpack("<IHB", data[offset : offset + 7])
        if kind == 0 and length == 0:
            break
        pending += data[offset + 7 : offset + 7 + length]
        offset += 7 + length
        if kind in (1, 4):  # a full record, or the last chunk of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


@pytest.mark.slow
def test_wandb_offline_run_has_scalars_images_config_and_card(tmp_path, idx_dir):
    pytest.importorskip("wandb")
    run, output = train(tmp_path, idx_dir, "wandb", env={"WANDB_MODE": "offline"})
    assert "Warning" not in output
    (offline,) = (run / "wandb").glob("offline-run-*")
    (path,) = offline.glob("run-*.wandb")
    history, config, artifacts = {}, {}, []
    for record in wandb_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "history":  # a logged row: {"loss/d": ..., "samples": {"path": ...}}
            row = history.setdefault(record.history.step.num, {})
            for item in record.history.item:
                name, *field = list(item.nested_key) or [item.key]
                value = json.loads(item.value_json)
                if field:
                    row.setdefault(name, {})[field[0]] = value
                else:
                    row[name] = value
        elif kind in ("run", "config"):  # the config comes with the run record
            updates = record.run.config.update if kind == "run" else record.config.update
            config.update({item.key: json.loads(item.value_json) for item in updates})
        elif kind == "artifact":
            artifacts.append(record.artifact)
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for logged in metrics:
        row = history[logged["step"]]
        assert SCALARS <= row.keys()
        assert row["loss/d"] == pytest.approx(logged["loss/d"]) and row["_step"] == logged["step"]
    images = {step: row["samples"] for step, row in history.items() if "samples" in row}
    assert sorted(images) == [2, 3]
    for step, image in images.items():
        assert image["_type"] == "image-file"
        assert same_pixels(offline / "files" / image["path"], run / "samples" / png(step))
    recorded = json.loads((run / "config.json").read_text())
    assert (
        config["generator"] == recorded["generator"] and config["class_names"][0] == "T-shirt/top"
    )
    assert config["steps"] == STEPS and config["log"] == ["wandb"]
    (card,) = artifacts
    assert card.type == "model-card" and card.name == "run-card"
    assert [entry.path for entry in card.manifest.contents] == ["README.md"]


@pytest.mark.slow
def test_mlflow_file_store_run_has_scalars_images_config_and_card(tmp_path, idx_dir, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # for the reader here too
    from mlflow.tracking import MlflowClient

    store = f"file:{tmp_path / 'mlruns'}"
    env = {
        "MLFLOW_TRACKING_URI": store,
        "MLFLOW_ALLOW_FILE_STORE": "true",  # MLflow 3 asks for this to use a file store
        "MLFLOW_EXPERIMENT_NAME": "recipes",
    }
    run, output = train(tmp_path, idx_dir, "mlflow", env=env)
    assert "Warning" not in output
    client = MlflowClient(tracking_uri=store)
    (found,) = client.search_runs([client.get_experiment_by_name("recipes").experiment_id])
    assert found.info.run_name == "run" and found.info.status == "FINISHED"
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for key in SCALARS | {"lr/d"}:  # MLflow's names have dots (lr beside lr/d in a file store)
        history = client.get_metric_history(found.info.run_id, key.replace("/", "."))
        assert [m.step for m in history] == [m["step"] for m in metrics]
    losses = [m.value for m in client.get_metric_history(found.info.run_id, "loss.d")]
    assert losses == pytest.approx([m["loss/d"] for m in metrics])
    params = found.data.params
    assert params["generator.options.width"] == "8" and params["steps"] == str(STEPS)
    recorded = json.loads((run / "config.json").read_text())
    local = Path(client.download_artifacts(found.info.run_id, "", str(tmp_path / "artifacts")))
    assert json.loads((local / "config.json").read_text()) == recorded
    card = (local / "card" / "README.md").read_text()
    assert card == (run / "checkpoints" / f"step-{STEPS:07d}" / "README.md").read_text()
    images = sorted(p.name for p in (local / "images").iterdir() if p.suffix == ".png")
    assert [name.split("+")[:3] for name in images] == [
        ["samples", "step", "2"],
        ["samples", "step", "3"],
    ]
    for name, step in zip(images, (2, 3), strict=True):
        assert same_pixels(local / "images" / name, run / "samples" / png(step))


def train_in_process(tmp_path, idx_dir, monkeypatch, *log):
    """A two-step run with ``log`` trackers in this process, W&B's settings kept in tmp_path."""
    import gan_zoo

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    if "wandb" in log:  # wandb keeps its settings (the mode, the login) for the process
        import wandb

        wandb.teardown()
    return gan_zoo.train(
        "dcgan", "fashion-mnist", steps=2, batch_size=16, data_dir=str(idx_dir),
        out=str(tmp_path / "run"), eval_metric="none", log=list(log), overrides=TINY,
        progress="quiet",
    )  # fmt: skip


def test_wandb_not_logged_in_is_one_warning(tmp_path, idx_dir, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "online")  # and no API key anywhere: wandb.init refuses
    result = train_in_process(tmp_path, idx_dir, monkeypatch, "wandb")
    assert result.step == 2 and len(result.warnings) == 1
    assert result.warnings[0].startswith("wandb could not start (UsageError: No API key")


@pytest.mark.slow
def test_mlflow_server_down_is_one_warning(tmp_path, idx_dir):
    pytest.importorskip("mlflow")
    env = {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",  # the discard port: nothing answers
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
    }
    run, output = train(tmp_path, idx_dir, "mlflow", env=env)
    warnings = [line for line in output.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("Warning: mlflow could not start (")
    assert (run / "checkpoints" / f"step-{STEPS:07d}" / "generator.safetensors").is_file()


def test_wandb_failing_mid_run_is_one_warning(tmp_path, idx_dir, monkeypatch):
    """The network drops after W&B started: its next log call raises, as wandb's does."""
    wandb = pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")

    def dropped(self, *args, **kwargs):
        raise wandb.errors.CommError("Network error (ConnectionError), entering retry loop")

    monkeypatch.setattr(wandb.Run, "log", dropped)
    result = train_in_process(tmp_path, idx_dir, monkeypatch, "wandb")
    assert result.step == 2
    assert result.warnings == [
        "wandb failed (CommError: Network error (ConnectionError), entering retry loop); "
        "training goes on without it"
    ]
