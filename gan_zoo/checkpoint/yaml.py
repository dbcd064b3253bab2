"""A small YAML emitter for the model card's front matter, and the reader of that front matter.

PyYAML is not a runtime dependency, so gan-zoo writes YAML itself: block mappings and sequences,
plain scalars only where YAML 1.1 (PyYAML) and 1.2 (the Hub) read them the same, everything else
double-quoted (JSON string syntax is valid YAML).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_RESERVED = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}
#: What a YAML reader refuses raw (non-printable characters, lone surrogates from file names that
#: are not UTF-8) or reads as a line break or a byte-order mark; JSON leaves them unescaped.
_UNSAFE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def yaml_scalar(value: Any) -> str:
    """One YAML scalar that PyYAML (YAML 1.1) and the Hub (YAML 1.2) read back as ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:  # YAML 1.1 needs a dot to see a float: 1e-05 -> 1.0e-05
            text = f"{mantissa}.0e{exponent}"
        return text
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return _UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", json.dumps(text, ensure_ascii=False))


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = yaml_scalar(str(key))
            if isinstance(item, dict) and item:
                out.append(f"{pad}{name}:")
                out += _lines(item, indent + 2)
            elif isinstance(item, (list, tuple)) and item:
                out.append(f"{pad}{name}:")
                out += _lines(list(item), indent)
            else:
                out.append(f"{pad}{name}: {_flow(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list, tuple)) and item:
                sub = _lines(item if isinstance(item, dict) else list(item), indent + 2)
                out.append(f"{pad}- {sub[0][indent + 2 :]}")
                out += sub[1:]
            else:
                out.append(f"{pad}- {_flow(item)}")
    return out


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    return yaml_scalar(value)


def dump_yaml(data: dict[str, Any]) -> str:
    """Block-style YAML for a JSON-like mapping."""
    return "\n".join(_lines(data, 0)) + "\n"


def split_front_matter(text: str) -> tuple[str, str]:
    """``(yaml, body)`` of a card; the YAML between the leading ``---`` lines."""
    if not text.startswith("---\n"):
        return "", text
    end = text.find("\n---\n", 3)
    if end < 0:
        return "", text
    return text[4 : end + 1], text[end + 5 :]
