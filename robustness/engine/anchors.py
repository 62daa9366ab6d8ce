"""Anchor diagnostics and LAAT's anchor expansion (reference §3.1).

Diagnostics: how similar the class text anchors are (close anchors make classes easy to
confuse, and a small adversarial step crosses between them). Expansion: LAAT's map that
spreads the anchors away from their mean so that the farthest training anchor sits at 90°,
fitted on the training classes and applied unchanged to new classes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class ConfusablePair:
    first: int
    second: int
    first_name: str
    second_name: str
    cosine_similarity: float


@dataclass(frozen=True)
class AnchorDiagnostics:
    """Pairwise cosine similarities of C unit anchors and what they say about confusability."""

    class_names: tuple[str, ...]
    similarity: tuple[tuple[float, ...], ...]  # (C, C), diagonal 1
    mean_off_diagonal: float
    max_off_diagonal: float
    most_confusable: tuple[ConfusablePair, ...]  # top-k, most similar first

    def summary(self) -> dict[str, object]:
        """Small JSON-ready form for records (no full matrix)."""
        return {
            "n_classes": len(self.class_names),
            "mean_off_diagonal": self.mean_off_diagonal,
            "max_off_diagonal": self.max_off_diagonal,
            "most_confusable": [[p.first_name, p.second_name, p.cosine_similarity] for p in self.most_confusable],
        }


def anchor_diagnostics(anchors: Tensor, class_names: Sequence[str] | None = None, top_k: int = 5) -> AnchorDiagnostics:
    """anchors (C, D), rows unit-normalised here; top_k most similar distinct pairs."""
    assert anchors.ndim == 2 and anchors.shape[0] >= 2, f"need (C>=2, D) anchors, got {tuple(anchors.shape)}"
    names = tuple(class_names) if class_names is not None else tuple(f"class {i}" for i in range(anchors.shape[0]))
    assert len(names) == anchors.shape[0], "one name per anchor"
    unit = torch.nn.functional.normalize(anchors.detach().double().cpu(), dim=1)
    similarity = unit @ unit.t()
    rows, cols = torch.triu_indices(len(names), len(names), offset=1)
    off = similarity[rows, cols]
    order = torch.argsort(off, descending=True, stable=True)[:top_k]
    pairs = tuple(
        ConfusablePair(int(rows[i]), int(cols[i]), names[int(rows[i])], names[int(cols[i])], float(off[i]))
        for i in order
    )
    return AnchorDiagnostics(
        names,
        tuple(tuple(float(v) for v in row) for row in similarity.tolist()),
        float(off.mean()),
        float(off.max()),
        pairs,
    )


def givens_rotation_to_first_axis(direction: Tensor) -> Tensor:
    """Orthogonal R (D, D), a product of Givens rotations, with R @ direction = ‖direction‖ e₁.

    As LAAT's convert_anchor.py: rotate coordinates (D-1, D-2), ..., (0, 1) in turn, each
    zeroing the later coordinate into the earlier one.
    """
    v = direction.detach().double().clone()
    size = v.shape[0]
    rotation = torch.eye(size, dtype=torch.float64)
    for j in range(size - 1, 0, -1):
        a, b = float(v[j - 1]), float(v[j])
        r = math.hypot(a, b)
        if r == 0.0:
            continue
        c, s = a / r, b / r
        # Left-multiplying by the Givens matrix only mixes rows j-1 and j: O(D) per step.
        for target in (v, rotation):
            upper, lower = target[j - 1].clone(), target[j].clone()
            target[j - 1], target[j] = c * upper + s * lower, -s * upper + c * lower
    return rotation


@dataclass(frozen=True)
class AnchorExpansion:
    """LAAT's expansion map fitted on training anchors: θ ↦ k·θ around the mean direction.

    factor k = (π/2) / θ_max, where θ_max is the angle of the training anchor farthest from
    the mean. `applied` is False where k ≤ 1 (the map would shrink angles), with the reason.
    """

    mean_direction: Tensor  # (D,) unit
    rotation: Tensor  # (D, D) orthogonal, rotation @ mean_direction = e₁
    theta_max: float  # radians
    factor: float
    applied: bool
    reason: str

    def apply(self, anchors: Tensor) -> Tensor:
        """Expanded unit anchors (C, D), same dtype/device; identity where not applied.

        Angles are clamped at π (a new class beyond θ_max could otherwise wrap around).
        """
        if not self.applied:
            return torch.nn.functional.normalize(anchors, dim=1)
        unit = torch.nn.functional.normalize(anchors.detach().double().cpu(), dim=1)
        rotated = unit @ self.rotation.t()  # t' = R t, row-wise
        theta_1 = torch.arccos(rotated[:, 0].clamp(-1.0, 1.0))
        theta_2 = (self.factor * theta_1).clamp(max=math.pi)
        sin_1 = torch.sin(theta_1)
        tail_scale = torch.where(sin_1 > 1e-12, torch.sin(theta_2) / sin_1.clamp(min=1e-12), torch.zeros_like(sin_1))
        expanded = torch.cat([torch.cos(theta_2)[:, None], rotated[:, 1:] * tail_scale[:, None]], dim=1)
        back = torch.nn.functional.normalize(expanded @ self.rotation, dim=1)  # rotate back: R^T t''
        return back.to(dtype=anchors.dtype, device=anchors.device)


def fit_anchor_expansion(train_anchors: Tensor) -> AnchorExpansion:
    """Fit the §3.1 map on the training classes' anchors (C, D)."""
    unit = torch.nn.functional.normalize(train_anchors.detach().double().cpu(), dim=1)
    mean = torch.nn.functional.normalize(unit.mean(0), dim=0)
    rotation = givens_rotation_to_first_axis(mean)
    rotated = unit @ rotation.t()
    theta_max = float(torch.arccos(rotated[:, 0].min().clamp(-1.0, 1.0)))
    factor = (math.pi / 2) / theta_max if theta_max > 0 else float("inf")
    if factor <= 1.0:
        reason = (
            f"the farthest training anchor is already {math.degrees(theta_max):.1f}° from the mean (≥ 90°); "
            f"expansion would shrink angles (k = {factor:.3f}), so the anchors are left as they are"
        )
        return AnchorExpansion(mean, rotation, theta_max, factor, False, reason)
    if not math.isfinite(factor):
        return AnchorExpansion(mean, rotation, theta_max, factor, False, "all training anchors coincide")
    reason = f"anchors lie within {math.degrees(theta_max):.1f}° of their mean; angles scaled by k = {factor:.3f}"
    return AnchorExpansion(mean, rotation, theta_max, factor, True, reason)


@dataclass(frozen=True)
class ExpansionReport:
    """What an expansion did: its factor and the similarities before and after."""

    factor: float
    theta_max_degrees: float
    applied: bool
    reason: str
    train_before: AnchorDiagnostics
    train_after: AnchorDiagnostics
    target_before: AnchorDiagnostics | None
    target_after: AnchorDiagnostics | None

    def summary(self) -> dict[str, object]:
        def part(d: AnchorDiagnostics | None) -> dict[str, object] | None:
            return None if d is None else d.summary()

        return {
            "factor": self.factor,
            "theta_max_degrees": self.theta_max_degrees,
            "applied": self.applied,
            "reason": self.reason,
            "train_before": part(self.train_before),
            "train_after": part(self.train_after),
            "target_before": part(self.target_before),
            "target_after": part(self.target_after),
        }


def expand_anchors(
    train_anchors: Tensor,
    target_anchors: Tensor | None = None,
    *,
    train_names: Sequence[str] | None = None,
    target_names: Sequence[str] | None = None,
    top_k: int = 5,
) -> tuple[AnchorExpansion, ExpansionReport]:
    """Fit on `train_anchors`, apply to both sets, and report similarities before/after."""
    expansion = fit_anchor_expansion(train_anchors)
    target_before = target_after = None
    if target_anchors is not None:
        target_before = anchor_diagnostics(target_anchors, target_names, top_k)
        target_after = anchor_diagnostics(expansion.apply(target_anchors), target_names, top_k)
    report = ExpansionReport(
        expansion.factor,
        math.degrees(expansion.theta_max),
        expansion.applied,
        expansion.reason,
        anchor_diagnostics(train_anchors, train_names, top_k),
        anchor_diagnostics(expansion.apply(train_anchors), train_names, top_k),
        target_before,
        target_after,
    )
    return expansion, report
