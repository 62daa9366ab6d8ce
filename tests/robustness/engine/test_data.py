"""Evaluation data from untrusted uploads: every hostile archive gets a precise refusal."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from robustness.engine.data import (
    DIGIT_NAMES,
    DatasetLimits,
    ImageDataset,
    load_digits,
    load_image_folder,
    load_image_zip,
    load_torchvision_dataset,
    subset,
    validate_dataset_for_model,
)
from robustness.engine.errors import DatasetError, EngineError


def png_bytes(colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


GOOD_ENTRIES = {"cat/1.png": png_bytes((10, 10, 10)), "cat/2.png": png_bytes((20, 20, 20)), "dog/1.png": png_bytes()}


def test_zip_with_two_classes_loads_in_sorted_folder_order(tmp_path: Path) -> None:
    dataset = load_image_zip(make_zip(tmp_path / "ok.zip", GOOD_ENTRIES))

    assert dataset.class_names == ("cat", "dog")
    assert dataset.labels.tolist() == [0, 0, 1]
    image, label = dataset[2]
    assert image.shape == (3, 8, 8) and label == 1
    assert image.dtype == torch.float32 and 0.0 <= float(image.min()) <= float(image.max()) <= 1.0
    assert image[0, 0, 0].item() == pytest.approx(200 / 255)


def test_zipped_folder_with_one_top_level_directory_is_unwrapped(tmp_path: Path) -> None:
    entries = {f"data/{name}": data for name, data in GOOD_ENTRIES.items()}

    assert load_image_zip(make_zip(tmp_path / "wrapped.zip", entries)).class_names == ("cat", "dog")


def test_zip_slip_member_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "slip.zip", {**GOOD_ENTRIES, "../x.png": png_bytes()})

    with pytest.raises(DatasetError, match=r"\.\./x\.png: '\.\.' path components are not allowed"):
        load_image_zip(archive)


def test_absolute_member_path_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "absolute.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("cat/1.png", png_bytes())
        info = zipfile.ZipInfo("placeholder")
        info.filename = "/etc/evil.png"  # ZipInfo() strips a leading slash; set it as an attacker would
        handle.writestr(info, png_bytes())

    with pytest.raises(DatasetError, match=r"/etc/evil.png: absolute paths are not allowed"):
        load_image_zip(archive)


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for name, data in GOOD_ENTRIES.items():
            handle.writestr(name, data)
        link = zipfile.ZipInfo("dog/passwd.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        handle.writestr(link, "/etc/passwd")

    with pytest.raises(DatasetError, match=r"dog/passwd.png: symbolic links are not allowed"):
        load_image_zip(archive)


def test_non_image_file_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "text.zip", {**GOOD_ENTRIES, "dog/notes.png": b"#!/bin/sh\necho hi\n"})

    with pytest.raises(DatasetError, match=r"dog/notes.png: not a readable image"):
        load_image_zip(archive)


def test_total_uncompressed_size_over_the_limit_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "big.zip", GOOD_ENTRIES)

    with pytest.raises(DatasetError, match="uncompressed size exceeds 100 bytes"):
        load_image_zip(archive, DatasetLimits(max_total_bytes=100))


def test_highly_compressed_member_is_refused_as_a_zip_bomb(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "bomb.zip", {**GOOD_ENTRIES, "dog/bomb.png": b"\0" * (4 << 20)})

    with pytest.raises(DatasetError, match=r"dog/bomb.png: compression ratio \d+ exceeds 200 \(possible zip bomb\)"):
        load_image_zip(archive)


def test_too_many_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="more than 2 files"):
        load_image_zip(make_zip(tmp_path / "many.zip", GOOD_ENTRIES), DatasetLimits(max_files=2))


def test_image_with_too_many_pixels_is_refused_before_decoding(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "pixels.zip", {**GOOD_ENTRIES, "dog/huge.png": png_bytes(size=(40, 30))})

    with pytest.raises(DatasetError, match=r"dog/huge.png: 40x30 pixels exceeds the limit of 1000"):
        load_image_zip(archive, DatasetLimits(max_image_pixels=1000))


def test_a_single_class_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "one.zip", {"cat/1.png": png_bytes(), "cat/2.png": png_bytes()})

    with pytest.raises(DatasetError, match="at least two class folders, found 1"):
        load_image_zip(archive)


def test_file_outside_a_class_folder_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "loose.zip", {**GOOD_ENTRIES, "loose.png": png_bytes()})

    with pytest.raises(DatasetError, match=r"loose.png: expected <class folder>/<image file>"):
        load_image_zip(archive)


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fake.zip").write_bytes(b"not a zip")

    with pytest.raises(DatasetError, match=r"fake.zip is not a valid zip archive"):
        load_image_zip(tmp_path / "fake.zip")


def test_classes_json_list_names_the_sorted_folders(tmp_path: Path) -> None:
    entries = {**GOOD_ENTRIES, "classes.json": json.dumps(["tabby cat", "sheep dog"]).encode()}

    assert load_image_zip(make_zip(tmp_path / "named.zip", entries)).class_names == ("tabby cat", "sheep dog")


def test_classes_json_mapping_names_each_folder(tmp_path: Path) -> None:
    entries = {**GOOD_ENTRIES, "classes.json": json.dumps({"dog": "a dog", "cat": "a cat"}).encode()}

    assert load_image_zip(make_zip(tmp_path / "mapped.zip", entries)).class_names == ("a cat", "a dog")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"[\"only one\"]", "classes.json lists 1 names but there are 2 class folders"),
        (b"{\"cat\": \"a cat\"}", r"classes.json has no name for class folders \['dog'\]"),
        (b"{not json", "classes.json is not valid JSON"),
        (b"42", "classes.json must be a list of names"),
    ],
)
def test_bad_classes_json_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    archive = make_zip(tmp_path / "bad.zip", {**GOOD_ENTRIES, "classes.json": content})

    with pytest.raises(DatasetError, match=message):
        load_image_zip(archive)


def _write_folder(root: Path) -> Path:
    for name, data in GOOD_ENTRIES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_image_folder_loads_like_the_zip(tmp_path: Path) -> None:
    folder = load_image_folder(_write_folder(tmp_path / "data"))
    archive = load_image_zip(make_zip(tmp_path / "data.zip", GOOD_ENTRIES))

    assert folder.class_names == archive.class_names
    assert torch.equal(folder.pixels, archive.pixels) and torch.equal(folder.labels, archive.labels)


def test_image_folder_refuses_symlinks(tmp_path: Path) -> None:
    root = _write_folder(tmp_path / "data")
    (tmp_path / "secret.png").write_bytes(png_bytes())
    (root / "dog" / "link.png").symlink_to(tmp_path / "secret.png")

    with pytest.raises(DatasetError, match=r"dog/link.png: symbolic links are not allowed"):
        load_image_folder(root)


def test_mixed_image_sizes_need_an_image_size(tmp_path: Path) -> None:
    root = _write_folder(tmp_path / "data")
    (root / "dog" / "wide.png").write_bytes(png_bytes(size=(16, 8)))

    with pytest.raises(DatasetError, match="images have different sizes"):
        load_image_folder(root)
    assert load_image_folder(root, image_size=12).image_size == (12, 12)


def test_digits_are_ten_classes_of_upsampled_rgb_images() -> None:
    digits = load_digits(image_size=32)

    assert len(digits) == 1797
    assert digits.class_names == DIGIT_NAMES and digits.class_names[0] == "zero"
    image, label = digits[0]
    assert image.shape == (3, 32, 32) and label == 0
    assert torch.equal(image[0], image[1]) and torch.equal(image[1], image[2])
    assert float(image.min()) == 0.0 and 0.9 < float(image.max()) <= 1.0
    assert digits.class_counts() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_subset_is_deterministic_for_a_seed() -> None:
    digits = load_digits(image_size=8)

    first, again, other = subset(digits, 100, seed=1), subset(digits, 100, seed=1), subset(digits, 100, seed=2)

    assert len(first) == 100
    assert torch.equal(first.pixels, again.pixels) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.labels, other.labels)
    assert subset(digits, 5000, seed=0) is digits


def test_validate_dataset_for_model_checks_class_names() -> None:
    dataset = ImageDataset(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 1]), ("cat", "dog"))

    validate_dataset_for_model(dataset, ["cat", "dog"])
    with pytest.raises(DatasetError, match="do not match the model version's classes"):
        validate_dataset_for_model(dataset, ["cat", "cow"])


def test_labels_out_of_range_are_refused() -> None:
    with pytest.raises(DatasetError, match=r"labels must lie in \[0, 2\)"):
        ImageDataset(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 2]), ("cat", "dog"))


def test_torchvision_dataset_is_never_downloaded(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"CIFAR10 not found under .* \(downloads are disabled\)"):
        load_torchvision_dataset("CIFAR10", tmp_path)
    with pytest.raises(DatasetError, match="unsupported torchvision dataset 'ImageNet'"):
        load_torchvision_dataset("ImageNet", tmp_path)
    assert not any(tmp_path.iterdir())


def test_dataset_errors_are_engine_errors() -> None:
    assert issubclass(DatasetError, EngineError)
    assert np.asarray(Image.open(io.BytesIO(png_bytes()))).shape == (8, 8, 3)
