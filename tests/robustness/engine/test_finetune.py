"""Retraining: exact resume, atomic outputs with a card naming the parent, cancel, schedule."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from robustness.engine.checkpoints import load_state_dict_file, save_state_dict_file, sha256_file
from robustness.engine.finetune import Method, RetrainConfig, RetrainConfigError, batch_indices, retrain, warmup_cosine
from robustness.engine.progress import RetrainingCancelled
from tests.robustness.engine.tiny_models import self_labelled_images, tiny_clip_and_classifier

CONFIG = RetrainConfig(
    method="alignment-ce", lr=1e-3, steps=4, warmup_steps=1, batch_size=4, checkpoint_every=2, attack_steps=1, seed=5
)


def _fresh():
    clip_model, classifier = tiny_clip_and_classifier(2)
    return clip_model, classifier, self_labelled_images(classifier, 10, seed=3)


def _visual(classifier) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in classifier.visual.state_dict().items()}


@pytest.mark.parametrize("method", ["alignment-ce", "tecoa", "agft", "fare"])
def test_every_method_trains_only_the_vision_tower(tmp_path: Path, method: Method) -> None:
    clip_model, classifier, data = _fresh()
    anchors, text_before = classifier.text_anchors.clone(), clip_model.transformer.state_dict()
    visual_before = _visual(classifier)
    config = RetrainConfig(method=method, lr=1e-3, steps=1, warmup_steps=0, batch_size=4, attack_steps=1)
    result = retrain(classifier, data, config, out_dir=tmp_path, clip_model=clip_model)
    assert torch.equal(classifier.text_anchors, anchors)
    assert all(torch.equal(v, text_before[k]) for k, v in clip_model.transformer.state_dict().items())
    assert any(not torch.equal(v, visual_before[k]) for k, v in _visual(classifier).items())
    assert result.steps_done == 1 and len(result.losses) == 1


def test_resuming_from_a_checkpoint_equals_an_uninterrupted_run_bit_for_bit(tmp_path: Path) -> None:
    _, straight, data = _fresh()
    retrain(straight, data, CONFIG, out_dir=tmp_path / "straight")
    _, first_half, data = _fresh()
    half = retrain(first_half, data, CONFIG, out_dir=tmp_path / "resumed", stop_after=2)
    assert half.steps_done == 2
    torch.manual_seed(12345)  # a new process would start with other RNG states
    _, resumed, data = _fresh()
    result = retrain(resumed, data, CONFIG, out_dir=tmp_path / "resumed")
    assert (result.resumed_from_step, result.steps_done) == (2, 4)
    straight_state, resumed_state = _visual(straight), _visual(resumed)
    assert all(torch.equal(straight_state[k], resumed_state[k]) for k in straight_state)


def test_output_is_a_safetensors_model_with_a_card_naming_its_parent(tmp_path: Path) -> None:
    clip_model, classifier, data = _fresh()
    parent = tmp_path / "parent.safetensors"
    save_state_dict_file(clip_model.state_dict(), parent)
    result = retrain(
        classifier,
        data,
        CONFIG,
        out_dir=tmp_path / "out",
        clip_model=clip_model,
        parent_checkpoint=parent,
        data_description="self-labelled noise",
        train_class_names=("a",),
    )
    card = __import__("json").loads(result.card_path.read_text())
    assert (card["parent_checkpoint"], card["parent_sha256"]) == (str(parent), sha256_file(parent))
    assert (card["method"], card["config"]["lr"], card["data_description"]) == (
        "alignment-ce",
        1e-3,
        "self-labelled noise",
    )
    assert card["checkpoint_sha256"] == sha256_file(result.checkpoint_path) == result.checkpoint_sha256
    assert card["anchor_expansion"]["factor"] > 0
    weights = load_state_dict_file(result.checkpoint_path)
    assert set(weights) == set(clip_model.state_dict())
    assert torch.equal(weights["visual.conv1.weight"], classifier.visual.conv1.weight.detach())
    leftovers = [p.name for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_cancel_stops_between_steps_and_saves_a_resumable_state(tmp_path: Path) -> None:
    _, classifier, data = _fresh()
    calls = iter([False, True])
    with pytest.raises(RetrainingCancelled, match="before step 1"):
        retrain(classifier, data, CONFIG, out_dir=tmp_path, should_cancel=lambda: next(calls))
    _, fresh, data = _fresh()
    assert retrain(fresh, data, CONFIG, out_dir=tmp_path).resumed_from_step == 1


def test_progress_reports_step_total_loss_and_eta(tmp_path: Path) -> None:
    _, classifier, data = _fresh()
    reports = []
    retrain(classifier, data, CONFIG, out_dir=tmp_path, progress=lambda *args: reports.append(args))
    assert [(done, total) for done, total, _, _ in reports] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert reports[0][2].startswith("step 1/4 loss ") and reports[-1][3] == pytest.approx(0.0)


def test_resume_with_another_configuration_is_refused(tmp_path: Path) -> None:
    _, classifier, data = _fresh()
    retrain(classifier, data, CONFIG, out_dir=tmp_path, stop_after=2)
    _, fresh, data = _fresh()
    other = RetrainConfig(**{**CONFIG.__dict__, "lr": 2e-3})
    with pytest.raises(RetrainConfigError, match="different configuration"):
        retrain(fresh, data, other, out_dir=tmp_path)


def test_schedule_warms_up_linearly_then_decays_by_cosine() -> None:
    multiplier = warmup_cosine(warmup_steps=4, total_steps=12)
    assert [multiplier(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert multiplier(8) == pytest.approx(0.5) and multiplier(12) == pytest.approx(0.0)


def test_batches_are_a_pure_function_of_seed_and_step_covering_each_epoch() -> None:
    epoch = batch_indices(1, 0, 4, 12) + batch_indices(1, 1, 4, 12) + batch_indices(1, 2, 4, 12)
    assert sorted(epoch) == list(range(12))
    assert batch_indices(1, 5, 4, 12) == batch_indices(1, 5, 4, 12) != batch_indices(2, 5, 4, 12)
    assert len(batch_indices(0, 2, 5, 12)) == 5  # wraps into the next epoch


def test_invalid_configurations_name_the_problem() -> None:
    with pytest.raises(RetrainConfigError, match="unknown method 'pgd'"):
        RetrainConfig(method="pgd")  # type: ignore[arg-type]
    with pytest.raises(RetrainConfigError, match="warmup_steps"):
        RetrainConfig(steps=5, warmup_steps=6)
