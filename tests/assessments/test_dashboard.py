"""The dashboard: numbers equal direct counts, each drills down to its list, queries do not grow with data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Action, Evidence, Finding, RequirementResult
from assessments.selectors.dashboard import dashboard_get
from assessments.services import (
    action_create,
    assessment_create,
    engagement_create,
    finding_create,
    requirement_result_update,
)
from governance.models import AISystem
from tests.assessments.factories import ai_system_make, evidence_with_version, robustness_evidence
from tests.conftest import FROZEN_NOW

# Evidence validity, action due dates and expiry runs carry calendar dates: the clock stands still.
pytestmark = pytest.mark.usefixtures("frozen_clock")


def _populate(acme, nist, iso, oscar, *, systems: int) -> None:
    today = timezone.localdate()
    for index in range(systems):
        system = ai_system_make(acme, f"System {index:03d}")
        for framework in (nist, iso):
            assessment = assessment_create(organisation=acme, framework=framework, ai_system=system, actor=oscar)
            first = assessment.results.order_by("requirement__order").first()
            requirement_result_update(result=first, actor=oscar, infer=False,
                                      result_status=["compliant", "non_compliant", "partially_compliant"][index % 3])
        evidence_with_version(acme, oscar, title=f"Soon {index}", valid_until=today + timedelta(days=10),
                              ai_system=system, content=f"soon {index}".encode())
        finding_create(organisation=acme, title=f"F{index}", description="", actor=oscar, source="manual",
                       severity=["critical", "high", "low"][index % 3], ai_system=system)
        robustness_evidence(acme, oscar, system, model_version=f"{index}.0")
    engagement = engagement_create(organisation=acme, title="E", start_date=today - timedelta(days=40), actor=oscar)
    for index in range(systems):
        action_create(engagement=engagement, title=f"A{index}", actor=oscar, due_date=today - timedelta(days=index + 1))


def _metric(content: str, name: str) -> int:
    match = re.search(rf'data-metric="{re.escape(name)}"[^>]*>(?:<[^>]+>)?(\d+)', content)
    assert match, f"metric {name} not on the page"
    return int(match.group(1))


def test_dashboard_numbers_equal_direct_counts_and_drill_down(acme, nist, iso, oscar, client_as):
    _populate(acme, nist, iso, oscar, systems=4)
    # A re-assessment supersedes the first one of its scope: only the newest counts.
    system = acme_system = ai_system_make(acme, "Re-assessed")
    assessment_create(organisation=acme, framework=nist, ai_system=acme_system, actor=oscar)
    newest = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    requirement_result_update(result=newest.results.first(), actor=oscar, result_status="compliant", infer=False)

    client = client_as("auditor")
    content = client.get(reverse("dashboard")).content.decode()
    today = timezone.localdate()
    current = RequirementResult.objects.filter(
        assessment_id__in=[max(ids) for ids in _latest_ids(acme).values()])
    for framework in (nist, iso):
        for result in ("compliant", "partially_compliant", "non_compliant", "not_assessed"):
            name = {"partially_compliant": "partial"}.get(result, result)
            expected = current.filter(assessment__framework=framework, result=result).count()
            assert _metric(content, f"{name}-{framework.pk}") == expected
            drill = client.get(reverse("assessments:result-list"),
                               {"current": "1", "result": result, "framework": framework.pk})
            assert drill.context["page"].paginator.count == expected
    expected_open = {s: Finding.objects.filter(organisation=acme, severity=s, status="open").count()
                     for s in ("critical", "high", "medium", "low", "info")}
    for severity, expected in expected_open.items():
        assert _metric(content, f"findings-{severity}") == expected
        drill = client.get(reverse("assessments:finding-list"), {"open": "1", "severity": severity})
        assert drill.context["page"].paginator.count == expected
    expiring = Evidence.objects.filter(organisation=acme, status="active", valid_until__gte=today,
                                       valid_until__lte=today + timedelta(days=30)).count()
    assert _metric(content, "expiring") == expiring == 4
    assert client.get(reverse("assessments:evidence-list"), {"expiring": "30"}).context["page"].paginator.count == 4
    overdue = Action.objects.filter(organisation=acme, due_date__lt=today, status="todo").count()
    assert _metric(content, "overdue") == overdue == 4
    assert client.get(reverse("assessments:action-list"), {"overdue": "1"}).context["page"].paginator.count == 4


def _latest_ids(organisation) -> dict:
    from assessments.models import Assessment

    scopes: dict = {}
    for assessment in Assessment.objects.filter(organisation=organisation):
        scopes.setdefault((assessment.ai_system_id, assessment.framework_id), []).append(assessment.pk)
    return scopes


def test_dashboard_query_count_does_not_grow_with_data(acme, nist, iso, oscar, client_as,
                                                       django_assert_max_num_queries):
    client = client_as("risk_officer")
    _populate(acme, nist, iso, oscar, systems=2)
    with django_assert_max_num_queries(30) as small:
        assert client.get(reverse("dashboard")).status_code == 200
    _populate(acme, nist, iso, oscar, systems=0)
    for index in range(12):
        system = ai_system_make(acme, f"More {index}")
        assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
        robustness_evidence(acme, oscar, system, model_version=f"m{index}")
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        assert client.get(reverse("dashboard")).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_coverage_counts_only_the_newest_assessment_of_each_system_and_framework(acme, nist, iso, oscar):
    _populate(acme, nist, iso, oscar, systems=3)  # System 000/001/002: first result compliant/non-compliant/partial
    system = AISystem.objects.get(organisation=acme, name="System 000")
    newer = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)  # nothing recorded
    per_assessment = newer.results.count()
    coverage = {c.framework_id: c for c in dashboard_get(organisation=acme, today=FROZEN_NOW.date()).coverage}
    nist_now, iso_now = coverage[nist.pk], coverage[iso.pk]
    # NIST: System 000's compliant result sits in the superseded assessment, so it no longer counts.
    assert (nist_now.compliant, nist_now.non_compliant, nist_now.partial) == (0, 1, 1)
    assert nist_now.applicable + nist_now.not_applicable == 3 * per_assessment  # three current assessments, not four
    assert (iso_now.compliant, iso_now.non_compliant, iso_now.partial) == (1, 1, 1)


def test_robustness_panel_renders_engine_record_with_verdict(acme, nist, oscar, client_as, system):
    robustness_evidence(acme, oscar, system, model_version="1.0")
    content = client_as("auditor").get(reverse("dashboard")).content.decode()
    assert "Robustness 1.0" in content and "0.210" in content  # worst robust accuracy at 4/255
    assert 'badge bad">fail' in content  # below the 0.40 threshold set in advance
    assert "<svg" in content


def test_per_system_dashboard_is_scoped(acme, nist, oscar, client_as):
    one, two = ai_system_make(acme, "One"), ai_system_make(acme, "Two")
    finding_create(organisation=acme, title="only one", description="", severity="critical", actor=oscar,
                   source="manual", ai_system=one)
    response = client_as("auditor").get(reverse("dashboard"), {"ai_system": two.pk})
    assert _metric(response.content.decode(), "findings-critical") == 0
    response = client_as("auditor").get(reverse("dashboard"), {"ai_system": one.pk})
    assert _metric(response.content.decode(), "findings-critical") == 1


@pytest.mark.parametrize("caller", ["org_admin", "auditor"])
def test_dashboard_shows_only_what_the_role_may_do(acme, caller, client_as):
    content = client_as(caller).get(reverse("dashboard")).content.decode()
    assert ("Start one" in content) == (caller == "org_admin")


def test_heatmap_cell_drills_down_to_its_result(acme, nist, oscar, client_as, system):
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    m1 = assessment.results.get(requirement__ref_id="M1")
    requirement_result_update(result=m1, actor=oscar, result_status="non_compliant", infer=False)
    client = client_as("auditor")
    content = client.get(reverse("dashboard")).content.decode()
    link = f"?current=1&requirement={m1.requirement_id}&ai_system={system.pk}"
    assert link in content
    drill = client.get(reverse("assessments:result-list"),
                       {"current": "1", "requirement": m1.requirement_id, "ai_system": system.pk})
    assert [r.result for r in drill.context["page"]] == ["non_compliant"]
