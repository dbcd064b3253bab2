"""Numbers for people: durations and sizes, formatted the same way everywhere."""

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
