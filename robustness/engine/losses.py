"""Adversarial fine-tuning losses for the CLIP vision tower (reference §2–§4, §8.3–§8.5).

Each method is one function: (classifier, [frozen original], images in [0,1], labels) →
`LossOutput`. The inner maximisation is our own L∞ PGD (any differentiable objective,
fp32, autocast off, uniform random start from the global RNG, which the trainer seeds and
checkpoints); only the outer forward may run under the trainer's autocast.

classifier: a `ZeroShotClassifier` (forward(x, logit_scale) → (N,C) logits = scale·cos,
encode_images(x) → (N,D) unit, image_features(x) → (N,D) unnormalised, text_anchors (C,D)).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from robustness.engine.classifier import ZeroShotClassifier

AutocastFactory = Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True)
class LossOutput:
    """The scalar loss to minimise, the adversarial batch it used, and its parts (floats)."""

    loss: Tensor
    adversarial: Tensor
    parts: dict[str, float]


@dataclass(frozen=True)
class InnerAttack:
    """PGD used inside training: L∞ ball of radius eps, `steps` sign steps of size alpha."""

    eps: float
    alpha: float
    steps: int = 2
    random_start: bool = True


def soft_cross_entropy(logits: Tensor, target_probabilities: Tensor) -> Tensor:
    """Mean over the batch of −Σ_c p_c log q_c with q = softmax(logits); = KL(p‖q) + H(p)."""
    assert logits.shape == target_probabilities.shape, "logits and targets must both be (N, C)"
    return -(target_probabilities * F.log_softmax(logits, dim=1)).sum(1).mean()


@dataclass(frozen=True)
class AttackRun:
    """How the trainer runs the inner attack: its random start and the context around it.

    start_noise: the uniform start in [−ε, ε] for these rows, drawn by the trainer (data-parallel
    ranks draw the whole global batch's and keep their rows); None draws it here from the global
    RNG. context: entered around the attack (DDP's `no_sync`: the attack's input gradients must
    not trigger a gradient all-reduce).
    """

    start_noise: Tensor | None = None
    context: AutocastFactory = contextlib.nullcontext


PLAIN_RUN = AttackRun()


def pgd_maximise(
    objective: Callable[[Tensor], Tensor],
    images: Tensor,
    attack: InnerAttack,
    model: nn.Module | None = None,
    run: AttackRun = PLAIN_RUN,
) -> Tensor:
    """x_adv in the L∞ ball around images (N,3,H,W) ∩ [0,1] that (locally) maximises objective.

    The model (if given) is in eval() during the attack and restored after; fp32, autocast off.
    """
    was_training = model.training if model is not None else False
    if model is not None:
        model.eval()
    try:
        with run.context(), torch.enable_grad(), torch.autocast(device_type=images.device.type, enabled=False):
            adversarial = images.detach().clone()
            if attack.random_start and attack.eps > 0:
                noise = run.start_noise
                if noise is None:
                    noise = torch.empty_like(adversarial).uniform_(-attack.eps, attack.eps)
                adversarial = (adversarial + noise).clamp(0, 1)
            for _ in range(attack.steps):
                adversarial.requires_grad_(True)
                gradient = torch.autograd.grad(objective(adversarial), adversarial)[0]
                adversarial = adversarial.detach() + attack.alpha * gradient.sign()
                adversarial = (images + (adversarial - images).clamp(-attack.eps, attack.eps)).clamp(0, 1).detach()
    finally:
        if model is not None:
            model.train(was_training)
    return adversarial


def cosine_logits(classifier: ZeroShotClassifier, images: Tensor, anchors: Tensor, scale: float) -> Tensor:
    """(N, C) = scale · cos(f(x), anchors_c) for any unit anchors (C, D)."""
    return scale * classifier.encode_images(images) @ anchors.t()


def tecoa_loss(
    classifier: ZeroShotClassifier,
    images: Tensor,
    labels: Tensor,
    attack: InnerAttack,
    autocast: AutocastFactory = contextlib.nullcontext,
    run: AttackRun = PLAIN_RUN,
) -> LossOutput:
    """TeCoA: CE of 100·cos logits against the frozen text anchors on PGD-CE examples."""
    adversarial = pgd_maximise(lambda x: F.cross_entropy(classifier(x), labels), images, attack, classifier, run)
    with autocast():
        loss = F.cross_entropy(classifier(adversarial).float(), labels)
    return LossOutput(loss, adversarial, {"cross_entropy": float(loss.detach())})


def alignment_cross_entropy_loss(
    classifier: ZeroShotClassifier,
    images: Tensor,
    labels: Tensor,
    attack: InnerAttack,
    *,
    anchors: Tensor,
    scale: float = 100.0,
    consistency_weight: float = 1.0,
    autocast: AutocastFactory = contextlib.nullcontext,
    run: AttackRun = PLAIN_RUN,
) -> LossOutput:
    """LAAT §3.2 adapted to CLIP fine-tuning: cosine-logit CE against the (expanded) anchors
    on PGD-CE examples, plus β·(1 − cos(f(x), f(x_adv))) clean/adversarial consistency.

    anchors: (C, D) unit rows, usually `AnchorExpansion.apply(text_anchors)`.
    """
    adversarial = pgd_maximise(
        lambda x: F.cross_entropy(cosine_logits(classifier, x, anchors, scale), labels), images, attack, classifier,
        run,
    )
    with autocast():
        clean_features = classifier.encode_images(images).float()
        adversarial_features = classifier.encode_images(adversarial).float()
        cross_entropy = F.cross_entropy(scale * adversarial_features @ anchors.t(), labels)
        consistency = (1 - (clean_features * adversarial_features).sum(1)).mean()
        loss = cross_entropy + consistency_weight * consistency
    return LossOutput(
        loss, adversarial, {"cross_entropy": float(cross_entropy.detach()), "consistency": float(consistency.detach())}
    )


def agft_teacher(frozen: ZeroShotClassifier, images: Tensor, scale: float, ratio: float) -> Tensor:
    """p0 (N, C): the ORIGINAL model's soft predictions on CLEAN images at scale r·s (no grad)."""
    with torch.no_grad():
        return F.softmax(frozen(images, logit_scale=ratio * scale).float(), dim=1)


def agft_loss(
    classifier: ZeroShotClassifier,
    frozen: ZeroShotClassifier,
    images: Tensor,
    attack: InnerAttack,
    *,
    scale: float = 180.0,
    ratio: float = 0.4,
    autocast: AutocastFactory = contextlib.nullcontext,
    run: AttackRun = PLAIN_RUN,
) -> LossOutput:
    """AGFT: soft-label CE(softmax(s·cos(f_θ(x_adv))), p0) with p0 = softmax(r·s·cos(f_0(x))),
    x_adv from PGD on the same soft CE. Defaults s = 180, r = 0.4 (teacher scale 72)."""
    teacher = agft_teacher(frozen, images, scale, ratio)
    adversarial = pgd_maximise(
        lambda x: soft_cross_entropy(classifier(x, logit_scale=scale), teacher), images, attack, classifier, run
    )
    with autocast():
        loss = soft_cross_entropy(classifier(adversarial, logit_scale=scale).float(), teacher)
    entropy = float(-(teacher * teacher.clamp(min=1e-12).log()).sum(1).mean())
    return LossOutput(loss, adversarial, {"soft_cross_entropy": float(loss.detach()), "teacher_entropy": entropy})


def fare_loss(
    classifier: ZeroShotClassifier,
    frozen: ZeroShotClassifier,
    images: Tensor,
    attack: InnerAttack,
    autocast: AutocastFactory = contextlib.nullcontext,
    run: AttackRun = PLAIN_RUN,
) -> LossOutput:
    """FARE (unsupervised): ‖f_θ(x_adv) − f_0(x)‖² (sum over D, mean over N) on unnormalised
    embeddings, with x_adv from PGD maximising the same distance."""
    with torch.no_grad():
        reference = frozen.image_features(images).float()

    def distance(x: Tensor) -> Tensor:
        return ((classifier.image_features(x).float() - reference) ** 2).sum(1).mean()

    adversarial = pgd_maximise(distance, images, attack, classifier, run)
    with autocast():
        loss = distance(adversarial)
    return LossOutput(loss, adversarial, {"embedding_distance": float(loss.detach())})
