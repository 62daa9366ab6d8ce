"""Anchor diagnostics and LAAT's anchor expansion."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from robustness.engine.anchors import (
    anchor_diagnostics,
    expand_anchors,
    fit_anchor_expansion,
    givens_rotation_to_first_axis,
)


def _cone(n: int, spread: float, seed: int, dim: int = 12) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    centre = F.normalize(torch.randn(dim, generator=generator), dim=0)
    return F.normalize(centre + spread * torch.randn(n, dim, generator=generator), dim=1)


def test_diagnostics_report_similarities_and_the_most_confusable_pairs() -> None:
    anchors = torch.tensor([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0], [0.6, 0.8, 0.0]])
    diagnostics = anchor_diagnostics(anchors, ["red", "orange", "blue", "yellow"], top_k=2)
    assert diagnostics.similarity[0][1] == pytest.approx(0.8)
    assert diagnostics.max_off_diagonal == pytest.approx(0.96)  # orange · yellow
    assert diagnostics.mean_off_diagonal == pytest.approx((0.8 + 0 + 0.6 + 0 + 0.96 + 0) / 6)
    names = [(p.first_name, p.second_name) for p in diagnostics.most_confusable]
    assert names == [("orange", "yellow"), ("red", "orange")]
    assert diagnostics.summary()["most_confusable"] == [
        ["orange", "yellow", pytest.approx(0.96)],
        ["red", "orange", pytest.approx(0.8)],
    ]


def test_givens_rotation_is_orthogonal_and_maps_the_mean_onto_the_first_axis() -> None:
    direction = F.normalize(torch.randn(9, generator=torch.Generator().manual_seed(0)), dim=0).double()
    rotation = givens_rotation_to_first_axis(direction)
    assert torch.allclose(rotation @ rotation.t(), torch.eye(9, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(rotation @ direction, torch.eye(9, dtype=torch.float64)[0], atol=1e-12)


def test_expansion_fitted_on_training_classes_is_applied_unchanged_to_new_classes() -> None:
    anchors = _cone(10, 0.25, seed=3)
    train, new = anchors[:7], anchors[7:]
    expansion, report = expand_anchors(train, new)
    assert report.applied and report.factor == pytest.approx(90.0 / report.theta_max_degrees)
    refit = fit_anchor_expansion(train)
    assert torch.allclose(expansion.apply(new), refit.apply(new))
    assert not torch.allclose(expansion.apply(new), fit_anchor_expansion(new).apply(new))
    assert report.target_after is not None and report.target_before is not None
    assert report.target_after.mean_off_diagonal < report.target_before.mean_off_diagonal
    assert report.train_after.max_off_diagonal < report.train_before.max_off_diagonal
    assert torch.allclose(expansion.apply(new).norm(dim=1), torch.ones(3), atol=1e-6)


def test_expansion_never_shrinks_anchors_that_are_already_spread() -> None:
    spread = torch.eye(4)  # every anchor 60° from the mean... farthest at 60°: k = 1.5 > 1
    assert fit_anchor_expansion(spread).applied
    opposite = torch.tensor([[1.0, 0.0], [-0.6, 0.8], [-0.6, -0.8]])  # farthest > 90° from mean
    expansion = fit_anchor_expansion(opposite)
    assert not expansion.applied and expansion.factor < 1
    assert "would shrink" in expansion.reason
    assert torch.equal(expansion.apply(opposite), F.normalize(opposite, dim=1))
    _, report = expand_anchors(opposite)
    assert report.train_after.similarity == report.train_before.similarity


def test_expansion_applied_to_a_new_anchor_beyond_theta_max_is_clamped_at_pi() -> None:
    train = torch.tensor([[1.0, 0.1, 0.0], [1.0, -0.1, 0.0], [1.0, 0.0, 0.1]])
    expansion = fit_anchor_expansion(train)
    far = torch.tensor([[-1.0, 0.0, 0.05]], dtype=torch.float64)
    angle = torch.arccos((expansion.apply(far).double() @ expansion.mean_direction).clamp(-1, 1))
    assert float(angle) == pytest.approx(math.pi, abs=1e-6)
