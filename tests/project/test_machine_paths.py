"""No shipped or pushed file names the machine that trained it: the pretrained tags of
plugins/gan-zoo-pretrained and a folder staged by ``gan-zoo push`` are scanned for absolute
paths and the user's name (config.json, the model card, metrics.json and every safetensors
header's metadata)."""

from __future__ import annotations

import getpass
import json
import re
from pathlib import Path

import pytest
from helpers import ROOT, TINY

import gan_zoo
from gan_zoo.checkpoint import hub
from gan_zoo.testing.data import write_fashion_mnist

TAGS = ROOT / "plugins" / "gan-zoo-pretrained" / "gan_zoo_pretrained" / "weights"
MARKERS = ("/root", "/home/", "/work/", "/tmp/", "/Users/", "C:\\", "C:/")


def readable_text(path: Path) -> str:
    """What a reader of ``path`` sees: its text, or a safetensors file's JSON header."""
    data = path.read_bytes()
    if path.suffix == ".safetensors":
        size = int.from_bytes(data[:8], "little")
        return json.dumps(json.loads(data[8 : 8 + size]))  # metadata values as stored
    return data.decode("utf-8")


def machine_names(folder: Path) -> list[str]:
    """``file: marker`` for each machine path or user name found in ``folder``'s files."""
    user = re.escape(getpass.getuser())
    own = re.compile(rf"(^|[/\\\"']){user}([/\\\"']|$)")
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".png"):
        text = readable_text(path)
        for marker in MARKERS:
            if marker in text or marker.replace("/", "\\/") in text:
                found.append(f"{path.relative_to(folder)}: {marker}")
        if own.search(text):
            found.append(f"{path.relative_to(folder)}: the user name {getpass.getuser()!r}")
    return found


def test_the_shipped_tags_hold_no_machine_path():
    tags = sorted(p for p in TAGS.iterdir() if p.is_dir())
    assert tags, f"no tags under {TAGS}"
    for tag in tags:
        assert (tag / "config.json").is_file() and (tag / "generator.safetensors").is_file()
        assert machine_names(tag) == [], tag.name


def test_the_scan_finds_a_machine_path(tmp_path):
    """The scan itself: a header and a card that name the machine are caught."""
    (tmp_path / "README.md").write_text(f"out: /home/{getpass.getuser()}/runs/x\n")
    header = json.dumps({"__metadata__": {"config": '{"out":"/work/exp/x"}'}}).encode()
    (tmp_path / "generator.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
    found = machine_names(tmp_path)
    assert "README.md: /home/" in found and "generator.safetensors: /work/" in found
    assert any("user name" in item for item in found)


def test_a_pushed_folder_holds_no_machine_path(tmp_path, monkeypatch):
    """A run trained with an absolute ``--out`` (the data found through GAN_ZOO_DATA, so no
    ``--data-dir`` is recorded), staged as ``gan-zoo push`` uploads it."""
    pytest.importorskip("safetensors")
    write_fashion_mnist(tmp_path / "data" / "fashion-mnist")
    monkeypatch.setenv("GAN_ZOO_DATA", str(tmp_path / "data"))
    out = tmp_path / "runs" / "absolute-out"
    assert out.is_absolute()
    gan_zoo.train(
        "dcgan",
        "fashion-mnist",
        overrides=TINY,
        progress="quiet",
        steps=2,
        batch_size=16,
        device="cpu",
        ema=0.9,
        out=str(out),
    )
    folder = tmp_path / "pushed"
    folder.mkdir()
    staged = dict(hub.stage_push(out, folder))
    assert {"generator.safetensors", "config.json", "README.md"} <= set(staged)
    assert str(tmp_path) not in "".join(
        readable_text(folder / n) for n in staged if n != "samples.png"
    )
    assert machine_names(folder) == []


def _set_header_config(weights: Path, record: dict) -> None:
    blob = weights.read_bytes()
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + size])
    header["__metadata__"]["config"] = json.dumps(record, separators=(",", ":"))
    new = json.dumps(header, separators=(",", ":")).encode()
    new += b" " * (-len(new) % 8)
    weights.write_bytes(len(new).to_bytes(8, "little") + new + blob[8 + size :])


def test_build_drops_the_machine_path_of_an_older_run(tmp_path):
    """A tag folder as runs before the fix wrote it (an absolute ``out`` in config.json, the
    card and the generator's header) is made portable by build.py's make_portable: the
    scan finds nothing, the tensors' bytes are kept, the hash is of the new record, it loads."""
    import importlib.util
    import shutil

    from gan_zoo.checkpoint import read_metadata
    from gan_zoo.checkpoint.record import record_hash

    script = ROOT / "plugins" / "gan-zoo-pretrained" / "build.py"
    spec = importlib.util.spec_from_file_location("gan_zoo_pretrained_build", script)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)  # a unique name: `build` is also PyPA's package

    folder = tmp_path / "tag"
    shutil.copytree(TAGS / "cgan.fashion-mnist", folder)
    record = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    relative = record["out"]
    record["out"] = "/work/exp/cgan-s0"
    (folder / "config.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    card = (folder / "README.md").read_text(encoding="utf-8")
    card = card.replace(f"  out: {relative}\n", '  out: "/work/exp/cgan-s0"\n')
    (folder / "README.md").write_text(card, encoding="utf-8")
    _set_header_config(folder / "generator.safetensors", record)
    assert {m.split(": ")[0] for m in machine_names(folder)} == {
        "config.json",
        "README.md",
        "generator.safetensors",
    }
    before = (folder / "generator.safetensors").read_bytes()

    assert build.make_portable(folder) is True
    assert machine_names(folder) == []
    after = (folder / "generator.safetensors").read_bytes()
    tail = lambda blob: blob[8 + int.from_bytes(blob[:8], "little") :]  # noqa: E731
    assert tail(after) == tail(before)
    new = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert new["out"] is None
    assert read_metadata(folder / "generator.safetensors")["config_hash"] == record_hash(new)
    assert gan_zoo.load(folder, device="cpu").num_classes == 10
    assert build.make_portable(folder) is False  # nothing left to do


PARKED = ROOT / "benchmarks" / "results" / "parked"


@pytest.mark.parametrize(
    "parked",
    sorted(p for p in PARKED.iterdir() if p.is_dir()) if PARKED.is_dir() else [],
    ids=lambda p: p.name,
)
def test_the_committed_parked_runs_hold_no_machine_path(parked):
    """A run parked in git by benchmarks/results.py --park (its checkpoint, logs, segments)."""
    assert (parked / "parked.json").is_file() and (parked / "run" / "config.json").is_file()
    assert machine_names(parked) == []
