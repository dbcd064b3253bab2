"""Datasets: the IDX reader, the search order, downloads, CIFAR-10 binary and the batching
contract."""

from __future__ import annotations

import gzip
import inspect
import random
from pathlib import Path

import pytest
import torch
from helpers import needs_fashion_mnist, write_idx

from gan_zoo import create_dataset, plugins
from gan_zoo.datasets import search
from gan_zoo.datasets.base import Dataset, ImageDataset
from gan_zoo.datasets.cifar import CIFAR10_CLASSES
from gan_zoo.datasets.idx import FASHION_MNIST_CLASSES, read_idx
from gan_zoo.errors import DataError, GanZooError


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


# The registry.
@pytest.mark.parametrize("name", ["cifar10", "fashion-mnist", "image-folder", "mnist"])
def test_every_dataset_takes_the_contract_options(name):
    entry = plugins.registry("datasets").get(name)
    options = entry.options()
    assert options["split"] == "train"
    assert options["data_dir"] is None
    assert options["download"] is False
    assert entry.description


def test_builtin_datasets_are_registered_with_what_they_support():
    reg = plugins.registry("datasets")
    assert reg.names() == ["cifar10", "fashion-mnist", "image-folder", "mnist"]
    assert reg.names(image_size=28, channels=1, conditional=True) == ["fashion-mnist", "mnist"]
    assert reg.names(image_size=32, channels=3) == ["cifar10", "image-folder"]
    assert reg.get("image-folder").supports.conditional is False


def test_unknown_dataset_name_suggests():
    with pytest.raises(GanZooError, match="did you mean 'mnist'"):
        create_dataset("mnsit")


# The IDX reader.
@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "raw"])
def test_read_idx_gzipped_and_raw(tmp_path, compress):
    data = bytes(range(256)) * 3  # (3, 16, 16)
    path = write_idx(tmp_path / "x-idx3-ubyte", data, (3, 16, 16), compress=compress)
    images = read_idx(path, 3)
    assert images.dtype == torch.uint8 and images.shape == (3, 16, 16)
    assert images.flatten().tolist() == list(data)


def test_read_idx_rejects_wrong_magic(tmp_path):
    path = write_idx(tmp_path / "x", bytes(10), (10,), compress=False)
    raw = bytearray(path.read_bytes())
    raw[2] = 0x0D  # float32 type code
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="not an IDX file of 1-d unsigned bytes .magic 00000d01"):
        read_idx(path, 1)
    labels = write_idx(tmp_path / "y", bytes(10), (10,))
    with pytest.raises(DataError, match="not an IDX file of 3-d"):
        read_idx(labels, 3)  # a labels file where images are expected


def test_read_idx_rejects_a_foreign_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, world")
    with pytest.raises(DataError, match="not an IDX file") as err:
        read_idx(path, 3)
    one_line(err.value)


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "raw"])
def test_read_idx_rejects_a_short_payload(tmp_path, compress):
    path = write_idx(tmp_path / "x", bytes(100), (2, 8, 8), compress=compress)  # declares 128
    with pytest.raises(
        DataError, match=r"holds 100 bytes of data but its header declares 128 \(2, 8, 8\)"
    ):
        read_idx(path, 3)


def test_read_idx_rejects_trailing_data(tmp_path):
    path = write_idx(tmp_path / "x", bytes(200), (2, 8, 8))
    with pytest.raises(DataError, match="more bytes of data but its header declares 128"):
        read_idx(path, 3)


def test_read_idx_rejects_a_truncated_gzip_stream_and_header(tmp_path):
    path = write_idx(tmp_path / "x", bytes(range(256)) * 40, (40, 16, 16))
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DataError, match="truncated") as err:
        read_idx(path, 3)
    one_line(err.value)
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(DataError, match="header incomplete"):
        read_idx(short, 3)


def test_read_idx_rejects_a_corrupt_gzip_file(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"\x1f\x8b" + bytes(range(60)))
    with pytest.raises(DataError, match="re-download") as err:
        read_idx(path, 3)
    one_line(err.value)


def test_fashion_mnist_from_a_small_folder(idx_dir_256):
    train = create_dataset("fashion-mnist", data_dir=idx_dir_256)
    test = create_dataset("fashion-mnist", split="test", data_dir=idx_dir_256)
    assert (len(train), len(test)) == (256, 64)
    assert train.images.shape == (256, 1, 28, 28) and train.labels.dtype == torch.int64
    assert train.class_names == FASHION_MNIST_CLASSES and train.num_classes == 10
    assert train.source == str(idx_dir_256) and isinstance(train, Dataset)
    with pytest.raises(DataError, match="splits 'train' and 'test', not 'valid'"):
        create_dataset("fashion-mnist", split="valid", data_dir=idx_dir_256)


def test_mnist_reads_the_same_format_with_digit_classes(idx_dir, tmp_path):
    mnist_dir = idx_dir.rename(tmp_path / "mnist")
    dataset = create_dataset("mnist", data_dir=tmp_path)  # finds the <name> sub-folder
    assert dataset.class_names == [str(d) for d in range(10)]
    assert dataset.source == str(mnist_dir)


def test_idx_labels_must_match_images(idx_dir_256):
    write_idx(idx_dir_256 / "t10k-labels-idx1-ubyte", bytes(63), (63,))
    with pytest.raises(DataError, match="64 images but .* 63 labels"):
        create_dataset("fashion-mnist", split="test", data_dir=idx_dir_256)
    write_idx(idx_dir_256 / "t10k-labels-idx1-ubyte", bytes([10]) * 64, (64,))
    with pytest.raises(DataError, match="label 10 but fashion-mnist has 10 classes"):
        create_dataset("fashion-mnist", split="test", data_dir=idx_dir_256)


def test_idx_image_size_resizes_once(idx_dir_256):
    dataset = create_dataset("fashion-mnist", split="test", data_dir=idx_dir_256, image_size=32)
    assert dataset.images.shape == (64, 1, 32, 32) and dataset.images.dtype == torch.uint8
    assert dataset.image_size == 32


def test_torchvision_layout_is_found(idx_dir, tmp_path):
    raw = tmp_path / "tv" / "FashionMNIST" / "raw"
    raw.parent.mkdir(parents=True)
    idx_dir.rename(raw)
    assert create_dataset("fashion-mnist", data_dir=tmp_path / "tv").source == str(raw)


# The search order.
def _copy_of(idx_dir: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for f in idx_dir.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    return folder


def test_search_order(idx_dir, tmp_path, monkeypatch):
    system = _copy_of(idx_dir, tmp_path / "system" / "fashion-mnist")
    monkeypatch.setattr(search, "SYSTEM_DIR", tmp_path / "system")
    assert create_dataset("fashion-mnist").source == str(system)

    cache = _copy_of(idx_dir, search.cache_dir("fashion-mnist"))
    assert create_dataset("fashion-mnist").source == str(cache)

    env = _copy_of(idx_dir, tmp_path / "env" / "fashion-mnist")
    monkeypatch.setenv("GAN_ZOO_DATA", str(tmp_path / "env"))
    assert create_dataset("fashion-mnist").source == str(env)

    assert create_dataset("fashion-mnist", data_dir=idx_dir).source == str(idx_dir)
    assert search.candidates("fashion-mnist", "/d") == [
        Path("/d"),
        Path("/d/fashion-mnist"),
        env,
        cache,
        system,
    ]


def test_cache_dir_honours_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert search.cache_dir("mnist") == tmp_path / "xdg" / "gan-zoo" / "mnist"


def test_not_found_is_one_line_with_every_way_to_get_the_data(tmp_path, monkeypatch):
    monkeypatch.setattr(search, "SYSTEM_DIR", tmp_path / "nothing")
    with pytest.raises(DataError) as err:
        create_dataset("fashion-mnist", data_dir=tmp_path)
    message = one_line(err.value)
    for part in (
        "Fashion-MNIST not found",
        str(tmp_path),
        "apt-get install dataset-fashion-mnist",
        "gan-zoo datasets download fashion-mnist",
        "--download",
        "--data-dir",
        "GAN_ZOO_DATA",
    ):
        assert part in message


def test_a_missing_data_dir_is_an_error(tmp_path):
    with pytest.raises(DataError, match="is not a folder"):
        create_dataset("fashion-mnist", data_dir=tmp_path / "typo")


# Downloads (torchvision's download_url replaced: no network in tests).
def test_download_failure_is_one_line(tmp_path, monkeypatch):
    from urllib.error import URLError

    import torchvision.datasets.utils

    def offline(url, root, filename=None, md5=None, **kwargs):
        raise URLError("no network in this test")

    monkeypatch.setattr(torchvision.datasets.utils, "download_url", offline)
    monkeypatch.setattr(search, "SYSTEM_DIR", tmp_path / "nothing")
    with pytest.raises(DataError) as err:
        create_dataset("mnist", download=True)
    message = one_line(err.value)
    assert "MNIST not found" in message and "(no network in this test)" in message
    assert "downloading train-images-idx3-ubyte.gz" in message
    assert not list(search.cache_dir("mnist").glob("*ubyte*"))  # nothing half-written left


def test_download_lands_in_the_user_cache(idx_dir_256, tmp_path, monkeypatch):
    import torchvision.datasets.utils

    fetched = []

    def fake_download(url, root, filename=None, md5=None, **kwargs):
        fetched.append(url)
        (Path(root) / filename).write_bytes((idx_dir_256 / filename).read_bytes())

    monkeypatch.setattr(torchvision.datasets.utils, "download_url", fake_download)
    monkeypatch.setattr(search, "SYSTEM_DIR", tmp_path / "nothing")
    dataset = create_dataset("fashion-mnist", download=True)
    assert dataset.source == str(search.cache_dir("fashion-mnist")) and len(dataset) == 256
    assert len(fetched) == 4 and all(url.endswith(".gz") for url in fetched)
    assert create_dataset("fashion-mnist", split="test").source == dataset.source  # no refetch
    assert len(fetched) == 4


# CIFAR-10, binary version.
def write_cifar(folder: Path, records: dict[str, int], seed: int = 0) -> Path:
    """Tiny CIFAR-10 binary files: ``{filename: number of records}`` plus batches.meta.txt."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for filename, n in records.items():
        data = bytearray()
        for i in range(n):
            data.append(i % 10)
            data += (
                bytes([i % 10]) * 1024
                + bytes([100]) * 1024
                + bytes(rng.randrange(256) for _ in range(1024))
            )
        (folder / filename).write_bytes(bytes(data))
    (folder / "batches.meta.txt").write_text("\n".join(CIFAR10_CLASSES) + "\n\n")
    return folder


CIFAR_FILES = {**{f"data_batch_{i}.bin": 3 for i in range(1, 6)}, "test_batch.bin": 4}


def test_cifar10_binary(tmp_path):
    folder = write_cifar(tmp_path / "cifar10" / "cifar-10-batches-bin", CIFAR_FILES)
    train = create_dataset("cifar10", data_dir=tmp_path)
    test = create_dataset("cifar10", split="test", data_dir=tmp_path)
    assert train.source == str(folder)
    assert train.images.shape == (15, 3, 32, 32) and len(test) == 4
    assert train.labels.tolist() == [0, 1, 2] * 5
    assert train.class_names[0] == "airplane" and train.num_classes == 10
    assert train.images[1, 0].unique().tolist() == [1]  # red plane: label byte value
    assert train.images[1, 1].unique().tolist() == [100]  # green plane
    assert create_dataset("cifar10", data_dir=tmp_path, image_size=16).image_size == 16


def test_cifar10_rejects_truncated_and_foreign_files(tmp_path):
    folder = write_cifar(tmp_path / "c", CIFAR_FILES)
    path = folder / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match="not a whole number of 3073-byte"):
        create_dataset("cifar10", split="test", data_dir=folder)
    path.write_bytes(bytes([42]) + bytes(3072))
    with pytest.raises(DataError, match="label 42 is not a CIFAR-10 class"):
        create_dataset("cifar10", split="test", data_dir=folder)
    (folder / "data_batch_3.bin").unlink()
    with pytest.raises(DataError, match="lacks data_batch_3.bin"):
        create_dataset("cifar10", data_dir=folder)


def test_cifar10_not_found_names_the_binary_archive(tmp_path, monkeypatch):
    monkeypatch.setattr(search, "SYSTEM_DIR", tmp_path)
    with pytest.raises(DataError, match="cifar-10-binary.tar.gz") as err:
        create_dataset("cifar10")
    one_line(err.value)


# The batching contract.
def make_dataset(n: int = 10, size: int = 4) -> ImageDataset:
    images = (
        torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, size, size).contiguous()
    )
    return ImageDataset("toy", "train", images, torch.arange(n) % 3, ["a", "b", "c"], "memory")


def test_batches_scale_shuffle_and_drop_last():
    dataset = make_dataset(10)  # image i is filled with the value i, its label is i % 3
    batches = list(dataset.batches(4, torch.Generator().manual_seed(0)))
    assert len(batches) == 2  # 10 // 4: the partial batch is dropped
    x, y = batches[0]
    assert x.shape == (4, 1, 4, 4) and x.dtype == torch.float32 and y.dtype == torch.int64
    index = torch.cat([((b[0][:, 0, 0, 0] + 1) * 127.5).round().long() for b in batches])
    assert torch.equal(torch.cat([b[1] for b in batches]), index % 3)  # labels follow images
    assert len(set(index.tolist())) == 8  # without replacement
    everything = list(dataset.batches(4, drop_last=False))
    assert sorted(torch.cat([b[1] for b in everything]).tolist()) == sorted(
        i % 3 for i in range(10)
    )


def test_batches_are_seeded_and_fresh_each_epoch():
    dataset = make_dataset(64)
    g = torch.Generator().manual_seed(1)
    epoch1 = torch.cat([y for _, y in dataset.batches(8, g)])
    epoch2 = torch.cat([y for _, y in dataset.batches(8, g)])
    again = torch.cat([y for _, y in dataset.batches(8, torch.Generator().manual_seed(1))])
    assert torch.equal(epoch1, again) and not torch.equal(epoch1, epoch2)


def test_scaling_covers_minus_one_to_one():
    images = torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1, 1)
    dataset = ImageDataset("toy", "train", images, torch.zeros(2, dtype=torch.int64), [], "memory")
    x, _ = dataset.sample(2)
    assert sorted(x.flatten().tolist()) == [-1.0, 1.0]


def test_a_batch_bigger_than_the_dataset_is_an_error():
    with pytest.raises(DataError, match="toy has 10 images, fewer than one batch of 16"):
        next(make_dataset(10).batches(16))


def test_bad_tensors_are_rejected():
    with pytest.raises(DataError, match="uint8"):
        ImageDataset("toy", "train", torch.zeros(2, 1, 4, 4), torch.zeros(2), [], "memory")
    with pytest.raises(DataError, match="2 images but labels of shape .3,."):
        ImageDataset(
            "toy", "train", torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.zeros(3), [], "m"
        )


def test_sample_counts_and_to():
    dataset = make_dataset(12).to("cpu")
    x, y = dataset.sample(5, torch.Generator().manual_seed(0))
    assert x.shape == (5, 1, 4, 4) and y.shape == (5,)
    assert dataset.class_counts() == [4, 4, 4]
    assert dataset.nbytes == 12 * 16 + 12 * 8


# End to end on the real data.
@pytest.mark.slow
@needs_fashion_mnist
def test_real_fashion_mnist():
    train = create_dataset("fashion-mnist")
    test = create_dataset("fashion-mnist", split="test")
    assert (len(train), len(test)) == (60000, 10000)
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert train.class_names == FASHION_MNIST_CLASSES == test.class_names
    assert train.class_counts() == [6000] * 10 and test.class_counts() == [1000] * 10
    assert train.source == "/usr/share/datasets/fashion-mnist"
    assert train.nbytes < 60 * 2**20
    lo, hi = 1.0, -1.0
    for x, y in train.batches(1000, torch.Generator().manual_seed(0)):
        lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
        assert x.shape == (1000, 1, 28, 28) and int(y.max()) <= 9
    assert lo == -1.0 and hi == 1.0


def test_gzip_and_raw_give_the_same_dataset(idx_dir):
    for f in list(idx_dir.glob("t10k-*.gz")):
        f.with_suffix("").write_bytes(gzip.decompress(f.read_bytes()))
    gz = create_dataset("fashion-mnist", split="test", data_dir=idx_dir)
    for f in list(idx_dir.glob("t10k-*.gz")):
        f.unlink()
    raw = create_dataset("fashion-mnist", split="test", data_dir=idx_dir)
    assert torch.equal(gz.images, raw.images) and torch.equal(gz.labels, raw.labels)


def test_factories_document_their_options():
    from gan_zoo.datasets import cifar, folder, idx

    for factory in (idx.fashion_mnist, idx.mnist, cifar.cifar10, folder.image_folder):
        assert inspect.getdoc(factory)


def test_resize_keeps_flat_images_flat_and_is_antialiased():
    from gan_zoo.datasets.base import resize_images

    flat = torch.full((3, 1, 28, 28), 77, dtype=torch.uint8)
    assert resize_images(flat, 64).unique().tolist() == [77]
    stripes = torch.zeros(1, 1, 28, 28, dtype=torch.uint8)
    stripes[..., ::2] = 255  # 1-px stripes average to mid-grey when halved, not alias to 0/255
    small = resize_images(stripes, 14)
    assert small.shape == (1, 1, 14, 14) and 100 <= int(small[0, 0, 5, 5]) <= 155
    assert resize_images(flat, 28) is flat


def test_read_idx_does_not_trust_huge_declared_sizes(tmp_path):
    path = write_idx(tmp_path / "x", bytes(64), (60000, 100000, 100000))  # declares 600 TB
    with pytest.raises(DataError, match="holds 64 bytes of data but its header declares"):
        read_idx(path, 3)
