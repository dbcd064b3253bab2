"""gan-zoo's conformance kit on this distribution: every entry it registers keeps the plugin
contract (networks at 32 and 64 px, 1 and 3 channels; the loss; both presets trained two steps
in fp32 and bf16 through gan-zoo's TrainStep), at the tiny widths of the other tests."""

from conftest import DISTRIBUTION, TINY_D, TINY_G

from gan_zoo.testing import conformance

test_conformance = conformance(
    DISTRIBUTION,
    options={"generators": {"stylegan2": TINY_G}, "discriminators": {"stylegan2": TINY_D}},
)
