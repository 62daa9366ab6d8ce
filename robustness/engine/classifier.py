"""Zero-shot CLIP classifier for images in [0, 1] (reference §8.1).

Resize and normalisation live inside `forward`, so attacks perturb pixels in [0, 1] at
the dataset's native resolution and ε keeps its meaning (reference §8.8, pitfall 2).
The text side is a frozen buffer of class anchors; only `visual` is ever fine-tuned.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from robustness.engine.models import ClipModel, LoadedClip, Tokenizer

DEFAULT_LOGIT_SCALE = 100.0
DEFAULT_TEMPLATES = ("a photo of a {c}.",)


def format_prompt(template: str, class_name: str) -> str:
    """Fill a template; accepts CLIP_benchmark's "{c}" and the common "{}" placeholder."""
    if "{c}" in template:
        return template.replace("{c}", class_name)
    if "{}" in template:
        return template.replace("{}", class_name)
    raise ValueError(f"prompt template has no '{{c}}' or '{{}}' placeholder: {template!r}")


@torch.no_grad()
def build_text_anchors(
    model: ClipModel, tokenizer: Tokenizer, class_names: Sequence[str], templates: Sequence[str]
) -> Tensor:
    """Class text anchors (C, D), unit norm, fp32.

    CLIP_benchmark convention: for each class, encode every template, L2-normalise each
    embedding, average them, and renormalise the mean.
    """
    if not class_names or not templates:
        raise ValueError("build_text_anchors needs at least one class name and one template")
    device = next(model.parameters()).device
    anchors = []
    for class_name in class_names:
        tokens = tokenizer([format_prompt(template, class_name) for template in templates]).to(device)
        per_template = F.normalize(model.encode_text(tokens).float(), dim=-1)  # (T, D)
        anchors.append(F.normalize(per_template.mean(dim=0), dim=-1))
    return torch.stack(anchors)


class ZeroShotClassifier(nn.Module):
    """x (N, 3, H, W) float in [0, 1], any H×W → logits (N, C) = scale · cos(f(x), t_c).

    Holds the vision tower (`visual`, the only part fine-tuning updates) and frozen buffers: `text_anchors`
    (C, D) unit rows, `mean` and `std` (1, 3, 1, 1). The text tower is not kept.
    """

    text_anchors: Tensor
    mean: Tensor
    std: Tensor

    def __init__(
        self,
        clip_model: ClipModel,
        tokenizer: Tokenizer,
        class_names: Sequence[str],
        templates: Sequence[str],
        image_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        logit_scale: float = DEFAULT_LOGIT_SCALE,
    ) -> None:
        super().__init__()
        if len(class_names) < 2:
            raise ValueError(f"a classifier needs at least two classes, got {len(class_names)}")
        self._class_names = tuple(class_names)
        self.templates = tuple(templates)
        self.image_size = int(image_size)
        self.logit_scale = float(logit_scale)
        # A plain submodule named like open_clip's, so state-dict keys read "visual.*".
        self.visual: nn.Module = clip_model.visual
        self.register_buffer("text_anchors", build_text_anchors(clip_model, tokenizer, class_names, templates))
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, 3, 1, 1))

    @classmethod
    def from_loaded(
        cls,
        loaded: LoadedClip,
        class_names: Sequence[str],
        templates: Sequence[str] = DEFAULT_TEMPLATES,
        logit_scale: float = DEFAULT_LOGIT_SCALE,
    ) -> ZeroShotClassifier:
        """Build from `models.load_clip`'s result."""
        return cls(
            loaded.model, loaded.tokenizer, class_names, templates,
            loaded.image_size, loaded.mean, loaded.std, logit_scale,
        )

    @property
    def class_names(self) -> tuple[str, ...]:
        return self._class_names

    @property
    def num_classes(self) -> int:
        return len(self._class_names)

    def set_text_anchors(self, anchors: Tensor) -> None:
        """Replace the anchors (C, D) with unit rows (e.g. after anchor expansion)."""
        expected = tuple(self.text_anchors.shape)
        if tuple(anchors.shape) != expected:
            raise ValueError(f"anchors must have shape {expected}, got {tuple(anchors.shape)}")
        norms = anchors.detach().float().norm(dim=-1)
        if not torch.allclose(norms, torch.ones_like(norms), atol=1e-4):
            raise ValueError("anchors must be L2-normalised rows")
        self.text_anchors.copy_(anchors.detach().to(self.text_anchors))

    def preprocess(self, x: Tensor) -> Tensor:
        """[0, 1] images (N, 3, H, W) → normalised (N, 3, S, S); differentiable in x."""
        assert x.ndim == 4 and x.shape[1] == 3, f"expected (N, 3, H, W), got {tuple(x.shape)}"
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bicubic", align_corners=False)
        return (x - self.mean) / self.std

    def image_features(self, x: Tensor) -> Tensor:
        """Unnormalised image embeddings (N, D) for [0, 1] inputs (FARE needs these)."""
        features: Tensor = self.visual(self.preprocess(x)).float()
        return features

    def encode_images(self, x: Tensor) -> Tensor:
        """L2-normalised image embeddings (N, D) for [0, 1] inputs."""
        return F.normalize(self.image_features(x), dim=-1)

    def forward(self, x: Tensor, logit_scale: float | None = None) -> Tensor:
        """Logits (N, C) = scale · cos(image embedding, class anchor); one tensor out."""
        scale = self.logit_scale if logit_scale is None else logit_scale
        return scale * self.encode_images(x) @ self.text_anchors.t()
