"""Numbers and tables for people: durations, sizes and listings, formatted the same way
everywhere."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """``H:MM:SS`` (e.g. ``1:02:03``) for a non-negative number of seconds."""
    total = int(round(max(0.0, seconds)))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def human_bytes(size: float) -> str:
    """``532 B``, ``1.2 kB``, ``3.4 MB``, ``5.6 GB`` (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB"):
        if round(size, 0 if unit == "B" else 1) < 1000 or unit == "GB":  # 999.96 kB is 1.0 MB
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def printable(text: object) -> str:
    """``text`` on one line, without control characters (``?`` for each): what a plugin or a
    downloaded folder wrote cannot move the cursor or clear the terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in " ".join(str(text).split()))


def table(
    rows: list[list[str]], *, plain: bool, width: int = 80, wrap_last: bool = False
) -> list[str]:
    """Rows of cells (the first row the header) as lines that never cut a cell.

    ``plain`` (output to a pipe): cells separated by one tab, so ``cut -f``, ``awk -F'\\t'`` and
    ``grep`` see whole cells. Otherwise columns padded two spaces apart; with ``wrap_last`` the
    last column wraps within ``width``, under itself (or four spaces in, where little is left).
    """
    if plain:
        return ["\t".join(row) for row in rows]
    import textwrap

    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        head = "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=False))
        start = len(head) + 2 if row[:-1] else 0
        last = row[-1]
        if not wrap_last or start + len(last) <= width:
            lines.append((head + "  " + last if row[:-1] else last).rstrip())
            continue
        indent = start if width - start >= 24 else 4
        parts = textwrap.wrap(
            last, max(width - indent, 24), break_long_words=False, break_on_hyphens=False
        )
        if indent == start:
            lines.append(head + "  " + parts[0])
            lines += [" " * indent + part for part in parts[1:]]
        else:
            lines.append(head.rstrip())
            lines += [" " * indent + part for part in parts]
    return lines


def indented(text: str, width: int, indent: int = 4) -> list[str]:
    """``text`` wrapped within ``width``, every line ``indent`` spaces in; words (names) are never
    broken."""
    import textwrap

    return textwrap.wrap(
        text,
        max(width, indent + 24),
        initial_indent=" " * indent,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
