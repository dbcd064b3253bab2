"""Whether a record of the results table can be reproduced from what it says.

A record is *verified* when the runner wrote it (exactly the fields it writes, schema
:data:`~results_runner.SCHEMA`), from a clean tree at a named commit that every training segment
started at or lists, and its train command, parsed by ``gan-zoo train``'s own parser and
resolved by the real config code, trains the recipe of its row with the precision it names
(never ``auto``) and the record says it trained in. :func:`problems` lists what fails, in
words; the renderer ranks only records without problems, and
tests/project/test_results_provenance.py checks every committed record with it.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path
from typing import Any

from results_rows import Row, RowsFile, option_value, row_precision, train_argv
from results_runner import SCHEMA, WRITER, RunnerError, preset_installed, resolve_config

from gan_zoo.errors import GanZooError

#: The top-level fields the runner writes, and those of its sections.
RECORD_KEYS = frozenset(
    {
        "schema",
        "row",
        "seed",
        "preset",
        "dataset",
        "note",
        "commands",
        "num_samples",
        "steps_scale",
        "standard",
        "metrics",
        "training",
        "evaluation",
        "hardware",
        "software",
        "date",
        "provenance",
    }
)
TRAINING_KEYS = frozenset({"img_s", "steps", "seconds", "precision"})
PROVENANCE_KEYS = frozenset({"writer", "commit", "tree", "segments", "adopted"})
SEGMENT_KEYS = frozenset({"commit", "from_step", "command"})
#: Fields of a segment that records written before the runner added them lack.
SEGMENT_OPTIONAL = frozenset({"hardware"})
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def _keys(
    where: str, found: Any, wanted: frozenset[str], optional: frozenset[str] = frozenset()
) -> list[str]:
    if not isinstance(found, dict):
        return [f"{where} is not an object"]
    out = []
    extra, missing = sorted(set(found) - wanted - optional), sorted(wanted - set(found))
    if extra:
        out.append(f"{where} has fields the runner does not write ({', '.join(extra)})")
    if missing:
        out.append(f"{where} lacks fields the runner writes ({', '.join(missing)})")
    return out


def written_by_runner(record: dict[str, Any]) -> list[str]:
    """What shows the record was not written by this runner, or from a clean tree."""
    found = []
    old = record.get("schema") != SCHEMA
    if old:
        found.append(
            f"written by an older runner (schema {record.get('schema')}): the commit was read "
            "when the record was written, not when training started, and no resume is listed"
        )
    training = record.get("training")
    commit = str((record.get("software") or {}).get("git_commit", ""))
    if commit.endswith("-dirty"):
        found.append(f"written from a dirty tree ({commit[:7]}-dirty)")
    if isinstance(training, dict) and "adopted_from" in training:
        found.append("a run trained by hand and adopted; its options and resumes are not recorded")
    if isinstance(training, dict) and "seconds_source" in training:
        found.append("edited by hand after the runner wrote it (training.seconds_source)")
    if old:
        return found
    found += _keys("the record", record, RECORD_KEYS)
    found += _keys("its 'training'", training, TRAINING_KEYS)
    provenance = record.get("provenance")
    found += _keys("its 'provenance'", provenance, PROVENANCE_KEYS)
    if not isinstance(provenance, dict):
        return found
    if provenance.get("writer") != WRITER or provenance.get("tree") != "clean":
        found.append(f"provenance does not say {WRITER} wrote it from a clean tree")
    if not COMMIT.match(str(provenance.get("commit"))) or provenance.get("commit") != commit:
        found.append("provenance and software name different commits, or no full commit")
    segments = provenance.get("segments")
    if not isinstance(segments, list) or not segments:
        return [*found, "no training segment is listed"]
    for i, segment in enumerate(segments):
        where = f"training segment {i + 1}"
        found += _keys(where, segment, SEGMENT_KEYS, SEGMENT_OPTIONAL)
        if not isinstance(segment, dict):
            continue
        if not COMMIT.match(str(segment.get("commit"))):
            found.append(f"{where} names no full commit")
        machine = segment.get("hardware", {})
        if not (isinstance(machine, dict) and isinstance(machine.get("cpu", ""), str)):
            found.append(f"{where} names its hardware in no CPU")
    if isinstance(segments[-1], dict) and segments[-1].get("commit") != provenance.get("commit"):
        found.append("the record's commit is not the one its last training segment started at")
    return found


def recipe_problems(record: dict[str, Any], row: Row) -> list[str]:
    """Where the record's train command does not train its row's recipe with the precision it
    says it trained in (each command parsed and resolved by the real CLI and config code)."""
    train = (record.get("commands") or {}).get("train")
    if not isinstance(train, str):
        return ["no train command"]
    argv = shlex.split(train)
    if argv[:2] != ["gan-zoo", "train"]:
        return [f"its train command is not 'gan-zoo train ...': {train}"]
    found = []
    named = option_value(argv, "--precision")
    trained = (record.get("training") or {}).get("precision")
    if named is None or named == "auto":
        found.append(
            f"its command does not name the precision it trained in ({trained}); "
            "on another machine it may train in another"
        )
    elif named != trained:
        found.append(f"its command names --precision {named}, but it trained in {trained}")
    if option_value(argv, "--seed") != str(record.get("seed")):
        found.append("its command's --seed is not the record's seed")
    try:
        if not preset_installed(row):  # a plugin's preset: checked where the plugin is installed
            return found
        out = Path(option_value(argv, "--out") or f"benchmarks/results/runs/{row.name}")
        extra = (
            [] if row_precision(row.args) is not None or named is None else ["--precision", named]
        )
        if record.get("steps_scale") is not None and option_value(argv, "--steps"):
            extra += ["--steps", str(option_value(argv, "--steps"))]
        wanted = resolve_config(row, train_argv(row, int(record.get("seed", -1)), out, extra))
        got = resolve_config(row, argv)
    except (GanZooError, RunnerError, ValueError) as e:
        return [*found, f"its command does not resolve: {e}"]
    a, b = dataclasses.asdict(got), dataclasses.asdict(wanted)
    differ = [k for k in b if k != "out" and a.get(k) != b[k]]
    if differ:
        shown = ", ".join(f"{k}: {a.get(k)!r} vs row {b[k]!r}" for k in differ[:3])
        found.append(f"its command trains another recipe than row '{row.name}' ({shown})")
    return found


def problems(record: dict[str, Any], rows_file: RowsFile) -> list[str]:
    """Everything that keeps ``record`` from being reproduced from what it says (empty: it is
    verified)."""
    by_name = {row.name: row for row in rows_file.rows}
    row = by_name.get(str(record.get("row")))
    if row is None:
        return [f"row '{record.get('row')}' is not in the rows file"]
    return written_by_runner(record) + recipe_problems(record, row)


def shortened(row: Row) -> bool:
    """Whether ``row`` trains a shorter schedule than its preset's recipe (its note says
    ``shortened:``, or it asks for fewer epochs than the preset trains)."""
    if row.note.startswith("shortened:"):
        return True
    try:
        import gan_zoo

        preset_epochs = gan_zoo.get_preset(row.preset).epochs
        config = resolve_config(row, train_argv(row, 0, Path("runs/x")))
    except (GanZooError, RunnerError):
        return False
    return config.steps is None and config.epochs < preset_epochs
