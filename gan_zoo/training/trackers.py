"""Experiment trackers: TensorBoard, Weights & Biases and MLflow, as sinks of the reporter.

``--log tensorboard``, ``--log wandb`` and ``--log mlflow`` (repeatable; ``config.log``) add a
:class:`~gan_zoo.training.reporter.Sink` each, on rank 0. Each sees what the console sees: the
statistics every ``log_every`` steps and each evaluation (as scalars, at their step), the sample
grids (as images), and at the end of the run the model card of the last checkpoint. The resolved
config goes with the run (W&B's run config, MLflow's parameters and a ``config.json`` artifact).

Each is an optional extra (``gan-zoo[wandb]``, ``gan-zoo[mlflow]``, ``gan-zoo[tensorboard]``).
A tracker's failure never stops training: a tracker that cannot start (not installed, not logged
in, no network) or that fails later is one ``Warning:`` line, and the run goes on without it
(:class:`Guarded`). Where they write is each library's own setting: ``WANDB_PROJECT``,
``WANDB_MODE=offline``, ``MLFLOW_TRACKING_URI``, ``MLFLOW_EXPERIMENT_NAME``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..checkpoint.layout import CARD_FILE
from ..errors import unknown
from .reporter import Sink

#: The trackers ``--log`` names, and the extra that installs each.
TRACKERS = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}
#: The project (W&B) or experiment (MLflow) of a run when the environment names none.
DEFAULT_PROJECT = "gan-zoo"
#: Record keys that are not statistics.
_NOT_SCALARS = ("step", "epoch", "time")


def check_trackers(names: Iterable[str]) -> None:
    """Unknown tracker names fail before training, with a suggestion."""
    if isinstance(names, str):
        names = [names]
    for name in names:
        if name not in TRACKERS:
            raise unknown("tracker", str(name), TRACKERS)


def open_trackers(
    names: Iterable[str], run_dir: Path, config: dict[str, Any], warn: Callable[[str], None]
) -> list[Sink]:
    """A guarded sink per tracker that starts; one warning for each that does not."""
    sinks: list[Sink] = []
    for name in dict.fromkeys(names):
        try:
            sinks.append(Guarded(_OPENERS[name](run_dir, config), name, warn))
        except ImportError:
            warn(
                f"--log {name} needs the {TRACKERS[name]} package (pip install "
                f"'gan-zoo[{name}]'); training goes on without {name}"
            )
        except Exception as exc:  # a tracker's own failure: logged out, offline, bad settings
            warn(f"{name} could not start ({describe(exc)}); training goes on without it")
    return sinks


def describe(exc: BaseException) -> str:
    """An exception in one short line."""
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Guarded(Sink):
    """A tracker whose failures are warnings: at the first one it is closed and left out."""

    def __init__(self, sink: Sink, name: str, warn: Callable[[str], None]):
        self.sink: Sink | None = sink
        self.name = name
        self.warn = warn

    def _call(self, method: str, *args: Any) -> None:
        sink = self.sink
        if sink is None:
            return
        try:
            getattr(sink, method)(*args)
        except Exception as exc:
            self.sink = None
            self.warn(f"{self.name} failed ({describe(exc)}); training goes on without it")
            if method != "close":
                try:
                    sink.close()
                except Exception:
                    pass  # it failed already; one warning is enough

    def start(self, progress: Any, title: str) -> None:
        self._call("start", progress, title)

    def stats(self, record: dict[str, Any]) -> None:
        self._call("stats", record)

    def image(self, tag: str, grid: Any, step: int) -> None:
        self._call("image", tag, grid, step)

    def close(self) -> None:
        self._call("close")
        self.sink = None


def scalars(record: dict[str, Any]) -> dict[str, float]:
    """The statistics of a report (losses, accuracies, rates, an evaluation's score)."""
    return {
        k: float(v)
        for k, v in record.items()
        if k not in _NOT_SCALARS and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def image_array(grid: Any) -> Any:
    """A (C, H, W) uint8 grid as an (H, W, C) array, or (H, W) for one channel."""
    array = grid.detach().cpu().permute(1, 2, 0).numpy()
    return array[:, :, 0] if array.shape[2] == 1 else array


def last_card(run_dir: Path) -> Path | None:
    """The model card of the run's last checkpoint, if one was written."""
    from ..checkpoint import list_checkpoints

    checkpoints = list_checkpoints(run_dir)
    card = checkpoints[-1] / CARD_FILE if checkpoints else None
    return card if card is not None and card.is_file() else None


def mlflow_key(name: str) -> str:
    """A statistic's MLflow name: ``loss/d`` is ``loss.d``. MLflow's file store keeps a metric
    in a file whose path is its name, so ``lr`` (a file) and ``lr/d`` (a file in a folder
    ``lr``) could not both be logged."""
    return name.replace("/", ".")


def flat(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"generator.options.width": "8", ...}``: a config as MLflow parameters."""
    out = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value if isinstance(value, str) else json.dumps(value)
    return out


class TensorBoard(Sink):
    """Scalars and sample grids in ``RUN/tensorboard`` (needs the ``tensorboard`` package)."""

    def __init__(self, run_dir: Path, config: dict[str, Any] | None = None):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"))

    def stats(self, record: dict[str, Any]) -> None:
        for key, value in scalars(record).items():
            self.writer.add_scalar(key, value, record["step"])

    def image(self, tag: str, grid: Any, step: int) -> None:
        self.writer.add_image(tag, grid, step)

    def close(self) -> None:
        self.writer.close()


class WandB(Sink):
    """A Weights & Biases run (``RUN/wandb``): the config, scalars, sample grids as images and
    the model card as an artifact. ``WANDB_MODE=offline`` writes it locally, for ``wandb sync``."""

    def __init__(self, run_dir: Path, config: dict[str, Any]):
        import wandb

        self.wandb = wandb
        self.run_dir = run_dir
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT") or DEFAULT_PROJECT,
            name=run_dir.name,
            dir=str(run_dir),
            config=config,
            job_type="train",
            reinit="create_new",
            settings=wandb.Settings(init_timeout=60, console="off", save_code=False),
        )

    def stats(self, record: dict[str, Any]) -> None:
        self.run.log({**scalars(record), "epoch": record["epoch"]}, step=record["step"])

    def image(self, tag: str, grid: Any, step: int) -> None:
        picture = self.wandb.Image(image_array(grid), caption=f"step {step}")
        self.run.log({tag: picture}, step=step)

    def close(self) -> None:
        try:
            card = last_card(self.run_dir)
            if card is not None:
                name = re.sub(r"[^A-Za-z0-9._-]", "-", self.run_dir.name) + "-card"
                artifact = self.wandb.Artifact(name, type="model-card")
                artifact.add_file(str(card), name=CARD_FILE)
                self.run.log_artifact(artifact)
        finally:
            self.run.finish()


class MLflow(Sink):
    """An MLflow run in the tracking store (``MLFLOW_TRACKING_URI``, e.g. ``file:./mlruns``;
    MLflow's default otherwise): parameters, scalars (named by :func:`mlflow_key`), sample grids
    and the card as artifacts."""

    def __init__(self, run_dir: Path, config: dict[str, Any]):
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        from .._version import __version__

        self.client = MlflowClient()
        self.run_dir = run_dir
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_PROJECT
        experiment = self.client.get_experiment_by_name(name)
        experiment_id = (
            experiment.experiment_id if experiment else self.client.create_experiment(name)
        )
        tags = {"gan_zoo.version": __version__, "gan_zoo.run_dir": str(run_dir)}
        run = self.client.create_run(experiment_id, run_name=run_dir.name, tags=tags)
        self.run_id = run.info.run_id
        params = [Param(k, v[:6000]) for k, v in flat(config).items()]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 parameters a batch
            self.client.log_batch(self.run_id, params=params[i : i + 100])
        self.client.log_dict(self.run_id, config, "config.json")

    def stats(self, record: dict[str, Any]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [
            Metric(mlflow_key(k), v, now, record["step"]) for k, v in scalars(record).items()
        ]
        self.client.log_batch(self.run_id, metrics=metrics)

    def image(self, tag: str, grid: Any, step: int) -> None:
        self.client.log_image(self.run_id, image_array(grid), key=tag, step=step)

    def close(self) -> None:
        try:
            card = last_card(self.run_dir)
            if card is not None:
                self.client.log_artifact(self.run_id, str(card), artifact_path="card")
        finally:
            self.client.set_terminated(self.run_id, "FINISHED")


_OPENERS: dict[str, Callable[[Path, dict[str, Any]], Sink]] = {
    "tensorboard": TensorBoard,
    "wandb": WandB,
    "mlflow": MLflow,
}
