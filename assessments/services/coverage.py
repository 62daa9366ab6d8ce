"""Keeping `assessments.models.CoverageCount` exact: called by every service that changes what it counts.

What the rows count is the results of each scope's *current* assessment (the newest of an AI
system or the whole organisation × framework). Three things change it, and each is adjusted in
the writer's transaction:

* a result's value changes (`coverage_result_changed`) — counted only if its assessment is current;
* a new assessment opens (`coverage_assessment_opened`) — it supersedes the scope's previous one,
  whose counts leave as the new one's arrive;
* an organisation is imported or seeded in bulk (`coverage_rebuild`) — recounted from the results.

Assessments are never deleted (their AI system and framework are protected); an organisation's
deletion cascades to its rows. The assessment row is locked before the currency check, so a
result update and a superseding assessment of the same scope cannot both miss each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from django.db.models import Count, F, QuerySet

from assessments.models import Assessment, CoverageCount, RequirementResult
from assessments.selectors.dashboard import coverage_counted_from_results
from governance.models.tenancy import Organisation


def _scope(assessment: Assessment) -> QuerySet[Assessment]:
    """The assessments of the same scope and framework (the ones that supersede one another)."""
    same = Assessment.objects.filter(organisation_id=assessment.organisation_id, framework_id=assessment.framework_id)
    if assessment.ai_system_id is None:
        return same.filter(ai_system__isnull=True)
    return same.filter(ai_system_id=assessment.ai_system_id)


def _result_counts(assessment_id: int) -> Counter[str]:
    return Counter(dict(RequirementResult.objects.filter(assessment_id=assessment_id)
                        .values_list("result").annotate(n=Count("id")).order_by()))


def _coverage_add(*, organisation_id: int, framework_id: int, deltas: Mapping[str, int]) -> None:
    changed = sorted((result, n) for result, n in deltas.items() if n)  # one lock order for all writers
    if not changed:
        return
    CoverageCount.objects.bulk_create([CoverageCount(organisation_id=organisation_id, framework_id=framework_id,
                                                     result=result) for result, _ in changed],
                                      ignore_conflicts=True)
    for result, n in changed:
        CoverageCount.objects.filter(organisation_id=organisation_id, framework_id=framework_id,
                                     result=result).update(count=F("count") + n)


def coverage_result_changed(*, result: RequirementResult, before: str) -> None:
    """`result` was saved with a new value (it was `before`); runs inside the writer's transaction."""
    if before == result.result:
        return
    assessment = Assessment.objects.select_for_update().get(pk=result.assessment_id)
    if _scope(assessment).filter(pk__gt=assessment.pk).exists():
        return  # superseded: its results no longer count
    _coverage_add(organisation_id=assessment.organisation_id, framework_id=assessment.framework_id,
                  deltas={before: -1, result.result: 1})


def coverage_assessment_opened(*, assessment: Assessment) -> None:
    """`assessment` was created with its results; it supersedes the scope's previous current assessment."""
    deltas = _result_counts(assessment.pk)
    previous = _scope(assessment).select_for_update().filter(pk__lt=assessment.pk).order_by("-pk").first()
    if previous is not None:
        deltas.subtract(_result_counts(previous.pk))
    _coverage_add(organisation_id=assessment.organisation_id, framework_id=assessment.framework_id, deltas=deltas)


def coverage_rebuild(*, organisation: Organisation) -> None:
    """Recount the organisation's rows from its results (after a bulk import or seeding)."""
    CoverageCount.objects.filter(organisation=organisation).delete()
    CoverageCount.objects.bulk_create([
        CoverageCount(organisation=organisation, framework_id=framework_id, result=result, count=n)
        for framework_id, counts in coverage_counted_from_results(organisation).items()
        for result, n in counts.items()])
