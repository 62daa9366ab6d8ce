"""evaluate(): shards that merge exactly, progress, cancellation and bad input."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from robustness.engine.attacks import parse_attack, preset
from robustness.engine.errors import DatasetError, EngineError
from robustness.engine.evaluate import EvaluationResult, evaluate, record_from_partial
from robustness.engine.metrics import EvaluationPartial, merge_all
from robustness.engine.progress import EvaluationCancelled
from tests.robustness.engine.tiny_models import LinearZeroShot, TensorImages, self_labelled_images, tiny_classifier

EPSILONS = [1 / 255, 4 / 255]
ATTACKS = [parse_attack("pgd:steps=3"), parse_attack("cw-linf:steps=3,alpha=1/2")]  # few steps: tests stay fast


@pytest.fixture(scope="module")
def tiny_setup() -> tuple[torch.nn.Module, TensorImages]:
    classifier = tiny_classifier(0)
    return classifier, self_labelled_images(classifier, 12)


def _run(classifier: torch.nn.Module, data: TensorImages, **kwargs: Any) -> EvaluationResult:
    options: dict[str, Any] = {"attacks": ATTACKS, "epsilons": EPSILONS, "batch_size": 4, "seed": 11, "device": "cpu"}
    options.update(kwargs)
    return evaluate(classifier, data, **options)


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
        attacks=ATTACKS,
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
    attacks = [parse_attack("apgd-ce:steps=3"), parse_attack("fgsm")]
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
        _run(classifier, data, attacks=[preset("cw-linf"), preset("cw-linf")])


def test_evaluation_leaves_the_model_as_it_found_it(tiny_setup) -> None:
    classifier, data = tiny_setup
    classifier.train()
    flags = [p.requires_grad for p in classifier.parameters()]
    before = {k: v.clone() for k, v in classifier.state_dict().items()}
    _run(classifier, data, attacks=ATTACKS[:1], epsilons=[1 / 255], n_examples=4)
    assert classifier.training and [p.requires_grad for p in classifier.parameters()] == flags
    assert all(torch.equal(before[k], v) for k, v in classifier.state_dict().items())
    classifier.eval()
