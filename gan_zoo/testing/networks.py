"""Conformance checks of generators and discriminators (torch is imported inside each check).

Every check builds the entry through its registry entry (:func:`gan_zoo.plugin_check.
build_network`: small widths, the author's options) and fails with an ``AssertionError`` whose
message names the entry and says what to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..contracts import (
    DISCRIMINATOR,
    GENERATOR,
    check_discriminator_output,
    check_generator_output,
    describe_entry,
    takes_truncation_psi,
)
from ..plugin_check import BATCH, CLASSES, Z_DIM, build_network, smallest
from ..registry import Entry


def _inputs(entry: Entry, size: int, channels: int, seed: int = 1) -> Any:
    """Latents (B, Z) for a generator, images (B, C, H, W) in [-1, 1] for a discriminator."""
    import torch

    g = torch.Generator().manual_seed(seed)
    if entry.kind == "generators":
        return torch.randn(BATCH, Z_DIM, generator=g)
    return torch.rand(BATCH, channels, size, size, generator=g) * 2 - 1


def _check_output(net: Any, entry: Entry, out: Any, size: int, channels: int) -> None:
    if entry.kind == "generators":
        check_generator_output(net, out, BATCH, size, channels)
    else:
        check_discriminator_output(net, out, BATCH)


def _check_attributes(net: Any, entry: Entry, size: int, channels: int, labels: Any) -> None:
    who = describe_entry(net, entry.kind[:-1])
    expected = {
        "image_size": size,
        "channels": channels,
        "num_classes": CLASSES if labels is not None else 0,
    }
    if entry.kind == "generators":
        expected["z_dim"] = Z_DIM
    for attribute, value in expected.items():
        got = getattr(net, attribute, None)
        if entry.kind == "discriminators" and got is None:
            continue  # the contract asks discriminators for no attributes
        assert got == value, (
            f"{who} built with {attribute}={value} has {attribute} = {got!r}; it must record "
            "the factory argument"
        )


def check_forward(entry: Entry, options: dict[str, Any], size: int, channels: int) -> None:
    """The contract at one declared size and channel count in eval mode (as the trainer checks
    it before training); in training mode the same shapes, and a backward pass that gives every
    parameter a finite gradient (DDP needs every parameter used)."""
    import torch

    torch.manual_seed(0)
    net, labels = build_network(entry, size, channels, options)
    who = describe_entry(net, entry.kind[:-1])
    _check_attributes(net, entry, size, channels, labels)
    x = _inputs(entry, size, channels)
    net.eval()
    with torch.no_grad():
        if entry.kind == "generators":  # the contract check the trainer and load run
            GENERATOR.check(net, "run", batch=BATCH, image_size=size, channels=channels)
        else:
            DISCRIMINATOR.check(net, "run", images=x, labels=labels)
        if entry.kind == "generators":
            _check_truncation_psi(net, who, x, labels)
    net.train()
    out = net(x, labels)
    expected = (BATCH, channels, size, size) if entry.kind == "generators" else (BATCH,)
    assert tuple(out.shape) == expected, (
        f"{who} in training mode returned shape {tuple(out.shape)}; expected {expected}"
    )
    assert out.dtype == torch.float32, f"{who} returned {out.dtype} in fp32"
    (out.square().mean() if entry.kind == "generators" else out.sum()).backward()
    unused = [n for n, p in net.named_parameters() if p.requires_grad and p.grad is None]
    assert not unused, f"{who}: parameters {unused[:3]} get no gradient from a forward pass"
    bad = [
        n for n, p in net.named_parameters() if p.grad is not None and not p.grad.isfinite().all()
    ]
    assert not bad, f"{who}: parameters {bad[:3]} get non-finite gradients"


def _check_truncation_psi(net: Any, who: str, z: Any, labels: Any) -> None:
    """For a generator whose forward takes ``truncation_psi`` (what ``gan-zoo generate --psi``
    passes): psi 1 changes nothing, and psi 0 draws the one average image for every latent."""
    import torch

    if not takes_truncation_psi(net):
        return
    plain = net(z, labels)
    torch.testing.assert_close(
        net(z, labels, truncation_psi=1.0),
        plain,
        msg=lambda m: f"{who}: truncation_psi=1.0 must change nothing in eval mode: {m}",
    )
    average = net(z, labels, truncation_psi=0.0)  # (B, C, H, W)
    if labels is None:  # a conditional generator may keep one average per class
        torch.testing.assert_close(
            average,
            average[:1].expand_as(average),
            msg=lambda m: (
                f"{who}: truncation_psi=0.0 must map every latent to the average image "
                f"(w = w_avg + psi * (w - w_avg)) in eval mode: {m}"
            ),
        )


def check_moves(entry: Entry, options: dict[str, Any]) -> None:
    """``.to(torch.float64)`` and back, and ``.to("cpu")``: the network moves every tensor it
    holds (parameters and buffers), and computes in the dtype it was moved to."""
    import torch

    size, channels = smallest(entry)
    torch.manual_seed(0)
    net, labels = build_network(entry, size, channels, options)
    who = describe_entry(net, entry.kind[:-1])
    net.eval()
    x = _inputs(entry, size, channels)
    with torch.no_grad():
        before = net(x, labels)
        moved = net.to(torch.float64)
        assert moved is net, f"{who}: .to() must return the module itself"
        out64 = net(x.double() if x.is_floating_point() else x, labels)
        _check_output(net, entry, out64, size, channels)
        assert out64.dtype == torch.float64, (
            f"{who} moved to float64 returned {out64.dtype}; create tensors with the input's "
            "dtype (torch.zeros(..., dtype=x.dtype)) and register them as buffers"
        )
        net.to(torch.float32).to("cpu")
        stale = [
            n
            for n, t in [*net.named_parameters(), *net.named_buffers()]
            if t.is_floating_point() and t.dtype != torch.float32
        ]
        assert not stale, f"{who}: tensors {stale[:3]} did not move back to float32"
        after = net(x, labels)
    torch.testing.assert_close(
        after,
        before,
        rtol=1e-5,
        atol=1e-6,
        msg=lambda m: f"{who} computes other values after .to(float64) and back: {m}",
    )


def check_safetensors(entry: Entry, options: dict[str, Any], folder: Path) -> None:
    """The state dict goes through a real safetensors file, as gan-zoo's checkpoints write
    and load it, into a freshly built network that then computes exactly the same."""
    import torch

    from ..checkpoint.weights import load_weights, read_safetensors
    from ..safe_io import atomic_write_bytes, safetensors_bytes

    size, channels = smallest(entry)
    torch.manual_seed(0)
    net, labels = build_network(entry, size, channels, options)
    who = describe_entry(net, entry.kind[:-1])
    net.train()
    with torch.no_grad():  # one training-mode pass updates running statistics
        net(_inputs(entry, size, channels, seed=2), labels)
    path = folder / f"{entry.kind[:-1]}.safetensors"
    atomic_write_bytes(path, safetensors_bytes(net.state_dict(), {"entry": entry.qualified_name}))
    tensors, _ = read_safetensors(path)
    torch.manual_seed(123)  # another initialisation, buffers included
    copy, _ = build_network(entry, size, channels, options)
    load_weights(copy, tensors, str(path), who)
    net.eval(), copy.eval()
    x = _inputs(entry, size, channels)
    with torch.no_grad():
        torch.testing.assert_close(
            copy(x, labels),
            net(x, labels),
            rtol=0,
            atol=0,
            msg=lambda m: (
                f"{who} loaded from safetensors computes other values (state kept outside "
                f"parameters and buffers?): {m}"
            ),
        )
