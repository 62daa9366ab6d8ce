"""The built-in evaluation datasets, made here (nothing downloads): synthetic shapes and digits.

One definition for the platform's runs and for `python -m robustness.engine rerun`, so that a
manifest naming a built-in rebuilds exactly the images the run saw.
"""

from __future__ import annotations

import torch

from robustness.engine import synthetic
from robustness.engine.data import ImageDataset, load_digits
from robustness.engine.errors import DatasetError

BUILTIN_DATASETS = {
    "synthetic-held-out": "Synthetic shapes: held-out colour-shape compositions (test split)",
    "synthetic-seen": "Synthetic shapes: compositions seen in pretraining (test split)",
    "synthetic-train": "Synthetic shapes: seen compositions (train split, for retraining)",
    "digits": "Handwritten digits (scikit-learn, 8x8 upscaled)",
}
SYNTHETIC_PER_CLASS = 24


def builtin_dataset(name: str) -> ImageDataset:
    """The built-in dataset `name` (a key of `BUILTIN_DATASETS`), the same images every time."""
    if name not in BUILTIN_DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; built-ins are {', '.join(BUILTIN_DATASETS)}")
    if name == "digits":
        return load_digits()
    spec = synthetic.SyntheticSpec()
    compositions = (synthetic.held_out_compositions(spec) if name == "synthetic-held-out"
                    else synthetic.seen_compositions(spec))
    split = "train" if name == "synthetic-train" else "test"
    generated = synthetic.generate_split(spec, split, compositions, SYNTHETIC_PER_CLASS).dataset
    # Labels index all 36 compositions; renumber them 0..k-1 over the classes present.
    full = synthetic.class_names()
    present = [full.index(c.name) for c in compositions]
    remap = torch.full((len(full),), -1, dtype=torch.int64)
    remap[present] = torch.arange(len(present))
    return ImageDataset(generated.pixels, remap[generated.labels], tuple(c.name for c in compositions))
