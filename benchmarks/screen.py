"""Screen a candidate recipe: train it on its whole schedule, stop after K epochs, keep its curve.

A screen is how a new recipe earns a row of the results table without paying for the whole
run first. The command is the one the row would have (its full ``--epochs``, so the learning
rate decays and the EMA warms up as in the full run); the script stops the training once the
metric of its epoch-K checkpoint is logged (classifier-FD on 2,000 samples by default on a CPU),
and writes the metric at each epoch to ``benchmarks/results/screens/NAME.json``, beside the
stored curves of recorded seeds at the same epochs (``--against``), with the commit, hardware
and speed. The run (``benchmarks/results/screens/runs/NAME``, not committed) keeps its latest
checkpoint: the same command with a larger ``--until-epoch`` continues it exactly, and so does
``gan-zoo train --resume``. Like the results runner, it refuses a dirty tree, lists each
training segment with the commit it started at and checks the commit unchanged at the end.

Run::

    python benchmarks/screen.py dcgan-wide --until-epoch 10 --against dcgan-long-ema-s0 -- \\
        dcgan fashion-mnist --epochs 50 --ema 0.999 --lr-decay linear \\
        --set discriminator.width=128 --precision bf16 --seed 0
    python benchmarks/screen.py dcgan-wide --show    # print the stored screen, run nothing
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the helpers next to this file

import results_runner  # noqa: E402
from results_curves import eval_points  # noqa: E402
from results_rows import RESULTS_DIR, command, display_path, option_value  # noqa: E402

from gan_zoo.errors import GanZooError  # noqa: E402

#: Version of the screen file's layout.
SCHEMA = 1
#: Seconds between two looks at the run's metrics.jsonl while it trains.
POLL_SECONDS = 5.0
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
#: Options the script sets itself (or that would make the run another one).
OWN_OPTIONS = ("--out", "--resume", "--config", "--dump-config")


class ScreenError(GanZooError):
    """A screen that cannot run or be shown."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like gan-zoo's own commands
        self.exit(2, f"Error: {message} (see '{self.prog} --help')\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    train_args: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, train_args = argv[:at], argv[at + 1 :]
    parser = _Parser(
        prog="python benchmarks/screen.py",
        description=__doc__.splitlines()[0],
        usage="%(prog)s NAME --until-epoch K [--against ROW-sSEED ...] -- MODEL DATASET "
        "[gan-zoo train options]\n       %(prog)s NAME --show",
    )
    parser.add_argument("name", metavar="NAME", help="The screen's name (lower case, digits, -).")
    parser.add_argument("--until-epoch", type=int, metavar="K", help="Stop after epoch K.")
    parser.add_argument(
        "--against",
        nargs="+",
        default=[],
        metavar="ROW-sSEED",
        help="Recorded seeds whose stored curves to set beside it, epoch by epoch.",
    )
    parser.add_argument("--show", action="store_true", help="Print the stored screen only.")
    parser.add_argument(
        "--fresh", action="store_true", help="Delete the screen's earlier run and start again."
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.train_args = train_args
    if not NAME.fullmatch(args.name):
        parser.error(f"NAME {args.name!r} must be lower-case letters, digits, '.', '-' or '_'")
    if args.show:
        if train_args or args.until_epoch is not None or args.fresh:
            parser.error("--show prints the stored screen; it takes no training options")
        return args
    if args.until_epoch is None or args.until_epoch < 1:
        parser.error("--until-epoch K (K >= 1) is needed: the epoch after which to stop")
    if len(train_args) < 2 or train_args[0].startswith("-") or train_args[1].startswith("-"):
        parser.error("give the training after '--': MODEL DATASET [gan-zoo train options]")
    for option in OWN_OPTIONS:
        if any(a == option or a.startswith(option + "=") for a in train_args):
            parser.error(f"{option} is not a screen's option: the script sets where the run goes")
    precision = option_value(train_args, "--precision")
    if precision in (None, "auto"):
        parser.error(
            "name the precision (--precision bf16, fp32 or fp16): a screen is set beside "
            "records, which name theirs"
        )
    return args


def screen_command(args: argparse.Namespace) -> str:
    """The command that writes (and prints) this screen."""
    parts = ["python", "benchmarks/screen.py", args.name, "--until-epoch", str(args.until_epoch)]
    if args.against:
        parts += ["--against", *args.against]
    return command([*parts, "--", *args.train_args])


def against(keys: Sequence[str], results_dir: Path, metric: str, samples: Any) -> dict[str, Any]:
    """``{KEY: {epoch: value}}`` from the stored curves of the recorded seeds ``keys``."""
    out: dict[str, Any] = {}
    for key in keys:
        path = results_dir / "curves" / f"{key}.json"
        if not path.is_file():
            raise ScreenError(
                f"no stored curve {display_path(path)}; write it with "
                f"python benchmarks/results_curves.py {key}"
            )
        data = results_runner.read_json(path)
        if data.get("metric") != metric or data.get("eval_samples") != samples:
            raise ScreenError(
                f"{display_path(path)} is {data.get('metric')} on {data.get('eval_samples')} "
                f"samples, the screen {metric} on {samples}: they cannot be set side by side"
            )
        out[key] = {str(p["epoch"]): p["value"] for p in data["points"] if p.get("epoch")}
    return out


def last_epoch(run_dir: Path, metric: str) -> int:
    """The epoch of the latest ``eval/METRIC`` the run logged (0 when none)."""
    epochs = [p["epoch"] for p in eval_points(run_dir, metric) if isinstance(p["epoch"], int)]
    return max(epochs, default=0)


def run_screen(args: argparse.Namespace) -> dict[str, Any]:
    results_dir: Path = args.results_dir
    path = results_dir / "screens" / f"{args.name}.json"
    run_dir = results_dir / "screens" / "runs" / args.name
    segments_path = run_dir.with_name(args.name + ".segments.json")
    train = ["gan-zoo", "train", *args.train_args, "--out", display_path(run_dir)]
    cmd = command(train)
    commit = results_runner.clean_commit(f"before screening {args.name}")
    segments = results_runner.read_json(segments_path) if segments_path.is_file() else None
    if args.fresh:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        segments_path.unlink(missing_ok=True)
        run_dir.with_name(args.name + ".done").unlink(missing_ok=True)
        segments = None
    if segments is not None and (not isinstance(segments, list) or segments[0]["command"] != cmd):
        raise ScreenError(
            f"the run of screen {args.name!r} ({display_path(run_dir)}) trains another command; "
            "give the new one another NAME, or start again with --fresh"
        )
    config_path = run_dir / "config.json"
    started = segments is not None and config_path.is_file()
    if run_dir.exists() and not started:
        raise ScreenError(
            f"{display_path(run_dir)} holds no run of this screen; remove it or use --fresh"
        )
    metric = None
    if started:
        metric = results_runner.read_json(config_path).get("eval_metric")
    done_path = run_dir.with_name(args.name + ".done")
    finished = started and done_path.is_file()
    if not started or (not finished and last_epoch(run_dir, str(metric)) < args.until_epoch):
        script = Path(sys.executable).parent / "gan-zoo"
        if not script.exists():
            raise ScreenError(f"no gan-zoo console script next to {sys.executable}")
        if started:
            from gan_zoo.checkpoint import describe

            step = describe(run_dir)["step"]
            argv = ["train", "--resume", display_path(run_dir)]
            ran = command(["gan-zoo", *argv])
            print(f"{args.name}: continuing at step {step}: {ran}", flush=True)
        else:
            step, argv, ran = 0, train[1:], cmd
            print(f"{args.name}: {ran}", flush=True)
        segments = [*(segments or []), {"commit": commit, "from_step": step, "command": ran}]
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        results_runner.write_json(segments_path, segments)
        asked: list[bool] = []

        def enough() -> bool:
            nonlocal metric
            if metric is None and config_path.is_file():
                metric = results_runner.read_json(config_path).get("eval_metric")
            if metric in (None, "none", "auto") or last_epoch(run_dir, metric) < args.until_epoch:
                return False
            asked.append(True)
            return True

        rc = results_runner.run_training_process([str(script), *argv], enough, POLL_SECONDS)
        if rc == 0:
            done_path.write_text(cmd + "\n", encoding="utf-8")
            finished = True
        elif not (asked and rc in (130, -2)):
            if rc in (130, -2):
                raise KeyboardInterrupt
            raise ScreenError(f"the training of screen {args.name} failed with exit code {rc}")
        metric = results_runner.read_json(config_path).get("eval_metric")
    if metric in (None, "none", "auto"):
        raise ScreenError(
            f"screen {args.name} scores no metric during training (its eval_metric is "
            f"{metric!r}); a screen needs one: --eval-metric classifier-fd for 28 px images"
        )
    config = results_runner.read_json(config_path)
    points = eval_points(run_dir, metric)
    shown = [p for p in points if isinstance(p["epoch"], int) and p["epoch"] <= args.until_epoch]
    head, changed = results_runner.tree_state()
    if head != segments[-1]["commit"] or changed:
        raise ScreenError(
            f"HEAD or tracked files changed since screen {args.name} last trained (at commit "
            f"{segments[-1]['commit'][:12]}); its file is not written: continue it at one "
            "commit (a larger --until-epoch), or start again with --fresh"
        )
    env = results_runner.environment()
    data = {
        "schema": SCHEMA,
        "name": args.name,
        "command": screen_command(args),
        "train": cmd,
        "until_epoch": args.until_epoch,
        "stopped": "finished its schedule" if finished else f"after epoch {args.until_epoch}",
        "metric": metric,
        "eval_samples": config.get("eval_samples"),
        "eval_split": config.get("eval_split"),
        "points": shown,
        "against": against(args.against, results_dir, metric, config.get("eval_samples")),
        "training": {
            **results_runner.training_log(run_dir),
            "seconds": results_runner.trained_seconds(run_dir),
        },
        "provenance": {"commit": segments[-1]["commit"], "tree": "clean", "segments": segments},
        **env,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    results_runner.write_json(path, data)
    return data


#: The keys of a screen file, as run_screen writes them.
KEYS = frozenset(
    {
        "schema", "name", "command", "train", "until_epoch", "stopped", "metric",
        "eval_samples", "eval_split", "points", "against", "training", "provenance",
        "hardware", "software", "date",
    }
)  # fmt: skip
COMMIT = re.compile(r"[0-9a-f]{40}")


def problems(data: Any, name: str) -> list[str]:
    """What shows the stored screen ``name`` was not written by this script from a clean tree,
    or does not hold what its command prints (empty when it is sound)."""
    if not isinstance(data, dict) or set(data) != KEYS or data.get("schema") != SCHEMA:
        return ["not a screen file of this script (other keys or schema)"]
    found = []
    try:
        args = parse_args(shlex.split(str(data["command"]))[2:])
    except SystemExit:
        return [f"its command does not parse: {data['command']}"]
    run_dir = f"benchmarks/results/screens/runs/{name}"
    if args.name != name or data["name"] != name:
        found.append(f"its command screens {args.name!r}, not {name!r}")
    if data["train"] != command(["gan-zoo", "train", *args.train_args, "--out", run_dir]):
        found.append("its train command is not the one its command runs")
    if data["until_epoch"] != args.until_epoch or list(data["against"]) != args.against:
        found.append("its epochs or curves are not the ones its command names")
    epochs = [p.get("epoch") for p in data["points"]]
    if not epochs or epochs != list(range(1, len(epochs) + 1)) or epochs[-1] > args.until_epoch:
        found.append("its points are not the epochs 1 to K, one each")
    provenance = data["provenance"]
    segments = provenance.get("segments") if isinstance(provenance, dict) else None
    if not isinstance(segments, list) or not segments or provenance.get("tree") != "clean":
        return [*found, "no training segment from a clean tree is listed"]
    if any(not COMMIT.fullmatch(str(seg.get("commit"))) for seg in segments):
        found.append("a training segment names no full commit")
    if (
        provenance.get("commit") != segments[-1].get("commit")
        or segments[0].get("command") != data["train"]
    ):
        found.append("its commit or first segment is not the one its training started with")
    if data["software"].get("git_commit") != provenance.get("commit"):
        found.append("provenance and software name different commits")
    return found


def text(data: dict[str, Any]) -> str:
    """The screen as a table: its metric at each epoch, beside the curves it is set against."""
    keys = list(data["against"])
    head = (
        f"screen {data['name']}: {data['metric']} ({data['eval_samples']} samples, "
        f"'{data['eval_split']}' split) at each epoch; stopped {data['stopped']}"
    )
    lines = [head, data["train"], "".join([f"{'epoch':>5} {'step':>7} {data['name']:>14}"])]
    lines[-1] += "".join(f" {k:>18}" for k in keys)
    for p in data["points"]:
        row = f"{p['epoch']:>5} {p['step']:>7} {p['value']:>14.2f}"
        for k in keys:
            value = data["against"][k].get(str(p["epoch"]))
            row += f" {value:>18.2f}" if value is not None else f" {'-':>18}"
        lines.append(row)
    img_s = data["training"].get("img_s")
    if img_s:
        lines.append(f"{img_s:.0f} img/s, {data['hardware'].get('cpu', '?')}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.show:
            path = args.results_dir / "screens" / f"{args.name}.json"
            if not path.is_file():
                raise ScreenError(f"no screen {display_path(path)}")
            data = results_runner.read_json(path)
        else:
            data = run_screen(args)
            print(
                f"{args.name}: wrote {display_path(args.results_dir / 'screens')}/{args.name}.json"
            )
        print(text(data))
    except KeyboardInterrupt:
        print(
            f"Interrupted; run the same command again to continue screen {args.name}.",
            file=sys.stderr,
        )
        return 130
    except (GanZooError, OSError, ValueError, KeyError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
