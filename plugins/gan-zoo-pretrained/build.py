"""Add a pretrained tag to gan-zoo-pretrained from a finished run.

    python plugins/gan-zoo-pretrained/build.py RUN_DIR TAG [--checkpoint best|latest|step-N]
        [--description TEXT] [--force]

Copies from the run's checkpoint (``checkpoints/best`` when the run tracked a metric, else
``latest``) only what sampling needs into ``gan_zoo_pretrained/weights/<TAG>/``: the EMA
generator's ``generator.safetensors``, ``config.json``, ``metrics.json`` (when evaluated) and the
model card ``README.md``; never the discriminator or the optimizer state. The copy is checked to
load (every tensor name and shape against its config) before it replaces anything, then the tag
is added to ``gan_zoo_pretrained/tags.json``. Errors are one line and exit code 2.

Not part of the installed package: it runs from a checkout, with gan-zoo installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent / "gan_zoo_pretrained"
SHIPPED = ("generator.safetensors", "config.json", "metrics.json", "README.md")
REQUIRED = ("generator.safetensors", "config.json", "README.md")
TAG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$")


class BuildError(Exception):
    """A one-line problem with the arguments or the run."""


def pick_checkpoint(run: Path, which: str | None) -> Path:
    from gan_zoo.checkpoint.hub import find_checkpoint

    if which is None:
        which = "best" if (run / "checkpoints" / "best").exists() else "latest"
    return find_checkpoint(run, which)


def build(
    run: Path,
    tag: str,
    *,
    checkpoint: str | None = None,
    description: str | None = None,
    force: bool = False,
    package: Path = PACKAGE,
) -> Path:
    """Copy the tag's files from ``run`` into ``package/weights/tag``; returns that folder."""
    import gan_zoo
    from gan_zoo.checkpoint import read_metadata

    if not TAG.match(tag):
        raise BuildError(
            f"tag '{tag}' must be <preset>.<dataset> in lower-case letters, digits and "
            "hyphens (e.g. dcgan.fashion-mnist)"
        )
    target = package / "weights" / tag
    if target.exists() and not force:
        raise BuildError(f"{target} exists; pass --force to replace tag '{tag}'")
    ckpt = pick_checkpoint(Path(run), checkpoint)
    missing = [name for name in REQUIRED if not (ckpt / name).is_file()]
    if missing:
        raise BuildError(f"{ckpt} has no {', '.join(missing)}; it is not a complete checkpoint")
    meta = read_metadata(ckpt / "generator.safetensors")
    record = json.loads((ckpt / "config.json").read_text(encoding="utf-8"))
    (package / "weights").mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{tag}.", dir=package / "weights"))
    staging.chmod(0o755)  # mkdtemp's 0700 would follow the folder into the package
    try:
        for name in SHIPPED:
            if (ckpt / name).is_file():
                shutil.copyfile(ckpt / name, staging / name)
        make_portable(staging)  # a run of an older gan-zoo may name its machine's folders
        gan_zoo.load(staging, device="cpu")  # the copy loads: names, shapes, contract
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    weights = "EMA generator" if meta.get("ema") == "true" else "generator (no EMA in this run)"
    entry = {
        "description": description
        or f"{record.get('model')} trained on {record.get('dataset')}: "
        f"{weights} after {meta.get('step', '?')} steps (gan-zoo {record.get('gan_zoo_version')}).",
        "checkpoint": ckpt.name,
        "generator_sha256": hashlib.sha256(
            (target / "generator.safetensors").read_bytes()
        ).hexdigest(),
    }
    write_tags(package, {**read_tags(package), tag: entry})
    return target


def make_portable(folder: Path) -> bool:
    """Drop a machine path from the ``out`` of a tag folder's config.json, model card and
    generator header (``gan_zoo.config.portable_out``: relative, or null), with the config hash
    recomputed; the tensors' bytes are kept as they are (only the header is rewritten). True
    when something changed. Runs of gan-zoo 0.1.0 before this fix recorded ``--out`` as given."""
    from gan_zoo.checkpoint.record import record_hash
    from gan_zoo.config import portable_out

    config_file = folder / "config.json"
    record = json.loads(config_file.read_text(encoding="utf-8"))
    old = record.get("out")
    if old == portable_out(old):
        return False
    record["out"] = portable_out(old)
    config_file.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    card = folder / "README.md"
    shown = "null" if record["out"] is None else record["out"]
    text = card.read_text(encoding="utf-8")
    text = text.replace(f"  out: {json.dumps(old)}\n", f"  out: {shown}\n")
    text = text.replace(f"| `out` | `{old}` |", f"| `out` | `{shown}` |")
    card.write_text(text, encoding="utf-8")
    weights = folder / "generator.safetensors"
    blob = weights.read_bytes()
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + size])
    meta = header["__metadata__"]
    meta["config"] = json.dumps(record, separators=(",", ":"))
    meta["config_hash"] = record_hash(record)
    new = json.dumps(header, separators=(",", ":")).encode()
    new += b" " * (-len(new) % 8)  # the data stays 8-byte aligned, as safetensors writes it
    tmp = weights.with_name(".generator.safetensors.tmp")  # a new file: readers that mapped
    tmp.write_bytes(len(new).to_bytes(8, "little") + new + blob[8 + size :])  # the old keep it
    os.replace(tmp, weights)
    return True


def read_tags(package: Path) -> dict:
    path = package / "tags.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_tags(package: Path, tags: dict) -> None:
    path = package / "tags.json"
    tmp = path.with_name(".tags.json.tmp")
    tmp.write_text(json.dumps(dict(sorted(tags.items())), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="the run directory")
    parser.add_argument("tag", help="<preset>.<dataset>, e.g. dcgan.fashion-mnist")
    parser.add_argument(
        "--checkpoint", help="best, latest or step-N (default: best if any, else latest)"
    )
    parser.add_argument("--description", help="one line for 'gan-zoo list pretrained'")
    parser.add_argument("--force", action="store_true", help="replace an existing tag")
    parser.add_argument("--package", type=Path, default=PACKAGE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from gan_zoo.errors import GanZooError

    try:
        target = build(
            args.run,
            args.tag,
            checkpoint=args.checkpoint,
            description=args.description,
            force=args.force,
            package=args.package,
        )
    except (BuildError, GanZooError) as exc:
        print(f"Error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in target.iterdir())
    print(
        f"Added tag {args.tag}: {', '.join(sorted(p.name for p in target.iterdir()))} "
        f"({size:,} bytes) in {target}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
