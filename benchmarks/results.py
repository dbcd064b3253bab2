"""Regenerate the results table of docs/results.md: train, evaluate and record every row.

Each row of ``benchmarks/results/rows.json`` is a preset's recipe on Fashion-MNIST; for each of
its seeds the script runs ``gan-zoo train`` (into ``benchmarks/results/runs/ROW-sSEED``, not
committed), evaluates the run with ``gan_zoo.evaluate`` under the standard protocol (10,000
generated vs the 10,000 test images) and writes ``benchmarks/results/ROW-sSEED.json`` with the
commands, the metrics and their protocols, speed, times, hardware and versions. A seed whose
record has the same commands is skipped, so an interrupted run continues where it stopped;
``--force`` runs it again. At the end of every seed, and with ``--render-only``, the table
between the markers of docs/results.md is rendered from all the records (and, at the end,
``gan_zoo/measured.json``, what ``gan-zoo list models`` shows: benchmarks/results_measured.py).

Examples::

    python benchmarks/results.py                      # everything (hours on a CPU)
    python benchmarks/results.py --list
    python benchmarks/results.py --rows dcgan --dry-run
    python benchmarks/results.py --rows gan --n 2000  # a quicker, non-standard score
    python benchmarks/results.py --render-only
    python benchmarks/results.py --rows dcgan-long-ema --seeds 2 --park  # before a machine goes
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the helpers next to this file

import results_measured  # noqa: E402
import results_park  # noqa: E402
import results_render  # noqa: E402
import results_runner  # noqa: E402
from results_rows import (  # noqa: E402
    RESULTS_DIR,
    ROWS_FILE,
    STANDARD_N,
    Row,
    RowsError,
    RowsFile,
    load_rows,
)

from gan_zoo.errors import GanZooError  # noqa: E402


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like gan-zoo's own commands
        self.exit(2, f"Error: {message} (see '{self.prog} --help')\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog="python benchmarks/results.py",
        description=__doc__.splitlines()[0],
        epilog="Example: python benchmarks/results.py --rows dcgan --dry-run",
    )
    parser.add_argument("--rows", nargs="+", metavar="ROW", help="Only these rows (default: all).")
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        metavar="SEED",
        help="Only these seeds of the chosen rows (default: every seed of each row); two "
        "runners with different seeds train side by side.",
    )
    parser.add_argument("--list", action="store_true", help="List the rows and their state.")
    parser.add_argument("--dry-run", action="store_true", help="Print every command; run nothing.")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="Only render the table of docs/results.md from the records.",
    )
    parser.add_argument(
        "--n",
        type=int,
        default=STANDARD_N,
        help=f"Generated images per metric (default {STANDARD_N}, the standard "
        "protocol; any other number labels the row non-standard).",
    )
    parser.add_argument(
        "--steps-scale",
        type=float,
        metavar="F",
        help="Train each row for F times its schedule (labelled in the table).",
    )
    parser.add_argument("--force", action="store_true", help="Run rows that have a record again.")
    parser.add_argument(
        "--park",
        action="store_true",
        help="Copy the latest checkpoint of each chosen seed's unfinished (or unrecorded) run "
        "into benchmarks/results/parked/ to commit; a runner on any machine continues it "
        "from there. Trains nothing.",
    )
    parser.add_argument(
        "--adopt",
        type=Path,
        metavar="RUN",
        help="Use this finished run (trained with exactly the one --rows row's command, any "
        "--out or logging cadence) as that row's training for the seed in its config.json; "
        "checked field by field, then moved into benchmarks/results/runs/. Needs --trained-at.",
    )
    parser.add_argument(
        "--trained-at",
        metavar="COMMIT",
        help="With --adopt: the commit the run was trained at; HEAD must be it, the tree clean.",
    )
    parser.add_argument(
        "--rows-file",
        type=Path,
        default=ROWS_FILE,
        help="The rows (default: benchmarks/results/rows.json).",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        help="Where the records and runs/ go (default: benchmarks/results).",
    )
    parser.add_argument(
        "--doc",
        type=Path,
        default=results_render.DOC,
        help="The page with the table's markers (default: docs/results.md).",
    )
    args = parser.parse_args(argv)
    if args.n < 2:
        parser.error(f"--n must be at least 2, not {args.n}")
    if args.park and (args.adopt is not None or args.dry_run or args.render_only):
        parser.error("--park goes alone (with --rows and --seeds)")
    if args.adopt is not None and (not args.rows or len(args.rows) != 1):
        parser.error("--adopt needs exactly one row: --rows ROW --adopt RUN --trained-at COMMIT")
    if (args.adopt is None) != (args.trained_at is None):
        parser.error("--adopt RUN and --trained-at COMMIT go together")
    if args.steps_scale is not None and not 0 < args.steps_scale <= 1:
        parser.error(f"--steps-scale must be in (0, 1], not {args.steps_scale}")
    return args


def list_rows(rows_file: RowsFile, args: argparse.Namespace) -> None:
    records = results_render.load_records(args.results_dir)
    for row in rows_file.select(args.rows):
        done = sum(f"{row.name}-s{s}" in records for s in row.seeds)
        plugin = f" [plugin {row.plugin}]" if row.plugin else ""
        print(
            f"{row.name:<14} {row.preset:<14} seeds {','.join(map(str, row.seeds)):<6} "
            f"{done}/{len(row.seeds)} recorded  {row.note}{plugin}"
        )
        if row.args:
            print(f"{'':<14} args: {' '.join(row.args)}")


def only_seeds(
    jobs: list[results_runner.Job], rows: Sequence[Row], seeds: Sequence[int] | None
) -> list[results_runner.Job]:
    """The jobs of ``seeds`` (all when None); a seed no chosen row has is a one-line error."""
    if not seeds:
        return jobs
    known = sorted({s for row in rows for s in row.seeds})
    missing = [s for s in seeds if s not in known]
    if missing:
        raise RowsError(
            f"no chosen row has seed {missing[0]} (seeds: {', '.join(map(str, known))})"
        )
    return [job for job in jobs if job.seed in seeds]


def dry_run(jobs: Sequence[results_runner.Job], force: bool) -> None:
    try:
        results_runner.check_metrics(jobs)
    except GanZooError as e:
        print(f"note: {e}")
    for job in jobs:
        action, why = results_runner.status(job, force)
        print(f"# {job.key}: {'would run' if action == 'run' else 'skip'} ({why})")
        for cmd in job.commands().values():
            print(cmd)


def run(
    rows_file: RowsFile,
    jobs: Sequence[results_runner.Job],
    args: argparse.Namespace,
    settings: results_runner.Settings,
) -> list[str]:
    """Run the jobs that need it; a seed that fails is reported and the others still run.
    Returns the failures, one line each."""
    results_runner.check_metrics(jobs)
    failed = []
    for job in jobs:
        action, why = results_runner.status(job, settings.force)
        if action != "run":
            print(f"{job.key}: skip ({why})", flush=True)
            continue
        try:
            results_runner.run_job(job, settings)
        except GanZooError as e:  # the next rows may still work: one failure, not a stop
            failed.append(f"{job.key}: {e}")
            print(f"{job.key}: failed: {e}", file=sys.stderr, flush=True)
            continue
        results_render.render_doc(rows_file, args.results_dir, args.doc)
    return failed


def park(jobs: Sequence[results_runner.Job], force: bool) -> int:
    """Park each job that has a run to continue (results_park.py); 2 when none had one."""
    parked = 0
    for job in jobs:
        action, why = results_runner.status(job, force)
        if action != "run":
            print(f"{job.key}: skip ({why})", flush=True)
            continue
        try:
            print(results_park.park(job), flush=True)
            parked += 1
        except GanZooError as e:
            print(f"note: {e}", flush=True)
    if not parked:
        print("Error: nothing to park (no chosen seed has an unrecorded run)", file=sys.stderr)
        return 2
    return 0


def adopt(jobs: Sequence[results_runner.Job], run_dir: Path, trained_at: str) -> results_runner.Job:
    """The job of the row's seed ``run_dir`` was trained with, its training adopted."""
    seed = results_runner.read_json(run_dir / "config.json").get("seed")
    matching = [job for job in jobs if job.seed == seed]
    if not matching:
        seeds = ", ".join(str(job.seed) for job in jobs)
        raise results_runner.RunnerError(
            f"{run_dir} was trained with seed {seed}; the row has {seeds}"
        )
    results_runner.adopt(matching[0], run_dir, trained_at)
    return matching[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    failed: list[str] = []
    settings = results_runner.Settings(args.results_dir, args.n, args.steps_scale, args.force)
    try:
        rows_file = load_rows(args.rows_file)
        rows = rows_file.select(args.rows)
        if args.list:
            list_rows(rows_file, args)
            return 0
        if not args.render_only:
            jobs, notes = results_runner.plan(rows_file, rows, settings)
            jobs = only_seeds(jobs, rows, args.seeds)
            for note in notes:
                print(note, flush=True)
            if args.dry_run:
                dry_run(jobs, args.force)
                return 0
            if args.park:
                return park(jobs, settings.force)
            if args.adopt is not None:
                jobs = [adopt(jobs, args.adopt, args.trained_at)]
            try:
                failed = run(rows_file, jobs, args, settings)
            except KeyboardInterrupt:
                print(
                    "Interrupted; run the same command again to continue "
                    "(recorded seeds are skipped, an unfinished training continues from its "
                    "checkpoint).",
                    file=sys.stderr,
                )
                results_render.render_doc(rows_file, args.results_dir, args.doc)
                return 130
        results_render.render_doc(rows_file, args.results_dir, args.doc)
        if Path(args.results_dir).resolve() == RESULTS_DIR.resolve():  # what gan-zoo list shows
            results_measured.write(args.results_dir, args.rows_file)
        print(f"The table of {args.doc} is up to date with the records in {args.results_dir}")
    except GanZooError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    if failed:
        print(f"{len(failed)} failed (rerun to retry them):", *failed, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
