"""The in-memory evaluation dataset every loader returns, and deterministic subsetting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from robustness.engine.errors import DatasetError


@dataclass(frozen=True)
class DatasetLimits:
    """Bounds on untrusted uploads (zip bombs, pixel bombs, endless folders)."""

    max_files: int = 50_000
    max_total_bytes: int = 1 << 30
    max_image_pixels: int = 4096 * 4096
    max_compression_ratio: float = 200.0
    max_classes: int = 10_000


@dataclass(frozen=True, eq=False)
class ImageDataset(Dataset[tuple[Tensor, int]]):
    """Images and labels held in memory.

    `pixels`: uint8 (N, 3, H, W); `labels`: int64 (N,) in [0, C); `class_names`: C names.
    Items are (float32 (3, H, W) in [0, 1], int label), the engine-wide image convention.
    """

    pixels: Tensor
    labels: Tensor
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.pixels.dtype != torch.uint8 or self.pixels.ndim != 4 or self.pixels.shape[1] != 3:
            raise DatasetError(f"pixels must be uint8 (N, 3, H, W), got {self.pixels.dtype} {tuple(self.pixels.shape)}")
        if self.labels.shape != (self.pixels.shape[0],):
            raise DatasetError(f"labels must have shape ({self.pixels.shape[0]},), got {tuple(self.labels.shape)}")
        if len(self.labels) and not 0 <= int(self.labels.min()) <= int(self.labels.max()) < len(self.class_names):
            raise DatasetError(f"labels must lie in [0, {len(self.class_names)})")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self.pixels[index].float() / 255.0, int(self.labels[index])

    @property
    def image_size(self) -> tuple[int, int]:
        """(H, W) of every image."""
        return int(self.pixels.shape[2]), int(self.pixels.shape[3])

    def tensors(self) -> tuple[Tensor, Tensor]:
        """All images as float32 (N, 3, H, W) in [0, 1] and labels int64 (N,)."""
        return self.pixels.float() / 255.0, self.labels.clone()

    def class_counts(self) -> list[int]:
        """Number of images of each class, in class order."""
        return torch.bincount(self.labels, minlength=len(self.class_names)).tolist()


def dataset_from_arrays(
    images: Sequence[np.ndarray], labels: Sequence[int], class_names: Sequence[str]
) -> ImageDataset:
    """Stack HWC uint8 RGB arrays (all the same size) into an `ImageDataset`."""
    if not images:
        raise DatasetError("the dataset contains no images")
    shapes = {image.shape for image in images}
    if len(shapes) != 1:
        raise DatasetError(f"images have different sizes {sorted(shapes)[:3]}; pass image_size to resize them")
    pixels = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return ImageDataset(pixels, torch.tensor(list(labels), dtype=torch.int64), tuple(class_names))


def subset(dataset: ImageDataset, n: int, seed: int = 0) -> ImageDataset:
    """A deterministic random subset of `n` images (all of them if n ≥ len), in index order."""
    if n <= 0:
        raise DatasetError(f"subset size must be positive, got {n}")
    if n >= len(dataset):
        return dataset
    generator = torch.Generator().manual_seed(seed)
    indices = torch.randperm(len(dataset), generator=generator)[:n].sort().values
    return ImageDataset(dataset.pixels[indices], dataset.labels[indices], dataset.class_names)


def restrict_to_classes(dataset: ImageDataset, class_names: Sequence[str]) -> ImageDataset:
    """Only the images of `class_names`, relabelled 0..k-1 in the order given."""
    missing = [name for name in class_names if name not in dataset.class_names]
    if missing:
        raise DatasetError(f"classes {missing[:5]} are not in the dataset")
    old_labels = torch.tensor([dataset.class_names.index(name) for name in class_names], dtype=torch.int64)
    remap = torch.full((len(dataset.class_names),), -1, dtype=torch.int64)
    remap[old_labels] = torch.arange(len(class_names))
    keep = remap[dataset.labels] >= 0
    return ImageDataset(dataset.pixels[keep], remap[dataset.labels[keep]], tuple(class_names))


def validate_dataset_for_model(dataset: ImageDataset, class_names: Sequence[str] | None = None) -> None:
    """Refuse a dataset a zero-shot evaluation cannot use (`DatasetError` says why)."""
    if len(dataset.class_names) < 2:
        raise DatasetError(f"zero-shot classification needs at least two classes, got {len(dataset.class_names)}")
    if len(dataset) == 0:
        raise DatasetError("the dataset contains no images")
    if len(set(dataset.class_names)) != len(dataset.class_names):
        raise DatasetError("class names must be unique")
    if any(not name.strip() for name in dataset.class_names):
        raise DatasetError("class names must not be empty")
    if class_names is not None and tuple(class_names) != dataset.class_names:
        raise DatasetError(
            f"the dataset's classes {list(dataset.class_names)[:5]} do not match the model version's "
            f"classes {list(class_names)[:5]}"
        )


def dataset_digest(dataset: ImageDataset) -> str:
    """SHA-256 of what a run sees: the pixels, the labels and the class names (not the container:
    the same images from a zip or a folder have one digest)."""
    import hashlib

    digest = hashlib.sha256()
    digest.update(dataset.pixels.contiguous().numpy().tobytes())
    digest.update(dataset.labels.contiguous().numpy().tobytes())
    digest.update("\n".join(dataset.class_names).encode())
    return digest.hexdigest()
