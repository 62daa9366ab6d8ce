"""Training losses: TeCoA, alignment cross-entropy, AGFT and FARE on a tiny CLIP."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from robustness.engine import losses
from tests.robustness.engine.tiny_models import self_labelled_images, tiny_classifier

ATTACK = losses.InnerAttack(eps=4 / 255, alpha=2 / 255, steps=2)
NO_ATTACK = losses.InnerAttack(eps=0.0, alpha=0.0, steps=1, random_start=False)


@pytest.fixture(scope="module")
def setup():
    classifier = tiny_classifier(1)
    data = self_labelled_images(classifier, 6, seed=1)
    return classifier, data.images, data.labels


def test_inner_pgd_increases_its_objective_inside_the_ball_and_restores_training_mode(setup) -> None:
    classifier, images, labels = setup
    classifier.train()
    objective = lambda x: F.cross_entropy(classifier(x), labels)  # noqa: E731
    adversarial = losses.pgd_maximise(objective, images, losses.InnerAttack(4 / 255, 1 / 255, 5), classifier)
    assert classifier.training
    classifier.eval()
    assert float((adversarial - images).abs().max()) <= 4 / 255 + 1e-6
    assert float(adversarial.min()) >= 0.0 and float(adversarial.max()) <= 1.0
    with torch.no_grad():
        assert float(objective(adversarial)) > float(objective(images))


def test_tecoa_is_cross_entropy_of_clip_logits_on_its_adversarial_batch(setup) -> None:
    classifier, images, labels = setup
    output = losses.tecoa_loss(classifier, images, labels, ATTACK)
    # The batch is a real attack: moved, inside the ε-ball and the unit box, and harder than clean.
    perturbation = (output.adversarial - images).abs()
    assert float(perturbation.max()) > ATTACK.alpha / 2
    assert float(perturbation.max()) <= ATTACK.eps + 1e-6
    assert float(output.adversarial.min()) >= 0.0 and float(output.adversarial.max()) <= 1.0
    with torch.no_grad():
        clean = F.cross_entropy(classifier(images), labels)
        expected = F.cross_entropy(classifier(output.adversarial), labels)
    assert float(expected) > float(clean)
    assert float(output.loss.detach()) == pytest.approx(float(expected), rel=1e-5)
    output.loss.backward()
    assert classifier.text_anchors.grad is None  # a frozen buffer, never trained
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in classifier.visual.parameters())
    classifier.zero_grad(set_to_none=True)


def test_alignment_cross_entropy_uses_the_given_anchors_and_a_consistency_term(setup) -> None:
    classifier, images, labels = setup
    anchors = classifier.text_anchors
    clean = losses.alignment_cross_entropy_loss(classifier, images, labels, NO_ATTACK, anchors=anchors)
    assert clean.parts["consistency"] == pytest.approx(0.0, abs=1e-6)  # x_adv = x: features agree
    with torch.no_grad():
        expected = F.cross_entropy(100 * classifier.encode_images(images) @ anchors.t(), labels)
    assert float(clean.loss.detach()) == pytest.approx(float(expected), rel=1e-5)
    swapped = losses.alignment_cross_entropy_loss(classifier, images, labels, NO_ATTACK, anchors=anchors.flip(0))
    assert swapped.parts["cross_entropy"] != pytest.approx(clean.parts["cross_entropy"])
    attacked = losses.alignment_cross_entropy_loss(
        classifier, images, labels, ATTACK, anchors=anchors, consistency_weight=2.0
    )
    assert attacked.parts["consistency"] > 0
    total = attacked.parts["cross_entropy"] + 2 * attacked.parts["consistency"]
    assert float(attacked.loss.detach()) == pytest.approx(total, rel=1e-5)


def test_agft_teacher_is_the_frozen_original_on_clean_images_at_ratio_times_scale(setup) -> None:
    classifier, images, _ = setup
    frozen = copy.deepcopy(classifier)
    teacher = losses.agft_teacher(frozen, images, scale=180.0, ratio=0.4)
    with torch.no_grad():
        expected = F.softmax(72.0 * frozen.encode_images(images) @ frozen.text_anchors.t(), dim=1)
    assert torch.allclose(teacher, expected, atol=1e-6)
    student = copy.deepcopy(classifier)
    with torch.no_grad():
        for parameter in student.visual.parameters():
            parameter.add_(0.05)
    output = losses.agft_loss(student, frozen, images, ATTACK)
    with torch.no_grad():
        expected_loss = losses.soft_cross_entropy(student(output.adversarial, logit_scale=180.0), teacher)
    assert float(output.loss.detach()) == pytest.approx(float(expected_loss), rel=1e-5)  # teacher ignores the student


def test_agft_without_calibration_on_the_original_model_costs_exactly_the_teacher_entropy(setup) -> None:
    classifier, images, _ = setup
    frozen = copy.deepcopy(classifier)
    output = losses.agft_loss(classifier, frozen, images, NO_ATTACK, scale=100.0, ratio=1.0)
    assert float(output.loss.detach()) == pytest.approx(output.parts["teacher_entropy"], abs=1e-5)  # KL(p0‖q) = 0
    calibrated = losses.agft_loss(classifier, frozen, images, NO_ATTACK)  # s = 180, r = 0.4: KL > 0
    assert float(calibrated.loss.detach()) > calibrated.parts["teacher_entropy"] + 1e-4


def test_fare_is_zero_for_the_original_model_on_clean_images_and_positive_under_attack(setup) -> None:
    classifier, images, _ = setup
    frozen = copy.deepcopy(classifier)
    assert float(losses.fare_loss(classifier, frozen, images, NO_ATTACK).loss.detach()) == pytest.approx(0.0, abs=1e-8)
    attacked = losses.fare_loss(classifier, frozen, images, ATTACK)
    with torch.no_grad():
        difference = classifier.image_features(attacked.adversarial) - frozen.image_features(images)
        expected = (difference**2).sum(1).mean()
    assert float(attacked.loss.detach()) == pytest.approx(float(expected), rel=1e-5) and float(expected) > 0
