"""Known answers: exact minimal L∞ perturbations of a linear head, soft-label CE, anchor expansion."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from robustness.engine.anchors import anchor_diagnostics, fit_anchor_expansion
from robustness.engine.evaluate import EvaluationConfig, evaluate
from robustness.engine.losses import soft_cross_entropy
from tests.robustness.engine.tiny_models import LinearZeroShot, TensorImages


def test_pgd_robust_accuracy_equals_the_exact_answer_on_a_linear_head() -> None:
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(2, 3 * 4 * 4, generator=generator) * 0.5
    model = LinearZeroShot(weight, torch.tensor([0.0, 0.2]))
    images = torch.rand(200, 3, 4, 4, generator=generator)
    with torch.no_grad():
        labels = model(images).argmax(1)
    labels[:20] = 1 - labels[:20]  # some clean mistakes
    data = TensorImages(images, labels)
    for eps in (1 / 255, 4 / 255, 16 / 255):
        exact = int(model.exact_robust_correct(images, labels, eps).sum())
        config = EvaluationConfig(epsilons=(eps,), n_examples=None, batch_size=50, device="cpu")
        record = evaluate(model, data, config).record
        assert 0 < exact < 180, "ε must make the known answer non-trivial"
        assert round(record.result("screen-pgd10", eps).robust_accuracy.value * 200) == exact


def test_exact_minimal_linf_distance_is_margin_over_l1_norm_away_from_the_box() -> None:
    weight = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]).repeat_interleave(1, 1)
    model = LinearZeroShot(torch.cat([weight, torch.zeros(2, 45)], 1), torch.zeros(2))
    x = torch.full((1, 3, 4, 4), 0.5)
    margin = float((model(x)[0, 0] - model(x)[0, 1]).detach())  # 0.5·0.5 − 0.5 + 1 = 0.75
    distance = margin / 3.5  # ‖w0 − w1‖₁ = 3.5
    label = torch.tensor([0])
    assert bool(model.exact_robust_correct(x, label, distance * 0.999))
    assert not bool(model.exact_robust_correct(x, label, distance * 1.001))


def test_soft_label_cross_entropy_is_kl_plus_teacher_entropy() -> None:
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(6, 5, generator=generator) * 3
    teacher = F.softmax(torch.randn(6, 5, generator=generator) * 2, dim=1)
    q = F.log_softmax(logits, dim=1)
    kl = (teacher * (teacher.log() - q)).sum(1).mean()
    entropy = -(teacher * teacher.log()).sum(1).mean()
    assert float(soft_cross_entropy(logits, teacher)) == pytest.approx(float(kl + entropy), abs=1e-6)
    assert float(F.cross_entropy(logits, teacher)) == pytest.approx(float(kl + entropy), abs=1e-6)


def test_expansion_puts_the_farthest_training_anchor_at_ninety_degrees_from_the_mean() -> None:
    generator = torch.Generator().manual_seed(2)
    base = F.normalize(torch.randn(16, generator=generator), dim=0)
    anchors = F.normalize(base + 0.3 * torch.randn(8, 16, generator=generator), dim=1)  # a tight cone
    expansion = fit_anchor_expansion(anchors)
    expanded = expansion.apply(anchors).double()
    angles = torch.rad2deg(torch.arccos((expanded @ expansion.mean_direction).clamp(-1, 1)))
    assert expansion.applied and expansion.factor > 1
    assert float(angles.max()) == pytest.approx(90.0, abs=1e-6)
    before = torch.arccos((F.normalize(anchors.double(), dim=1) @ expansion.mean_direction).clamp(-1, 1))
    assert torch.allclose(torch.deg2rad(angles), before * expansion.factor, atol=1e-9)
    assert anchor_diagnostics(expanded).mean_off_diagonal < anchor_diagnostics(anchors).mean_off_diagonal
    assert math.degrees(expansion.theta_max) * expansion.factor == pytest.approx(90.0)
