"""The plugin contract: what gan-zoo expects of every entry a plugin registers.

One module per kind, each the single home of that kind's contract: a :class:`typing.Protocol`
(PEP 544) with the required members, a ``*Defaults`` class with the optional members and what
gan-zoo assumes without them, and one ``check(obj, depth)`` that the trainer
(``TrainStep.check_contract``), ``gan_zoo.load``, ``gan-zoo plugins --check``, the conformance
kit (:mod:`gan_zoo.testing`) and the generated docs (``docs/plugins.md``) all use. Core code
reads required members directly and optional ones through :meth:`Contract.get`, so a plugin
object that subclasses none of gan-zoo's classes works.

Shapes: ``B`` batch, ``C`` channels (1 or 3), ``H = W`` image size, ``Z`` ``z_dim``.

Importing this package does not import torch.
"""

from __future__ import annotations

from ..config import Preset
from . import dataset, discriminator, generator, loss, metric, preset
from .common import Contract, ContractError, Depth, describe_entry
from .dataset import Dataset, DatasetFactory
from .discriminator import Discriminator, DiscriminatorFactory, check_discriminator_output
from .generator import Generator, GeneratorFactory, check_generator_output, takes_truncation_psi
from .loss import Loss, LossDefaults, check_loss_value
from .metric import Metric, MetricDefaults, MetricFactory

__all__ = [
    "CONTRACTS",
    "DATASET",
    "DISCRIMINATOR",
    "GENERATOR",
    "LOSS",
    "METRIC",
    "PRESET",
    "Contract",
    "ContractError",
    "Dataset",
    "DatasetFactory",
    "Depth",
    "Discriminator",
    "DiscriminatorFactory",
    "Generator",
    "GeneratorFactory",
    "Loss",
    "LossDefaults",
    "Metric",
    "MetricDefaults",
    "MetricFactory",
    "Preset",
    "check_discriminator_output",
    "check_generator_output",
    "check_loss_value",
    "describe_entry",
    "takes_truncation_psi",
]

GENERATOR = generator.CONTRACT
"""The generator contract (:class:`Generator`): ``GENERATOR.check(obj)``, ``GENERATOR.get``."""
DISCRIMINATOR = discriminator.CONTRACT
"""The discriminator contract (:class:`Discriminator`)."""
LOSS = loss.CONTRACT
"""The loss contract (:class:`Loss`, defaults in :class:`LossDefaults`)."""
DATASET = dataset.CONTRACT
"""The dataset contract (:class:`Dataset`)."""
METRIC = metric.CONTRACT
"""The metric contract (:class:`Metric`, defaults in :class:`MetricDefaults`)."""
PRESET = preset.CONTRACT
"""The preset contract (:class:`Preset`)."""
CONTRACTS: dict[str, Contract] = {
    c.registry: c for c in (GENERATOR, DISCRIMINATOR, LOSS, DATASET, METRIC, PRESET)
}
"""Every kind's contract, by the registry its entries live in (``"metrics"``), in docs order."""
