"""Evaluation data: an in-memory `ImageDataset` and loaders for hostile uploads.

Every loader returns images as uint8 internally and yields float32 (3, H, W) in [0, 1].
"""

from robustness.engine.data.archives import CLASSES_FILE, load_image_folder, load_image_zip
from robustness.engine.data.builtin import DIGIT_NAMES, TORCHVISION_DATASETS, load_digits, load_torchvision_dataset
from robustness.engine.data.dataset import (
    DatasetLimits,
    ImageDataset,
    dataset_digest,
    dataset_from_arrays,
    restrict_to_classes,
    subset,
    validate_dataset_for_model,
)

__all__ = [
    "CLASSES_FILE",
    "DIGIT_NAMES",
    "TORCHVISION_DATASETS",
    "DatasetLimits",
    "ImageDataset",
    "dataset_digest",
    "dataset_from_arrays",
    "load_digits",
    "load_image_folder",
    "load_image_zip",
    "load_torchvision_dataset",
    "restrict_to_classes",
    "subset",
    "validate_dataset_for_model",
]
