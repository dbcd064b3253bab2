"""Every registered generator and discriminator, at every size and channel count it declares.

Parametrized over the registries (timm's ``tests/unit/models/test_models.py``): a new entry is
tested the moment it is registered. Widths are shrunk to keep the CPU tests fast.
"""

from __future__ import annotations

import pytest
import torch
from helpers import check_documented
from torch import nn

from gan_zoo import create_discriminator, create_generator, plugins
from gan_zoo.errors import GanZooError

#: Sizes and channels tried for entries that declare "any".
ANY_SIZES, ANY_CHANNELS = (28, 32), (1, 3)
Z_DIM, CLASSES, BATCH = 16, 3, 2


def _cases(kind: str) -> list:
    cases = []
    for entry in plugins.registry(kind):
        for size in entry.supports.image_sizes or ANY_SIZES:
            for channels in entry.supports.channels or ANY_CHANNELS:
                cases.append(
                    pytest.param(
                        entry.name, size, channels, id=f"{entry.name}-{size}px-{channels}ch"
                    )
                )
    return cases


def _build(kind: str, name: str, size: int, channels: int) -> tuple[nn.Module, torch.Tensor | None]:
    entry = plugins.registry(kind).get(name)
    options = {"image_size": size, "channels": channels}
    if kind == "generators":
        options["z_dim"] = Z_DIM
    if "width" in entry.options():
        options["width"] = 8
    if "hidden" in entry.options():
        options["hidden"] = [32, 16]
    labels = None
    if entry.supports.conditional:
        options["num_classes"] = CLASSES
        labels = torch.arange(BATCH) % CLASSES
    return entry.create(**options), labels


@pytest.mark.parametrize(("name", "size", "channels"), _cases("generators"))
def test_generator_output_and_backward(name, size, channels):
    torch.manual_seed(0)
    G, labels = _build("generators", name, size, channels)
    assert (G.z_dim, G.image_size, G.channels) == (Z_DIM, size, channels)
    assert G.num_classes == (CLASSES if labels is not None else 0)
    images = G(torch.randn(BATCH, Z_DIM), labels)
    assert images.shape == (BATCH, channels, size, size)
    assert images.dtype == torch.float32
    assert images.abs().max() <= 1.0
    images.square().mean().backward()
    for pname, p in G.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize(("name", "size", "channels"), _cases("discriminators"))
def test_discriminator_output_and_backward(name, size, channels):
    torch.manual_seed(0)
    D, labels = _build("discriminators", name, size, channels)
    assert (D.image_size, D.channels) == (size, channels)
    assert D.num_classes == (CLASSES if labels is not None else 0)
    x = torch.rand(BATCH, channels, size, size, requires_grad=True) * 2 - 1
    logits = D(x, labels)
    assert logits.shape == (BATCH,)
    logits.sum().backward()
    for pname, p in D.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize("kind", ["generators", "discriminators"])
def test_unsupported_size_is_a_one_line_error(kind):
    for entry in plugins.registry(kind):
        if not entry.supports.image_sizes:
            continue
        options = {"image_size": 100, "channels": 1}
        if entry.supports.conditional:
            options["num_classes"] = CLASSES
        with pytest.raises(GanZooError, match="not 100") as info:
            entry.create(**options)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("kind", ["generators", "discriminators"])
def test_conditional_networks_need_labels(kind):
    for entry in plugins.registry(kind).list(conditional=True):
        net, labels = _build(kind, entry.name, entry.supports.image_sizes[0], 1)
        x = (
            torch.randn(BATCH, Z_DIM)
            if kind == "generators"
            else torch.randn(BATCH, 1, net.image_size, net.image_size)
        )
        with pytest.raises(GanZooError, match="needs labels"):
            net(x, None)


def test_there_are_conditional_networks():
    assert plugins.registry("generators").names(conditional=True)
    assert plugins.registry("discriminators").names(conditional=True)


def test_unknown_activation_suggests_the_right_name():
    with pytest.raises(GanZooError, match="did you mean 'leaky-relu'"):
        create_generator("dcgan", activation="leakyrelu")
    with pytest.raises(GanZooError, match="choose from: batch, layer, none"):
        create_discriminator("dcgan", norm="instance")


# The PyTorch reference DCGAN (pytorch/examples/dcgan/main.py, ngf = ndf = 64, nz = 100,
# nc = 3), written out layer by layer; the reference D ends in a Sigmoid that our BCE applies.
REFERENCE_G = [
    ("ConvTranspose2d", 100, 512, 4, 1, 0),
    ("BatchNorm2d", 512),
    ("ReLU",),
    ("ConvTranspose2d", 512, 256, 4, 2, 1),
    ("BatchNorm2d", 256),
    ("ReLU",),
    ("ConvTranspose2d", 256, 128, 4, 2, 1),
    ("BatchNorm2d", 128),
    ("ReLU",),
    ("ConvTranspose2d", 128, 64, 4, 2, 1),
    ("BatchNorm2d", 64),
    ("ReLU",),
    ("ConvTranspose2d", 64, 3, 4, 2, 1),
    ("Tanh",),
]
REFERENCE_D = [
    ("Conv2d", 3, 64, 4, 2, 1),
    ("LeakyReLU", 0.2),
    ("Conv2d", 64, 128, 4, 2, 1),
    ("BatchNorm2d", 128),
    ("LeakyReLU", 0.2),
    ("Conv2d", 128, 256, 4, 2, 1),
    ("BatchNorm2d", 256),
    ("LeakyReLU", 0.2),
    ("Conv2d", 256, 512, 4, 2, 1),
    ("BatchNorm2d", 512),
    ("LeakyReLU", 0.2),
    ("Conv2d", 512, 1, 4, 1, 0),
]


def _describe(layer: nn.Module) -> tuple:
    name = type(layer).__name__
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        assert layer.bias is None and layer.output_padding == (0, 0) and layer.dilation == (1, 1)
        return (
            name,
            layer.in_channels,
            layer.out_channels,
            layer.kernel_size[0],
            layer.stride[0],
            layer.padding[0],
        )
    if isinstance(layer, nn.BatchNorm2d):
        return (name, layer.num_features)
    if isinstance(layer, nn.LeakyReLU):
        return (name, layer.negative_slope)
    return (name,)


def test_dcgan_64_is_the_pytorch_reference_layer_by_layer():
    G = create_generator("dcgan", z_dim=100, image_size=64, channels=3, width=64)
    D = create_discriminator("dcgan", image_size=64, channels=3, width=64)
    assert [_describe(m) for m in G.net] == REFERENCE_G
    assert [_describe(m) for m in D.net] == REFERENCE_D
    assert sum(p.numel() for p in G.parameters()) == 3_576_704
    assert sum(p.numel() for p in D.parameters()) == 2_765_568
    # The reference's initialisation: conv weights N(0, 0.02), BatchNorm scales N(1, 0.02).
    conv = G.net[3].weight
    assert abs(conv.mean().item()) < 1e-3 and abs(conv.std().item() - 0.02) < 1e-3
    bn = D.net[3].weight
    assert abs(bn.mean().item() - 1.0) < 0.01 and abs(bn.std().item() - 0.02) < 0.01


def test_dcgan_keeps_its_original_keywords_and_28px_default():
    G = create_generator("dcgan", z_dim=100, image_size=28, channels=1, width=64)
    D = create_discriminator("dcgan", image_size=28, channels=1, width=64)
    assert G(torch.randn(2, 100)).shape == (2, 1, 28, 28)
    assert [_describe(m)[0] for m in D.net][-1] == "Conv2d" and D.net[-1].kernel_size == (7, 7)


def test_dcgan_128_is_a_dense_8x8x512_start_to_128px():
    G = create_generator("dcgan-128", z_dim=100, channels=1)
    assert G.stem[0].out_features == 8 * 8 * 512
    assert G(torch.randn(2, 100)).shape == (2, 1, 128, 128)


def test_spectral_norm_option_normalizes_every_layer():
    from torch.nn.utils import parametrize

    for entry in plugins.registry("discriminators"):
        if "spectral_norm" not in entry.options():
            continue
        size = entry.supports.image_sizes[0] if entry.supports.image_sizes else 28
        options = {"image_size": size, "channels": 1, "spectral_norm": True}
        options.update({"num_classes": CLASSES} if entry.supports.conditional else {})
        D = entry.create(**options)
        layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers), entry.name


def test_critic_without_batchnorm():
    D = create_discriminator("dcgan", norm="none")
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    D = create_discriminator("dcgan", image_size=32, norm="layer")
    assert any(isinstance(m, nn.GroupNorm) for m in D.modules())


def test_options_from_json_lists_work():
    G = create_generator("mlp", hidden=[64, 32], batch_norm=True)
    assert [m.out_features for m in G.net if isinstance(m, nn.Linear)] == [64, 32, 784]


def test_conv_generator_of_the_write_up_has_three_transposed_convs_and_a_tanh_conv():
    G = create_generator("dcgan-dense", activation="relu", final_conv=True)
    kinds = [type(m).__name__ for m in G.net]
    assert kinds.count("ConvTranspose2d") == 3 and kinds[-2:] == ["Conv2d", "Tanh"]
    assert "ReLU" in kinds and "LeakyReLU" not in kinds


@pytest.mark.parametrize(
    ("kind", "page"), [("generators", "generators.md"), ("discriminators", "discriminators.md")]
)
def test_every_network_and_option_is_documented(kind, page):
    check_documented(kind, page)


def test_projection_discriminator_with_the_resnet_trunk():
    D = create_discriminator(
        "projection", image_size=32, channels=3, num_classes=CLASSES, width=8, trunk="resnet"
    )
    logits = D(torch.rand(BATCH, 3, 32, 32), torch.tensor([0, 2]))
    assert logits.shape == (BATCH,)
    assert not hasattr(D.trunk, "head")


def test_projection_uses_the_label():
    torch.manual_seed(0)
    D = create_discriminator("projection", num_classes=CLASSES, width=8)
    x = torch.rand(1, 1, 28, 28).repeat(2, 1, 1, 1)
    logits = D(x, torch.tensor([0, 1]))
    assert logits[0] != logits[1]


def test_plugin_modules_do_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys; import gan_zoo.models, gan_zoo.losses; from gan_zoo import plugins; "
        "[plugins.registry(k).names() "
        "for k in ('models', 'generators', 'discriminators', 'losses')]; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
