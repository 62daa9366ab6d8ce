"""The demo's robustness work: registered once, reused after (uses the cached demo model)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from governance.models.registry import AISystem, ModelVersion
from robustness.models import AnchorAnalysis, EvaluationRun, RetrainingRun, RunTrigger
from robustness.services.demo import DEMO_SYSTEM, DEMO_VERSION, demo_prepare
from tests.factories import OrganisationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.accuracy]


def test_demo_enqueue_registers_the_demo_model_and_requests_its_runs_once():
    demo = OrganisationFactory(name="Demo Organisation", slug="demo")
    output = io.StringIO()
    call_command("robustness_demo_enqueue", stdout=output)
    assert "enqueued the demo model" in output.getvalue()
    assert demo_prepare(organisation_id=demo.pk) == "requested evaluation, anchor analysis, retraining"
    assert demo_prepare(organisation_id=demo.pk) == "reused"
    system = AISystem.objects.get(organisation=demo, name=DEMO_SYSTEM)
    version = ModelVersion.objects.get(ai_system=system, version=DEMO_VERSION)
    assert version.checkpoint_sha256 and len(version.class_names) == 36
    assert EvaluationRun.objects.get(ai_system=system).trigger == RunTrigger.DEMO
    assert AnchorAnalysis.objects.filter(ai_system=system).count() == 1
    retraining = RetrainingRun.objects.get(ai_system=system)
    assert retraining.config["method"] == "alignment-ce" and retraining.config["evaluation"]["attacks"]
