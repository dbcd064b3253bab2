"""The StyleGAN2 networks and layers: shapes, gradients, errors, modulated convolution against
a per-sample reference, minibatch standard deviation at any batch size, weights through
safetensors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_D, TINY_G
from gan_zoo_stylegan2.layers import downsample2d, minibatch_std, modulated_conv2d, upsample2d
from gan_zoo_stylegan2.networks import (
    CHANNELS,
    SIZES,
    StyleGAN2Discriminator,
    StyleGAN2Generator,
)
from safetensors.torch import load_file, save_file

from gan_zoo.errors import ConfigError


def tiny_pair(size: int = 32, channels: int = 1, z_dim: int = 16):
    torch.manual_seed(0)
    G = StyleGAN2Generator(z_dim=z_dim, image_size=size, channels=channels, **TINY_G)
    D = StyleGAN2Discriminator(image_size=size, channels=channels, **TINY_D)
    return G, D


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("size", SIZES)
def test_shapes_at_every_declared_size_and_channel_count(size, channels):
    G, D = tiny_pair(size, channels)
    assert (G.z_dim, G.image_size, G.channels, G.num_classes) == (16, size, channels, 0)
    assert (D.image_size, D.channels, D.num_classes) == (size, channels, 0)
    z = torch.randn(3, 16)
    fake = G(z)
    assert fake.shape == (3, channels, size, size)
    assert D(fake).shape == (3,)
    G.eval()
    with torch.no_grad():
        images = G(z * 10)  # far-out latents still give images in the contract's range
    assert images.shape == (3, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1


def test_declared_sizes_are_what_the_registry_lists():
    from gan_zoo import plugins

    for kind in ("generators", "discriminators"):
        entry = plugins.registry(kind).get("stylegan2")
        assert entry.supports.image_sizes == SIZES and entry.supports.channels == CHANNELS


def test_backward_reaches_every_parameter():
    G, D = tiny_pair()
    G.mixing_prob = 1.0  # both latents' mapping passes take part
    fake = G(torch.randn(4, 16))  # (4, 1, 32, 32)
    F.softplus(-D(fake)).mean().backward()
    for net in (G, D):
        missing = [
            n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0
        ]
        assert missing == []


@pytest.mark.parametrize("factory", [StyleGAN2Generator, StyleGAN2Discriminator])
def test_unsupported_sizes_and_channels_are_one_line_errors(factory):
    with pytest.raises(
        ConfigError,
        match=r"supports image sizes 32, 64, not 28 \(train Fashion-MNIST with --image-size 32\)$",
    ):
        factory(image_size=28)
    with pytest.raises(ConfigError, match="supports 1 or 3 image channels, not 2$"):
        factory(channels=2)
    with pytest.raises(ConfigError, match="needs channel_base >= image_size"):
        factory(image_size=64, channel_base=32)


def test_modulated_conv_equals_a_per_sample_reference():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 4, 6, 6, generator=g)  # (B, Cin, H, W)
    weight = torch.randn(5, 4, 3, 3, generator=g)  # (Cout, Cin, k, k)
    styles = torch.randn(3, 4, generator=g)  # (B, Cin)
    for demodulate in (True, False):
        expected = []
        for b in range(3):
            w = weight * styles[b].reshape(1, 4, 1, 1)  # scale each input channel
            if demodulate:
                w = w / w.square().sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()
            expected.append(F.conv2d(x[b : b + 1], w, padding=1))
        got = modulated_conv2d(x, weight, styles, demodulate=demodulate, padding=1)
        torch.testing.assert_close(got, torch.cat(expected), rtol=1e-5, atol=1e-5)


def test_demodulation_gives_unit_output_variance_for_unit_input():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 64, 16, 16, generator=g)
    out = modulated_conv2d(
        x, torch.randn(64, 64, 3, 3, generator=g), 3 * torch.rand(2, 64, generator=g)
    )
    assert out[:, :, 1:-1, 1:-1].std().item() == pytest.approx(1.0, rel=0.1)  # the paper's aim


def _reference_mbstd(x: torch.Tensor, group_size: int) -> torch.Tensor:
    """stylegan2-ada's MinibatchStdLayer (num_channels=1), valid when B % group_size == 0."""
    b, c, h, w = x.shape
    gs = min(group_size, b)
    y = x.reshape(gs, -1, 1, c, h, w)  # (G, M, 1, C, H, W)
    y = y - y.mean(dim=0)
    y = y.square().mean(dim=0)
    y = (y + 1e-8).sqrt()
    y = y.mean(dim=[2, 3, 4]).reshape(-1, 1, 1, 1)  # (M, 1, 1, 1)
    y = y.repeat(gs, 1, h, w)  # (B, 1, H, W)
    return torch.cat([x, y], dim=1)


@pytest.mark.parametrize("batch", [4, 8, 12])
def test_minibatch_std_equals_the_reference_when_the_batch_divides(batch):
    x = torch.randn(batch, 3, 4, 4, generator=torch.Generator().manual_seed(batch))
    torch.testing.assert_close(minibatch_std(x, 4), _reference_mbstd(x, 4))


@pytest.mark.parametrize("batch", [1, 2, 3, 5, 6, 7, 9, 11])
def test_minibatch_std_handles_batches_that_do_not_divide(batch):
    x = torch.randn(batch, 3, 4, 4, generator=torch.Generator().manual_seed(batch))
    out = minibatch_std(x, 4)
    assert out.shape == (batch, 4, 4, 4)
    torch.testing.assert_close(out[:, :3], x)
    n_groups = max(1, batch // 4)
    for i in range(batch):
        members = x[torch.arange(batch) % n_groups == i % n_groups]  # groups of >= min(B, 4)
        assert len(members) >= min(batch, 4)
        std = (members.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        torch.testing.assert_close(out[i, 3], std.expand(4, 4))
    if batch > 1:
        assert out[:, 3].min() > 0.1  # no lone sample with a zero deviation


def test_discriminator_takes_an_odd_batch_and_gives_second_order_gradients():
    _, D = tiny_pair()
    x = torch.randn(5, 1, 32, 32, requires_grad=True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    grad.square().sum().backward()  # R1 needs the double backward through every layer
    # Every weight: the network is piecewise linear in x except for the minibatch std, so the
    # biases behind that layer do not move the input gradient and rightly get none.
    weights = [(n, p) for n, p in D.named_parameters() if n.endswith("weight")]
    assert [n for n, p in weights if p.grad is None or not p.grad.abs().sum() > 0] == []


def test_resampling_keeps_a_constant_image_constant_inside():
    x = torch.ones(1, 2, 8, 8)
    assert upsample2d(x).shape == (1, 2, 16, 16) and downsample2d(x).shape == (1, 2, 4, 4)
    torch.testing.assert_close(upsample2d(x)[..., 2:-2, 2:-2], torch.ones(1, 2, 12, 12))
    torch.testing.assert_close(downsample2d(x)[..., 1:-1, 1:-1], torch.ones(1, 2, 2, 2))


def test_eval_is_deterministic_and_truncation_pulls_to_the_mean_w():
    G, _ = tiny_pair()
    G.train()
    for _ in range(3):
        G(torch.randn(8, 16))  # training updates the running mean of w
    assert G.mapping.w_avg.abs().sum() > 0
    G.eval()
    z = torch.randn(4, 16)
    with torch.no_grad():
        torch.testing.assert_close(G(z), G(z))  # fixed noise in eval mode
        at_mean = G(z, truncation_psi=0.0)  # every latent maps to w_avg
        torch.testing.assert_close(at_mean, at_mean[:1].expand_as(at_mean))
        assert not torch.allclose(G(z)[0], G(z)[1])
    w_avg = G.mapping.w_avg.clone()
    with torch.no_grad():
        G(torch.randn(8, 16))
    assert torch.equal(G.mapping.w_avg, w_avg)  # eval mode leaves the statistics alone


def test_weights_round_trip_through_safetensors(tmp_path):
    G, D = tiny_pair(64, 3)
    G.eval()
    G(torch.randn(2, 16))
    for net, factory, kwargs in (
        (G, StyleGAN2Generator, {"z_dim": 16, **TINY_G}),
        (D, StyleGAN2Discriminator, TINY_D),
    ):
        path = tmp_path / f"{type(net).__name__}.safetensors"
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
        torch.manual_seed(123)  # a different initialisation, noise buffers included
        copy = factory(image_size=64, channels=3, **kwargs).eval()
        copy.load_state_dict(load_file(str(path)), strict=True)
        net.eval()
        x = torch.randn(2, 16) if net is G else torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            torch.testing.assert_close(copy(x), net(x), rtol=0, atol=0)


@pytest.mark.filterwarnings("ignore")  # torch.jit.trace is deprecated and warns about tracing
@pytest.mark.parametrize("demodulate", [True, False])
def test_the_export_form_of_modulated_conv_is_the_same_function(demodulate):
    """While a graph is exported the styles scale the activations (one convolution for the
    batch) instead of the weights (one group per sample): the same function."""
    from gan_zoo_stylegan2.layers import _modulated_conv2d_per_channel

    gen = torch.Generator().manual_seed(0)
    x, weight = torch.randn(3, 5, 8, 8, generator=gen), torch.randn(4, 5, 3, 3, generator=gen)
    styles = torch.rand(3, 5, generator=gen) + 0.5
    fused = modulated_conv2d(x, weight, styles, demodulate=demodulate)
    per_channel = _modulated_conv2d_per_channel(x, weight, styles, demodulate, 1)
    assert torch.allclose(per_channel, fused, atol=1e-5)
    traced = torch.jit.trace(lambda a, s: modulated_conv2d(a, weight, s, demodulate), (x, styles))
    x5, s5 = torch.randn(5, 5, 8, 8, generator=gen), torch.rand(5, 5, generator=gen) + 0.5
    assert torch.allclose(traced(x5, s5), modulated_conv2d(x5, weight, s5, demodulate), atol=1e-5)
