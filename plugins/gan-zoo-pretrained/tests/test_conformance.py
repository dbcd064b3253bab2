"""Every shipped tag passes gan-zoo's conformance kit: its folder loads (weights against config)
and holds no optimizer state. With no tags shipped there is nothing to check."""

from gan_zoo.testing import conformance

test_conformance = conformance("gan-zoo-pretrained")
