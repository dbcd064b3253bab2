"""Every measured figure in the docs names the stored output it comes from.

A section of a docs page (the text under one heading, code blocks aside) that quotes a
measurement (img/s, GFLOP/s, a time, an FID, KID or classifier-FD value) carries a marker:
``<!-- figures: PATH[, PATH...] -->`` naming files under ``benchmarks/`` that hold the command
that printed the figures and its output, or ``<!-- figures: not reproduced -->`` with the
words "Not reproduced" shown to the reader. The table that ``benchmarks/results.py`` renders
from the records (between the results markers) is checked by test_results_provenance.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import ROOT

DOCS = ROOT / "docs"
MARKER = re.compile(r"<!-- figures: (?P<what>[^>]*?) -->")
#: A number with a unit of time or speed, or an FID / KID / classifier-FD value.
MEASUREMENT = re.compile(
    r"\d[\d,.]*\s*(?:img/s|GFLOP/s|GFLOP|ms|min|s|h)\b(?!-)"
    r"|\b(?:FID|KID|classifier-FD)\s*\**\s*\d+\.\d+"
)
NOT_REPRODUCED = "not reproduced"


def sections(page: Path) -> list[tuple[str, str]]:
    """``(heading, text)`` of each section of ``page``: code blocks and the rendered results
    table left out."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"<!-- results:start -->.*?<!-- results:end -->", "", text, flags=re.S)
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    parts = re.split(r"^(#{1,6} .*)$", text, flags=re.M)
    return list(zip(["(top)", *parts[1::2]], parts[0::2], strict=True))


def stored_outputs(what: str) -> list[Path]:
    return [ROOT / p.strip() for p in what.split(",") if p.strip()]


def holds_command_and_output(path: Path) -> bool:
    """A stored output names the command that printed it: a JSON object with ``command`` or
    ``commands`` (a results record), or a text file whose first lines say ``command:``."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
        return isinstance(data, dict) and bool(data.get("command") or data.get("commands"))
    head = text.splitlines()[:5]
    return any(line.lower().startswith(("command:", "# command:")) for line in head) and len(
        text.splitlines()
    ) > len(head)


PAGES = sorted(DOCS.glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_section_with_figures_names_its_stored_output(page):
    missing = []
    for heading, text in sections(page):
        if not MEASUREMENT.search(text):
            continue
        markers = MARKER.findall(text)
        if not markers:
            missing.append(f"{heading!r}: {MEASUREMENT.search(text).group(0)!r}")
            continue
        for what in markers:
            if what.strip() == NOT_REPRODUCED:
                assert "Not reproduced" in text, f"{page.name} {heading}: say it to the reader"
                continue
            for path in stored_outputs(what):
                assert path.is_file(), f"{page.name} {heading}: {path} does not exist"
                assert path.resolve().is_relative_to(ROOT / "benchmarks"), path
                assert holds_command_and_output(path), f"{path} names no command"
    assert not missing, f"{page.name}: figures without a stored output: {missing}"


def test_the_check_finds_figures_and_markers(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "# A\n\nIt ran at 5.98 img/s.\n\n## B\n\n<!-- figures: not reproduced -->\n"
        "**Not reproduced**: 12 min 11 s.\n\n## C\n\n```bash\ntime x --steps 15 s\n```\n",
        encoding="utf-8",
    )
    found = {h: bool(MEASUREMENT.search(t)) for h, t in sections(page)}
    assert found == {"(top)": False, "# A": True, "## B": True, "## C": False}
    assert MARKER.findall(sections(page)[2][1]) == [NOT_REPRODUCED]
    out = tmp_path / "o.txt"
    out.write_text("command: python x.py\n\n1\n2\n3\n4\n5\n", encoding="utf-8")
    assert holds_command_and_output(out)
    out.write_text("5.98 img/s\n", encoding="utf-8")
    assert not holds_command_and_output(out)
