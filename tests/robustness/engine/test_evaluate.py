"""evaluate(): shards that merge exactly, progress, cancellation and bad input."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from robustness.engine.attacks import parse_attack
from robustness.engine.errors import DatasetError, EngineError
from robustness.engine.evaluate import (
    EvaluationConfig,
    EvaluationConfigError,
    EvaluationResult,
    adversarial_examples,
    evaluate,
    record_from_partial,
)
from robustness.engine.metrics import EvaluationPartial, merge_all
from robustness.engine.progress import EvaluationCancelled
from tests.robustness.engine.tiny_models import LinearZeroShot, TensorImages, self_labelled_images, tiny_classifier

EPSILONS = [1 / 255, 4 / 255]
ATTACKS = ["pgd:steps=3", "cw-linf:steps=3,alpha=1/2"]  # few steps: tests stay fast


@pytest.fixture(scope="module")
def tiny_setup() -> tuple[torch.nn.Module, TensorImages]:
    classifier = tiny_classifier(0)
    return classifier, self_labelled_images(classifier, 12)


RUN_OPTIONS = ("progress", "should_cancel", "start_batch", "end_batch")


def _run(classifier: torch.nn.Module, data: TensorImages, **kwargs: Any) -> EvaluationResult:
    settings: dict[str, Any] = {"attacks": ATTACKS, "epsilons": EPSILONS, "batch_size": 4, "seed": 11, "device": "cpu",
                                "n_examples": None}
    settings.update({key: value for key, value in kwargs.items() if key not in RUN_OPTIONS})
    config = EvaluationConfig(**{**settings, "attacks": tuple(settings["attacks"]),
                                 "epsilons": tuple(settings["epsilons"])})
    return evaluate(classifier, data, config, **{key: value for key, value in kwargs.items() if key in RUN_OPTIONS})


def test_shards_evaluated_separately_merge_to_the_full_run(tiny_setup) -> None:
    classifier, data = tiny_setup
    one_eps = {"epsilons": [4 / 255]}
    whole = _run(classifier, data, **one_eps)
    shards = [
        _run(classifier, data, start_batch=0, end_batch=1, **one_eps),
        _run(classifier, data, start_batch=1, end_batch=2, **one_eps),
        _run(classifier, data, start_batch=2, **one_eps),
    ]
    merged = merge_all(shard.partial for shard in reversed(shards))
    assert merged == whole.partial
    assert merged.batches == (0, 1, 2) and merged.n_examples == 12
    rebuilt = record_from_partial(
        merged,
        attacks=[parse_attack(name) for name in ATTACKS],
        class_names=classifier.class_names,
        dataset_name="dataset",
        seed=11,
        batch_size=4,
        device="cpu",
    )
    assert rebuilt == whole.record


def test_linear_head_shards_with_apgd_merge_exactly() -> None:
    generator = torch.Generator().manual_seed(0)
    model = LinearZeroShot(torch.randn(2, 48, generator=generator) * 0.3, torch.zeros(2))
    images = torch.rand(30, 3, 4, 4, generator=generator)
    labels = model(images).argmax(1)
    data = TensorImages(images, labels)
    attacks = ["apgd-ce:steps=3", "fgsm"]
    whole = _run(model, data, attacks=attacks, batch_size=7)
    halves = [
        _run(model, data, attacks=attacks, batch_size=7, end_batch=2),
        _run(model, data, attacks=attacks, batch_size=7, start_batch=2),
    ]
    assert halves[0].partial + halves[1].partial == whole.partial


def test_record_counts_are_consistent(tiny_setup) -> None:
    classifier, data = tiny_setup
    record = _run(classifier, data).record
    assert record.n_examples == 12 and len(record.results) == 4
    assert record.clean_accuracy.value == 9 / 12  # every fourth label was shifted
    for result in record.results:
        assert result.robust_accuracy.value <= record.clean_accuracy.value
        assert result.attack_success_rate.value + result.defence_success_rate.value == pytest.approx(1.0)
        assert sum(row.examples for row in result.per_class) == 12
    strong = record.result("pgd-3", 4 / 255).robust_accuracy.value
    weak = record.result("pgd-3", 1 / 255).robust_accuracy.value
    assert strong <= weak
    assert [r.eps_label for r in record.results] == ["1/255", "4/255", "1/255", "4/255"]


def test_progress_reports_each_batch_and_cancel_stops_between_batches(tiny_setup) -> None:
    classifier, data = tiny_setup
    reports: list[tuple[int, int, str]] = []
    _run(
        classifier, data, attacks=ATTACKS[:1], epsilons=[1 / 255], progress=lambda d, t, m, e: reports.append((d, t, m))
    )
    assert [(d, t) for d, t, _ in reports] == [(1, 3), (2, 3), (3, 3)]
    assert reports[-1][2] == "batch 3/3"
    calls = iter([False, False, True])
    with pytest.raises(EvaluationCancelled, match="before batch 2") as raised:
        _run(classifier, data, attacks=ATTACKS[:1], epsilons=[1 / 255], should_cancel=lambda: next(calls))
    assert isinstance(raised.value.partial, EvaluationPartial) and raised.value.partial.batches == (0, 1)
    assert isinstance(raised.value, EngineError)


def test_bad_input_raises_dataset_errors(tiny_setup) -> None:
    classifier, data = tiny_setup
    with pytest.raises(DatasetError, match="n_examples must be in \\[1, 12\\]"):
        _run(classifier, data, n_examples=13)
    out_of_range = TensorImages(data.images * 2, data.labels)
    with pytest.raises(DatasetError, match="must lie in \\[0, 1\\]"):
        _run(classifier, out_of_range)
    bad_labels = TensorImages(data.images, data.labels + 10)
    with pytest.raises(DatasetError, match="labels must lie in \\[0, 4\\)"):
        _run(classifier, bad_labels)
    with pytest.raises(DatasetError, match="only once"):
        _run(classifier, data, attacks=["cw-linf", "cw-linf"])


def test_evaluation_leaves_the_model_as_it_found_it(tiny_setup) -> None:
    classifier, data = tiny_setup
    classifier.train()
    flags = [p.requires_grad for p in classifier.parameters()]
    before = {k: v.clone() for k, v in classifier.state_dict().items()}
    _run(classifier, data, attacks=ATTACKS[:1], epsilons=[1 / 255], n_examples=4)
    assert classifier.training and [p.requires_grad for p in classifier.parameters()] == flags
    assert all(torch.equal(before[k], v) for k, v in classifier.state_dict().items())
    classifier.eval()


# The config stored on a run row before `EvaluationConfig` existed (`evaluation_config_clean`'s output).
STORED_BEFORE = {"attacks": ["screen-pgd10", "cw-linf"], "epsilons": [0.00392156862745098, 0.01568627450980392],
                 "n_examples": 24, "batch_size": 8, "seed": 3, "builtin_dataset": "synthetic-held-out",
                 "examples_to_show": 0, "device": "auto", "split_attacks": False}


def test_a_config_stored_by_an_old_run_loads_and_round_trips() -> None:
    config = EvaluationConfig.from_dict(STORED_BEFORE)
    assert config == EvaluationConfig(attacks=("screen-pgd10", "cw-linf"), epsilons=(1 / 255, 4 / 255), n_examples=24,
                                      batch_size=8, seed=3, builtin_dataset="synthetic-held-out",
                                      examples_to_show=0, device="auto", split_attacks=False)
    assert config.to_dict() == STORED_BEFORE
    assert [spec.preset for spec in config.attack_specs] == ["screen-pgd10", "cw-linf"]
    retraining_evaluation = {**STORED_BEFORE, "dataset_id": 7}  # a retraining's stored re-evaluation settings
    assert EvaluationConfig.from_dict(retraining_evaluation) == config


def test_from_dict_fills_defaults_reads_fractions_and_sorts_epsilons() -> None:
    config = EvaluationConfig.from_dict({"epsilons": ["4/255", 1 / 255, "4/255"], "examples_to_show": 0})
    assert (config.attacks, config.epsilons, config.n_examples, config.batch_size, config.seed) == (
        ("screen-pgd10",), (1 / 255, 4 / 255), 200, 32, 0)
    assert (config.examples_to_show, config.device, config.split_attacks) == (0, "auto", False)


@pytest.mark.parametrize(("settings", "field", "words"), [
    ({"epsilons": [0.6, 1.5]}, "epsilons", "ε must lie in \\(0, 1\\]"),
    ({"epsilons": "4/255"}, "epsilons", "a list of at most 32"),
    ({"epsilons": [float("nan")]}, "epsilons", "ε must lie in"),
    ({"attacks": "screen-pgd10"}, "attacks", "a list of names"),
    ({"attacks": ["rm -rf"]}, "attacks", "unknown attack .rm -rf.; choose one of fgsm"),
    ({"n_examples": 100_001}, "n_examples", "n_examples must be a whole number in 1..100000"),
    ({"n_examples": "many"}, "n_examples", "n_examples must be a whole number"),
    ({"batch_size": 10**30}, "batch_size", "batch_size must be a whole number in 1..4096"),
    ({"seed": -1}, "seed", "seed must be a whole number in 0..2147483647"),
    ({"examples_to_show": 17}, "examples_to_show", "examples_to_show must be a whole number in 0..16"),
    ({"device": "cuda; reboot"}, "device", "device must be auto, cpu, cuda or cuda:N"),
    ([], "config", "settings must be a JSON object"),
])
def test_from_dict_refuses_nonsense_with_a_sentence_naming_the_setting(settings, field, words) -> None:
    with pytest.raises(EvaluationConfigError, match=words) as raised:
        EvaluationConfig.from_dict(settings)
    assert raised.value.field == field


def test_adversarial_examples_stay_in_the_ball_and_leave_the_model_as_found(tiny_setup) -> None:
    classifier, data = tiny_setup
    classifier.train()
    flags = [p.requires_grad for p in classifier.parameters()]
    config = EvaluationConfig(attacks=("pgd:steps=3", "fgsm"), epsilons=(1 / 255, 4 / 255), examples_to_show=3,
                              device="cpu", seed=5)
    examples = adversarial_examples(classifier, data, config)
    assert [(e.index, e.label, e.attack, e.eps) for e in examples] == [
        (i, int(data.labels[i]), "pgd-3", 4 / 255) for i in range(3)]
    for example in examples:
        assert torch.equal(example.image, data.images[example.index])
        assert float((example.adversarial - example.image).abs().max()) <= 4 / 255 + 1e-6
        assert float(example.perturbation.min()) >= -1e-4 and float(example.perturbation.max()) <= 1 + 1e-4
    assert classifier.training and [p.requires_grad for p in classifier.parameters()] == flags
    classifier.eval()
    assert adversarial_examples(classifier, data, EvaluationConfig(examples_to_show=0, device="cpu")) == []
