"""Refuse a release whose version has no dated entry in CHANGELOG.md.

    python scripts/check_changelog.py VERSION [--changelog PATH]

Exits 0 when the changelog has a heading ``## [VERSION] - YYYY-MM-DD`` (Keep a Changelog 1.1.0),
1 with one line on stderr when it has none or the entry has no release date. The release
workflow runs it on the tag's version (``v0.2.0`` -> ``0.2.0``; a leading ``v`` is dropped here
too) before building anything.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parent.parent / "CHANGELOG.md"


def entry_problem(text: str, version: str) -> str | None:
    """What is wrong with ``version``'s entry in the changelog ``text``; None when it is there."""
    heading = re.compile(rf"^## \[{re.escape(version)}\](?P<rest>.*)$", re.MULTILINE)
    found = heading.search(text)
    if found is None:
        return f"CHANGELOG.md has no '## [{version}]' entry: move the Unreleased notes under it"
    if not re.fullmatch(r" - \d{4}-\d{2}-\d{2}\s*", found["rest"]):
        return (
            f"CHANGELOG.md's entry for {version} has no release date: "
            f"write '## [{version}] - YYYY-MM-DD'"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="the version being released, e.g. 0.2.0 or v0.2.0")
    parser.add_argument("--changelog", type=Path, default=CHANGELOG)
    args = parser.parse_args(argv)
    version = args.version.removeprefix("v")
    try:
        text = args.changelog.read_text(encoding="utf-8")
    except OSError as error:
        print(f"error: cannot read {args.changelog}: {error.strerror}", file=sys.stderr)
        return 1
    problem = entry_problem(text, version)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    print(f"CHANGELOG.md has an entry for {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
