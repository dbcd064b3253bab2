"""Park an unfinished row's run in git so that a runner on another machine continues it.

A row of the best recipe trains for hours; a session, a CI job or a rented machine may end
before it does, and ``benchmarks/results/runs/`` (not committed) goes with it. ``python
benchmarks/results.py --rows ROW --seeds S --park`` copies what ``gan-zoo train --resume``
needs into ``benchmarks/results/parked/ROW-sS/`` (to be committed): the run's ``config.json``,
its logs, its ``latest`` checkpoint, the segments the runner listed and, when the training
finished, its ``.train.json``; ``curve.json`` holds the metric the run scored at each checkpoint
up to the parked one (what docs quote of an unfinished row, with the command that printed it);
``parked.json`` lists every file with its SHA-256. Parking again replaces the copy, so only the
latest checkpoint stays in the tree. A ``best`` checkpoint that is not the latest (a run stopped
mid-epoch) stays behind: it would double the size, the weights go on the same without it, and
only which checkpoint ``checkpoints/best`` of the finished run names can differ (the record
scores the last one); ``parked.json`` names it.

The runner restores a parked copy before it trains a job whose run folder is missing or behind
it (its files checked against ``parked.json`` first; a copy that does not match is refused,
and nothing is restored), then continues it with ``--resume`` as a new segment at the commit
it starts at, which is listed in the record like any other. Once the record is written the
parked copy is deleted; the runner's clean-tree check does not count that deletion, but it does
count any other change to a parked file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from results_curves import eval_points
from results_rows import display_path
from results_runner import (
    Job,
    RunnerError,
    read_json,
    read_segments,
    resumable_step,
    segments_file,
    write_json,
)

from gan_zoo.checkpoint import BEST, CHECKPOINTS_DIR, CONFIG_FILE, EVENTS_LOG, LATEST, METRICS_LOG

#: The folder of parked runs, beside the records.
PARKED = "parked"
#: The list of a parked copy's files and their SHA-256, and what it holds.
MANIFEST = "parked.json"
#: Where the run folder, the segments, a finished training's summary and the curve go in a
#: parked copy.
RUN, SEGMENTS, TRAIN, CURVE = "run", "segments.json", "train.json", "curve.json"


def parked_path(job: Job) -> Path:
    """``benchmarks/results/parked/ROW-sSEED`` (beside the job's record)."""
    return job.record_path.parent / PARKED / job.key


def _train_file(job: Job) -> Path:
    return job.run_dir.with_name(job.run_dir.name + ".train.json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pointer(checkpoints: Path, name: str) -> str | None:
    try:
        value = (checkpoints / name).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return value if value and (checkpoints / value).is_dir() else None


def park(job: Job) -> str:
    """Copy ``job``'s run (its latest checkpoint) into :func:`parked_path`, replacing an older
    copy; return what was parked, in one line. A one-line error when there is nothing to park."""
    step = resumable_step(job)
    if step is None:
        raise RunnerError(
            f"{job.key}: no run of the row's recipe with a checkpoint and the runner's segments "
            f"in {display_path(job.run_dir)}; nothing to park"
        )
    checkpoints = job.run_dir / CHECKPOINTS_DIR
    latest = _pointer(checkpoints, LATEST)
    if latest is None:
        raise RunnerError(f"{job.key}: {display_path(checkpoints)} has no latest checkpoint")
    best = _pointer(checkpoints, BEST)
    dest = parked_path(job)
    tmp = dest.with_name(f".{dest.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    run = tmp / RUN
    (run / CHECKPOINTS_DIR).mkdir(parents=True)
    for name in (CONFIG_FILE, METRICS_LOG, EVENTS_LOG):
        if (job.run_dir / name).is_file():
            shutil.copy2(job.run_dir / name, run / name)
    shutil.copytree(checkpoints / latest, run / CHECKPOINTS_DIR / latest, symlinks=True)
    (run / CHECKPOINTS_DIR / LATEST).write_text(latest + "\n", encoding="utf-8")
    if best == latest:
        (run / CHECKPOINTS_DIR / BEST).write_text(best + "\n", encoding="utf-8")
    write_json(tmp / SEGMENTS, read_segments(job))
    done = _train_file(job)
    if done.is_file():
        summary = read_json(done)
        if isinstance(summary, dict) and summary.get("command") == job.commands()["train"]:
            shutil.copy2(done, tmp / TRAIN)
    curve = parked_curve(job, step)
    write_json(tmp / CURVE, curve)
    files = {
        p.relative_to(tmp).as_posix(): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()
    }
    manifest = {"key": job.key, "step": step, "files": files}
    manifest["best_left_behind"] = best if best not in (None, latest) else None
    write_json(tmp / MANIFEST, manifest)
    old = dest.with_name(f".{dest.name}.old")
    if dest.exists():
        if old.exists():
            shutil.rmtree(old)
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file()) / 1e6
    lines = [
        f"{job.key}: parked step {step} in {display_path(dest)} ({size:.0f} MB); commit it "
        f"(git add -A {display_path(dest)}) and the runner continues it on any machine"
    ]
    if curve["points"]:
        lines.append(f"{curve['metric']} ({curve['eval_samples']} samples) at each checkpoint:")
        lines += [
            f"  epoch {p['epoch']:>4}  step {p['step']:>7}  {p['value']:.2f}"
            for p in curve["points"]
        ]
    return "\n".join(lines)


def parked_curve(job: Job, step: int) -> dict[str, Any]:
    """The metric ``job``'s run scored at each checkpoint up to ``step`` (none when it scores
    none), with the command that prints it."""
    config = read_json(job.run_dir / CONFIG_FILE)
    metric = config.get("eval_metric") if isinstance(config, dict) else None
    points = []
    if isinstance(metric, str) and metric not in ("none", "auto"):
        points = [p for p in eval_points(job.run_dir, metric) if (p["step"] or 0) <= step]
    return {
        "command": f"python benchmarks/results.py --rows {job.row.name} --seeds {job.seed} --park",
        "key": job.key,
        "train": job.commands()["train"],
        "step": step,
        "metric": metric,
        "eval_samples": config.get("eval_samples") if isinstance(config, dict) else None,
        "points": points,
    }


def check(job: Job) -> dict[str, Any]:
    """The manifest of ``job``'s parked copy once every file matches it; a one-line error
    naming the first file that does not (missing, changed, extra, or a link)."""
    src = parked_path(job)
    manifest = read_json(src / MANIFEST)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    step = manifest.get("step") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not isinstance(step, int) or manifest.get("key") != job.key:
        raise RunnerError(f"{display_path(src / MANIFEST)} is not the manifest of {job.key}")
    found = {
        p.relative_to(src).as_posix(): p for p in src.rglob("*") if p.is_symlink() or p.is_file()
    }
    found.pop(MANIFEST, None)
    for name, path in sorted(found.items()):
        why = None
        if path.is_symlink():
            why = "is a link"
        elif name not in files:
            why = "is not in its manifest"
        elif _sha256(path) != files[name]:
            why = "differs from its manifest"
        if why:
            raise RunnerError(
                f"parked copy of {job.key}: {name} {why}; nothing restored (git checkout "
                f"{display_path(src)}, or remove it to train from the start)"
            )
    missing = sorted(set(files) - set(found))
    if missing:
        raise RunnerError(
            f"parked copy of {job.key}: {missing[0]} is missing; nothing restored (git checkout "
            f"{display_path(src)}, or remove it to train from the start)"
        )
    return manifest


def restore(job: Job, runs_dir: Path) -> bool:
    """Put ``job``'s parked copy in its run folder when the run there is missing or behind it;
    True when it did. The copy is checked against its manifest first."""
    src = parked_path(job)
    if not (src / MANIFEST).is_file():
        return False
    manifest = check(job)
    here = resumable_step(job)
    if here is not None and here >= manifest["step"]:
        return False
    if job.run_dir.exists():
        if job.run_dir.parent.resolve() != runs_dir.resolve():
            raise RunnerError(f"{job.run_dir} is not inside {runs_dir}; refusing to replace it")
        shutil.rmtree(job.run_dir)
    job.run_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src / RUN, job.run_dir)
    shutil.copy2(src / SEGMENTS, segments_file(job))
    _train_file(job).unlink(missing_ok=True)
    if (src / TRAIN).is_file():
        shutil.copy2(src / TRAIN, _train_file(job))
    print(
        f"{job.key}: restored its parked run at step {manifest['step']} from {display_path(src)}",
        flush=True,
    )
    return True


def unpark(job: Job) -> None:
    """Delete ``job``'s parked copy (its record is written); commit the deletion with it."""
    src = parked_path(job)
    if src.exists():
        shutil.rmtree(src)
        print(f"{job.key}: removed its parked copy {display_path(src)}", flush=True)
