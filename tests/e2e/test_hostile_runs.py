"""Run directories from strangers: every hostile one is a one-line error with exit code 2, in a
subprocess that finishes within a generous timeout (a hang fails the test), stays under 1 GB of
memory (its peak RSS is measured), and touches no file outside the run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import CKPT, ROOT, TINY_4, cli_in_process, set_args

ROOT = ROOT
#: The peak resident memory a refused run may cost (the CLI with torch imported is ~400 MB).
MAX_RSS_KB = 1024 * 1024
#: Run the CLI and write the process's peak RSS (KB) to argv[1] when it exits, however it exits.
#: VmHWM is this program's own peak (ru_maxrss would include the forked pytest's before exec).
_RUNNER = (
    "import atexit, sys\n"
    "out = sys.argv[1]\n"
    "def peak():\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
    "    open(out, 'w').write(hwm.split()[1])\n"
    "atexit.register(peak)\n"
    "sys.argv = ['gan-zoo'] + sys.argv[2:]\n"
    "from gan_zoo.cli import main\n"
    "main()\n"
)


def run_cli(tmp_path: Path, *args, timeout: float = 120) -> tuple[int, str, str]:
    """``gan-zoo ARGS`` in a subprocess of its own session: (exit code, stdout, stderr); fails
    the test if it hangs (then the whole session is killed) or peaks above 1 GB RSS."""
    rss_file = tmp_path / f"rss-{os.urandom(4).hex()}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUNNER, str(rss_file), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
        cwd=tmp_path,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"gan-zoo {' '.join(map(str, args))} hung for {timeout} s")
    rss = int(rss_file.read_text())
    assert rss < MAX_RSS_KB, f"peak RSS {rss // 1024} MB for gan-zoo {args}"
    return proc.returncode, out, err


def assert_refused(result: tuple[int, str, str], *fragments: str) -> str:
    code, out, err = result
    assert code == 2, (code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert "Traceback" not in err and len(lines[0]) < 1000, err[:2000]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A fresh copy of the trained run for one test to spoil."""
    copy = tmp_path / "run"
    shutil.copytree(trained, copy, symlinks=True)
    (copy / ".lock").unlink(missing_ok=True)
    return copy


@pytest.fixture
def outside(tmp_path) -> Path:
    """A file outside the run that nothing may touch."""
    path = tmp_path / "outside" / "precious.txt"
    path.parent.mkdir()
    path.write_text("do not touch\n")
    os.utime(path, (1_000_000, 1_000_000))
    return path


def untouched(path: Path) -> bool:
    return path.read_text() == "do not touch\n" and path.stat().st_mtime == 1_000_000


def resume(tmp_path, run, data_dir, steps=4):
    return run_cli(
        tmp_path,
        "train",
        "--resume",
        run,
        "--steps",
        steps,
        "--data-dir",
        data_dir,
        "--device",
        "cpu",
        "--quiet",
    )


def test_the_trained_run_resumes(tmp_path, run, data_dir):
    code, _, err = resume(tmp_path, run, data_dir)
    assert code == 0, err
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-0000004"


@pytest.mark.parametrize("name", ["metrics.jsonl", "losses.png", "samples", "checkpoints/latest"])
def test_resume_never_writes_through_a_link_out_of_the_run(tmp_path, run, data_dir, outside, name):
    target = outside if name != "samples" else outside.parent
    (run / name).unlink() if not (run / name).is_dir() else shutil.rmtree(run / name)
    (run / name).symlink_to(target)
    result = resume(tmp_path, run, data_dir)
    line = assert_refused(result)
    assert "link" in line or "is corrupt" in line or "not a regular" in line, line
    assert untouched(outside) and sorted(p.name for p in outside.parent.iterdir()) == [
        "precious.txt"
    ]


def test_evaluate_never_rewrites_a_card_in_a_checkpoint_linked_out_of_the_run(
    tmp_path, run, outside
):
    elsewhere = outside.parent / "step-0000002"
    shutil.move(run / CKPT, elsewhere)
    (run / CKPT).symlink_to(elsewhere, target_is_directory=True)
    card = (elsewhere / "README.md").read_text()
    from gan_zoo import load
    from gan_zoo.checkpoint import record_metrics
    from gan_zoo.errors import CheckpointError

    with pytest.raises(CheckpointError, match="symbolic link out of its run"):
        load(run)  # what evaluate loads first
    for path in (run, run / CKPT):  # what evaluate records into
        with pytest.raises(CheckpointError, match="symbolic link out of its run"):
            record_metrics(path, {"fid": {"value": 1.0, "protocol": {"num_samples": 8}}})
    assert (elsewhere / "README.md").read_text() == card and not (
        elsewhere / "metrics.json"
    ).exists()


@pytest.mark.parametrize(
    "command, name",
    [
        ("info", "checkpoints/best"),
        ("info", "checkpoints/latest"),
        ("info", f"{CKPT}/training-state.json"),
        ("info", f"{CKPT}/config.json"),
        ("generate", "checkpoints/latest"),
        ("generate", f"{CKPT}/config.json"),
        ("train", f"{CKPT}/training-state.json"),
    ],
)
def test_a_fifo_is_refused_and_never_blocks(tmp_path, run, data_dir, command, name):
    (run / name).unlink(missing_ok=True)
    os.mkfifo(run / name)
    if command == "train":
        result = resume(tmp_path, run, data_dir)
    else:
        result = run_cli(
            tmp_path,
            command,
            run,
            "--out" if command == "generate" else "--json",
            *([tmp_path / "g.png"] if command == "generate" else []),
            timeout=90,
        )
    assert_refused(result, "FIFO")


@pytest.mark.parametrize(
    "name",
    [
        "checkpoints/best",
        "checkpoints/latest",
        f"{CKPT}/config.json",
        f"{CKPT}/generator.safetensors",
    ],
)
def test_a_link_to_dev_zero_is_refused(tmp_path, run, name):
    (run / name).unlink(missing_ok=True)
    (run / name).symlink_to("/dev/zero")
    assert_refused(run_cli(tmp_path, "info", run), "symbolic link out of its run")


def test_a_lone_device_given_as_weights_is_refused(tmp_path):
    assert_refused(run_cli(tmp_path, "info", "/dev/zero"), "not a file or folder")


def test_a_huge_pointer_file_is_refused_without_reading_it(tmp_path, run):
    pointer = run / "checkpoints" / "latest"
    with open(pointer, "wb") as f:  # sparse: costs no disk
        f.truncate(2**30)
    line = assert_refused(run_cli(tmp_path, "info", run), "pointer file")
    assert len(line) < 400


def test_a_sparse_huge_safetensors_header_is_refused(tmp_path, run):
    weights = run / CKPT / "generator.safetensors"
    with open(weights, "wb") as f:
        f.write(struct.pack("<Q", 3 * 2**30))
        f.truncate(3 * 2**30 + 8)
    assert_refused(
        run_cli(tmp_path, "generate", run, "--out", tmp_path / "g.png"), "not a safetensors file"
    )


def test_sparse_huge_tensors_that_fit_no_model_are_refused_before_reading(tmp_path, run):
    weights = run / CKPT / "generator.safetensors"
    header = json.dumps(
        {
            "__metadata__": {"part": "generator"},
            "w": {"dtype": "F32", "shape": [2**30], "data_offsets": [0, 2**32]},
        }
    ).encode()
    with open(weights, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + 2**32)
    assert_refused(run_cli(tmp_path, "generate", run, "--out", tmp_path / "g.png"), "has no tensor")


@pytest.mark.parametrize(
    "option, value",
    [("generator", {"name": "dcgan", "options": {"width": 3000}}), ("z_dim", 16_000)],
)
def test_a_config_that_would_allocate_gigabytes_fails_before_allocating(
    tmp_path, run, option, value
):
    path = run / CKPT / "config.json"
    record = json.loads(path.read_text())
    record[option] = value
    path.write_text(json.dumps(record))
    assert_refused(run_cli(tmp_path, "generate", run, "--out", tmp_path / "g.png"), "does not fit")


def test_int8_weights_are_refused(tmp_path, run):
    import torch
    from safetensors.torch import load_file, save_file

    from gan_zoo.checkpoint import read_metadata

    weights = run / CKPT / "generator.safetensors"
    meta = read_metadata(weights)
    tensors = {
        k: (v.to(torch.int8) if v.is_floating_point() else v) for k, v in load_file(weights).items()
    }
    save_file(tensors, weights, metadata=meta)
    assert_refused(
        run_cli(tmp_path, "generate", run, "--out", tmp_path / "g.png"), "I8 in the file but F32"
    )


def test_command_shaped_names_are_never_echoed(tmp_path, run):
    path = run / CKPT / "config.json"
    record = json.loads(path.read_text())
    record["generator"]["name"] = "x'; rm -rf ~; echo '"
    path.write_text(json.dumps(record))
    line = assert_refused(run_cli(tmp_path, "info", run))
    assert "rm -rf" not in line
    record["generator"]["name"] = "evil-gen"
    record["plugins"]["generator"] = "evil; curl x | sh 1.0"
    path.write_text(json.dumps(record))
    for command in ("info", "generate"):
        code, out, err = run_cli(tmp_path, command, run)
        text = out + err
        assert "curl" not in text and "not installed" in text, text


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("generator", ["dcgan"], "generator must be"),
        ("class_names", {"a": 1}, "class_names must be"),
        ("image_size", "28", "image_size must be"),
        ("plugins", [1, 2], "plugins must be"),
    ],
)
def test_wrong_types_in_config_json_are_one_line(run, field, value, fragment):
    path = run / CKPT / "config.json"
    record = json.loads(path.read_text())
    record[field] = value
    path.write_text(json.dumps(record))
    for command in ("info", "generate"):
        result = cli_in_process(
            command, run, *(["--out", run / "g.png"] if command == "generate" else [])
        )
        assert result.exit_code == 2 and fragment in result.output, result.output


def test_a_truncation_of_1e_7_finishes_with_one_warning_line(tmp_path, run):
    code, out, err = run_cli(
        tmp_path,
        "generate",
        run,
        "--truncation",
        "1e-7",
        "--n",
        4,
        "--out",
        tmp_path / "t.png",
        timeout=120,
    )
    assert code == 0, err
    assert [line for line in err.splitlines() if line] == [err.splitlines()[0]]
    assert err.startswith("Warning: truncation 1e-07 is so small") and "py:" not in err


def test_a_huge_sample_request_is_refused_with_the_size_it_needs(tmp_path, run):
    line = assert_refused(
        run_cli(tmp_path, "generate", run, "--n", 1_000_000_000, "--out", tmp_path / "x.npz")
    )
    assert "1.6 TB in memory" in line and "--out-dir" in line
    line = assert_refused(
        run_cli(tmp_path, "generate", run, "--n", 10**15, "--out-dir", tmp_path / "many")
    )
    assert "on disk" in line


def test_info_of_a_run_being_pruned_retries_then_says_try_again(run, monkeypatch):
    from gan_zoo.checkpoint import info as info_mod

    calls = []
    real = info_mod._describe

    def pruned_meanwhile(ckpt):
        calls.append(ckpt)
        shutil.rmtree(ckpt)  # a training pruned it between the pointer and the read
        return real(ckpt)

    monkeypatch.setattr(info_mod, "_describe", pruned_meanwhile)
    result = cli_in_process("info", run)
    assert result.exit_code == 2 and "being written by a training" in result.output, result.output
    assert "corrupt" not in result.output and len(calls) == 1  # the pointer was read twice


def test_info_of_a_run_pruned_once_reads_the_new_checkpoint(run, monkeypatch):
    from gan_zoo.checkpoint import info as info_mod

    newer = run / "checkpoints" / "step-0000003"
    shutil.copytree(run / CKPT, newer)
    real = info_mod._describe

    def pruned_once(ckpt):
        if ckpt.name == "step-0000002":
            (run / "checkpoints" / "latest").write_text("step-0000003\n")
            shutil.rmtree(ckpt)
        return real(ckpt)

    monkeypatch.setattr(info_mod, "_describe", pruned_once)
    result = cli_in_process("info", run, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["checkpoint"].endswith("step-0000003")


def test_stale_pointer_temp_files_are_cleaned_at_the_next_save(tmp_path, run, data_dir):
    for name in (".latest.abc123.tmp", ".best.xyz.tmp", ".tmp-step-0000003-q"):
        (run / "checkpoints" / name).mkdir() if name.startswith(".tmp-") else (
            run / "checkpoints" / name
        ).write_text("x")
    code, _, err = resume(tmp_path, run, data_dir)
    assert code == 0, err
    assert sorted(p.name for p in (run / "checkpoints").iterdir() if p.name.startswith(".")) == []


def test_an_out_that_is_not_utf8_is_refused_before_training(tmp_path, data_dir):
    out = os.fsdecode(bytes(tmp_path) + b"/run-\xff")
    result = cli_in_process(
        "train",
        "dcgan",
        "fashion-mnist",
        "--out",
        out,
        "--steps",
        2,
        "--data-dir",
        data_dir,
        "--device",
        "cpu",
        "--quiet",
        *set_args(TINY_4),
    )
    assert result.exit_code == 2 and "not valid text" in result.output, result.output
    assert not os.path.exists(os.fsencode(out))


@pytest.mark.parametrize("kind", ["under a file", "read-only"])
def test_an_unwritable_out_is_one_line(tmp_path, data_dir, kind):
    if kind == "under a file":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "run"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        (tmp_path / "ro").mkdir(mode=0o555)
        out = tmp_path / "ro" / "run"
    result = cli_in_process(
        "train",
        "dcgan",
        "fashion-mnist",
        "--out",
        out,
        "--steps",
        2,
        "--data-dir",
        data_dir,
        "--device",
        "cpu",
        "--quiet",
        *set_args(TINY_4),
    )
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1, result.output
