"""Fingerprint the checkpoints that tiny trainings write, to compare two versions of gan-zoo.

Trains tiny dcgan, cgan and wgan-gp runs on a fixed random Fashion-MNIST-format folder with
EMA on and a checkpoint every 3 steps; resumes each to more steps; starts a run from each with
``init``; samples each with ``gan_zoo.load``. Prints one ``sha256  path`` line per file under
``checkpoints/`` and per sample batch. ``training-state.json`` and ``README.md`` record the
wall-clock training time (``elapsed_seconds``; the card's "training time" and "throughput"), so
they are hashed with those fields blanked. A ``.safetensors`` header's ``__metadata__`` map is
written in an order that changes from process to process (the safetensors library keeps it in a
Rust HashMap), so a weights file is hashed as its header with sorted keys plus its data bytes,
exactly as written. For the same reason the sha256 of the ``init`` source's
``generator.safetensors`` (``config.json``'s ``init.generator_sha256``) and the config hash built
from that record change from process to process; in the runs started with ``init`` both are
replaced by a placeholder wherever they appear (config.json, headers, card; the card's YAML
quotes a hash that looks like a number, so the quotes go too). Every other file is
hashed as written.

Run it with the ``gan_zoo`` to fingerprint first on the path, and the same ``OUT_DIR`` for both
versions (config records and headers name the run and data folders; ``OUT_DIR`` is emptied)::

    PYTHONPATH=. python scripts/checkpoint_fingerprint.py /tmp/fingerprint > before.txt

``--weights-only`` compares what training computed across versions whose records differ (a new
config field changes config.json, the card and every header's ``__metadata__``): it hashes each
``.safetensors`` file's tensors (names, dtypes, shapes and data bytes, not ``__metadata__``), the
samples, and the numbers each run logged to ``metrics.jsonl`` (losses, accuracies, learning
rates; not times or speeds), and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import struct
import sys
from pathlib import Path

import gan_zoo
from gan_zoo.testing import write_idx

TINY = ["generator.width=8", "discriminator.width=8"]


def make_data(folder: Path) -> Path:
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", 128), ("t10k", 64)):
        pixels = bytes(rng.randrange(256) for _ in range(n * 28 * 28))
        write_idx(folder / f"{prefix}-images-idx3-ubyte", pixels, (n, 28, 28))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", bytes(i % 10 for i in range(n)), (n,))
    return folder


def volatile_values(run: Path) -> list[str]:
    """The init source's file hash and the config hash in ``run`` (see the module docstring)."""
    record = json.loads((run / "config.json").read_text())
    header = header_of(
        (run / "checkpoints" / "step-0000003" / "generator.safetensors").read_bytes()
    )
    return [record["init"]["generator_sha256"], header[0]["__metadata__"]["config_hash"]]


def header_of(data: bytes) -> tuple[dict, bytes]:
    size = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + size]), data[8 + size :]


def digest(path: Path, volatile: list[str]) -> str:
    data = path.read_bytes()
    for value in volatile:
        if path.suffix != ".safetensors":
            data = data.replace(value.encode(), b"<volatile>")
    # The card's YAML quotes a hash only when it could be read as a number (e.g. "0123e4...").
    data = data.replace(b'"<volatile>"', b"<volatile>")
    if path.suffix == ".safetensors":
        header, tensors = header_of(data)
        text = json.dumps(header, sort_keys=True)
        for value in volatile:
            text = text.replace(value, "<volatile>")
        data = text.encode() + tensors
    elif path.name == "training-state.json":
        doc = json.loads(data)
        doc["state"]["elapsed_seconds"] = None
        data = json.dumps(doc, indent=2).encode()
    elif path.name == "README.md":  # the card prints the training time and the throughput
        text = data.decode()
        text = re.sub(r"(training time\s*\|?)[^\n]*", r"\1", text)
        text = re.sub(r"(throughput\s*\|?)[^\n]*", r"\1", text)
        data = text.encode()
    return hashlib.sha256(data).hexdigest()


def tensors_digest(path: Path) -> str:
    header, tensors = header_of(path.read_bytes())
    header.pop("__metadata__", None)
    return hashlib.sha256(json.dumps(header, sort_keys=True).encode() + tensors).hexdigest()


def metrics_digest(path: Path) -> str:
    """The logged numbers of a run: every key of metrics.jsonl except times and speeds."""
    timing = re.compile(r"time|img_s|img/s|per_s|seconds|elapsed|throughput|it_s")
    rows = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        rows.append({k: v for k, v in sorted(record.items()) if not timing.search(k)})
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def main(out: Path, weights_only: bool = False) -> None:
    shutil.rmtree(out, ignore_errors=True)
    data = make_data(out / "fashion-mnist")
    common = dict(
        data_dir=str(data),
        batch_size=16,
        device="cpu",
        log_every=2,
        ema=0.9,
        checkpoint_every=3,
        keep=0,
        progress="quiet",
    )
    lines = []
    for model in ("dcgan", "cgan", "wgan-gp"):
        run = out / model
        gan_zoo.train(model, "fashion-mnist", overrides=TINY, steps=6, out=str(run), **common)
        gan_zoo.train(resume=str(run), steps=10, progress="quiet")
        init = out / f"{model}-init"
        gan_zoo.train(
            model,
            "fashion-mnist",
            overrides=TINY,
            steps=3,
            out=str(init),
            init=str(run / "checkpoints" / "step-0000006"),
            **common,
        )
        for folder, volatile in ((run, []), (init, volatile_values(init))):
            for path in sorted((folder / "checkpoints").rglob("*")):
                if not path.is_file():
                    continue
                if not weights_only:
                    lines.append(f"{digest(path, volatile)}  {path.relative_to(out)}")
                elif path.suffix == ".safetensors":
                    lines.append(f"{tensors_digest(path)}  {path.relative_to(out)}")
            if weights_only:
                metrics = folder / "metrics.jsonl"
                lines.append(f"{metrics_digest(metrics)}  {metrics.relative_to(out)}")
            g = gan_zoo.load(folder)
            images = g.sample(5, seed=1, batch_size=2).numpy().tobytes()
            lines.append(f"{hashlib.sha256(images).hexdigest()}  {folder.name}: load().sample")
    print("\n".join(lines))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--weights-only"]
    main(Path(args[0]), weights_only="--weights-only" in sys.argv[1:])
