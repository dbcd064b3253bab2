"""The text of ``gan-zoo list`` and ``gan-zoo plugins``: one line per entry, no name ever cut.

On a terminal the columns are padded two spaces apart and sized to their widest cell (names are
never cut; the built-ins, gan-zoo-stylegan2 and a shadowed plugin's names fit 80 columns), and
``--long`` adds the description and, for presets, where their figures were measured, as
indented lines under each entry. Into a pipe, each entry is one line of tab-separated cells
without spaces (``-`` for empty), after one header line, so ``grep``, ``cut -f`` and ``awk`` see
whole cells; ``--long`` adds its text as the last columns instead. Presets show the best FID
and img/s of their own recipe from the results records shipped with gan-zoo
(:mod:`gan_zoo.measured`).
"""

from __future__ import annotations

from typing import Any

from .. import measured, plugins
from ..formatting import human_bytes, indented, printable, table
from ..registry import KINDS, SINGULAR, Entry

HEADERS = {
    "models": ["NAME", "PLUGIN", "SIZES", "CH", "COND", "FID", "IMG/S"],
    "pretrained": ["TAG", "PLUGIN", "PRESET", "DATASET", "FID", "SIZE"],
}
DEFAULT_HEADER = ["NAME", "PLUGIN", "SIZES", "CH", "COND"]
#: The extra columns of ``--long`` into a pipe (on a terminal: indented lines).
LONG_HEADERS = {
    "models": ["RECORD", "HARDWARE", "DESCRIPTION"],
    "pretrained": ["METRICS", "DESCRIPTION"],
}
MODELS_FOOTER = (
    "FID on {dataset} (standard protocol, docs/results.md) and IMG/S in training: the best "
    "record of the preset's own recipe; '-': none (shortened rows are not quality figures); "
    "'*': its record is not verified yet (a re-run is pending). "
    "--long: the hardware; gan-zoo info PRESET: the recipe and every record."
)


def terminal() -> tuple[bool, int]:
    """``(plain, width)``: plain text when stdout is not a terminal; the width from the terminal
    (or ``COLUMNS``), 80 when unknown."""
    import shutil
    import sys

    plain = not sys.stdout.isatty()
    return plain, shutil.get_terminal_size((80, 24)).columns


def _plugin(entry: Entry) -> str:
    return "-" if entry.plugin.distribution == "gan-zoo" else entry.plugin.distribution


def _numbers(values: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in values) or "any"


def entry_cells(entry: Entry) -> list[str]:
    """The cells of one entry's line (see :data:`HEADERS`)."""
    s = entry.supports
    cells = [entry.key, _plugin(entry), _numbers(s.image_sizes), _numbers(s.channels)]
    cells.append("yes" if s.conditional else "-")
    if entry.kind == "models":
        best = measured.best(entry.name, entry.plugin.distribution)
        cells += [measured.fid_text(best), measured.img_s_text(best)] if best else ["-", "-"]
    return cells


def measured_text(entry: Entry) -> str:
    """Where a preset's figures come from, in words (``--long``)."""
    best = measured.best(entry.name, entry.plugin.distribution)
    if best is not None:
        unverified = "" if best.verified else " (* not verified: re-run pending)"
        return (
            f"measured: FID {measured.fid_text(best)} on {best.dataset}, "
            f"{measured.img_s_text(best)} img/s training: record {best.record}{unverified} "
            f"({best.note}), {best.hardware}"
        )
    records = measured.of_preset(entry.name, entry.plugin.distribution)
    if not records:
        return "measured: not in the results table yet"
    why = "; ".join(f"{m.record}: {m.note or m.why_not}" for m in records)
    return f"measured: no record of the preset's own recipe ({why}); see 'gan-zoo info {entry.key}'"


def shadowed_text(entry: Entry) -> str:
    """What a shadowed entry clashes with ("" when it is not shadowed)."""
    if not entry.shadowed:
        return ""
    winner = plugins.registry(entry.kind).get(entry.name)
    return (
        f"shadowed: plain '{entry.name}' is the {SINGULAR[entry.kind]} of "
        f"{winner.plugin.distribution} {winner.plugin.version}, registered first; this one is "
        f"'{entry.qualified_name}'"
    )


def _pretrained(entry: Entry) -> tuple[list[str], dict[str, Any]]:
    from ..checkpoint.sources import pretrained_summary

    s = pretrained_summary(entry)
    fid = s["metrics"].get("fid")
    size = human_bytes(s["size"]).replace(" ", "") if s["size"] is not None else "-"
    cells = [
        entry.key,
        _plugin(entry),
        str(s["preset"] or "-"),
        str(s["dataset"] or "-"),
        f"{fid:.2f}" if isinstance(fid, (int, float)) else "-",
        size,
    ]
    return [printable(c) or "-" for c in cells], s


def _metrics(summary: dict[str, Any], sep: str) -> str:
    return printable(
        ",".join(
            f"{k}{sep}{v:.4g}" if isinstance(v, (int, float)) else f"{k}{sep}{v}"
            for k, v in summary["metrics"].items()
        )
    )


def kind_rows(
    kind: str, entries: list[Entry], long: bool
) -> list[tuple[list[str], list[str], list[str]]]:
    """``(cells, notes, long_cells)`` per entry. Notes are the sentences shown under it on a
    terminal (a clash or an unreadable folder always; the description and measurements with
    ``long``); ``long_cells`` are the columns ``long`` adds into a pipe instead."""
    rows = []
    for entry in entries:
        problems = [shadowed_text(entry)]
        if kind == "pretrained":
            cells, summary = _pretrained(entry)
            problems.append(
                f"unreadable: {printable(summary['error'])}" if summary["error"] else ""
            )
            extra = [_metrics(summary, "=") or "-"]
        else:
            cells, summary, extra = entry_cells(entry), {}, []
        if kind == "models":
            best = measured.best(entry.name, entry.plugin.distribution)
            extra = [best.record, best.hardware] if best else ["-", "-"]
        problems = [p for p in problems if p]
        notes = list(problems)
        if long:
            if summary.get("metrics"):
                notes.append("metrics: " + _metrics(summary, " ").replace(",", ", "))
            notes.append(printable(entry.description))
            if kind == "models":
                notes.append(measured_text(entry))
        text = " ".join([*problems, printable(entry.description)]).strip()
        rows.append((cells, notes, [*extra, text or "-"]))
    return rows


def list_lines(
    found: dict[str, list[Entry]],
    *,
    plain: bool,
    width: int = 80,
    long: bool = False,
    kind_column: bool = False,
) -> list[str]:
    """The text of ``gan-zoo list`` for the entries ``found`` of each kind.

    ``kind_column`` (no KIND given): into a pipe every line starts with its kind; on a terminal
    each kind gets a title line.
    """
    lines: list[str] = []
    for kind, entries in found.items():
        header = HEADERS.get(kind, DEFAULT_HEADER) + (
            LONG_HEADERS.get(kind, ["DESCRIPTION"]) if long and plain else []
        )
        rows = kind_rows(kind, entries, long)
        if plain:
            cells = [header] + [c + (extra if long else []) for c, _, extra in rows]
            if kind_column:
                cells = [["KIND", *cells[0]]] + [[kind, *c] for c in cells[1:]]
            lines += table(cells, plain=True)
            continue
        if kind_column:
            lines += ([""] if lines else []) + [f"{kind.capitalize()} ({len(entries)})"]
        if not entries:
            hint = "; pip install gan-zoo-pretrained" if kind == "pretrained" else ""
            lines.append(f"(none{hint})")
            continue
        shown = table([header] + [c for c, _, _ in rows], plain=False, width=width)
        lines.append(shown[0])
        for line, (_, notes, _) in zip(shown[1:], rows, strict=True):
            lines.append(line)
            for note in notes:
                lines += indented(note, width)
        if kind == "models":
            datasets = sorted({m.dataset for m in measured.measurements()}) or ["its dataset"]
            lines += [""] + indented(MODELS_FOOTER.format(dataset=", ".join(datasets)), width, 0)
    return lines


# gan-zoo plugins.
def _count(n: int, kind: str) -> str:
    if kind == "commands":
        return "1 command" if n == 1 else f"{n} commands"
    if n == 1:
        return f"1 {SINGULAR[kind]}"
    return f"{n} pretrained tags" if kind == "pretrained" else f"{n} {kind}"


def _winner_notes(distribution: str) -> list[str]:
    """The clashes ``distribution`` won, in words (the losers' side is in their status)."""
    notes = []
    for kind in plugins.host().registries:
        for winner, shadowed in plugins.registry(kind).clashes:
            if winner.plugin.distribution == distribution:
                notes.append(
                    f"{SINGULAR[kind]} '{winner.name}' is also registered by "
                    f"{shadowed.plugin}; plain '{winner.name}' means this one, which was first; "
                    f"that one is '{shadowed.qualified_name}'"
                )
    return notes


def plugin_lines(statuses: list[Any], *, plain: bool, width: int = 80) -> list[str]:
    """The text of ``gan-zoo plugins``: one line per distribution (gan-zoo's built-in modules
    are one), its status and entry counts; every error and clash in words under it (into a
    pipe: in its last cell)."""
    groups: dict[str, list[Any]] = {}
    for status in statuses:
        groups.setdefault(status.distribution, []).append(status)
    rows = []
    for distribution, group in groups.items():
        broken = [s for s in group if not s.ok]
        state = "ok" if not broken else "broken" if len(broken) == len(group) else "part-broken"
        counts = {k: sum(len(s.entries.get(k, ())) for s in group) for k in KINDS}
        counts["commands"] = sum(len(s.commands) for s in group)
        counts = {k: n for k, n in counts.items() if n}
        if plain:
            entries = ",".join(f"{k}={n}" for k, n in counts.items())
        else:
            entries = ", ".join(_count(n, k) for k, n in counts.items())
        notes = [f"{s.name}: broken: {printable(s.error)}" for s in broken]
        notes += [c for s in group for c in s.clashes] + _winner_notes(distribution)
        versions = ",".join(dict.fromkeys(s.version for s in group))
        sources = ",".join(dict.fromkeys(s.source.replace(" ", "-") for s in group))
        rows.append(([distribution, versions, sources, state], entries or "-", notes))
    header = ["DISTRIBUTION", "VERSION", "SOURCE", "STATUS"]
    if plain:
        cells = [header + ["ENTRIES", "NOTES"]]
        cells += [c + [e, "; ".join(n) or "-"] for c, e, n in rows]
        return table(cells, plain=True)
    shown = table([header] + [c for c, _, _ in rows], plain=False, width=width)
    lines = [shown[0]]
    for line, (_, entries, notes) in zip(shown[1:], rows, strict=True):
        lines.append(line)
        lines += indented(f"entries: {entries}", width, 2)
        for note in notes:
            lines += indented(note, width, 2)
    return lines
