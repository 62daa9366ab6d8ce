"""The pre-aggregated coverage counts stay exact through every write, and the dashboard's queries stay flat.

The expected figures are counted here from the raw rows, by hand: the newest assessment of each
scope × framework, and its results one by one (issue #15, point 6).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Assessment, CoverageCount, RequirementResult, ResultStatus
from assessments.selectors.dashboard import dashboard_coverage_get, dashboard_get
from assessments.services import (
    assessment_create,
    evidence_expiry_run,
    requirement_result_review,
    requirement_result_update,
)
from assessments.services.coverage import coverage_rebuild
from governance.models import Organisation, Requirement
from governance.services.transfer_export import organisation_export
from governance.services.transfer_import import organisation_import
from tests.assessments.factories import ai_system_make, evidence_with_version
from tests.conftest import FROZEN_NOW

pytestmark = pytest.mark.usefixtures("frozen_clock")


def _counted_by_hand(organisation: Organisation) -> dict[int, dict[str, int]]:
    newest: dict[tuple[int | None, int], Assessment] = {}
    for assessment in Assessment.objects.filter(organisation=organisation):
        scope = (assessment.ai_system_id, assessment.framework_id)
        if scope not in newest or assessment.pk > newest[scope].pk:
            newest[scope] = assessment
    counts: dict[int, dict[str, int]] = {}
    for assessment in newest.values():
        for result in RequirementResult.objects.filter(assessment=assessment):
            per_framework = counts.setdefault(assessment.framework_id, {})
            per_framework[result.result] = per_framework.get(result.result, 0) + 1
    return counts


def _shown(organisation: Organisation) -> dict[int, dict[str, int]]:
    coverage = dashboard_get(organisation=organisation, today=FROZEN_NOW.date()).coverage
    return {c.framework_id: {value: c.count(value) for value in ResultStatus.values if c.count(value)}
            for c in coverage}


def _result(assessment: Assessment, ref_id: str) -> RequirementResult:
    return assessment.results.get(requirement__ref_id=ref_id)


def test_coverage_counts_equal_hand_counts_after_writes_supersessions_expiry_and_import(
        acme, globex, nist, iso, a3, oscar, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    steps: list[str] = []

    def exact(step: str) -> None:
        steps.append(step)
        assert _shown(acme) == _counted_by_hand(acme), step

    first, second = ai_system_make(acme, "First"), ai_system_make(acme, "Second")
    organisation_wide = assessment_create(organisation=acme, framework=nist, actor=oscar)
    first_nist = assessment_create(organisation=acme, framework=nist, ai_system=first, actor=oscar)
    first_iso = assessment_create(organisation=acme, framework=iso, ai_system=first, actor=oscar)
    second_nist = assessment_create(organisation=acme, framework=nist, ai_system=second, actor=oscar)
    exact("opened")
    requirement_result_update(result=_result(first_nist, "M3"), actor=oscar, result_status="non_compliant")
    assert _result(first_iso, "A3").is_inferred  # the inference wrote a result too
    exact("recorded with an inference")
    requirement_result_update(result=_result(first_nist, "M3"), actor=oscar, result_status="compliant")
    exact("source changed, inference follows")
    requirement_result_review(result=_result(first_iso, "A3"), actor=oscar, accept=False)
    exact("inference rejected")
    requirement_result_update(result=_result(organisation_wide, "M3"), actor=oscar, applicable=False,
                              applicability_justification="Not ours.", infer=False)
    requirement_result_update(result=_result(second_nist, "M3"), actor=oscar, result_status="partially_compliant",
                              infer=False)
    exact("organisation-wide result made not applicable")
    superseding = assessment_create(organisation=acme, framework=nist, ai_system=first, actor=oscar)
    exact("first system's NIST assessment superseded")
    requirement_result_update(result=_result(first_nist, "M3"), actor=oscar, result_status="non_compliant",
                              infer=False)
    exact("a superseded result changed")
    _, version = evidence_with_version(acme, oscar, title="Memo", content=b"memo",
                                       valid_until=FROZEN_NOW.date() + timedelta(days=10))
    requirement_result_update(result=_result(superseding, "M3"), actor=oscar, result_status="compliant",
                              evidence_versions=[version], infer=False)
    outcome = evidence_expiry_run(now=FROZEN_NOW + timedelta(days=40))
    assert (outcome.evidence_expired, outcome.results_marked) == (1, 1)
    assert _result(superseding, "M3").needs_review  # expiry flags the result; its value stands
    exact("evidence expired")

    nist_now = _shown(acme)[nist.pk]
    # Organisation-wide M3 not applicable, the superseding assessment's M3 compliant, Second's M3 partial.
    assert (nist_now.get("compliant"), nist_now.get("partially_compliant"), nist_now.get("non_compliant"),
            nist_now.get("not_applicable")) == (1, 1, None, 1)
    assert _shown(globex) == _counted_by_hand(globex) == {}

    organisation_export(organisation=acme, out=tmp_path / "acme-export")
    organisation_import(path=tmp_path / "acme-export", slug="acme-copy")
    copy = Organisation.objects.get(slug="acme-copy")
    assert _shown(copy) == _counted_by_hand(copy) == _counted_by_hand(acme)
    coverage_rebuild(organisation=acme)
    assert _shown(acme) == _counted_by_hand(acme)
    assert len(steps) == 8  # every step above was checked


def test_organisation_coverage_reads_the_pre_aggregated_rows_and_no_result(acme, nist, iso, oscar):
    for index in range(3):
        assessment_create(organisation=acme, framework=nist, ai_system=ai_system_make(acme, f"S{index}"),
                          actor=oscar)
    with CaptureQueriesContext(connection) as captured:
        coverage = dashboard_coverage_get(organisation=acme)
    assert [c.framework_id for c in coverage] == [nist.pk]
    assert len(captured.captured_queries) == 2  # the counts, the frameworks' names
    assert not [q for q in captured.captured_queries if RequirementResult._meta.db_table in q["sql"]]
    per_assessment = Requirement.objects.filter(framework=nist, assessable=True).count()
    assert list(CoverageCount.objects.filter(organisation=acme).values_list("framework_id", "result", "count")) == [
        (nist.pk, "not_assessed", 3 * per_assessment)]
    assert coverage == dashboard_coverage_get(organisation=acme, from_results=True)


def _render_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("dashboard")).status_code == 200
    return len(captured.captured_queries)


def test_dashboard_render_queries_are_the_same_at_two_data_sizes(acme, nist, iso, oscar, client_as):
    client = client_as("auditor")
    assessment_create(organisation=acme, framework=nist, ai_system=ai_system_make(acme, "Only"), actor=oscar)
    small, small_results = _render_queries(client), RequirementResult.objects.filter(organisation=acme).count()
    assessment_create(organisation=acme, framework=nist, actor=oscar)
    for index in range(25):  # more systems than one heat-map page, two frameworks, superseded assessments
        system = ai_system_make(acme, f"More {index:02d}")
        for framework in (nist, iso, nist):
            assessment = assessment_create(organisation=acme, framework=framework, ai_system=system, actor=oscar)
        requirement_result_update(result=assessment.results.first(), actor=oscar, result_status="compliant",
                                  infer=False)
    assert RequirementResult.objects.filter(organisation=acme).count() > 50 * small_results
    assert _render_queries(client) == small


def test_the_migration_fills_the_counts_of_existing_results(acme, nist, iso, oscar):
    import importlib
    from pathlib import Path

    from django.apps import apps

    import assessments.migrations

    # Found by its name, not its number: merges renumber migrations.
    (migration,) = Path(assessments.migrations.__file__).parent.glob("*_dashboard_counts.py")
    counts_fill = importlib.import_module(f"assessments.migrations.{migration.stem}").counts_fill
    system = ai_system_make(acme, "Before the counts")
    assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    newest = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    assessment_create(organisation=acme, framework=iso, actor=oscar)
    requirement_result_update(result=_result(newest, "M3"), actor=oscar, result_status="compliant", infer=False)
    CoverageCount.objects.all().delete()  # as before the migration
    counts_fill(apps, None)
    assert _shown(acme) == _counted_by_hand(acme)
    assert _shown(acme)[nist.pk]["compliant"] == 1
