"""gan_zoo.checkpoint.weights: safetensors files written by the real library, then corrupted
byte by byte; every bad file is one line, checked before a tensor is allocated."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from gan_zoo.checkpoint import weights
from gan_zoo.checkpoint.weights import (
    DTYPE_SIZES,
    HEADER_CAP,
    check_fits,
    load_weights,
    read_header,
    read_metadata,
    read_safetensors,
    torch_dtype_name,
)
from gan_zoo.errors import CheckpointError
from gan_zoo.safe_io import MissingFile

REFUSED = "re-copy it or use another checkpoint"


def _tensors() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return {
        "net.0.weight": torch.randn(4, 3, 2, 2, generator=gen),
        "net.0.bias": torch.randn(4, generator=gen).to(torch.bfloat16),
        "steps": torch.tensor([7], dtype=torch.int64),
        "mask": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 5, dtype=torch.float16),
    }


@pytest.fixture
def weights_file(tmp_path) -> Path:
    path = tmp_path / "generator.safetensors"
    save_file(_tensors(), path, metadata={"format": "pt", "z_dim": "100"})
    return path


def _raw(header: dict, data: bytes = b"") -> bytes:
    """A safetensors file made by hand: 8-byte length, JSON header, data."""
    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + data


def _refusal(path: Path) -> str:
    with pytest.raises(CheckpointError) as info:
        read_header(path)
    line = str(info.value)
    assert "\n" not in line
    return line


# Reading.
def test_a_real_file_reads_back_bit_exact_with_its_metadata(weights_file):
    tensors, meta = read_safetensors(weights_file)
    expected = _tensors()
    assert meta == {"format": "pt", "z_dim": "100"}
    assert set(tensors) == set(expected)
    for name, t in expected.items():
        assert tensors[name].dtype == t.dtype and torch.equal(tensors[name], t), name


def test_the_header_lists_every_tensor_by_safetensors_dtype_and_shape(weights_file):
    header = read_header(weights_file)
    entries = {k: (v["dtype"], v["shape"]) for k, v in header.items() if k != "__metadata__"}
    assert entries == {
        "net.0.weight": ("F32", [4, 3, 2, 2]),
        "net.0.bias": ("BF16", [4]),
        "steps": ("I64", [1]),
        "mask": ("BOOL", [3]),
        "empty": ("F16", [0, 5]),
    }
    assert read_metadata(weights_file) == {"format": "pt", "z_dim": "100"}


def test_a_file_without_metadata_has_empty_metadata(tmp_path):
    path = tmp_path / "g.safetensors"
    save_file({"w": torch.ones(2)}, path)
    assert read_metadata(path) == {}


def test_a_path_that_is_not_utf8_is_read_through_our_own_open(tmp_path, monkeypatch):
    import safetensors.torch

    folder = tmp_path / os.fsdecode(b"caf\xe9")  # Latin-1 bytes from another system
    try:
        folder.mkdir()
    except (OSError, UnicodeError):
        pytest.skip("this file system takes only UTF-8 names")
    path = folder / "generator.safetensors"
    save_file(_tensors(), str(tmp_path / "plain.safetensors"), metadata={"k": "v"})
    path.write_bytes((tmp_path / "plain.safetensors").read_bytes())
    monkeypatch.setattr(safetensors.torch, "load_file", None)  # takes UTF-8 paths only
    tensors, meta = read_safetensors(path)
    assert meta == {"k": "v"}
    assert all(torch.equal(tensors[k], t) for k, t in _tensors().items())


# Corrupt files.
def test_a_file_cut_short_in_its_data_is_truncated(weights_file):
    data = weights_file.read_bytes()
    weights_file.write_bytes(data[:-3])
    assert _refusal(weights_file) == (
        f"{weights_file} is truncated or corrupt: its header declares {len(data)} bytes but the "
        f"file has {len(data) - 3}; {REFUSED}"
    )


def test_a_file_with_bytes_appended_is_corrupt_too(weights_file):
    data = weights_file.read_bytes()
    weights_file.write_bytes(data + b"\x00")
    assert f"declares {len(data)} bytes but the file has {len(data) + 1}" in _refusal(weights_file)


@pytest.mark.parametrize("keep", [0, 5, 8, 20])
def test_a_file_cut_short_in_its_header_says_so(weights_file, keep):
    weights_file.write_bytes(weights_file.read_bytes()[:keep])
    assert _refusal(weights_file) == (
        f"{weights_file} is truncated or corrupt (its header is cut off); {REFUSED}"
    )


def test_a_torch_save_zip_is_never_unpickled(tmp_path):
    path = tmp_path / "generator.safetensors"
    torch.save({"w": torch.ones(2)}, path)  # a pickle in a zip, renamed
    assert _refusal(path) == (
        f"{path} is not a safetensors file (pickles and torch.save files are never loaded); "
        f"{REFUSED}"
    )


def test_a_header_over_the_formats_cap_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "generator.safetensors"
    with path.open("wb") as f:  # a sparse file big enough to hold the header it declares
        f.write(struct.pack("<Q", HEADER_CAP + 1))
        f.truncate(8 + HEADER_CAP + 1)
    assert "is not a safetensors file" in _refusal(path)


@pytest.mark.parametrize(
    "head",
    [b"\xff\xfe not utf-8", b"{not json}", b"[1, 2, 3]", b'"text"', b"[" * 50_000],
)
def test_a_header_that_is_not_a_json_object_is_not_safetensors(tmp_path, head):
    path = tmp_path / "g.safetensors"
    path.write_bytes(struct.pack("<Q", len(head)) + head)
    assert "is not a safetensors file" in _refusal(path)


@pytest.mark.parametrize(
    "entry",
    [
        {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]},  # unknown dtype
        {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]},  # negative dimension
        {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]},  # a boolean is no size
        {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]},  # too few bytes for the shape
        {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]},  # reversed
        {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]},
        {"dtype": "F32", "shape": [1], "data_offsets": [0]},
        {"dtype": "F32", "shape": [1]},
        [1, 2],
    ],
)
def test_a_bad_entry_is_named(tmp_path, entry):
    path = tmp_path / "g.safetensors"
    path.write_bytes(_raw({"w": entry}, b"\x00" * 16))
    assert _refusal(path) == (
        f"{path} is corrupt: its safetensors header has a bad entry 'w'; {REFUSED}"
    )


def test_a_long_entry_name_is_cut_short_in_the_error(tmp_path):
    path = tmp_path / "g.safetensors"
    name = "x" * 500
    path.write_bytes(_raw({name: {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"1234"))
    assert f"bad entry '{'x' * 80}...';" in _refusal(path)


@pytest.mark.parametrize("meta", [{"k": 1}, {"k": None}, ["k"], "k"])
def test_metadata_must_map_names_to_strings(tmp_path, meta):
    path = tmp_path / "g.safetensors"
    path.write_bytes(_raw({"__metadata__": meta}))
    assert _refusal(path) == (
        f"{path} is corrupt: its safetensors header has a bad __metadata__ (it must map names "
        "to strings); re-copy it"
    )


def test_a_hand_made_file_with_every_dtype_passes_the_check(tmp_path):
    header, offset = {}, 0
    for i, (dtype, size) in enumerate(sorted(DTYPE_SIZES.items())):
        header[f"t{i}"] = {
            "dtype": dtype,
            "shape": [2, 1],
            "data_offsets": [offset, offset + 2 * size],
        }
        offset += 2 * size
    path = tmp_path / "g.safetensors"
    path.write_bytes(_raw(header, b"\x00" * offset))
    assert read_header(path) == header


def test_a_missing_file_is_named_as_missing(tmp_path):
    with pytest.raises(MissingFile, match="generator.safetensors does not exist"):
        read_safetensors(tmp_path / "generator.safetensors")


def test_a_link_out_of_the_run_is_not_followed(tmp_path, weights_file):
    run = tmp_path / "run"
    run.mkdir()
    (run / "generator.safetensors").symlink_to(weights_file)
    with pytest.raises(CheckpointError, match="is a symbolic link out of its run"):
        read_safetensors(run / "generator.safetensors")


def test_data_the_library_refuses_is_one_line(weights_file, monkeypatch):
    import safetensors.torch

    def refuse(*args, **kwargs):
        raise safetensors.SafetensorError("Error while deserializing header: InvalidOffset\nmore")

    monkeypatch.setattr(safetensors.torch, "load_file", refuse)
    with pytest.raises(CheckpointError) as info:
        read_safetensors(weights_file)
    assert str(info.value) == (
        f"{weights_file} is corrupt (Error while deserializing header: InvalidOffset); {REFUSED}"
    )


# Comparing with a model.
@pytest.mark.parametrize(
    "dtype, name",
    [
        (torch.float32, "F32"),
        (torch.float16, "F16"),
        (torch.bfloat16, "BF16"),
        (torch.float64, "F64"),
        (torch.uint8, "U8"),
        (torch.int64, "I64"),
        (torch.bool, "BOOL"),
        (torch.float8_e4m3fn, "F8_E4M3"),
    ],
)
def test_torch_dtype_names_are_the_safetensors_names(tmp_path, dtype, name):
    assert torch_dtype_name(dtype) == name
    path = tmp_path / "g.safetensors"
    save_file({"t": torch.zeros(2, dtype=dtype)}, path)
    assert read_header(path)["t"]["dtype"] == name  # what the library itself writes


def test_a_dtype_safetensors_has_no_name_for_is_shown_as_torch_names_it():
    assert torch_dtype_name(torch.complex64) == "torch.complex64"


def _net() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


def _header_of(module: torch.nn.Module, path: Path) -> dict:
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, path)
    return read_header(path)


def test_check_fits_compares_a_meta_model_with_the_header(tmp_path):
    header = _header_of(_net(), tmp_path / "g.safetensors")
    with torch.device("meta"):
        model = _net()
    check_fits(model.state_dict(), header, "g.safetensors", "the generator")  # nothing allocated
    wider = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    with pytest.raises(CheckpointError) as info:
        check_fits(wider.state_dict(), header, "g.safetensors", "the generator")
    assert str(info.value) == (
        "g.safetensors does not fit the generator: tensor '0.weight' has shape (4, 3) in the "
        "file but (5, 3) in the model (weights of another architecture or other options?)"
    )


def test_check_fits_names_a_missing_an_extra_and_a_retyped_tensor(tmp_path):
    header = _header_of(_net(), tmp_path / "g.safetensors")
    state = _net().state_dict()
    with pytest.raises(CheckpointError, match=r"^g has no tensor '2.scale' that the generator"):
        check_fits({**state, "2.scale": torch.zeros(1)}, header, "g", "the generator")
    del state["2.bias"]
    with pytest.raises(CheckpointError, match=r"^g has tensor '2.bias' that the generator does"):
        check_fits(state, header, "g", "the generator")
    state = {k: v.half() for k, v in _net().state_dict().items()}
    with pytest.raises(CheckpointError) as info:
        check_fits(state, header, "g", "the generator")
    assert str(info.value) == (
        "g does not fit the generator: tensor '0.weight' is F32 in the file but F16 in the "
        "model; re-export the weights as floats"
    )
    with pytest.raises(CheckpointError, match="has no tensor '__metadata__'"):
        check_fits({"__metadata__": torch.zeros(1)}, header, "g", "the generator")


def test_load_weights_loads_a_fitting_state_and_refuses_another_untouched():
    source, target = _net(), _net()
    pairs = list(zip(source.parameters(), target.parameters(), strict=True))
    assert not torch.equal(*pairs[0])
    load_weights(target, source.state_dict(), "g", "the generator")
    assert all(torch.equal(a, b) for a, b in pairs)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    bad = {**source.state_dict(), "0.weight": torch.zeros(4, 4)}
    with pytest.raises(CheckpointError, match="'0.weight' has shape \\(4, 4\\) in the file"):
        load_weights(target, bad, "g", "the generator")
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())


def test_dtype_sizes_agree_with_torch():
    names = {v: k for k, v in weights._TORCH_DTYPES.items()}
    for name, size in DTYPE_SIZES.items():
        assert getattr(torch, names[name]).itemsize == size, name
