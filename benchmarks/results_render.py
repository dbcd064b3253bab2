"""Render the results table of ``docs/results.md`` from the records in ``benchmarks/results/``.

The tables live between ``<!-- results:start -->`` and ``<!-- results:end -->``; everything
else in the page is left alone. Rendering depends on the rows file and the records only, so
rendering twice gives the same page. Three tables: full recipes, ranked by FID; rows trained on
a shortened schedule ("smoke run, not a quality figure"), never ranked with them; and records
that cannot be reproduced from what they say (those in ``benchmarks/results/unverified/`` and
any other that fails :func:`results_provenance.problems`), listed with the reasons and left out
of every ranking and "best" figure. Rows without a record say "not run yet"; rows with several
seeds show the mean, the standard deviation over the seeds and the range.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from results_rows import (
    REPO,
    RESULTS_DIR,
    STANDARD_N,
    Row,
    RowsFile,
    command,
    evaluate_argv,
    is_conditional,
    train_argv,
    write_text,
)

from gan_zoo.errors import GanZooError

DOC = REPO / "docs" / "results.md"
#: Records that cannot be reproduced from what they say, kept for their history until re-run.
UNVERIFIED_DIR = "unverified"
SMOKE_TITLE = "Smoke runs, not a quality figure"
UNVERIFIED_TITLE = "Not reproducible from the record; re-run pending"
START, END = "<!-- results:start -->", "<!-- results:end -->"
NOT_RUN = "not run yet"
#: (metric, column title, decimals)
METRIC_COLUMNS = (
    ("fid", "FID", 2),
    ("kid", "KID (± std)", 4),
    ("precision", "precision", 3),
    ("recall", "recall", 3),
    ("classifier-fd", "classifier-FD", 2),
    ("class-coverage", "class coverage", 3),
    ("class-accuracy", "class accuracy", 3),
)
COLUMNS = (
    "row",
    "recipe / notes",
    *(title for _, title, _ in METRIC_COLUMNS),
    "img/s",
    "train time",
    "eval time",
    "hardware",
    "software",
    "protocol",
)
_RECORD_NAME = re.compile(r"^(?P<row>[a-z0-9][a-z0-9._-]*)-s(?P<seed>\d+)\.json$")


class RenderError(GanZooError):
    """A record or a page that cannot be rendered."""


def load_records(results_dir: Path = RESULTS_DIR) -> dict[str, dict[str, Any]]:
    """``{"<row>-s<seed>": record}`` of every record file in ``results_dir``."""
    records = {}
    for path in sorted(Path(results_dir).glob("*.json")):
        match = _RECORD_NAME.match(path.name)
        if not match:
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RenderError(f"cannot read record {path}: {e}") from None
        if not (
            isinstance(record, dict)
            and isinstance(record.get("metrics"), dict)
            and isinstance(record.get("commands"), dict)
            and record.get("row") == match["row"]
            and record.get("seed") == int(match["seed"])
        ):
            raise RenderError(
                f"{path} is not a record of row '{match['row']}' seed {match['seed']}"
            )
        records[path.name[:-5]] = record
    return records


def _number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.000"


def spread(values: Sequence[float], decimals: int, std: float | None = None) -> str:
    """One value (``± std`` when given), or the mean ± std over several with their range."""
    if not values:
        return "-"
    if len(values) == 1:
        extra = f" ± {_number(std, decimals)}" if std is not None else ""
        return _number(values[0], decimals) + extra
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    return (
        f"{_number(mean, decimals)} ± {_number(sd, decimals)} "
        f"[{_number(min(values), decimals)}, {_number(max(values), decimals)}]"
    )


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _metric_cell(records: Sequence[dict], metric: str, decimals: int) -> str:
    items = [r["metrics"][metric] for r in records if isinstance(r["metrics"].get(metric), dict)]
    values = [float(item["value"]) for item in items if isinstance(item.get("value"), (int, float))]
    std = items[0].get("kid_std") if metric == "kid" and len(values) == 1 else None
    return spread(values, decimals, std if isinstance(std, (int, float)) else None)


def _mean(records: Sequence[dict], section: str, key: str) -> float | None:
    values = [r.get(section, {}).get(key) for r in records]
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.fmean(values) if values else None


def _cpu_text(hw: dict) -> str:
    flags = ", ".join(hw.get("flags", [])) or "no AVX2"
    return f"{hw.get('cpu', 'unknown')}, {hw.get('cpus', '?')} CPUs ({flags})"


def hardware_text(record: dict) -> str:
    """The machine that wrote the record, and any other its training segments ran on."""
    hw = record.get("hardware", {})
    precision = record.get("training", {}).get("precision")
    trained = f", trained in {precision}" if precision else ""
    own = _cpu_text(hw)
    others: list[str] = []
    for segment in (record.get("provenance") or {}).get("segments") or []:
        machine = segment.get("hardware") if isinstance(segment, dict) else None
        if isinstance(machine, dict) and machine:
            text = _cpu_text(machine)
            if text != own and text not in others:
                others.append(text)
    elsewhere = f"; part of its training on {' and '.join(others)}" if others else ""
    return f"{own}{trained}{elsewhere}"


def software_text(record: dict) -> str:
    """``gan-zoo 0.1.0 (commit 0d20d98), torch 2.14.1``: the software that wrote the record."""
    sw = record.get("software", {})
    commit = str(sw.get("git_commit") or "unknown")
    short = (
        commit
        if commit == "unknown"
        else commit[:7] + ("-dirty" if commit.endswith("-dirty") else "")
    )
    segments = (record.get("provenance") or {}).get("segments") or []
    earlier = [
        str(seg["commit"])[:7]
        for seg in segments
        if isinstance(seg, dict) and seg.get("commit") and str(seg["commit"]) != commit
    ]
    if earlier and commit != "unknown":  # resumed across commits: name each start commit
        short += ", training started at " + ", ".join(dict.fromkeys(earlier))
    return f"gan-zoo {sw.get('gan_zoo', '?')} (commit {short}), torch {sw.get('torch', '?')}"


def _software_cell(records: Sequence[dict]) -> str:
    texts = [software_text(r) for r in records]
    if len(set(texts)) == 1:
        return texts[0]
    return "; ".join(f"s{r.get('seed')}: {text}" for r, text in zip(records, texts, strict=True))


def protocol_text(records: Sequence[dict]) -> str:
    sizes = sorted({r.get("num_samples") for r in records}, key=str)
    if len(sizes) > 1:
        return (
            "**mixed**: " + ", ".join(f"N = {n}" for n in sizes) + " (rerun the row with --force)"
        )
    if all(r.get("standard") is True for r in records) and sizes == [STANDARD_N]:
        return "standard: 10,000 generated vs 10,000 test"
    n = sizes[0]
    return f"**non-standard**: N = {n:,}" if isinstance(n, int) else "**non-standard**"


def planned(
    row: Row,
    seed: int,
    rows_file: RowsFile,
    results_dir: Path,
    conditional: bool,
    precision: str | None = None,
) -> dict[str, str]:
    """The commands of one seed of ``row`` at the standard protocol, naming ``precision`` when
    given and the row does not (the runner names what auto resolves to where it trains)."""
    from results_rows import row_precision
    from results_runner import applicable_metrics, resolve_config

    run_dir = results_dir / "runs" / f"{row.name}-s{seed}"
    extra = ["--precision", precision] if precision and row_precision(row.args) is None else []
    metrics = rows_file.metrics_for(conditional)
    # The metrics the runner will ask for: those declared for the row's image size. A plugin
    # row keeps the row's full list (the runner drops the ones its size has not), so that the
    # page renders the same whether or not the plugin is installed where it is rendered.
    if not row.plugin:
        try:
            metrics = list(
                applicable_metrics(metrics, resolve_config(row, train_argv(row, seed, run_dir)))
            )
        except GanZooError:
            pass
    return {
        "train": command(train_argv(row, seed, run_dir, extra)),
        "evaluate": command(evaluate_argv(run_dir, metrics, STANDARD_N)),
    }


def _notes(row: Row, records: Sequence[dict], stale: bool) -> str:
    parts = [row.note] if row.note else []
    if row.plugin:
        parts.append(f"plugin {row.plugin}")
    if len(row.seeds) > 1:
        parts.append(f"seeds {', '.join(map(str, row.seeds))}: mean ± std [min, max]")
    if records and len(records) < len(row.seeds):
        parts.append(f"only {len(records)} of {len(row.seeds)} seeds run")
    scales = sorted({r["steps_scale"] for r in records if r.get("steps_scale") is not None})
    if scales:
        parts.append("**schedule × " + ", ".join(f"{s:g}" for s in scales) + "**")
    if stale:
        parts.append("**recorded with other commands than the row's** (see below)")
    return "; ".join(parts).replace("|", "\\|")


def _name(row: Row) -> str:
    return f"`{row.name}`" if row.name == row.preset else f"`{row.name}` (preset `{row.preset}`)"


def _img_s(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"


def _speed_cells(records: Sequence[dict]) -> list[str]:
    """img/s, train time, eval time and hardware: one mean when every seed ran on the same
    hardware in the same precision; otherwise (a mean of fp32 and bf16 speeds means nothing)
    each seed's own value, ``s<seed>: ...``, in all four cells."""
    hardware = [hardware_text(r) for r in records]
    if len(set(hardware)) == 1:
        return [
            _img_s(_mean(records, "training", "img_s")),
            duration(_mean(records, "training", "seconds")),
            duration(_mean(records, "evaluation", "seconds")),
            hardware[0],
        ]

    def each(show: Callable[[dict], str]) -> str:
        return "; ".join(f"s{r.get('seed')}: {show(r)}" for r in records)

    return [
        each(lambda r: _img_s(_mean([r], "training", "img_s"))),
        each(lambda r: duration(_mean([r], "training", "seconds"))),
        each(lambda r: duration(_mean([r], "evaluation", "seconds"))),
        each(hardware_text),
    ]


def table_row(row: Row, records: Sequence[dict], stale: bool) -> str:
    if not records:
        cells = [_name(row), _notes(row, records, stale), NOT_RUN] + ["-"] * (len(COLUMNS) - 3)
        return "| " + " | ".join(cells) + " |"
    cells = [
        _name(row),
        _notes(row, records, stale),
        *(_metric_cell(records, metric, d) for metric, _, d in METRIC_COLUMNS),
        *_speed_cells(records),
        _software_cell(records),
        protocol_text(records),
    ]
    return "| " + " | ".join(cells) + " |"


def _fid(records: Sequence[dict]) -> float | None:
    values = [
        float(r["metrics"]["fid"]["value"])
        for r in records
        if isinstance(r["metrics"].get("fid"), dict)
        and isinstance(r["metrics"]["fid"].get("value"), (int, float))
    ]
    return statistics.fmean(values) if values else None


def _header() -> list[str]:
    return ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]


def unverified_row(key: str, record: dict, reasons: Sequence[str]) -> str:
    """One unverified record: its key, why it is not verified, its metrics as recorded."""
    why = "; ".join(reasons).replace("|", "\\|")
    cells = [
        f"`{key}`",
        why,
        *(_metric_cell([record], metric, d) for metric, _, d in METRIC_COLUMNS),
        (record.get("training") or {}).get("precision") or "-",
        software_text(record),
    ]
    return "| " + " | ".join(cells) + " |"


def render(
    rows_file: RowsFile,
    records: dict[str, dict],
    results_dir: Path,
    conditional: Callable[[Row], bool],
    unverified: dict[str, dict] | None = None,
) -> str:
    """The Markdown between the markers: full recipes ranked by FID, the smoke runs, the
    records that are not verified (with why), then every row's commands."""
    from results_provenance import problems, shortened

    # Verify: a record that fails is never ranked, wherever it lies.
    reasons: dict[str, list[str]] = {}
    verified: dict[str, dict] = {}
    for key, record in records.items():
        found = problems(record, rows_file)
        if found:
            reasons[key] = found
        else:
            verified[key] = record
    for row in rows_file.rows:  # one recipe per row: its seeds in one precision
        keys = [f"{row.name}-s{s}" for s in row.seeds if f"{row.name}-s{s}" in verified]
        precisions = sorted({str(verified[k]["training"].get("precision")) for k in keys})
        if len(precisions) > 1:
            for key in keys:
                reasons[key] = [
                    f"the row's seeds trained in different precisions ({', '.join(precisions)}): "
                    "one row is one recipe; re-run them in one"
                ]
                del verified[key]
    # The table of records set apart: each with its own figures. A key can be there twice, a
    # verified re-run beside the unverified record it replaces (until that is removed).
    apart = [(key, records[key], found) for key, found in reasons.items()]
    for key, record in (unverified or {}).items():
        found = problems(record, rows_file) or [
            f"kept in {UNVERIFIED_DIR}/ (it passes the check; move it back to rank it)"
        ]
        apart.append((key, record, found))
    apart.sort(key=lambda item: item[0])  # stable: a failing ranked record before its old one
    all_records = {**(unverified or {}), **records}

    full, smoke, commands = (
        [],
        [],
        [
            "### Commands",
            "",
            "Run from the repository root; `python benchmarks/results.py --rows ROW` runs a "
            "row's commands and writes its records (`benchmarks/results/ROW-sSEED.json`). A seed "
            "not run yet of a row with recorded seeds names their precision (the runner keeps "
            "it, so one row stays one recipe, and skips the seed with a note where this machine "
            "only emulates it); a row with none shows its command without `--precision`: the "
            "runner adds the precision `--precision auto` resolves to where it trains (bf16 on "
            "CPUs with AMX or AVX512-BF16, else fp32; bf16 or fp16 on CUDA) and records it.",
            "",
        ],
    )
    for row in rows_file.rows:
        recorded = {
            s: verified[f"{row.name}-s{s}"] for s in row.seeds if f"{row.name}-s{s}" in verified
        }
        # A seed not run yet trains in the precision its row's seeds did (the runner keeps it).
        kept = {str(r.get("training", {}).get("precision")) for r in recorded.values()}
        same = next(iter(kept)) if len(kept) == 1 else None
        plans = {
            s: planned(
                row,
                s,
                rows_file,
                results_dir,
                conditional(row),
                recorded[s].get("training", {}).get("precision") if s in recorded else same,
            )
            for s in row.seeds
        }
        stale = any(
            r["commands"].get("train") != plans[s]["train"] and r.get("steps_scale") is None
            for s, r in recorded.items()
        )
        line = table_row(row, list(recorded.values()), stale)
        is_smoke = shortened(row) or any(
            r.get("steps_scale") is not None for r in recorded.values()
        )
        (smoke if is_smoke else full).append((_fid(list(recorded.values())), row.name, line))
        commands += [f"**{row.name}**", "", "```bash"]
        for seed in row.seeds:
            shown = recorded[seed]["commands"] if seed in recorded else plans[seed]
            key = f"{row.name}-s{seed}"
            state = (
                ""
                if seed in recorded
                else ": " + ("re-run pending (not verified)" if key in all_records else NOT_RUN)
            )
            if state and row.plugin:
                state += (
                    f"; a {row.plugin} preset: the runner asks only for its image size's metrics"
                )
            commands.append(f"# seed {seed}{state}")
            commands += [shown.get("train", ""), shown.get("evaluate", "")]
        commands += ["```", ""]
    full.sort(key=lambda item: (item[0] is None, item[0] if item[0] is not None else 0.0))
    ranked = [item for item in full if item[0] is not None]
    best = (
        f"**Best verified FID (standard protocol, full recipe): {ranked[0][0]:.2f}** "
        f"(`{ranked[0][1]}`)."
        if ranked
        else "**Best verified FID: none yet**: no record of a full recipe passes the "
        "provenance check; the figures below it are not claimed."
    )
    lines = [
        best,
        "",
        "#### Full recipes, ranked by FID",
        "",
        *_header(),
        *(line for _, _, line in full),
        "",
        f"#### {SMOKE_TITLE}",
        "",
        "Rows trained on a shorter schedule than their preset's recipe (GPU recipes cut to one "
        "or two epochs on a CPU): they show the pipeline runs end to end, not what the recipe "
        "reaches, and are never ranked with the full recipes.",
        "",
        *_header(),
        *(line for _, _, line in smoke),
        "",
    ]
    if apart:
        cols = ["record", "why it is not verified"]
        cols += [t for _, t, _ in METRIC_COLUMNS] + ["trained in", "software"]
        lines += [
            f"#### {UNVERIFIED_TITLE}",
            "",
            "These records cannot be reproduced from what they say, so they are in no ranking "
            'and no "best" figure; their numbers are history, not results. The commands that '
            "re-run them are in [Benchmarks](benchmarks.md#re-runs-pending).",
            "",
            "| " + " | ".join(cols) + " |",
            "|" + "---|" * len(cols),
            *(unverified_row(*item) for item in apart),
            "",
        ]
    legend = (
        "Columns: KID ± the standard deviation of its 100 subsets (one seed); rows with "
        "several seeds show mean ± standard deviation over the seeds [min, max]. img/s is "
        "the mean of the rates the training logged; times are wall-clock; speeds and "
        "times are means over the seeds when all ran on the same hardware in the same "
        "precision, otherwise each seed's own (s0: ...). software: the gan-zoo version "
        "and the commit the record was written at (with the earlier commits its training "
        "segments started at, where a resume crossed commits), from a clean tree, and the "
        "torch version."
    )
    return "\n".join([*lines, legend, "", *commands]).rstrip() + "\n"


def replace_between(text: str, block: str, where: str = "the page") -> str:
    """``text`` with everything between the markers replaced by ``block``."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise RenderError(f"{where} needs one '{START}' line and, after it, one '{END}' line")
    head, rest = text.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{block}{END}{tail}"


def render_doc(
    rows_file: RowsFile,
    results_dir: Path = RESULTS_DIR,
    doc: Path = DOC,
    conditional: Callable[[Row], bool] = is_conditional,
) -> bool:
    """Rewrite the table of ``doc`` from the records; True when the page changed."""
    text = doc.read_text(encoding="utf-8")
    block = render(
        rows_file,
        load_records(results_dir),
        results_dir,
        conditional,
        load_records(Path(results_dir) / UNVERIFIED_DIR),
    )
    new = replace_between(text, block, str(doc))
    if new == text:
        return False
    write_text(doc, new)
    return True
