"""Tiny classifiers and in-memory image sets for the attack, evaluation, loss and retraining tests.

Plain helpers, not fixtures: tests import what they need from here (conftest.py holds the fixtures).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from robustness.engine.classifier import ZeroShotClassifier
from robustness.engine.models import ModelSpec, load_clip
from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG

COLOURS = ("red", "green", "blue", "yellow")


class LinearZeroShot(nn.Module):
    """Two-class linear "zero-shot head": logits = W x_flat + b, x (N,3,H,W) in [0,1].

    The exact minimal L∞ perturbation that flips an example is |margin| / ‖w₀ − w₁‖₁, so
    robust accuracy at any ε is known in closed form (see `exact_robust_correct`).
    """

    def __init__(self, weight: Tensor, bias: Tensor) -> None:
        super().__init__()
        assert weight.ndim == 2 and weight.shape[0] == 2 and bias.shape == (2,)
        self.weight = nn.Parameter(weight.clone())
        self.bias = nn.Parameter(bias.clone())
        self.register_buffer("text_anchors", torch.eye(2))
        self.class_names = ("negative", "positive")

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1) @ self.weight.t() + self.bias

    def exact_robust_correct(self, x: Tensor, y: Tensor, eps: float) -> Tensor:
        """Bool (N,): correct and no δ with ‖δ‖∞ ≤ ε (and x+δ in [0,1]) flips it.

        With the box constraint the worst case moves each pixel to 0 or 1 within ε, so
        the largest reachable margin reduction is Σ_i |w_i| · room_i in the harmful direction.
        """
        with torch.no_grad():
            direction = (self.weight[0] - self.weight[1]) * torch.where(y == 0, 1.0, -1.0)[:, None]  # (N, D)
            margin = (x.flatten(1) * direction).sum(1) + (self.bias[0] - self.bias[1]) * torch.where(y == 0, 1.0, -1.0)
            flat = x.flatten(1)
            room = torch.where(direction > 0, flat.clamp(max=eps), (1 - flat).clamp(max=eps))
            reduction = (direction.abs() * room).sum(1)
            return (margin > 0) & (margin - reduction > 0)


class TensorImages(Dataset[tuple[Tensor, int]]):
    """(image (3,H,W) in [0,1], label) pairs from tensors."""

    def __init__(self, images: Tensor, labels: Tensor, class_names: tuple[str, ...] | None = None) -> None:
        assert images.ndim == 4 and images.shape[0] == labels.shape[0]
        self.images, self.labels = images, labels
        if class_names is not None:
            self.class_names = class_names

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self.images[index], int(self.labels[index])


def tiny_clip_and_classifier(
    seed: int = 0, class_names: tuple[str, ...] = COLOURS
) -> tuple[nn.Module, ZeroShotClassifier]:
    """A fresh tiny open_clip model (same weights for the same seed) and its classifier."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        loaded = load_clip(ModelSpec(TINY_ARCHITECTURE, model_config=TINY_MODEL_CONFIG))
    return loaded.model, ZeroShotClassifier.from_loaded(loaded, class_names)


def tiny_classifier(seed: int = 0, class_names: tuple[str, ...] = COLOURS) -> ZeroShotClassifier:
    return tiny_clip_and_classifier(seed, class_names)[1]


def self_labelled_images(classifier: nn.Module, n: int, seed: int = 0, size: int = 32) -> TensorImages:
    """Random images labelled with the classifier's own clean predictions (clean accuracy 1),
    except every fourth, whose label is shifted (clean mistakes), so all counts are exercised."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 3, size, size, generator=generator)
    with torch.no_grad():
        labels = classifier(images).argmax(1)
    anchors = classifier.text_anchors
    assert isinstance(anchors, Tensor)
    n_classes = int(anchors.shape[0])
    labels[::4] = (labels[::4] + 1) % n_classes
    names = getattr(classifier, "class_names", None)
    return TensorImages(images, labels, tuple(names) if names is not None else None)
