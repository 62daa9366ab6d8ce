"""Datasets that need no upload: scikit-learn's digits and torchvision datasets on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from robustness.engine.data.dataset import ImageDataset, dataset_from_arrays
from robustness.engine.errors import DatasetError

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TORCHVISION_DATASETS = ("CIFAR10", "CIFAR100", "STL10", "MNIST", "FashionMNIST", "SVHN")


def load_digits(image_size: int = 32) -> ImageDataset:
    """scikit-learn's 1,797 handwritten digits (bundled, no download), 8×8 → `image_size`.

    Grey values 0..16 become white-on-black RGB uint8; classes "zero".."nine".
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    grey = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(1)  # (N, 1, 8, 8)
    if image_size != grey.shape[-1]:
        grey = F.interpolate(grey, size=(image_size, image_size), mode="bilinear", align_corners=False)
    pixels = (grey.clamp(0, 1) * 255).round().to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    return ImageDataset(pixels, torch.from_numpy(bunch.target.astype(np.int64)), DIGIT_NAMES)


def load_torchvision_dataset(
    name: str, root: str | Path, split: str = "test", limit: int | None = None
) -> ImageDataset:
    """A torchvision dataset already on disk under `root` (never downloads).

    `split` is "train" or "test"; `limit` keeps the first n images.
    """
    import torchvision.datasets as tv

    if name not in TORCHVISION_DATASETS:
        raise DatasetError(f"unsupported torchvision dataset {name!r}; supported: {', '.join(TORCHVISION_DATASETS)}")
    if split not in ("train", "test"):
        raise DatasetError(f"split must be 'train' or 'test', got {split!r}")
    factory = getattr(tv, name)
    split_kwargs = {"split": split} if name in ("STL10", "SVHN") else {"train": split == "train"}
    try:
        dataset = factory(root=str(root), download=False, **split_kwargs)
    except (RuntimeError, OSError) as error:
        raise DatasetError(f"{name} not found under {root} (downloads are disabled): {error}") from error
    count = len(dataset) if limit is None else min(limit, len(dataset))
    images = [np.asarray(dataset[index][0].convert("RGB"), dtype=np.uint8) for index in range(count)]
    labels = [int(dataset[index][1]) for index in range(count)]
    return dataset_from_arrays(images, labels, _class_names(dataset))


def _class_names(dataset: object) -> tuple[str, ...]:
    names = getattr(dataset, "classes", None)
    if not names:
        raise DatasetError(f"{type(dataset).__name__} does not declare its class names")
    return tuple(str(name).split(" - ", 1)[-1] for name in names)
