"""The small TOML writer (gan_zoo/toml_writer.py): what it writes, tomllib reads back exactly."""

from __future__ import annotations

import math
import sys

import pytest

from gan_zoo import toml_writer

tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")

TRICKY = {
    "plain": "dcgan",
    "quotes": 'say "hi" \\ there',
    "controls": "tab\there\nnew line\r\x00\x1f\x7f\b\f",
    "unicode": "Modèle ✓ 😀",
    "empty": "",
    "ints": [0, -1, 2**62, 7],
    "floats": [0.0002, 1e-05, 2.0, -0.0, 1e300, 5e-324, 0.1 + 0.2, 1e16],
    "bools": [True, False],
    "mixed": [1, "a", 2.5, [1, [2]], {"x": 1}],
    "empty list": [],
    "key with spaces.and dots": 1,
    "ключ": "значение",
    "table": {"inner": {"deep": {"x": 1}, "after": 2}, "empty": {}, "list": [{"a": {}}]},
    "empty table": {},
}


def test_round_trips_tricky_values():
    text = toml_writer.dumps(TRICKY, header="a header\nof two lines")
    assert text.startswith("# a header\n# of two lines\n")
    assert tomllib.loads(text) == TRICKY
    floats = tomllib.loads(text)["floats"]
    assert [math.copysign(1, f) for f in floats] == [math.copysign(1, f) for f in TRICKY["floats"]]


def test_scalars_come_before_sub_tables():
    text = toml_writer.dumps({"a": {"b": {"c": 1}, "d": 2}, "e": 3})
    assert text.index("e = 3") < text.index("[a]") < text.index("d = 2") < text.index("[a.b]")


def test_non_finite_floats_are_toml_inf_and_nan():
    loaded = tomllib.loads(toml_writer.dumps({"a": math.inf, "b": -math.inf, "c": math.nan}))
    assert loaded["a"] == math.inf and loaded["b"] == -math.inf and math.isnan(loaded["c"])


@pytest.mark.parametrize(
    "data, message",
    [
        ({"x": None}, "x is null"),
        ({"t": {"y": [1, None]}}, "t.y is null"),
        ({"x": object()}, "x is a object"),
        ({"x": "\udc80"}, "lone surrogate"),
        ({"x": {1: 2}}, "keys are strings"),
    ],
)
def test_what_toml_cannot_hold_is_a_value_error(data, message):
    with pytest.raises(ValueError, match=message):
        toml_writer.dumps(data)
