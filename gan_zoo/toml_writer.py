"""A small TOML writer for recipe files: the subset a config needs, read back exactly by tomllib.

The standard library reads TOML (``tomllib``) but does not write it, and a recipe should not need
an extra package to be written. What a config holds is plain JSON-like data: strings, integers,
finite floats, booleans, lists and string-keyed tables. This writes that as TOML 1.0, scalars of
a table before its sub-tables (``[generator.options]``), tables inside lists inline, strings as
basic strings with every control character escaped, floats by ``repr`` (the shortest text that
reads back as the same float). TOML has no null: a ``None`` anywhere is a ValueError, and the
caller decides how to say "unset" (recipes list such keys in ``unset``).
"""

from __future__ import annotations

import math
import re
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def dumps(data: dict[str, Any], header: str = "") -> str:
    """``data`` as a TOML document (``header``: comment lines put first, without the ``#``)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    _table(data, [], lines)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def _table(data: dict[str, Any], path: list[str], lines: list[str]) -> None:
    tables = {k: v for k, v in data.items() if isinstance(v, dict) and v}
    for key, value in data.items():
        if key not in tables:
            lines.append(f"{key_text(key)} = {value_text(value, [*path, key])}")
    for key, value in tables.items():
        if lines and lines[-1]:
            lines.append("")
        lines.append("[" + ".".join(key_text(k) for k in [*path, key]) + "]")
        _table(value, [*path, key], lines)


def key_text(key: Any) -> str:
    """A key: bare when TOML allows it, else a quoted basic string."""
    if not isinstance(key, str):
        raise ValueError(f"TOML keys are strings, got {key!r}")
    return key if _BARE_KEY.match(key) else string_text(key)


def string_text(text: str) -> str:
    """A basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise ValueError(f"{text!r} holds a lone surrogate, which TOML cannot hold")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def value_text(value: Any, path: list[str] | None = None) -> str:
    """One value: a scalar, an inline array or an inline table."""
    where = ".".join(path or []) or "a value"
    if value is None:
        raise ValueError(f"{where} is null, which TOML cannot hold")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ("-inf" if value < 0 else "inf") if math.isinf(value) else "nan"
        return repr(value)  # 0.0002, 1e-05, 2.0: all TOML floats that read back exactly
    if isinstance(value, str):
        return string_text(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(value_text(v, path) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{key_text(k)} = {value_text(v, [*(path or []), k])}" for k, v in value.items())
        return "{ " + ", ".join(items) + " }" if value else "{}"
    raise ValueError(f"{where} is a {type(value).__name__}, which a recipe cannot hold")
