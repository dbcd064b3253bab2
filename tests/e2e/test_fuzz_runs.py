"""Fuzzing: seeded random mutations of config.json, training-state.json and the generator's
safetensors metadata (wrong types, missing keys, huge numbers, nested garbage, shell-shaped
strings, non-UTF-8 bytes), thrown at ``info``, ``generate`` and ``--resume`` in-process. Every
case must succeed or be one ``Error:`` line with exit code 2; a traceback fails the case, and
its seed reproduces it."""

from __future__ import annotations

import copy
import json
import random
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from helpers import CKPT, cli_in_process

GARBAGE: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**63,
    -(2**70),
    10**400 // 10**380,
    1e308,
    -1e-308,
    0.5,
    float("nan"),
    float("inf"),
    "",
    "x",
    "dcgan",
    "'; rm -rf ~ #",
    "$(reboot)",
    "\u202e\u0000",
    "a" * 5000,
    "step-0000002",
    [],
    [1, 2],
    ["a", None],
    {},
    {"name": None},
    {"__tensor__": 5},
    {"__tensor__": "nope"},
    [[[[[[[[[[[]]]]]]]]]]],
    {"a": {"b": {"c": {"d": {}}}}},
]


def garbage(rng: random.Random) -> Any:
    value = copy.deepcopy(rng.choice(GARBAGE))  # never one object in two places
    if rng.random() < 0.2:  # nest it
        value = rng.choice([[value], {"k": value}, {"name": "dcgan", "options": {"width": value}}])
    return value


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path inside a JSON document."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:4]):
            found += paths(value, (*prefix, i))
    return found


def mutate(doc: Any, rng: random.Random) -> Any:
    """``doc`` with one to three values replaced, deleted or added."""
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths(doc))
        if not path:
            return garbage(rng) if rng.random() < 0.3 else doc
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = rng.random()
        if action < 0.6:
            parent[path[-1]] = garbage(rng)
        elif action < 0.8 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[f"extra{rng.randint(0, 9)}"] = garbage(rng)
    return doc


def raw_mutation(data: bytes, rng: random.Random) -> bytes:
    """Byte-level damage: cut short, non-UTF-8 bytes spliced in, or random bytes."""
    choice = rng.random()
    if choice < 0.4:
        return data[: rng.randint(0, len(data))]
    if choice < 0.8:
        at = rng.randint(0, len(data))
        return (
            data[:at] + bytes(rng.randint(0x80, 0xFF) for _ in range(rng.randint(1, 8))) + data[at:]
        )
    return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 256)))


def spoil_json(path: Path, rng: random.Random) -> None:
    if rng.random() < 0.2:
        path.write_bytes(raw_mutation(path.read_bytes(), rng))
    else:
        doc = mutate(json.loads(path.read_text()), rng)
        path.write_text(json.dumps(doc))


def spoil_metadata(path: Path, rng: random.Random) -> None:
    """Rewrite the safetensors header with mutated metadata; the tensor data stays valid."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    meta = header["__metadata__"]
    key = rng.choice(["config", "generator_kwargs", "class_names", "part", "step", "ema", "format"])
    if key in ("config", "generator_kwargs", "class_names") and key in meta and rng.random() < 0.7:
        inner = mutate(json.loads(meta[key]), rng)
        meta[key] = json.dumps(inner) if rng.random() < 0.9 else json.dumps(inner)[:-1]
    elif rng.random() < 0.2:
        header["__metadata__"] = garbage(rng)  # not an object of strings at all
    else:
        meta[key] = str(garbage(rng))
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])


TARGETS = ("config.json", "training-state.json", "generator.safetensors")


def spoil(run: Path, rng: random.Random) -> str:
    target = rng.choice(TARGETS)
    path = run / CKPT / target
    (spoil_metadata if target.endswith(".safetensors") else spoil_json)(path, rng)
    return target


def check(result, seed: int, what: str) -> int:
    """Success, or one ``Error:`` line with exit code 2; anything else names the seed."""
    context = f"seed {seed} ({what}): {result.output[-500:]!r} {repr(result.exception)[:300]}"
    if result.exit_code == 0:
        return 0
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), context
    lines = [line for line in result.output.splitlines() if not line.startswith("Warning: ")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), context
    return 2


@pytest.fixture
def fresh(trained, tmp_path):  # noqa: F811
    """``fresh()``: a new copy of the trained run (one per case)."""
    counter = iter(range(10**6))

    def copy() -> Path:
        run = tmp_path / f"run-{next(counter)}"
        shutil.copytree(trained, run)
        (run / ".lock").unlink(missing_ok=True)
        return run

    return copy


@pytest.mark.parametrize("block", range(4))
def test_fuzz_info_and_generate(fresh, tmp_path, block):
    codes = []
    for seed in range(block * 60, block * 60 + 60):
        rng = random.Random(seed)
        run = fresh()
        what = spoil(run, rng)
        codes.append(check(cli_in_process("info", run, "--json"), seed, f"info after {what}"))
        out = tmp_path / f"g{seed}.png"
        codes.append(
            check(
                cli_in_process("generate", run, "--n", 2, "--out", out),
                seed,
                f"generate after {what}",
            )
        )
        shutil.rmtree(run)
    assert 0 in codes and 2 in codes, "the mutations should reach both outcomes"


@pytest.mark.parametrize("block", range(3))
def test_fuzz_resume(fresh, data_dir, block):  # noqa: F811
    codes = []
    for seed in range(1000 + 40 * block, 1040 + 40 * block):
        rng = random.Random(seed)
        run = fresh()
        what = spoil(run, rng)
        result = cli_in_process(
            "train",
            "--resume",
            run,
            "--steps",
            3,
            "--data-dir",
            data_dir,
            "--device",
            "cpu",
            "--quiet",
        )
        codes.append(check(result, seed, f"resume after {what}"))
        shutil.rmtree(run)
    assert 0 in codes and 2 in codes, "the mutations should reach both outcomes"


SET_KEYS = [
    "seed",
    "steps",
    "epochs",
    "batch_size",
    "z_dim",
    "image_size",
    "channels",
    "n_critic",
    "ema",
    "ema_warmup",
    "precision",
    "device",
    "lr_decay",
    "lr_decay_every",
    "keep",
    "log_every",
    "g_optim.lr",
    "g_optim.betas",
    "d_optim.weight_decay",
    "generator",
    "generator.width",
    "generator.activation",
    "discriminator.norm",
    "discriminator.spectral_norm",
    "loss",
    "loss.gp_weight",
    "regularizer",
    "regularizer.gamma",
    "augment",
    "eval_metric",
    "eval_samples",
    "compile_mode",
    "license",
    "dataset_options.split",
    "nope",
    "g_optim.nope",
    "generator.options",
    "generator.width.x",
]
SET_VALUES = [
    "0",
    "-1",
    "1",
    "2**70",
    "1180591620717411303424",
    "1e999",
    "-1e-300",
    "0.5",
    "1.5",
    "nan",
    "true",
    "null",
    "none",
    "abc",
    "[0.5]",
    "[0.5, 0.9]",
    "[1.5, 0.9]",
    "[]",
    "{}",
    '{"a": 1}',
    "dcgan",
    "hinge",
    "r1",
    "bf16",
    "linear",
    "'; rm -rf ~",
    "",
    "=",
    "x" * 300,
]


def test_random_set_overrides_are_accepted_or_one_line(monkeypatch):
    """Random ``--set key=value`` combinations go through the one validation path the CLI and
    the Python API share: a valid config or a GanZooError, never another exception."""
    from gan_zoo.errors import GanZooError
    from gan_zoo.training import resolve

    rng = random.Random(20261202)
    outcomes = {"ok": 0, "error": 0}
    for case in range(400):
        sets = [
            f"{rng.choice(SET_KEYS)}={rng.choice(SET_VALUES)}" for _ in range(rng.randint(1, 3))
        ]
        try:
            resolve.build_config("dcgan", "fashion-mnist", {}, sets)
            outcomes["ok"] += 1
        except GanZooError as exc:
            assert "\n" not in str(exc), (case, sets, str(exc))
            outcomes["error"] += 1
        except Exception as exc:  # pragma: no cover - the failure this test exists to catch
            raise AssertionError(f"case {case} {sets}: {type(exc).__name__}: {exc}") from exc
    assert outcomes["ok"] > 10 and outcomes["error"] > 100, outcomes
