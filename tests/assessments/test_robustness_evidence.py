"""A robustness record attached by hand as evidence: the engine's one shape parses, other shapes are skipped."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from assessments.selectors.robustness import record_points, robustness_summary_get
from assessments.services import evidence_create, evidence_version_add


def _engine_record_json() -> str:
    pytest.importorskip("torch")
    from robustness.engine.metrics import Interval
    from robustness.engine.records import AttackResult, RobustnessRecord

    def interval(value: float) -> Interval:
        return Interval(value, max(value - 0.05, 0), min(value + 0.05, 1))

    results = tuple(AttackResult(
        attack="screen-pgd10", attack_description="PGD-10", attack_library="torchattacks", threat_model="Linf",
        eps=eps, eps_label=label, robust_accuracy=interval(accuracy), attack_success_rate=interval(1 - accuracy),
        defence_success_rate=interval(accuracy), per_class=(), worst_class=None)
        for eps, label, accuracy in ((1 / 255, "1/255", 0.7), (4 / 255, "4/255", 0.45)))
    return RobustnessRecord(dataset="shapes", n_examples=100, n_classes=2, class_names=("a", "b"),
                            clean_accuracy=interval(0.9), clean_per_class=(), clean_worst_class=None,
                            results=results, seed=0, batch_size=8, versions={"torch": "x"}, device="cpu").to_json()


def test_a_hand_uploaded_engine_record_renders_on_its_page_but_not_on_the_dashboard(acme, system, oscar, client_as):
    evidence = evidence_create(organisation=acme, title="Run 7", kind="robustness_result", actor=oscar,
                               ai_system=system)
    version = evidence_version_add(evidence=evidence, actor=oscar, content=_engine_record_json().encode(),
                                   filename="record.json")
    summary = robustness_summary_get(version, thresholds=system.robustness_thresholds)
    assert summary.clean_accuracy == 0.9 and [p.epsilon_label for p in summary.points] == ["1/255", "4/255"]
    assert summary.passed is True  # 0.45 ≥ 0.40 at 4/255
    client = client_as("auditor")
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert 'badge ok">pass' not in dashboard and "Run 7" not in dashboard, "only machine evidence stands there"
    page = client.get(reverse("assessments:evidence-detail", args=[evidence.pk])).content.decode()
    assert "4/255" in page and "0.450" in page


def test_the_one_record_shape_parses():
    record = {"results": [{"attack": "pgd", "eps": 0.03137254901960784, "robust_accuracy": {"value": 0.41}}],
              "x": None}
    [point] = record_points(record)
    assert (point.attack, point.epsilon_label, point.robust_accuracy, point.low) == ("pgd", "8/255", 0.41, None)


@pytest.mark.parametrize("shape", [
    {"records": [{"attack": "pgd", "epsilon": "8/255", "robust_accuracy": 41.0}]},
    {"attacks": {"pgd": {"eps": 0.0313725, "robust_acc": 0.41}}},
    {"results": [{"attack": "pgd", "eps": 0.0313725, "robust_acc": 0.41}]},
    {"results": [{"attack": "pgd", "eps": 0.0313725, "robust_accuracy": {"value": 41.0}}]},  # per cent
    {"results": [{"attack": "pgd", "eps": "8/255", "robust_accuracy": {"value": 0.41}}]},
])
def test_shapes_no_producer_writes_are_skipped(shape):
    assert record_points(shape) == ()


def test_garbage_is_skipped_not_an_error(acme, oscar):
    evidence = evidence_create(organisation=acme, title="bad", kind="robustness_result", actor=oscar)
    version = evidence_version_add(evidence=evidence, actor=oscar, content=b"{not json", filename="r.json")
    assert robustness_summary_get(version) is None
    version = evidence_version_add(evidence=evidence, actor=oscar, content=json.dumps([1, 2]).encode(),
                                   filename="r.json")
    assert robustness_summary_get(version) is None
