"""Run one seed of one row of the results table and record it.

Training is a ``gan-zoo train`` subprocess (the console script of this Python's environment),
so the command in the record is the one that ran; evaluation is ``gan_zoo.evaluate`` in this
process, the function ``gan-zoo evaluate`` is a thin layer over (same arguments, same result
with each metric's protocol). The record, ``benchmarks/results/<row>-s<seed>.json``, is written
atomically; a record whose commands are those of the row as it stands now means "done".
"""

from __future__ import annotations

import json
import math
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from results_rows import (
    REPO,
    RESULTS_DIR,
    STANDARD_N,
    Row,
    RowsError,
    RowsFile,
    command,
    display_path,
    evaluate_argv,
    is_conditional,
    train_argv,
    write_text,
)

from gan_zoo.errors import GanZooError

#: Version of the record layout.
SCHEMA = 1


class RunnerError(GanZooError):
    """A row that could not be trained or evaluated."""


@dataclass(frozen=True)
class Settings:
    """What the command line decides for every row."""

    results_dir: Path = RESULTS_DIR
    n: int = STANDARD_N
    steps_scale: float | None = None
    force: bool = False

    @property
    def runs_dir(self) -> Path:
        return self.results_dir / "runs"


@dataclass(frozen=True)
class Job:
    """One seed of one row: the two commands, where the run and the record go."""

    row: Row
    seed: int
    metrics: tuple[str, ...]
    train: tuple[str, ...]
    evaluate: tuple[str, ...]
    n: int
    steps_scale: float | None
    run_dir: Path
    record_path: Path

    @property
    def key(self) -> str:
        return record_key(self.row.name, self.seed)

    def commands(self) -> dict[str, str]:
        return {"train": command(self.train), "evaluate": command(self.evaluate)}

    @property
    def full(self) -> bool:
        """The standard protocol and the row's whole schedule."""
        return self.n == STANDARD_N and self.steps_scale is None


def record_key(row: str, seed: int) -> str:
    return f"{row}-s{seed}"


# Plan.
def preset_installed(row: Row) -> bool:
    """Whether the row's preset is registered; False when its plugin is not installed, a
    one-line error (did-you-mean) when it is simply unknown."""
    import gan_zoo

    if row.preset in gan_zoo.list_models():
        return True
    if row.plugin:
        return False
    try:
        gan_zoo.get_preset(row.preset)
    except GanZooError as e:
        raise RowsError(f"row '{row.name}': {e}") from None
    return True


def resolve_config(row: Row, argv: Sequence[str]) -> Any:
    """The :class:`~gan_zoo.config.TrainConfig` ``argv`` (``gan-zoo train ...``) would train,
    parsed by the real command and checked by the real resolver, without training."""
    import click

    from gan_zoo.cli import build_cli
    from gan_zoo.training import resolve

    try:
        # Through the real group: the command inherits its settings (click caches the help
        # option of a command on first use, with the names of that first context).
        cli = build_cli()
        parent = click.Context(cli, info_name="gan-zoo", **cli.context_settings)
        ctx = cli.get_command(parent, "train").make_context("train", list(argv[2:]), parent=parent)
        params = dict(ctx.params)
        model, dataset, sets = params.pop("model"), params.pop("dataset"), params.pop("overrides")
        options = {
            k: v
            for k, v in params.items()
            if v is not None and k not in ("resume", "quiet", "plain")
        }
        return resolve.build_config(model, dataset, options, sets)
    except click.ClickException as e:
        raise RowsError(f"row '{row.name}': {e.format_message()}") from None
    except GanZooError as e:
        raise RowsError(f"row '{row.name}': {e}") from None


def scaled_steps(config: Any, scale: float) -> int:
    """``scale`` times the number of steps ``config`` trains for (at least 1)."""
    import gan_zoo

    total = config.steps
    if total is None:
        data = gan_zoo.open_split(config.dataset, "train", data_dir=config.data_dir)
        total = config.epochs * (len(data) // config.batch_size // config.n_critic)
    return max(1, round(total * scale))


def plan(
    rows_file: RowsFile, rows: Sequence[Row], settings: Settings
) -> tuple[list[Job], list[str]]:
    """The jobs of ``rows``, each command checked by the real parser, and one note per row left
    out because its plugin is not installed."""
    jobs, notes = [], []
    for row in rows:
        if not preset_installed(row):
            notes.append(
                f"skip {row.name}: preset '{row.preset}' needs the {row.plugin} plugin, "
                f"which is not installed (pip install plugins/{row.plugin})"
            )
            continue
        wanted = tuple(rows_file.metrics_for(is_conditional(row)))
        for seed in row.seeds:
            run_dir = settings.runs_dir / record_key(row.name, seed)
            argv = train_argv(row, seed, run_dir)
            config = resolve_config(row, argv)
            metrics = applicable_metrics(wanted, config)
            if settings.steps_scale is not None:
                extra = ("--steps", str(scaled_steps(config, settings.steps_scale)))
                argv = train_argv(row, seed, run_dir, extra)
            jobs.append(
                Job(
                    row,
                    seed,
                    metrics,
                    tuple(argv),
                    tuple(evaluate_argv(run_dir, metrics, settings.n)),
                    settings.n,
                    settings.steps_scale,
                    run_dir,
                    settings.results_dir / f"{record_key(row.name, seed)}.json",
                )
            )
    return jobs, notes


def applicable_metrics(metrics: Sequence[str], config: Any) -> tuple[str, ...]:
    """``metrics`` without those whose registry entry declares other image sizes or channels
    than the row trains at (the Fashion-MNIST classifier metrics are 28 px only; the StyleGAN2
    presets train at 32 and 64), so no evaluation fails after the long ones ran."""
    from gan_zoo import plugins

    registry = plugins.registry("metrics")
    return tuple(
        m
        for m in metrics
        if m not in registry or registry.get(m).supports.matches(config.image_size, config.channels)
    )


def check_metrics(jobs: Sequence[Job]) -> None:
    """A one-line error (with the pip command) for a metric that is not installed."""
    from gan_zoo.factory import check_metric

    for name in dict.fromkeys(m for job in jobs for m in job.metrics):
        check_metric(name)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunnerError(f"cannot read {path}: {e}") from None


def status(job: Job, force: bool) -> tuple[str, str]:
    """``("run" | "done" | "keep", why)``: what the runner does with ``job``."""
    if not job.record_path.exists():
        return "run", "no record yet"
    record = read_json(job.record_path)
    if not isinstance(record, dict):
        raise RunnerError(f"{job.record_path} is not a record (a JSON object)")
    if force:
        return "run", "--force"
    if record.get("commands") == job.commands():
        return "done", "recorded with the same commands"
    full = record.get("standard") is True and record.get("steps_scale") is None
    if full and not job.full:
        return "keep", "its record is a full standard run; pass --force to replace it with this one"
    return "run", "the commands changed since the record"


# Run.
def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON atomically."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def training_log(run_dir: Path) -> dict[str, Any]:
    """Mean of the img/s values the run logged, and its last step, from ``metrics.jsonl``."""
    rates, step = [], 0
    with open(run_dir / "metrics.jsonl", encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            if isinstance(item.get("img/s"), (int, float)) and math.isfinite(item["img/s"]):
                rates.append(float(item["img/s"]))
            step = max(step, int(item.get("step", 0)))
    try:  # what --precision auto became for this run (bf16 on CPUs with native bf16)
        precision = json.loads((run_dir / "config.json").read_text(encoding="utf-8")).get(
            "precision"
        )
    except (OSError, ValueError, AttributeError):
        precision = None
    return {
        "img_s": sum(rates) / len(rates) if rates else None,
        "steps": step,
        "precision": precision if isinstance(precision, str) else None,
    }


def train(job: Job, runs_dir: Path, reuse: bool = True) -> dict[str, Any]:
    """Train ``job`` unless (with ``reuse``) its run already finished with the same command;
    return its ``{"command", "seconds", "img_s", "steps"}``.

    With ``reuse``, a run of the row's recipe that was interrupted (Ctrl-C, a reboot, the end of
    a session) is continued from its latest checkpoint with ``gan-zoo train --resume``, which
    ends with the same weights as one uninterrupted run; ``resumed_from_step`` says so."""
    done_file = job.run_dir.with_name(job.run_dir.name + ".train.json")
    cmd = command(job.train)
    if reuse and done_file.exists() and job.run_dir.is_dir():
        done = read_json(done_file)
        if isinstance(done, dict) and done.get("command") == cmd:
            print(f"{job.key}: reusing the finished training in {job.run_dir}", flush=True)
            return done
    done_file.unlink(missing_ok=True)
    resume_step = resumable_step(job) if reuse else None
    if resume_step is not None and resume_step >= scaled_steps(
        resolve_config(job.row, job.train), 1.0
    ):
        # Finished, but its .train.json is missing (written after training: a crash or a copy
        # of the run folder lost it): nothing is left to train, take the run as it is.
        print(
            f"{job.key}: reusing the finished training in {job.run_dir} (step {resume_step})",
            flush=True,
        )
        done = {
            "command": cmd,
            "seconds": trained_seconds(job.run_dir),
            **training_log(job.run_dir),
        }
        write_json(done_file, done)
        return done
    if job.run_dir.exists() and resume_step is None:
        if job.run_dir.parent.resolve() != runs_dir.resolve():
            raise RunnerError(f"{job.run_dir} is not inside {runs_dir}; refusing to delete it")
        print(f"{job.key}: removing the earlier run in {job.run_dir}; training again", flush=True)
        shutil.rmtree(job.run_dir)
    script = Path(sys.executable).parent / "gan-zoo"
    if not script.exists():
        raise RunnerError(
            f"no gan-zoo console script next to {sys.executable}; run with the Python gan-zoo is installed in"
        )
    if resume_step is None:
        argv, ran = job.train[1:], cmd
        print(f"{job.key}: {ran}", flush=True)
    else:
        argv = ["train", "--resume", str(job.run_dir)]
        ran = command(["gan-zoo", *argv])
        print(f"{job.key}: continuing the interrupted run at step {resume_step}: {ran}", flush=True)
    start = time.monotonic()
    rc = subprocess.run([str(script), *argv], cwd=REPO).returncode
    seconds = time.monotonic() - start
    if rc in (130, -2):
        raise KeyboardInterrupt
    if rc != 0:
        raise RunnerError(
            f"training {job.key} failed with exit code {rc} (its output is above): {ran}"
        )
    done = {
        "command": cmd,
        "seconds": trained_seconds(job.run_dir) or round(seconds, 1),
        **training_log(job.run_dir),
    }
    if resume_step is not None:
        done["resumed_from_step"] = resume_step
    write_json(done_file, done)
    return done


def recipe_differences(job: Job, config: dict[str, Any]) -> str | None:
    """What in a run's ``config.json`` differs from the recipe of ``job``'s row (the fields that
    decide the weights, and the precision when the row fixes one), or None."""
    import dataclasses

    wanted = json.loads(json.dumps(dataclasses.asdict(resolve_config(job.row, job.train))))
    config = dict(config)
    if wanted.get("steps") is not None:
        wanted.pop("epochs"), config.pop("epochs", None)
    differ = [k for k in RECIPE_FIELDS if k in wanted and config.get(k) != wanted[k]]
    shown = [f"{k}: run {config.get(k)!r} vs row {wanted[k]!r}" for k in differ]
    wanted_precision = wanted.get("precision", "auto")
    if wanted_precision not in ("auto", config.get("precision")):
        shown.append(f"precision: run {config.get('precision')!r} vs row {wanted_precision!r}")
    return ", ".join(shown) or None


def resumable_step(job: Job) -> int | None:
    """The step of the latest checkpoint of an unfinished run of ``job``'s recipe in its run
    directory, or None (no run, no checkpoint, another recipe, or unreadable)."""
    from gan_zoo.checkpoint import describe

    if not (job.run_dir / "config.json").is_file():
        return None
    try:
        config = read_json(job.run_dir / "config.json")
        step = describe(job.run_dir)["step"]
    except (GanZooError, OSError, ValueError):
        return None
    if not isinstance(config, dict) or recipe_differences(job, config) is not None:
        return None
    return step if isinstance(step, int) and step > 0 else None


def trained_seconds(run_dir: Path) -> float | None:
    """Seconds of training of a run, over all its resumes: the ``elapsed_seconds`` its latest
    checkpoint recorded (None when it has none)."""
    from gan_zoo.checkpoint import describe

    try:
        elapsed = describe(run_dir)["elapsed_seconds"]
    except (GanZooError, OSError):
        return None
    return round(float(elapsed), 1) if isinstance(elapsed, (int, float)) and elapsed > 0 else None


def evaluate(job: Job) -> tuple[dict[str, Any], float]:
    """``gan_zoo.evaluate`` with the arguments of ``job.evaluate``; the results and seconds."""
    import gan_zoo

    print(f"{job.key}: {command(job.evaluate)}", flush=True)
    start = time.monotonic()
    results = gan_zoo.evaluate(job.run_dir, list(job.metrics), num_samples=job.n)
    return results, time.monotonic() - start


def git_commit() -> str:
    """HEAD, with ``-dirty`` when tracked files outside the results differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "HEAD")
        dirty = git(
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":!benchmarks/results",
            ":!docs/results.md",
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def environment() -> dict[str, Any]:
    """Hardware and software of this process, for the record."""
    import torch
    from common import hardware

    import gan_zoo

    return {
        "hardware": {**hardware(), "torch_threads": torch.get_num_threads()},
        "software": {
            "torch": torch.__version__,
            "gan_zoo": gan_zoo.__version__,
            "git_commit": git_commit(),
            "python": platform.python_version(),
        },
    }


def run_job(job: Job, settings: Settings) -> dict[str, Any]:
    """Train, evaluate and write the record of ``job``; return the record."""
    trained = train(job, settings.runs_dir, reuse=not settings.force)
    results, eval_seconds = evaluate(job)
    record = {
        "schema": SCHEMA,
        "row": job.row.name,
        "seed": job.seed,
        "preset": job.row.preset,
        "dataset": job.row.dataset,
        "note": job.row.note,
        "commands": job.commands(),
        "num_samples": job.n,
        "steps_scale": job.steps_scale,
        "standard": all(r.get("protocol", {}).get("standard") is True for r in results.values()),
        "metrics": results,
        "training": {
            **{k: trained.get(k) for k in ("img_s", "steps", "seconds", "precision")},
            **{k: trained[k] for k in ("adopted_from", "adopted_config") if k in trained},
        },
        "evaluation": {
            "seconds": round(eval_seconds, 1),
            "python": f"gan_zoo.evaluate({display_path(job.run_dir)!r}, {list(job.metrics)!r}, "
            f"num_samples={job.n})",
        },
        **environment(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(job.record_path, record)
    print(f"{job.key}: wrote {job.record_path}", flush=True)
    return record


# Adopting a run trained outside the script.
#: Config fields that decide the weights a run ends with (with the seed, bit for bit on one
#: machine); the others only say where it writes, how often it logs or checkpoints, or what it
#: scores, which the trainer keeps from touching the weights (tested in tests/unit/training/test_scoring.py).
RECIPE_FIELDS = (
    "model",
    "dataset",
    "dataset_options",
    "generator",
    "discriminator",
    "loss",
    "regularizer",
    "z_dim",
    "batch_size",
    "steps",
    "epochs",
    "n_critic",
    "g_optim",
    "d_optim",
    "lr_decay",
    "lr_decay_every",
    "lr_decay_gamma",
    "ema",
    "ema_warmup",
    "augment",
    "seed",
)


def adopt(job: Job, run_dir: Path) -> dict[str, Any]:
    """Move a finished run trained with the recipe of ``job`` (but another ``--out`` or logging
    cadence) into ``job.run_dir`` as its training, after checking that every field that decides
    the weights equals what the row's command gives; one-line errors otherwise."""
    config = read_json(run_dir / "config.json")
    differ = (
        recipe_differences(job, config)
        if isinstance(config, dict)
        else "config.json is not an object"
    )
    if differ:
        raise RunnerError(
            f"{run_dir} was not trained with row '{job.row.name}''s recipe ({differ})"
        )
    log = training_log(run_dir)
    if config.get("steps") is not None and log["steps"] < config["steps"]:
        raise RunnerError(
            f"{run_dir} stopped at step {log['steps']} of {config['steps']}; finish it first"
        )
    if job.run_dir.exists():
        raise RunnerError(f"{job.run_dir} exists; remove it to adopt {run_dir}")
    # Wall time: config.json is written as training starts, the last log line as it ends.
    with open(run_dir / "metrics.jsonl", encoding="utf-8") as f:
        times = [
            t for t in (json.loads(line).get("time") for line in f) if isinstance(t, (int, float))
        ]
    start = (run_dir / "config.json").stat().st_mtime
    job.run_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(run_dir), str(job.run_dir))
    done = {
        "command": command(job.train),
        "adopted_from": str(run_dir),
        "adopted_config": {
            k: config.get(k)
            for k in ("out", "log_every", "sample_every", "checkpoint_every", "keep", "eval_metric")
        },
        "seconds": trained_seconds(job.run_dir) or (round(times[-1] - start, 1) if times else None),
        **log,
    }
    write_json(job.run_dir.with_name(job.run_dir.name + ".train.json"), done)
    print(f"{job.key}: adopted {run_dir} as its training ({job.run_dir})", flush=True)
    return done
