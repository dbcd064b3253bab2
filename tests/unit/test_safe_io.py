"""gan_zoo.safe_io: atomic writes that never go through a link, and capped reads of untrusted
files that never block, never leave their run and never unpickle."""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path, PurePosixPath

import pytest
import torch

from gan_zoo import safe_io
from gan_zoo.errors import CheckpointError
from gan_zoo.safe_io import (
    MissingFile,
    WriteError,
    atomic_file,
    atomic_write_bytes,
    atomic_write_json,
    inside_run,
    make_dirs,
    open_append,
    open_untrusted,
    parse_json,
    read_capped,
    read_json,
    run_folder,
    run_root,
    safetensors_bytes,
    shown,
    write_durable,
    write_error,
)


def _leftovers(folder: Path) -> list[str]:
    """Temp files an atomic write would leave behind in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# Atomic writes.
def test_an_atomic_write_replaces_the_file_with_the_usual_mode_and_no_temp(tmp_path):
    target = tmp_path / "deep" / "er" / "config.json"
    atomic_write_bytes(target, b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert _leftovers(target.parent) == []
    # Created private, then given the mode a plain open() would have given it.
    assert target.stat().st_mode & 0o777 == 0o666 & ~safe_io.current_umask()


def test_an_exception_inside_the_block_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "state.json"
    target.write_bytes(b"old contents")
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(target) as f:
            f.write(b"half of the new")
            raise KeyboardInterrupt  # a crash (Ctrl-C) in the middle of writing
    assert target.read_bytes() == b"old contents"
    assert _leftovers(tmp_path) == []


def test_a_full_disk_at_the_rename_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    target.write_bytes(b"old contents")

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safe_io.os, "replace", full)
    with pytest.raises(WriteError) as info:
        atomic_write_bytes(target, b"new contents")
    assert str(info.value) == (
        f"cannot write {target} (No space left on device); free some space or write somewhere else"
    )
    assert target.read_bytes() == b"old contents"
    assert _leftovers(tmp_path) == []


def test_an_atomic_write_replaces_a_link_and_never_writes_through_it(tmp_path):
    victim = tmp_path / "elsewhere.txt"
    victim.write_text("keep me")
    link = tmp_path / "run" / "notes.txt"
    link.parent.mkdir()
    link.symlink_to(victim)
    atomic_write_bytes(link, b"mine")
    assert not link.is_symlink() and link.read_bytes() == b"mine"
    assert victim.read_text() == "keep me"


def test_a_run_write_into_a_folder_linked_out_of_the_run_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoints").symlink_to(outside)
    with pytest.raises(CheckpointError, match=r"checkpoints/latest is a symbolic link out of its"):
        atomic_write_bytes(run / "checkpoints" / "latest", b"step-1", run=True)
    assert list(outside.iterdir()) == []
    # Without run=True the same write is an ordinary write into the linked folder.
    atomic_write_bytes(run / "checkpoints" / "latest", b"step-1")
    assert (outside / "latest").read_bytes() == b"step-1"


def test_atomic_write_json_keeps_nan_and_reads_back(tmp_path):
    path = atomic_write_json(tmp_path / "metrics.json", {"fid": float("nan"), "n": [1, 2]})
    assert path.read_text().endswith("\n")
    data = read_json(path)
    assert data["n"] == [1, 2] and data["fid"] != data["fid"]


def test_write_durable_creates_a_new_file_only(tmp_path):
    path = tmp_path / "weights.bin"
    write_durable(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    with pytest.raises(FileExistsError):  # O_EXCL: never an existing file (or a link)
        write_durable(path, b"other")
    assert path.read_bytes() == b"\x00\x01"


def test_make_dirs_with_a_file_in_the_way_is_one_line(tmp_path):
    (tmp_path / "runs").write_text("a file")
    with pytest.raises(WriteError, match=r"a part of the path is a file, not a folder"):
        make_dirs(tmp_path / "runs" / "dcgan")
    assert make_dirs(tmp_path / "a" / "b").is_dir()


@pytest.mark.parametrize(
    "code, todo",
    [
        (errno.ENOSPC, "free some space or write somewhere else"),
        (errno.EROFS, "the file system is read-only; write somewhere else"),
        (errno.EACCES, "you may not write there; pick a folder you can write to"),
        (errno.EISDIR, "a folder is in the way; pick another path"),
        (errno.ELOOP, "a symbolic link is in the way, which gan-zoo does not write through"),
        (errno.EIO, "check the path or write somewhere else"),
    ],
)
def test_write_error_says_what_to_do_for_each_errno(code, todo):
    line = str(write_error("/runs/x.json", OSError(code, os.strerror(code))))
    assert line.startswith(f"cannot write /runs/x.json ({os.strerror(code)}); {todo}")
    assert "\n" not in line


def test_write_error_of_an_unencodable_name():
    line = str(write_error("/runs/x", UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogate")))
    assert line == (
        "cannot write /runs/x: the name cannot be encoded on this file system; "
        "pick a path of UTF-8 characters"
    )


def test_shown_prints_bytes_that_are_not_utf8_as_escapes():
    assert shown(b"/runs/caf\xe9") == "/runs/caf\\xe9"
    assert shown(os.fsdecode(b"/runs/caf\xe9")) == "/runs/caf\\xe9"
    assert shown(Path("/runs/café")) == "/runs/café"


# Appending.
def test_open_append_creates_then_appends(tmp_path):
    path = tmp_path / "metrics.jsonl"
    for line in (b"one\n", b"two\n"):
        fd = open_append(path)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    assert path.read_bytes() == b"one\ntwo\n"


def test_open_append_refuses_a_link_and_leaves_its_target_alone(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (tmp_path / "metrics.jsonl").symlink_to(victim)
    with pytest.raises(WriteError, match="a symbolic link is in the way"):
        open_append(tmp_path / "metrics.jsonl")
    assert victim.read_text() == "keep me"


def test_open_append_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "metrics.jsonl"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(WriteError):  # no reader: the non-blocking open itself fails (ENXIO)
        open_append(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:  # with a reader the open succeeds, and the FIFO is refused after it
        with pytest.raises(WriteError, match="it is not a regular file; remove it"):
            open_append(fifo)
    finally:
        os.close(reader)
    assert time.monotonic() - started < 5


# Where a run's files may be.
@pytest.mark.parametrize(
    "file, run",
    [
        ("/r/x/checkpoints/step-0000003/generator.safetensors", "/r/x"),
        ("/r/x/checkpoints/latest", "/r/x"),
        ("/r/x/samples/step-0000003.png", "/r/x"),
        ("/r/x/config.json", "/r/x"),
        ("/r/x/step-12/checkpoints/a", "/r/x"),
        ("/r/x/step-a/b.json", "/r/x/step-a"),  # not a step folder
        ("/weights/generator.safetensors", "/weights"),
    ],
)
def test_run_folder_is_lexical(file, run):
    assert run_folder(PurePosixPath(file)) == PurePosixPath(run)


def test_run_root_makes_a_relative_path_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_root("run/checkpoints/step-0000001/g.safetensors") == tmp_path / "run"


def test_inside_run_allows_a_link_within_the_run_and_refuses_one_out(tmp_path):
    run = tmp_path / "run"
    step = run / "checkpoints" / "step-0000002"
    step.mkdir(parents=True)
    (step / "generator.safetensors").write_bytes(b"x")
    (run / "checkpoints" / "best").symlink_to(step)
    real = inside_run(run / "checkpoints" / "best" / "generator.safetensors")
    assert real == (step / "generator.safetensors").resolve()
    secret = tmp_path / "secret.json"
    secret.write_text("{}")
    (run / "config.json").symlink_to(secret)
    with pytest.raises(CheckpointError) as info:
        inside_run(run / "config.json")
    assert str(info.value) == (
        f"{run / 'config.json'} is a symbolic link out of its run (to {secret.resolve()}); "
        "gan-zoo reads and writes only files inside a run: replace the link with the file itself"
    )
    # For a write, only the folder counts: the link at the name itself is replaced, not followed.
    assert inside_run(run / "config.json", follow_last=False) == run.resolve() / "config.json"


# Reading untrusted files.
def test_open_untrusted_refuses_folders_fifos_and_missing_files(tmp_path):
    (tmp_path / "config.json").mkdir()
    with pytest.raises(CheckpointError, match=r"config.json is a folder, not a regular file"):
        open_untrusted(tmp_path / "config.json")
    os.mkfifo(tmp_path / "metrics.json")
    started = time.monotonic()
    with pytest.raises(CheckpointError, match=r"metrics.json is a FIFO, not a regular file"):
        open_untrusted(tmp_path / "metrics.json")
    assert time.monotonic() - started < 5
    with pytest.raises(MissingFile, match="does not exist; the checkpoint is incomplete"):
        open_untrusted(tmp_path / "training-state.json")


def test_read_capped_refuses_a_file_over_its_cap_with_both_sizes(tmp_path):
    path = tmp_path / "latest"
    path.write_bytes(b"x" * 2000)
    assert read_capped(path, 2000, "pointer file") == b"x" * 2000
    with pytest.raises(CheckpointError) as info:
        read_capped(path, 1000, "pointer file")
    assert str(info.value) == (
        f"{path} is 2.0 KB, more than a pointer file can be (1.0 KB); it is not what it should "
        "be: re-copy the run or use another checkpoint"
    )
    path.write_bytes(b"x" * 1000)
    with pytest.raises(
        CheckpointError, match=r"is 1.0 KB, more than a pointer file can be \(999 b"
    ):
        read_capped(path, 999, "pointer file")


def test_a_size_that_rounds_up_to_the_next_unit_is_shown_in_it(tmp_path):
    path = tmp_path / "config.json"
    with path.open("wb") as f:
        f.truncate(999_960)  # 999.96 KB: "1.0 MB", not "1000.0 KB"
    with pytest.raises(CheckpointError, match=r"is 1.0 MB, more than a JSON file can be \(999 b"):
        read_capped(path, 999, "JSON file")


def test_read_capped_stops_at_the_cap_when_a_file_grows_while_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    path.write_bytes(b"x" * 5000)
    real_fstat = os.fstat

    def stale_fstat(fd):  # the size seen before the file grew
        st = real_fstat(fd)
        return os.stat_result((*st[:6], 10, *st[7:]))

    monkeypatch.setattr(safe_io.os, "fstat", stale_fstat)
    with pytest.raises(
        CheckpointError, match=r"config.json grew beyond 100 bytes while it was read"
    ):
        read_capped(path, 100, "JSON file")


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"\xff\xfe{}", "it is not UTF-8 text"),
        (b"[" * 100_000, "it is nested too deeply"),
        (b'{"a": }', "Expecting value: line 1 column 7 (char 6)"),
    ],
)
def test_read_json_of_bad_bytes_is_one_line(tmp_path, raw, reason):
    path = tmp_path / "config.json"
    path.write_bytes(raw)
    with pytest.raises(CheckpointError) as info:
        read_json(path)
    assert str(info.value) == f"{path} is not valid JSON ({reason}); the checkpoint is corrupt"


def test_read_json_wants_an_object(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("[1, 2]")
    with pytest.raises(CheckpointError, match=r"config.json is not a JSON object; the checkpoint"):
        read_json(path)


def test_read_json_refuses_more_than_its_cap(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"pad": "x" * 200}))
    assert read_json(path)["pad"] == "x" * 200
    with pytest.raises(CheckpointError, match="more than a JSON file can be"):
        read_json(path, cap=100)


def test_parse_json_takes_text_and_names_where_it_came_from():
    assert parse_json('{"a": [1]}', "meta") == {"a": [1]}
    with pytest.raises(CheckpointError, match=r"^g.safetensors metadata 'x' is not valid JSON"):
        parse_json("{", "g.safetensors metadata 'x'")


# Safetensors bytes.
def test_safetensors_bytes_stores_tied_views_and_non_contiguous_tensors_apart():
    from safetensors.torch import load

    base = torch.arange(12, dtype=torch.float32)
    tensors = {
        "tied.a": base,
        "tied.b": base,  # the same storage twice (tied weights)
        "view": base[2:5],  # a slice of a larger storage
        "t": base.view(3, 4).t(),  # not contiguous
        "empty": torch.zeros(0, 3),
    }
    back = load(safetensors_bytes(tensors, {"format": "pt"}))
    assert set(back) == set(tensors)
    for name, t in tensors.items():
        assert torch.equal(back[name], t) and back[name].shape == t.shape, name
