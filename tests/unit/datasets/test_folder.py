"""image-folder: scanning, decoding, the cache, the seeded split and streaming."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from helpers import ROOT
from PIL import Image

from gan_zoo import create_dataset
from gan_zoo.datasets import folder as folder_module
from gan_zoo.datasets import search
from gan_zoo.datasets.base import Dataset, ImageDataset
from gan_zoo.datasets.streaming import StreamingImageDataset
from gan_zoo.errors import DataError


def solid(path: Path, color, size=(24, 16), mode="RGB", **save) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path, **save)
    return path


@pytest.fixture
def photos(tmp_path) -> Path:
    """Two classes of small images in three formats, plus a corrupt PNG, a text file, a hidden
    file."""
    root = tmp_path / "photos"
    for i in range(6):
        solid(root / "cat" / f"c{i}.png", (200, 10 * i, 0))
        solid(root / "dog" / f"d{i}.jpg", (0, 10 * i, 200), quality=95)
    solid(root / "dog" / "nested" / "d6.webp", (0, 0, 250))
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "cat" / ".DS_Store").write_bytes(b"\0\0")
    return root


def load(root, **options):
    options.setdefault("image_size", 8)
    options.setdefault("workers", 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = create_dataset("image-folder", data_dir=str(root), **options)
    return dataset, [str(w.message) for w in caught]


def test_class_folders_with_bad_files_skipped_in_one_warning(photos):
    dataset, messages = load(photos, split="all")
    assert isinstance(dataset, ImageDataset) and isinstance(dataset, Dataset)
    assert dataset.class_names == ["cat", "dog"] and dataset.num_classes == 2
    assert dataset.class_counts() == [6, 7]  # the nested WebP counts for "dog"
    assert dataset.images.shape == (13, 3, 8, 8) and dataset.images.dtype == torch.uint8
    assert dataset.source == str(photos.resolve())
    assert len(messages) == 1
    assert "skipped 2 of 15 files" in messages[0]
    assert (
        "1 not an image: cat/notes.txt" in messages[0]
        and "1 unreadable: dog/broken.png" in messages[0]
    )
    red = dataset.images[dataset.labels == 0][:, 0]
    blue = dataset.images[dataset.labels == 1][:, 2]
    assert int(red.min()) >= 195 and int(blue.min()) >= 190


def test_second_load_hits_the_cache(photos, monkeypatch):
    first, _ = load(photos, split="all")
    cached = list((search.cache_dir("image-folder")).glob("*.safetensors"))
    assert len(cached) == 1

    def no_preprocessing(*args, **kwargs):
        raise AssertionError("preprocessed again")

    with monkeypatch.context() as patched:
        patched.setattr(folder_module, "preprocess", no_preprocessing)
        second, messages = load(photos, split="all")
        assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
        assert "1 unreadable: dog/broken.png" in messages[0]  # still reported from the cache
        train, _ = load(photos)  # another split of the same preprocessed images
        assert len(train) < len(second)

    solid(photos / "cat" / "c9.png", (10, 10, 10))  # the folder changed: a new cache entry
    third, _ = load(photos, split="all")
    assert (
        len(third) == 14 and len(list(search.cache_dir("image-folder").glob("*.safetensors"))) == 2
    )


def test_settings_are_part_of_the_cache_key(photos):
    small, _ = load(photos, split="all", image_size=8)
    gray, _ = load(photos, split="all", image_size=8, channels=1)
    big, _ = load(photos, split="all", image_size=12)
    assert small.images.shape[1:] == (3, 8, 8)
    assert gray.images.shape[1:] == (1, 8, 8) and big.images.shape[1:] == (3, 12, 12)


def test_a_damaged_cache_file_is_rebuilt(photos):
    first, _ = load(photos, split="all")
    (cache,) = search.cache_dir("image-folder").glob("*.safetensors")
    cache.write_bytes(b"garbage")
    again, _ = load(photos, split="all")
    assert torch.equal(first.images, again.images)


def test_seeded_stratified_split(photos):
    train, _ = load(photos, test_fraction=0.34, seed=3)
    test, _ = load(photos, split="test", test_fraction=0.34, seed=3)
    cats, dogs = test.class_counts()  # round(0.34 * 6) cats; round(0.34 * 8) dog files, one broken
    assert cats == 2 and dogs in (2, 3)
    assert len(train) + len(test) == 13
    train_again, _ = load(photos, test_fraction=0.34, seed=3)
    other_seed, _ = load(photos, test_fraction=0.34, seed=4)
    assert torch.equal(train.images, train_again.images)
    assert not torch.equal(train.images, other_seed.images)
    with pytest.raises(DataError, match="the test split .* is empty"):
        load(photos, split="test", test_fraction=0.0)


def test_center_crop_and_transparency(tmp_path):
    wide = Image.new("RGB", (40, 20), (255, 0, 0))
    wide.paste((0, 0, 255), (10, 0, 30, 20))  # blue in the central 20x20 square
    (tmp_path / "flat").mkdir()
    wide.save(tmp_path / "flat" / "wide.png")
    solid(tmp_path / "flat" / "clear.png", (0, 0, 0, 0), size=(10, 10), mode="RGBA")
    dataset, messages = load(tmp_path / "flat", split="all")
    assert messages == []
    assert dataset.class_names == [] and dataset.num_classes == 0 and dataset.class_counts() == []
    clear, wide_img = dataset.images  # sorted file names: clear.png, wide.png
    assert clear.unique().tolist() == [255]  # transparent -> white
    inner = wide_img[:, :, 1:-1]  # the antialiasing filter may blend a little red into the edges
    assert inner[2].min() >= 250 and inner[0].max() <= 5  # cropped to the blue centre


def test_grayscale_and_16_bit_images(tmp_path):
    root = tmp_path / "gray"
    solid(root / "a.png", (0, 128, 255))
    Image.new("I;16", (8, 8), 65535).save(root / "deep.png")
    dataset, _ = load(root, split="all", channels=1, image_size=4)
    assert dataset.images.shape == (2, 1, 4, 4)
    assert dataset.images[1].unique().tolist() == [255]  # 16-bit white stays white, not clipped


def test_clear_errors(tmp_path, photos):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no PNG, JPEG or WebP images in .*empty"):
        load(tmp_path / "empty")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "readme.md").write_text("hi")
    with pytest.raises(DataError, match=r"\(1 other files\)"):
        load(tmp_path / "text")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.jpg").write_bytes(b"nope")
    with pytest.raises(DataError, match="none of the 1 images .* could be read"):
        load(tmp_path / "bad")
    with pytest.raises(DataError, match="needs --data-dir"):
        create_dataset("image-folder")
    with pytest.raises(DataError, match="nothing to download"):
        load(photos, download=True)
    with pytest.raises(DataError, match="channels must be 1 .* or 3"):
        load(photos, channels=2)
    with pytest.raises(DataError, match="is not a folder"):
        load(tmp_path / "missing")


def test_too_big_for_memory_streams(photos):
    memory, _ = load(photos, split="all")
    stream, messages = load(photos, split="all", max_memory_mb=0)
    assert isinstance(stream, StreamingImageDataset) and isinstance(stream, Dataset)
    assert len(stream) == 14  # files are not decoded up front: broken.png is still listed
    assert "1 not an image: cat/notes.txt" in messages[0]
    assert (stream.image_size, stream.channels, stream.class_names) == (8, 3, ["cat", "dog"])
    assert stream.class_counts() == [6, 8]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = list(
            stream.to("cpu").batches(4, torch.Generator().manual_seed(0), drop_last=False)
        )
    assert [str(w.message) for w in caught] == [
        "image-folder: skipped 1 unreadable image file(s) (broken.png)"
    ]
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    assert x.shape == (13, 3, 8, 8) and float(x.min()) >= -1 and float(x.max()) <= 1
    # The same pixels as the preprocessed in-memory copy, image for image.
    as_uint8 = ((x + 1) * 127.5).round().to(torch.uint8)
    key = lambda t: t.flatten().tolist()  # noqa: E731
    assert sorted(map(key, as_uint8)) == sorted(map(key, memory.images))
    assert sorted(y.tolist()) == sorted(memory.labels.tolist())

    sample, labels = stream.sample(3, torch.Generator().manual_seed(0))
    assert sample.shape == (3, 3, 8, 8) and labels.shape == (3,)


def test_streaming_with_worker_processes(photos):
    stream, _ = load(photos, split="all", max_memory_mb=0, workers=1)
    g = torch.Generator().manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = [y for _, y in stream.batches(2, g)]
        second = [y for _, y in stream.batches(2, g)]  # the workers persist across epochs
    assert sum(len(y) for y in first) == sum(len(y) for y in second) == 13  # 14 files, 1 broken
    assert stream._loader._iterator is not None  # the same worker kept for the second epoch


def test_exif_orientation_is_applied(tmp_path):
    stored = Image.new("RGB", (40, 20), (255, 0, 0))
    stored.paste((0, 0, 255), (20, 0, 40, 20))  # stored: red left half, blue right half
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display", as phone cameras write it
    (tmp_path / "phone").mkdir()
    stored.save(tmp_path / "phone" / "photo.jpg", quality=95, exif=exif)
    dataset, _ = load(tmp_path / "phone", split="all")
    image = dataset.images[0].int()  # (3, 8, 8); displayed: red top half, blue bottom half
    assert image[0, 1, 3] > 200 and image[2, 1, 3] < 60  # top row: red
    assert image[2, 6, 3] > 200 and image[0, 6, 3] < 60  # bottom row: blue


def test_documented_options_match_the_factory():
    """docs/datasets.md's image-folder option table stays true to the code."""
    import inspect
    import re

    text = (ROOT / "docs" / "datasets.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", text, flags=re.M))
    params = inspect.signature(folder_module.image_folder).parameters
    documented = {name for name in params if name != "download"}
    assert documented <= rows.keys()
    for name in documented:
        default = params[name].default
        if default is None:
            continue  # "required" / computed defaults are described in words
        assert rows[name] == f"`{default!r}`".replace("'", '"'), name
