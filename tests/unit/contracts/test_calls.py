"""Core code calls only what a kind's contract declares, and optional members only through
``Contract.get`` (which supplies the default), so a plugin object that subclasses nothing of
gan-zoo's works. The test walks the AST of the core modules that hold plugin objects."""

from __future__ import annotations

import ast

import pytest
from helpers import PACKAGE

from gan_zoo.contracts import CONTRACTS

PACKAGE = PACKAGE
#: What holds a plugin object in each core module: ``{module: {expression: registry kind}}``.
PLUGIN_OBJECTS: dict[str, dict[str, str]] = {
    "evaluation.py": {
        "metric": "metrics",
        "built": "metrics",
        "dataset": "datasets",
        "reference": "datasets",
    },
    "training/scoring.py": {
        "metric": "metrics",
        "self.metric": "metrics",
        "reference": "datasets",
    },
    "training/step.py": {
        "loss": "losses",
        "self.loss": "losses",
        "source": "losses",
        "self.regularizer": "losses",
        "G": "generators",
        "D": "discriminators",
        "self.G": "generators",
        "self.D": "discriminators",
    },
    "training/loop.py": {
        "parts.loss": "losses",
        "parts.dataset": "datasets",
        "t.dataset": "datasets",
    },
    "training/build.py": {"loss": "losses", "dataset": "datasets", "D": "discriminators"},
    "training/streams.py": {"dataset": "datasets"},
    "metrics/base.py": {"dataset": "datasets", "generator": "generators"},
    "sampling.py": {"stored.net": "generators"},
}
#: Members outside a contract that core code reads on purpose, each with the reason.
ALLOWED: dict[tuple[str, str], str] = {
    ("training/build.py", "images"): "sharding for DDP needs an in-memory dataset; others are "
    "refused with one line (hasattr guard)",
    ("training/build.py", "labels"): "the same sharding",
    ("metrics/base.py", "images"): "a fast digest of an in-memory dataset (getattr, else a pass)",
    ("metrics/base.py", "files"): "a fast digest of a streaming dataset (getattr, else a pass)",
}


def violations(source: str, objects: dict[str, str], module: str = "") -> list[str]:
    """Each use of a plugin object's member that its contract does not allow, as a line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            target, name, via = ast.unparse(node.value), node.attr, "attribute"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
        ):
            target, name, via = ast.unparse(node.args[0]), node.args[1].value, node.func.id
        else:
            continue
        kind = objects.get(target)
        if kind is None or (module, name) in ALLOWED:
            continue
        contract = CONTRACTS[kind]
        where = f"{module}:{node.lineno} {target}.{name}"
        if not contract.declares(name):
            found.append(f"{where} is not in the {contract.kind} contract")
        elif name in contract.optional and via == "attribute":
            found.append(
                f"{where} is optional: read it with {contract.kind.upper()}.get(obj, '{name}')"
            )
        elif name in contract.optional and len(getattr(node, "args", ())) == 3:
            default = node.args[2]
            expected = getattr(contract.base, name)
            if not (isinstance(default, ast.Constant) and default.value == expected):
                found.append(f"{where} has default {ast.unparse(default)}, not the contract's")
    return sorted(found, key=lambda line: int(line.split(":")[1].split()[0]))


@pytest.mark.parametrize("module", sorted(PLUGIN_OBJECTS))
def test_core_calls_only_contract_members(module):
    source = (PACKAGE / module).read_text(encoding="utf-8")
    assert violations(source, PLUGIN_OBJECTS[module], module) == []


def test_a_deliberate_violation_fails():
    source = (
        "def evaluate(metric, dataset, generator):\n"
        "    metric.check_dataset(dataset)\n"  # optional, read directly: a plain metric crashes
        "    metric.prepare(generator)\n"  # in no contract
        "    getattr(metric, 'extra', None)\n"  # a default other than the contract's
        "    METRIC.get(metric, 'check_generator')(generator)\n"  # fine
        "    return metric.compute(generator, dataset, seed=0)\n"  # required: fine
    )
    found = violations(source, {"metric": "metrics", "dataset": "datasets"}, "x.py")
    assert found == [
        "x.py:2 metric.check_dataset is optional: read it with METRIC.get(obj, 'check_dataset')",
        "x.py:3 metric.prepare is not in the metric contract",
        "x.py:4 metric.extra has default None, not the contract's",
    ]
    evaluation = (PACKAGE / "evaluation.py").read_text(encoding="utf-8")
    broken = evaluation.replace(
        'METRIC.get(metric, "check_dataset")(dataset)', "metric.check_dataset(dataset)"
    )
    assert broken != evaluation and violations(
        broken, PLUGIN_OBJECTS["evaluation.py"], "evaluation.py"
    )
