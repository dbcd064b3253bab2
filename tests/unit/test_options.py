"""Built-in factory options have declared ranges; a value outside is one line, before any build.

Parametrized over the registries: every numeric option a built-in generator or discriminator
declares is tried just inside and just outside its bounds, so a new built-in entry with a
declared range is tested the moment it is registered.
"""

from __future__ import annotations

import pytest

from gan_zoo import plugins
from gan_zoo.errors import ConfigError
from gan_zoo.options import Range, check_ranges, declared, ranges
from gan_zoo.training.resolve import build_config

NETWORK_KINDS = ("generators", "discriminators")


def _builtin_entries():
    found = []
    for kind in NETWORK_KINDS:
        for entry in plugins.registry(kind):
            if entry.plugin.distribution == "gan-zoo":
                found.append(pytest.param(kind, entry.key, id=f"{kind}-{entry.key}"))
    return found


def _numeric_options(kind: str, name: str) -> dict[str, object]:
    entry = plugins.registry(kind).get(name)
    return {
        key: default
        for key, default in entry.options().items()
        if key not in ("z_dim", "image_size", "channels", "num_classes")
        and not isinstance(default, (bool, str))
        and (isinstance(default, (int, float)) or isinstance(default, (list, tuple)))
    }


@pytest.mark.parametrize(("kind", "name"), _builtin_entries())
def test_every_numeric_option_of_a_builtin_network_declares_a_range(kind, name):
    entry = plugins.registry(kind).get(name)
    numeric = _numeric_options(kind, name)
    assert numeric, f"{name} has no numeric option: drop it from this test"
    assert set(numeric) <= set(declared(entry.load())), f"{kind} '{name}' leaves some undeclared"
    for option, default in numeric.items():  # the defaults are inside their own ranges
        check_ranges(f"{kind} '{name}'", entry.load(), {option: default})


def _bounds():
    cases = []
    for param in _builtin_entries():
        kind, name = param.values
        target = plugins.registry(kind).get(name).load()
        for option, allowed in declared(target).items():
            below = allowed.low - (1 if isinstance(allowed.low, int) else 0.01)
            above = allowed.high if allowed.high_open else (allowed.high or 0) + 1
            for value in (below, above if allowed.high is not None else None):
                if value is not None:
                    cases.append(
                        pytest.param(
                            kind, name, option, allowed, value, id=f"{kind}-{name}-{option}={value}"
                        )
                    )
    return cases


@pytest.mark.parametrize(("kind", "name", "option", "allowed", "value"), _bounds())
def test_a_value_out_of_range_is_one_line_before_any_network_is_built(
    kind, name, option, allowed, value, monkeypatch
):
    default = plugins.registry(kind).get(name).options()[option]
    bad = [value] if isinstance(default, (list, tuple)) else value
    part = "generator" if kind == "generators" else "discriminator"
    built = []
    monkeypatch.setattr("torch.nn.Module.__init__", lambda *a, **k: built.append(1))
    with pytest.raises(ConfigError) as caught:
        build_config("dcgan", "fashion-mnist", {part: name}, [f"{part}.{option}={bad}"])
    message = str(caught.value)
    assert message == (
        f"{part} '{name}' option '{option}' "
        + ("must have every value " if isinstance(bad, list) else "must be ")
        + f"{allowed}, got {bad!r}"
    )
    assert "\n" not in message and not built
    with pytest.raises(ConfigError, match=f"option '{option}'"):  # the Python API too
        plugins.registry(kind).create(name, **{option: bad})
    assert not built
    inside = allowed.low if not isinstance(default, (list, tuple)) else [allowed.low]
    check_ranges(name, plugins.registry(kind).get(name).load(), {option: inside})


def test_ranges_read_as_words():
    assert str(Range(1)) == ">= 1" and str(Range(1, 4096)) == "in [1, 4096]"
    assert str(Range(0, 1, high_open=True)) == "in [0, 1)"
    assert 0.999 in Range(0, 1, high_open=True) and 1 not in Range(0, 1, high_open=True)
    assert True not in Range(0) and float("nan") not in Range(0) and "3" not in Range(0)


def test_a_plugin_declares_ranges_the_same_way():
    @ranges(depth=Range(2, 8))
    def factory(depth: int = 4):
        return depth

    check_ranges("generator 'mine'", factory, {"depth": 8})
    with pytest.raises(
        ConfigError, match=r"^generator 'mine' option 'depth' must be in \[2, 8\], got 9$"
    ):
        check_ranges("generator 'mine'", factory, {"depth": 9})


def test_the_cli_says_it_in_one_line_with_exit_2(tmp_path):
    from click.testing import CliRunner

    from gan_zoo.cli import build_cli

    args = [
        "train",
        "dcgan",
        "fashion-mnist",
        "--set",
        "generator.width=0",
        "--out",
        str(tmp_path / "r"),
    ]
    out = CliRunner().invoke(build_cli(), args)
    assert out.exit_code == 2
    assert out.output == "Error: generator 'dcgan' option 'width' must be in [1, 4096], got 0\n"
    assert not (tmp_path / "r").exists()
