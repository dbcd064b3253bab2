"""gan_zoo.checkpoint.yaml: the model card's own YAML writer, read back by PyYAML (YAML 1.1, what
the Hub's Python side uses) where it is installed, and the front-matter splitter."""

from __future__ import annotations

import math

import pytest

from gan_zoo.checkpoint.yaml import dump_yaml, split_front_matter, yaml_scalar

yaml = pytest.importorskip("yaml")

#: Strings a YAML reader would take for something else if they were written plain.
TRICKY = [
    "",
    " leading",
    "trailing ",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "n",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "1",
    "-1",
    "1.5",
    "1e3",
    "0x1f",
    "0o17",
    "010",
    "1_000",
    "1:20",  # sexagesimal in YAML 1.1
    ".inf",
    ".NaN",
    "2024-01-01",
    "a: b",
    "a:b",
    "- item",
    "#comment",
    "x #y",
    "@at",
    "`tick",
    "!tag",
    "&anchor",
    "*alias",
    "<<",
    "=",
    "[1, 2]",
    "{a: 1}",
    "'single'",
    '"double"',
    "back\\slash",
    "%percent",
    "?",
    "|",
    ">",
    "line\nbreak",
    "tab\there",
    "carriage\rreturn",
    "\x00nul",
    "café",
    "日本語",
    "emoji 🎉",
    "T-shirt/top",
    "gan-zoo/bce",
    "step-0000002",
]

#: Characters PyYAML cannot read raw or reads as line breaks (non-printable, NEL, LS, PS, BOM),
#: and a lone surrogate (a byte of a folder name that is not UTF-8, as Python decodes it).
UNPRINTABLE = [
    "\x7f",
    "\x80",
    "\x85",
    "\x9f",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "\udce9",
]


def _back(value):
    return yaml.safe_load(dump_yaml({"k": value}))["k"]


@pytest.mark.parametrize("text", TRICKY)
def test_a_tricky_string_reads_back_as_the_same_string(text):
    assert _back(text) == text


@pytest.mark.parametrize("char", UNPRINTABLE)
def test_an_unprintable_character_is_escaped_and_reads_back(char):
    # Was: written raw, so PyYAML refused the whole card (\x7f, \ufffe) or read \x85 as a space.
    line = dump_yaml({"k": f"a{char}b"})
    assert char not in line and line.isascii()
    assert _back(f"a{char}b") == f"a{char}b"


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (10**20, "100000000000000000000"),
        (0.5, "0.5"),
        (1e-05, "1.0e-05"),  # YAML 1.1 needs the dot to read a float
        (1e16, "1.0e+16"),
        (2.5e-300, "2.5e-300"),
        (float("inf"), ".inf"),
        (float("-inf"), "-.inf"),
        ("dcgan", "dcgan"),
        ("yes", '"yes"'),
        ("a b", '"a b"'),
        ("café", '"café"'),
    ],
)
def test_yaml_scalar(value, text):
    assert yaml_scalar(value) == text


@pytest.mark.parametrize("value", [1e-05, 1e16, 5e-324, 0.1, -0.0, 1e300, 123456789.0, 2**62])
def test_numbers_read_back_exactly_with_their_type(value):
    back = _back(value)
    assert type(back) is type(value) and back == value
    assert math.copysign(1, back) == math.copysign(1, value)


def test_nan_reads_back_as_nan():
    assert yaml_scalar(float("nan")) == ".nan" and math.isnan(_back(float("nan")))


def test_a_nested_document_reads_back_equal():
    data = {
        "license": "mit",
        "tags": ["gan", "image-generation", "yes"],
        "model-index": [
            {
                "name": "dcgan",
                "results": [{"metrics": [{"type": "fid", "value": 12.5}], "task": {}}],
            }
        ],
        "pairs": [[1, [2, 3]], [], {}],
        "nested": {"a": {"b": {"c": None}}, "empty": {}, "none": []},
        "yes": True,  # a reserved word as a key
        1: "one",  # keys are strings in the card
    }
    expected = {**data, "1": "one"}
    del expected[1]
    assert yaml.safe_load(dump_yaml(data)) == expected


def test_tuples_are_sequences():
    assert yaml.safe_load(dump_yaml({"t": (1, (2, 3))})) == {"t": [1, [2, 3]]}


def test_the_layout_is_block_style_with_two_space_indents():
    assert dump_yaml({"a": {"b": [1, {"c": 2, "d": 3}]}, "e": []}) == (
        "a:\n  b:\n  - 1\n  - c: 2\n    d: 3\ne: []\n"
    )


# The front matter of a card.
def test_split_front_matter_of_a_card():
    card = "---\n" + dump_yaml({"license": "mit", "tags": ["gan"]}) + "---\n\n# dcgan\n"
    front, body = split_front_matter(card)
    assert yaml.safe_load(front) == {"license": "mit", "tags": ["gan"]}
    assert body == "\n# dcgan\n"


@pytest.mark.parametrize(
    "text, front, body",
    [
        ("# no front matter\n", "", "# no front matter\n"),
        ("---\nlicense: mit\n# never closed\n", "", "---\nlicense: mit\n# never closed\n"),
        ("---\n---\nbody", "", "body"),
        ("---\na: 1\n---\n", "a: 1\n", ""),
        ("---\na: '---'\n---\nb\n---\nc", "a: '---'\n", "b\n---\nc"),  # the first closing line
        ("--- \na: 1\n---\n", "", "--- \na: 1\n---\n"),
    ],
)
def test_split_front_matter_edges(text, front, body):
    assert split_front_matter(text) == (front, body)
