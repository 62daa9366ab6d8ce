"""The zero-shot classifier: [0, 1] pixels in, 100·cos logits out, text anchors frozen."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from robustness.engine.classifier import ZeroShotClassifier, build_text_anchors, format_prompt
from robustness.engine.models import LoadedClip

CLASSES = ["red circle", "blue square", "green star"]
TEMPLATES = ["a photo of a {c}.", "a blurry photo of a {}.", "a drawing of a {c} on a grey background."]


@pytest.fixture(scope="module")
def classifier(tiny_clip: LoadedClip) -> ZeroShotClassifier:
    return ZeroShotClassifier.from_loaded(tiny_clip, CLASSES, TEMPLATES).eval()


def test_format_prompt_accepts_both_placeholders() -> None:
    assert format_prompt("a photo of a {c}.", "cat") == "a photo of a cat."
    assert format_prompt("a photo of a {}.", "cat") == "a photo of a cat."
    with pytest.raises(ValueError, match=r"no '{c}' or '{}' placeholder"):
        format_prompt("a photo", "cat")


@pytest.mark.parametrize("height, width", [(32, 32), (17, 23), (64, 48)])
def test_any_input_size_gives_one_logit_per_class(classifier: ZeroShotClassifier, height: int, width: int) -> None:
    logits = classifier(torch.rand(5, 3, height, width))

    assert logits.shape == (5, 3)
    assert logits.dtype == torch.float32


def test_logits_are_100_times_cosine_computed_by_hand(classifier: ZeroShotClassifier, tiny_clip: LoadedClip) -> None:
    images = torch.rand(4, 3, 20, 20, generator=torch.Generator().manual_seed(0))
    mean = torch.tensor(tiny_clip.mean).view(1, 3, 1, 1)
    std = torch.tensor(tiny_clip.std).view(1, 3, 1, 1)
    resized = F.interpolate(images, size=(32, 32), mode="bicubic", align_corners=False)
    with torch.no_grad():
        features = tiny_clip.model.encode_image((resized - mean) / std)
        expected = 100.0 * F.cosine_similarity(features[:, None, :], classifier.text_anchors[None, :, :], dim=-1)
        logits = classifier(images)

    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-4)
    assert logits.abs().max() <= 100.0 + 1e-3


def test_text_anchors_normalise_each_template_then_average_then_renormalise(
    classifier: ZeroShotClassifier, tiny_clip: LoadedClip
) -> None:
    expected = []
    with torch.no_grad():
        for name in CLASSES:
            prompts = [template.replace("{c}", name).replace("{}", name) for template in TEMPLATES]
            per_template = tiny_clip.model.encode_text(tiny_clip.tokenizer(prompts))
            unit = per_template / per_template.norm(dim=-1, keepdim=True)
            mean = unit.mean(dim=0)
            expected.append(mean / mean.norm())

    torch.testing.assert_close(classifier.text_anchors, torch.stack(expected), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(classifier.text_anchors.norm(dim=1), torch.ones(3))


def test_build_text_anchors_matches_the_classifiers_buffer(
    classifier: ZeroShotClassifier, tiny_clip: LoadedClip
) -> None:
    anchors = build_text_anchors(tiny_clip.model, tiny_clip.tokenizer, CLASSES, TEMPLATES)

    assert anchors.shape == (3, tiny_clip.model.text_projection.shape[1])
    torch.testing.assert_close(anchors, classifier.text_anchors)


def test_only_the_vision_tower_is_trainable_and_anchors_are_a_buffer(classifier: ZeroShotClassifier) -> None:
    parameter_names = {name for name, _ in classifier.named_parameters()}
    buffer_names = {name for name, _ in classifier.named_buffers()}

    assert parameter_names and all(name.startswith("visual.") for name in parameter_names)
    assert {"text_anchors", "mean", "std"} <= buffer_names
    assert classifier.class_names == tuple(CLASSES)
    assert parameter_names == {f"visual.{name}" for name, _ in classifier.visual.named_parameters()}


def test_gradients_reach_the_input_pixels(classifier: ZeroShotClassifier) -> None:
    images = torch.rand(2, 3, 32, 32, requires_grad=True)

    classifier(images)[:, 0].sum().backward()

    assert images.grad is not None and images.grad.abs().sum() > 0


def test_encode_images_returns_unit_features(classifier: ZeroShotClassifier) -> None:
    features = classifier.encode_images(torch.rand(3, 3, 32, 32))

    assert features.shape == (3, classifier.text_anchors.shape[1])
    torch.testing.assert_close(features.norm(dim=1), torch.ones(3))


def test_set_text_anchors_replaces_them_and_changes_predictions(tiny_clip: LoadedClip) -> None:
    classifier = ZeroShotClassifier.from_loaded(tiny_clip, CLASSES, TEMPLATES).eval()
    images = torch.rand(2, 3, 32, 32)
    swapped = classifier.text_anchors.flip(0).clone()

    with torch.no_grad():
        before = classifier(images)
        classifier.set_text_anchors(swapped)
        after = classifier(images)

    torch.testing.assert_close(after, before.flip(1))


def test_set_text_anchors_rejects_wrong_shape_or_unnormalised_rows(classifier: ZeroShotClassifier) -> None:
    with pytest.raises(ValueError, match="anchors must have shape"):
        classifier.set_text_anchors(torch.ones(2, classifier.text_anchors.shape[1]))
    with pytest.raises(ValueError, match="L2-normalised"):
        classifier.set_text_anchors(classifier.text_anchors * 2)


def test_a_single_class_is_refused(tiny_clip: LoadedClip) -> None:
    with pytest.raises(ValueError, match="at least two classes"):
        ZeroShotClassifier.from_loaded(tiny_clip, ["cat"], TEMPLATES)
