"""The generic Registry: register, list with filters, unknown names, duplicates."""

import pytest

from gan_zoo.errors import DuplicateNameError, GanZooError, UnknownNameError
from gan_zoo.registry import Entry, PluginInfo, Registry, Supports

A = PluginInfo("plugin-a", "dist-a", "1.0")
B = PluginInfo("plugin-b", "dist-b", "2.0")


def entry(name, plugin=A, **supports):
    return Entry("generators", name, dict, f"{name} entry", plugin, Supports(**supports))


def make():
    reg = Registry("generators")
    reg.register(entry("dcgan", image_sizes=(28, 32, 64), channels=(1, 3)))
    reg.register(entry("mlp", image_sizes=(28,), channels=(1,)))
    reg.register(entry("cond-dcgan", image_sizes=(32,), conditional=True))
    return reg


def test_register_get_list():
    reg = make()
    assert reg.get("mlp").description == "mlp entry"
    assert reg.names() == ["cond-dcgan", "dcgan", "mlp"]
    assert reg.names("*dcgan") == ["cond-dcgan", "dcgan"]
    assert reg.names(image_size=28) == ["dcgan", "mlp"]
    assert reg.names(channels=3) == ["cond-dcgan", "dcgan"]  # no channels declared = any
    assert reg.names(conditional=True) == ["cond-dcgan"]
    assert "dcgan" in reg and len(reg) == 3


def test_unknown_name_suggests():
    with pytest.raises(UnknownNameError) as info:
        make().get("dcgna")
    message = str(info.value)
    assert message.startswith("unknown generator 'dcgna'; did you mean 'dcgan'")
    assert "\n" not in message


def test_unknown_name_without_close_match_lists_choices():
    message = str(pytest.raises(UnknownNameError, make().get, "zzz").value)
    assert "choose from: cond-dcgan, dcgan, mlp" in message


def test_a_taken_name_is_shadowed_and_reachable_by_its_qualified_name():
    reg = make()
    shadowed = reg.register(entry("dcgan", plugin=B))
    assert shadowed.shadowed and shadowed.key == "dist-b/dcgan"
    assert reg.get("dcgan").plugin is not B and reg.get("dist-b/dcgan") is shadowed
    assert [(w.plugin.distribution, s.plugin.distribution) for w, s in reg.clashes] == [
        ("dist-a", "dist-b")
    ]
    assert "dist-b/dcgan" in reg.names() and "dist-b/dcgan" in reg
    with pytest.raises(UnknownNameError, match="dist-b/dcgan"):
        reg.get("dist-b/dcgann")


def test_one_distribution_registering_a_name_twice_is_an_error():
    reg = make()
    with pytest.raises(DuplicateNameError) as info:
        reg.register(entry("dcgan"))
    assert "registered twice by dist-a" in str(info.value)


@pytest.mark.parametrize("bad", ["DCGAN", "dc_gan", "dc gan", "-dcgan", "dcgan-", ""])
def test_names_are_lower_case_with_hyphens(bad):
    with pytest.raises(GanZooError):
        Registry("generators").register(entry(bad))


def test_tagged_name_allowed():
    reg = Registry("generators")
    reg.register(entry("dcgan.fashion-mnist"))
    assert reg.names() == ["dcgan.fashion-mnist"]


def test_lazy_target_and_option_check():
    e = Entry("losses", "bce", "gan_zoo.losses.bce:BCELoss", "d", A)
    assert isinstance(e.target, str)
    assert type(e.load()).__name__ == "type"
    with pytest.raises(GanZooError, match="no option 'gamma'"):
        Entry("generators", "x", lambda width=1: width, "d", A).create(gamma=2)
    assert Entry("generators", "x", lambda width=1: width, "d", A).create(width=3) == 3


def test_supports_text():
    assert str(Supports((28, 32), (1, 3), True)) == "28, 32 px; 1/3 ch; conditional"
    assert str(Supports()) == "any"
