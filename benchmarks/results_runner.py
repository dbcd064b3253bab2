"""Run one seed of one row of the results table and record it.

Training is a ``gan-zoo train`` subprocess (the console script of this Python's environment),
so the command in the record is the one that ran; evaluation is ``gan_zoo.evaluate`` in this
process, the function ``gan-zoo evaluate`` is a thin layer over (same arguments, same result
with each metric's protocol). The record, ``benchmarks/results/<row>-s<seed>.json``, is written
atomically; a record whose commands are those of the row as it stands now means "done".

Provenance: a record is written only from a clean tree (``git status --porcelain`` shows no
tracked file changed, outside the records, the table and ``gan_zoo/measured.json`` the runner
writes itself). The commit is read when each training segment starts (the first, and every
``--resume`` after an interruption; all are listed in the record) and checked unchanged, with
the tree still clean, when the record is written; otherwise nothing is written. The train
command names the precision ``--precision auto`` resolved to on the machine that trains, so the
command trains the same recipe anywhere.
"""

from __future__ import annotations

import json
import math
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
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
    row_precision,
    train_argv,
    write_text,
)

from gan_zoo.errors import GanZooError

#: Version of the record layout (2: provenance, the resolved precision in the command).
SCHEMA = 2
#: What writes records; the provenance test accepts no record written otherwise.
WRITER = "benchmarks/results.py"
#: Where the runner reads the commit and the state of the tree (a test points it elsewhere).
GIT_REPO = REPO
#: What the runner itself writes while it runs, left out of the clean-tree check.
OWN_OUTPUTS = (
    ":(exclude,glob)benchmarks/results/*-s[0-9]*.json",
    ":(exclude)benchmarks/results/unverified",
    ":(exclude)benchmarks/results/screens",  # what benchmarks/screen.py writes
    ":(exclude)docs/results.md",
    ":(exclude)gan_zoo/measured.json",  # what 'gan-zoo list' shows, re-rendered from the records
)


#: Where results_park.py keeps unfinished runs in git, relative to the repository.
PARKED_PREFIX = "benchmarks/results/parked"


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
    #: The precision the train command names (the row's, or what auto resolves to here).
    precision: str
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


def resolved_precision(config: Any) -> str:
    """What ``config.precision`` (``auto`` included) is on this machine's device."""
    from gan_zoo.training.precision import resolve_device, resolve_precision

    try:
        return resolve_precision(config.precision, resolve_device(config.device))
    except GanZooError as e:
        raise RunnerError(f"cannot resolve the precision of {config.model}: {e}") from None


def recorded_precision(row: Row, results_dir: Path) -> str | None:
    """The precision the recorded seeds of ``row`` trained in, when they agree (a later seed of a
    row that names none trains in it, so that one row stays one recipe), or None."""
    found = set()
    for seed in row.seeds:
        path = results_dir / f"{record_key(row.name, seed)}.json"
        record = read_json(path) if path.is_file() else None
        precision = (
            record.get("training", {}).get("precision") if isinstance(record, dict) else None
        )
        if isinstance(precision, str):
            found.add(precision)
    return found.pop() if len(found) == 1 else None


def emulated(precision: str, config: Any) -> str | None:
    """Why ``precision`` would be emulated (many times slower) on this machine's device, or
    None where it runs natively."""
    from gan_zoo.training.precision import precision_warning, resolve_device

    try:
        return precision_warning(precision, resolve_device(config.device))
    except GanZooError as e:
        return str(e)


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
        kept = recorded_precision(row, settings.results_dir)  # read once per row
        for seed in row.seeds:
            record_path = settings.results_dir / f"{record_key(row.name, seed)}.json"
            run_dir = settings.runs_dir / record_key(row.name, seed)
            argv = train_argv(row, seed, run_dir)
            config = resolve_config(row, argv)
            metrics = applicable_metrics(wanted, config)
            precision = resolved_precision(config)
            extra: list[str] = []
            if row_precision(row.args) is None:  # never auto: what it is on this machine,
                if kept is not None and kept != precision:  # or what the row's seeds trained in
                    slow = emulated(kept, config)
                    if slow and not record_path.is_file():  # a recorded seed stays listed as done
                        notes.append(
                            f"skip {record_key(row.name, seed)}: the row's recorded seeds "
                            f"trained in {kept}, and here {slow.split('; ')[0]}; run it on a "
                            f"machine where {kept} is native, or name --precision in the row "
                            "(a new recipe)"
                        )
                        continue
                    precision = kept
                extra += ["--precision", precision]
            if settings.steps_scale is not None:
                extra += ["--steps", str(scaled_steps(config, settings.steps_scale))]
            argv = train_argv(row, seed, run_dir, extra)
            jobs.append(
                Job(
                    row,
                    seed,
                    precision,
                    metrics,
                    tuple(argv),
                    tuple(evaluate_argv(run_dir, metrics, settings.n)),
                    settings.n,
                    settings.steps_scale,
                    run_dir,
                    record_path,
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


def segments_file(job: Job) -> Path:
    """Where the runner lists the training segments of ``job``'s run as they start."""
    return job.run_dir.with_name(job.run_dir.name + ".segments.json")


def read_segments(job: Job) -> list[dict[str, Any]] | None:
    """The segments the runner listed for ``job``'s run (None: none, or not readable)."""
    path = segments_file(job)
    if not path.is_file():
        return None
    try:
        segments = read_json(path)
    except RunnerError:
        return None
    ok = isinstance(segments, list) and all(isinstance(s, dict) for s in segments)
    return segments if ok and segments else None


def train(job: Job, runs_dir: Path, reuse: bool = True) -> dict[str, Any]:
    """Train ``job`` unless (with ``reuse``) its run already finished with the same command;
    return its ``{"command", "seconds", "img_s", "steps", "precision", "segments"}``.

    Each segment (the first training, and each continuation) is listed with the commit it
    started at, read from a clean tree (a dirty one is refused before anything runs). With
    ``reuse``, a run of the row's recipe that was interrupted (Ctrl-C, a reboot, the end of a
    session) is continued from its latest checkpoint with ``gan-zoo train --resume``, which
    ends with the same weights as one uninterrupted run."""
    done_file = job.run_dir.with_name(job.run_dir.name + ".train.json")
    cmd = command(job.train)
    if reuse:  # a run parked in git by another machine (results_park.py) continues here
        from results_park import restore

        restore(job, runs_dir)
    if reuse and done_file.exists() and job.run_dir.is_dir():
        done = read_json(done_file)
        if isinstance(done, dict) and done.get("command") == cmd and done.get("segments"):
            print(f"{job.key}: reusing the finished training in {job.run_dir}", flush=True)
            return done
    done_file.unlink(missing_ok=True)
    commit = clean_commit(f"before training {job.key}")
    resume_step = resumable_step(job) if reuse else None
    segments = (read_segments(job) or []) if resume_step is not None else []
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
            "segments": segments,
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
            f"no gan-zoo console script next to {sys.executable}; "
            "run with the Python gan-zoo is installed in"
        )
    if resume_step is None:
        argv, ran = job.train[1:], cmd
        print(f"{job.key}: {ran}", flush=True)
    else:
        argv = ["train", "--resume", display_path(job.run_dir)]
        ran = command(["gan-zoo", *argv])
        print(f"{job.key}: continuing the interrupted run at step {resume_step}: {ran}", flush=True)
    from common import hardware

    # Each segment names the CPU it trained on: a run parked on one machine and finished on
    # another has one record, whose own "hardware" is only the machine that wrote it.
    segments.append(
        {"commit": commit, "from_step": resume_step or 0, "command": ran, "hardware": hardware()}
    )
    write_json(segments_file(job), segments)  # before it runs: an interruption keeps it
    start = time.monotonic()
    rc = run_training_process([str(script), *argv])
    seconds = time.monotonic() - start
    if rc in (130, -2):
        raise KeyboardInterrupt
    if rc != 0:
        raise RunnerError(
            f"training {job.key} failed with exit code {rc} (its output is above): {ran}"
        )
    done = {
        "command": cmd,
        "seconds": trained_seconds(job.run_dir) or round(seconds, 3),
        **training_log(job.run_dir),
        "segments": segments,
    }
    write_json(done_file, done)
    return done


def run_training_process(
    argv: Sequence[str], stop_when: Callable[[], bool] | None = None, poll: float = 5.0
) -> int:
    """Run the training ``argv`` and return its exit code; a stop of the runner stops it cleanly.

    With ``stop_when``, it is asked every ``poll`` seconds while the training runs; once it
    says True the training is stopped the same clean way (a screen stops after its epochs).

    SIGTERM to the runner (``kill``, a job scheduler) is passed on to the training, which
    finishes its step, saves a checkpoint and exits 130; the next run of the script resumes it.
    Without this the training went on alone after the runner had gone. Ctrl-C reaches both (one
    process group): the runner waits for the training to save instead of killing it after
    ``subprocess.run``'s quarter of a second, and passes the stop on as SIGTERM in case the
    SIGINT reached the runner alone (a second Ctrl-C still ends the training at once)."""
    child: list[subprocess.Popen[bytes]] = []
    stopped: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        stopped.append(signum)
        if child and child[0].poll() is None:
            child[0].send_signal(signal.SIGTERM)

    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if on_main else None
    try:
        child.append(subprocess.Popen(list(argv), cwd=REPO))
        if stopped:  # the signal came before the training had started
            child[0].send_signal(signal.SIGTERM)
        while True:
            try:
                if stop_when is None:
                    return child[0].wait()
                try:
                    return child[0].wait(timeout=poll)
                except subprocess.TimeoutExpired:
                    if not stopped and stop_when():
                        stop(signal.SIGTERM, None)
            except KeyboardInterrupt:
                stop(signal.SIGINT, None)
    finally:
        if on_main:
            signal.signal(signal.SIGTERM, previous)


def recipe_differences(job: Job, config: dict[str, Any]) -> str | None:
    """What in a run's ``config.json`` differs from the config ``job``'s train command
    resolves to, or None. Every field counts, the precision included (the command names it,
    never ``auto``), except those in :data:`ADOPTABLE_FIELDS` (where the run writes and how
    often it logs, samples and checkpoints, which leave the weights byte-identical) and those
    of :data:`RESOLVED_AT_START` the command leaves to the trainer."""
    import dataclasses

    wanted = json.loads(json.dumps(dataclasses.asdict(resolve_config(job.row, job.train))))
    config = dict(config)
    if wanted.get("steps") is not None:  # a step budget wins: the epochs are not used
        wanted.pop("epochs"), config.pop("epochs", None)
    differ = [
        k
        for k in wanted
        if k not in ADOPTABLE_FIELDS
        and config.get(k, "(absent)") != wanted[k]
        and not (k in RESOLVED_AT_START and wanted[k] in (None, "auto"))
    ]
    return ", ".join(f"{k}: run {config.get(k)!r} vs row {wanted[k]!r}" for k in differ) or None


def resumable_step(job: Job) -> int | None:
    """The step of the latest checkpoint of an unfinished run of ``job``'s recipe in its run
    directory, or None (no run, no checkpoint, another recipe, or unreadable)."""
    from gan_zoo.checkpoint import describe

    if not (job.run_dir / "config.json").is_file() or read_segments(job) is None:
        return None  # no run, or not the runner's: where and at which commit it trained is lost
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
    return round(float(elapsed), 3) if isinstance(elapsed, (int, float)) and elapsed > 0 else None


def evaluate(job: Job) -> tuple[dict[str, Any], float]:
    """``gan_zoo.evaluate`` with the arguments of ``job.evaluate``; the results and seconds."""
    import gan_zoo

    print(f"{job.key}: {command(job.evaluate)}", flush=True)
    start = time.monotonic()
    results = gan_zoo.evaluate(job.run_dir, list(job.metrics), num_samples=job.n)
    return results, time.monotonic() - start


def _git(*args: str, strip: bool = True) -> str:
    out = subprocess.run(
        ["git", "-C", str(GIT_REPO), *args], capture_output=True, text=True, check=True
    ).stdout
    return out.strip() if strip else out


def tree_state() -> tuple[str, list[str]]:
    """HEAD and the tracked files that differ from it (``git status --porcelain``), leaving
    out what the runner writes itself (the records and docs/results.md)."""
    try:
        head = _git("rev-parse", "HEAD")
        status = _git(
            "status", "--porcelain", "--untracked-files=no", "--", ".", *OWN_OUTPUTS, strip=False
        )
    except (OSError, subprocess.CalledProcessError) as e:
        raise RunnerError(
            f"cannot read the git commit of {GIT_REPO} ({e}); records are written from a git "
            "checkout only"
        ) from None
    return head, [
        line[3:] for line in status.splitlines() if line.strip() and not _parked_deletion(line)
    ]


def _parked_deletion(line: str) -> bool:
    """Whether a ``git status --porcelain`` line is a parked file the runner deleted once its
    record was written (results_park.py); any other change to a parked file counts."""
    return line[:2].strip() == "D" and line[3:].startswith(f"{PARKED_PREFIX}/")


def _changed(files: Sequence[str]) -> str:
    more = f" and {len(files) - 3} more" if len(files) > 3 else ""
    return ", ".join(files[:3]) + more


def clean_commit(when: str) -> str:
    """HEAD, from a clean tree; a one-line refusal naming the changed files otherwise."""
    head, changed = tree_state()
    if changed:
        raise RunnerError(
            f"tracked files differ from HEAD ({_changed(changed)}); commit or stash them {when}: "
            "a record names the commit its run trained at, and a dirty tree is no commit"
        )
    return head


def check_unchanged(commit: str, key: str) -> None:
    """Refuse to write ``key``'s record unless HEAD is still ``commit`` and the tree clean."""
    head, changed = tree_state()
    if head != commit:
        raise RunnerError(
            f"HEAD moved from {commit[:12]} to {head[:12]} since {key} started training; its "
            f"record is not written (train it again at one commit: --force --rows ROW)"
        )
    if changed:
        raise RunnerError(
            f"tracked files changed since {key} started training ({_changed(changed)}); its "
            "record is not written (restore them, or commit and train again with --force)"
        )


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
            "git_commit": tree_state()[0],
            "python": platform.python_version(),
        },
    }


def run_job(job: Job, settings: Settings) -> dict[str, Any]:
    """Train, evaluate and write the record of ``job``; return the record."""
    trained = train(job, settings.runs_dir, reuse=not settings.force)
    if trained.get("precision") != job.precision:
        raise RunnerError(
            f"{job.key} trained in {trained.get('precision')}, but its command names "
            f"--precision {job.precision}; the record is not written"
        )
    results, eval_seconds = evaluate(job)
    segments = trained["segments"]
    check_unchanged(segments[-1]["commit"], job.key)
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
        "training": {k: trained.get(k) for k in ("img_s", "steps", "seconds", "precision")},
        "provenance": {
            "writer": WRITER,
            "commit": segments[-1]["commit"],
            "tree": "clean",
            "segments": segments,
            "adopted": trained.get("adopted"),
        },
        "evaluation": {
            "seconds": round(eval_seconds, 3),
            "python": f"gan_zoo.evaluate({display_path(job.run_dir)!r}, {list(job.metrics)!r}, "
            f"num_samples={job.n})",
        },
        **environment(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(job.record_path, record)
    print(f"{job.key}: wrote {job.record_path}", flush=True)
    from results_park import unpark

    unpark(job)  # the record is what stays; its deletion goes in with the record's commit
    return record


# Adopting a run trained outside the script.
#: Config fields an adopted run may set otherwise than the row's command: where it writes and
#: how often it logs, samples and checkpoints. A run with other values ends with byte-identical
#: generator weights (tested in tests/project/test_results_script.py,
#: test_logging_sampling_and_checkpoint_cadence_leave_the_weights_byte_identical).
ADOPTABLE_FIELDS = ("out", "log_every", "sample_every", "checkpoint_every", "keep")
#: Fields the trainer settles as it starts when the command leaves them to it (``auto`` or
#: unset): the dataset's image size and channels, the device, the memory layout and the metric
#: it tracks for ``checkpoints/best``. A run's config.json holds what they became; set in the
#: command, they must match like any other field. (The precision is not one of them: the
#: command always names it.)
RESOLVED_AT_START = ("image_size", "channels", "device", "channels_last", "eval_metric")


def adopt(job: Job, run_dir: Path, trained_at: str) -> dict[str, Any]:
    """Move a finished run trained with exactly the config of ``job``'s command (but another
    ``--out`` or logging cadence) into ``job.run_dir`` as its training. ``trained_at`` is the
    commit the run was trained at, as the person adopting it states it; HEAD must be that
    commit and the tree clean, as for a training the runner starts. One-line errors otherwise,
    and nothing moves."""
    commit = clean_commit(f"before adopting {run_dir}")
    try:
        stated = _git("rev-parse", "--verify", "--quiet", f"{trained_at}^{{commit}}")
    except (OSError, subprocess.CalledProcessError):
        raise RunnerError(f"--trained-at {trained_at} is not a commit of {GIT_REPO}") from None
    if stated != commit:
        raise RunnerError(
            f"{run_dir} was trained at {stated[:12]} (--trained-at), but HEAD is {commit[:12]}; "
            f"check that commit out (git worktree add DIR {stated[:12]}) and adopt from there"
        )
    config = read_json(run_dir / "config.json")
    differ = (
        recipe_differences(job, config)
        if isinstance(config, dict)
        else "config.json is not an object"
    )
    if differ:
        raise RunnerError(
            f"{run_dir} was not trained with row '{job.row.name}''s command ({differ})"
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
    segments = [{"commit": commit, "from_step": 0, "command": command(job.train)}]
    write_json(segments_file(job), segments)
    done = {
        "command": command(job.train),
        "adopted": {
            "from": run_dir.name,  # the folder's name only: no path of the machine
            "trained_at": "stated with --trained-at",
            "cadence": {k: config.get(k) for k in ADOPTABLE_FIELDS if k != "out"},
        },
        "seconds": trained_seconds(job.run_dir) or (round(times[-1] - start, 3) if times else None),
        **log,
        "segments": segments,
    }
    write_json(job.run_dir.with_name(job.run_dir.name + ".train.json"), done)
    print(f"{job.key}: adopted {run_dir} as its training ({job.run_dir})", flush=True)
    return done
