"""Pretraining the demo model: the loss, determinism, caching, and real zero-shot accuracy."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from robustness.engine import pretrain, synthetic
from robustness.engine.cards import DemoModelCard, read_demo_model_card
from robustness.engine.checkpoints import sha256_file
from robustness.engine.classifier import ZeroShotClassifier
from robustness.engine.models import load_clip


def test_multi_positive_loss_with_one_positive_each_is_the_clip_loss() -> None:
    generator = torch.Generator().manual_seed(0)
    images = F.normalize(torch.randn(6, 8, generator=generator), dim=1)
    texts = F.normalize(torch.randn(6, 8, generator=generator), dim=1)
    logits = 10.0 * images @ texts.t()
    clip_loss = (F.cross_entropy(logits, torch.arange(6)) + F.cross_entropy(logits.t(), torch.arange(6))) / 2

    loss = pretrain.multi_positive_clip_loss(images, texts, torch.eye(6, dtype=torch.bool), torch.tensor(10.0))

    torch.testing.assert_close(loss, clip_loss)


def test_multi_positive_loss_counts_every_matching_caption() -> None:
    images = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    texts = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    positives = torch.tensor([[True, True], [False, True]])
    logits = images @ texts.t()
    image_0 = -math.log((math.exp(logits[0, 0]) + math.exp(logits[0, 1])) / logits[0].exp().sum())
    image_1 = -math.log(math.exp(logits[1, 1]) / logits[1].exp().sum())
    text_0 = -math.log(math.exp(logits[0, 0]) / logits[:, 0].exp().sum())
    text_1 = -math.log(1.0)  # both images are positives of caption 1
    expected = ((image_0 + image_1) / 2 + (text_0 + text_1) / 2) / 2

    loss = pretrain.multi_positive_clip_loss(images, texts, positives, torch.tensor(1.0))

    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_batch_captions_mark_every_image_a_caption_describes() -> None:
    attributes = torch.tensor([[0, 0, 0, 0], [0, 0, 2, 1], [3, 1, 0, 0]])

    captions, positives = pretrain._batch_captions(attributes, np.random.default_rng(5))

    assert positives.shape == (3, len(captions))
    assert positives[:, 0].tolist()[0] and positives.any(dim=0).all() and positives.any(dim=1).all()
    for column, text in enumerate(captions):
        for row, (colour, shape, size, background) in enumerate(attributes.tolist()):
            names = tuple(synthetic.COLOURS)[colour] + " " + synthetic.SHAPES[shape]
            other_sizes = [word for word in synthetic.SIZES if word != synthetic.SIZES[size]]
            own_background = synthetic.BACKGROUNDS[background]
            other_backgrounds = [f"{b} background" for b in synthetic.BACKGROUNDS if b != own_background]
            fits = names in text and not any(phrase in text for phrase in other_sizes + other_backgrounds)
            assert bool(positives[row, column]) == fits, (text, row)


def test_quick_pretrain_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = pretrain.pretrain_quick(tmp_path / "a", seed=1)
    again = pretrain.pretrain_quick(tmp_path / "b", seed=1)
    other = pretrain.pretrain_quick(tmp_path / "c", seed=2)

    assert first.checkpoint_sha256 == again.checkpoint_sha256
    assert first.accuracies == again.accuracies
    assert other.checkpoint_sha256 != first.checkpoint_sha256


def test_pretrain_writes_a_verifiable_checkpoint_and_card(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []

    card = pretrain.pretrain_quick(tmp_path, progress=lambda done, total, message, eta: calls.append((done, total)))

    assert calls[-1] == (pretrain.QUICK_RECIPE.steps, pretrain.QUICK_RECIPE.steps)
    assert sha256_file(tmp_path / "model.safetensors") == card.checkpoint_sha256
    assert read_demo_model_card(tmp_path / "card.json") == card
    assert {record.split for record in card.accuracies} == {
        "held_out_among_held_out", "held_out_among_all", "seen_among_seen", "seen_among_all"}
    assert card.held_out_class_names == synthetic.class_names(synthetic.held_out_compositions())
    assert card.anchor_diagnostics["stretch_factor_k"] > 0
    assert card.recipe_hash == pretrain.QUICK_RECIPE.digest()


def test_pretrain_restores_global_torch_settings(tmp_path: Path) -> None:
    threads = torch.get_num_threads()

    pretrain.pretrain_quick(tmp_path)

    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()


def test_ensure_demo_model_builds_once_then_reuses_the_verified_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = pretrain.QUICK_RECIPE
    built = pretrain.ensure_demo_model(tmp_path, recipe=recipe)
    folder = pretrain.demo_model_path(tmp_path, recipe)
    assert folder.parent == tmp_path / "demo-model"

    def must_not_train(*args: object, **kwargs: object) -> DemoModelCard:
        raise AssertionError("the cached model should have been reused")

    monkeypatch.setattr(pretrain, "pretrain", must_not_train)
    assert pretrain.ensure_demo_model(tmp_path, recipe=recipe) == built

    (folder / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(AssertionError, match="should have been reused"):
        pretrain.ensure_demo_model(tmp_path, recipe=recipe)


def test_recipe_hash_changes_with_any_setting() -> None:
    recipe = pretrain.DEMO_RECIPE

    assert recipe.digest() == dataclasses.replace(recipe).digest()
    assert recipe.digest() != dataclasses.replace(recipe, steps=recipe.steps + 1).digest()


def test_demo_model_spec_loads_the_trained_weights(tmp_path: Path) -> None:
    card = pretrain.pretrain_quick(tmp_path)

    loaded = load_clip(pretrain.demo_model_spec(tmp_path))

    assert loaded.image_size == 32
    assert card.architecture == pretrain.QUICK_RECIPE.architecture


@pytest.mark.accuracy
def test_demo_model_classifies_held_out_compositions_well_above_chance(
    demo_model_card: DemoModelCard, demo_model_dir: Path
) -> None:
    loaded = load_clip(pretrain.demo_model_spec(demo_model_dir))
    classifier = ZeroShotClassifier.from_loaded(loaded, synthetic.class_names(), synthetic.TEMPLATES).eval()
    held_out = synthetic.held_out_compositions()
    # The validation split: images the card's test accuracy never saw.
    split = synthetic.generate_split(synthetic.SyntheticSpec(), "validation", held_out, 20)
    images, labels = split.dataset.tensors()
    allowed = torch.tensor([synthetic.all_compositions().index(c) for c in held_out])

    with torch.no_grad():
        logits = classifier(images)
    among_held_out = (allowed[logits[:, allowed].argmax(1)] == labels).float().mean().item()
    among_all = (logits.argmax(1) == labels).float().mean().item()

    assert sha256_file(demo_model_dir / demo_model_card.checkpoint_file) == demo_model_card.checkpoint_sha256
    assert among_held_out > 0.5, f"held-out 9-way accuracy {among_held_out:.3f} (chance 0.111)"
    assert among_all > 0.2, f"held-out 36-way accuracy {among_all:.3f} (chance 0.028)"
