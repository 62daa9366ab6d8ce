"""The control-evidence dashboard's numbers: a fixed number of queries whatever the data size.

Coverage counts the *current* assessment of each scope: the newest assessment per (AI system or
organisation-wide) × framework, so that re-assessments do not double-count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Max, Q, QuerySet

from assessments.models import (
    Action,
    Assessment,
    AssessmentStatus,
    CoverageCount,
    Evidence,
    EvidenceStatus,
    Finding,
    RequirementResult,
    ResultStatus,
    result_label,
)
from assessments.models.engagements import OPEN_ACTION_STATUSES
from assessments.models.findings import OPEN_FINDING_STATUSES, SEVERITY_ORDER
from assessments.selectors.robustness import RobustnessSummary, robustness_summary_get, robustness_versions
from governance.models import AISystem, AssessmentScale, Framework, Requirement
from governance.models.tenancy import Organisation

EXPIRING_DAYS = 30
HEATMAP_SYSTEMS_PER_PAGE = 20
HEATMAP_LEGEND_ORDER = (ResultStatus.COMPLIANT, ResultStatus.PARTIALLY_COMPLIANT, ResultStatus.NON_COMPLIANT,
                        ResultStatus.NOT_ASSESSED, ResultStatus.NOT_APPLICABLE)


def current_assessment_ids(organisation: Organisation, *, ai_system_id: int | None = None) -> QuerySet:
    """A subquery: the newest assessment id of each scope × framework."""
    assessments = Assessment.objects.filter(organisation=organisation)
    if ai_system_id is not None:
        assessments = assessments.filter(ai_system_id=ai_system_id)
    return assessments.values("ai_system_id", "framework_id").annotate(latest=Max("id")).values("latest")


def current_results(organisation: Organisation, *, ai_system_id: int | None = None) -> QuerySet[RequirementResult]:
    # The assessment ids are the organisation's already; filtering on the organisation again would lead the
    # planner to scan every result of the organisation instead of the (assessment, result) index.
    return RequirementResult.objects.filter(
        assessment_id__in=current_assessment_ids(organisation, ai_system_id=ai_system_id))


@dataclass
class FrameworkCoverage:
    framework_id: int
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    assessment_scale: str = AssessmentScale.CONFORMITY

    @property
    def is_guidance(self) -> bool:
        return self.assessment_scale == AssessmentScale.GUIDANCE

    @property
    def labels(self) -> dict[str, str]:
        """Result value → the framework's words ("Addressed" for a guidance framework)."""
        return {value: result_label(value, assessment_scale=self.assessment_scale) for value in ResultStatus.values}

    @property
    def applicable(self) -> int:
        return sum(n for result, n in self.counts.items() if result != ResultStatus.NOT_APPLICABLE)

    def count(self, result: str) -> int:
        return self.counts.get(result, 0)

    @property
    def compliant(self) -> int:
        return self.count(ResultStatus.COMPLIANT)

    @property
    def partial(self) -> int:
        return self.count(ResultStatus.PARTIALLY_COMPLIANT)

    @property
    def non_compliant(self) -> int:
        return self.count(ResultStatus.NON_COMPLIANT)

    @property
    def not_assessed(self) -> int:
        return self.count(ResultStatus.NOT_ASSESSED)

    @property
    def not_applicable(self) -> int:
        return self.count(ResultStatus.NOT_APPLICABLE)

    @property
    def percent_compliant(self) -> int:
        return round(100 * self.compliant / self.applicable) if self.applicable else 0


def coverage_counted_from_results(organisation: Organisation, *,
                                  ai_system_id: int | None = None) -> dict[int, dict[str, int]]:
    """Framework id → result → count, counted from the current results themselves.

    The cost grows with the results: the organisation-wide dashboard reads the pre-aggregated
    `assessments.models.CoverageCount` rows instead, and this rebuilds them
    (`assessments.services.coverage.coverage_rebuild`). One AI system's few current assessments
    (one per framework) are counted here. Grouping by assessment (not framework) lets the database
    count from the (assessment, result) index alone, with no join.
    """
    current = current_assessment_ids(organisation, ai_system_id=ai_system_id)
    framework_of = dict(Assessment.objects.filter(pk__in=current).values_list("pk", "framework_id"))
    totals: dict[int, dict[str, int]] = {}
    rows = (RequirementResult.objects.filter(assessment_id__in=current).values_list("assessment_id", "result")
            .annotate(n=Count("id")).order_by())
    for assessment_id, result, n in rows:
        counts = totals.setdefault(framework_of[assessment_id], {})
        counts[result] = counts.get(result, 0) + n
    return totals


def coverage_counted(organisation: Organisation) -> dict[int, dict[str, int]]:
    """Framework id → result → count for the whole organisation, from the pre-aggregated rows (one query)."""
    totals: dict[int, dict[str, int]] = {}
    for framework_id, result, n in (CoverageCount.objects.filter(organisation=organisation, count__gt=0)
                                    .values_list("framework_id", "result", "count")):
        totals.setdefault(framework_id, {})[result] = n
    return totals


def dashboard_coverage_get(*, organisation: Organisation, ai_system_id: int | None = None,
                           from_results: bool = False) -> list[FrameworkCoverage]:
    """Counts per framework and result: two queries for the organisation, whatever the number of results.

    `from_results` counts the results themselves instead of reading the pre-aggregated rows (the
    benchmark compares the two; the figures are the same).
    """
    totals = (coverage_counted_from_results(organisation, ai_system_id=ai_system_id)
              if ai_system_id is not None or from_results else coverage_counted(organisation))
    frameworks = {f.pk: f for f in Framework.objects.filter(pk__in=list(totals))}
    names = {pk: f"{f.ref_id} ({f.edition})" for pk, f in frameworks.items()}
    return [FrameworkCoverage(framework_id, names[framework_id], counts, frameworks[framework_id].assessment_scale)
            for framework_id, counts in sorted(totals.items(), key=lambda item: names[item[0]])]


@dataclass(frozen=True)
class HeatMap:
    framework: Framework | None
    requirements: list[Requirement]
    systems: list[AISystem]
    cells: dict[tuple[int, int], str]  # (requirement id, AI system id) → result
    page: int
    has_next: bool

    @property
    def assessment_scale(self) -> str:
        return self.framework.assessment_scale if self.framework else AssessmentScale.CONFORMITY

    def _cell(self, requirement: Requirement, system: AISystem) -> tuple[str, str, AISystem]:
        value = self.cells.get((requirement.pk, system.pk), "")
        return value, result_label(value, assessment_scale=self.assessment_scale) if value else "", system

    def rows(self) -> list[tuple[Requirement, list[tuple[str, str, AISystem]]]]:
        """Per requirement: (result value, its words on the framework's scale, system) for each system."""
        return [(r, [self._cell(r, s) for s in self.systems]) for r in self.requirements]

    @property
    def legend(self) -> list[tuple[str, str]]:
        """(result value, words) in the heat map's order, on the framework's scale."""
        return [(value, result_label(value, assessment_scale=self.assessment_scale)) for value in HEATMAP_LEGEND_ORDER]


def dashboard_heatmap_get(*, organisation: Organisation, framework_id: int | None, page: int = 1,
                          ai_system_id: int | None = None) -> HeatMap:
    framework = Framework.objects.filter(pk=framework_id).first() if framework_id else None
    if framework is None:
        return HeatMap(None, [], [], {}, 1, False)
    page = max(page, 1)
    systems_qs = AISystem.objects.filter(organisation=organisation).order_by("name", "id")
    if ai_system_id is not None:
        systems_qs = systems_qs.filter(pk=ai_system_id)
    offset = (page - 1) * HEATMAP_SYSTEMS_PER_PAGE
    systems = list(systems_qs[offset:offset + HEATMAP_SYSTEMS_PER_PAGE + 1])
    has_next, systems = len(systems) > HEATMAP_SYSTEMS_PER_PAGE, systems[:HEATMAP_SYSTEMS_PER_PAGE]
    requirements = list(Requirement.objects.filter(framework=framework, assessable=True).order_by("order"))
    # The current assessment of each system shown, not of every system: the rows read are the page's.
    shown = (Assessment.objects.filter(organisation=organisation, framework=framework,
                                       ai_system__in=[s.pk for s in systems])
             .values("ai_system_id").annotate(latest=Max("id")).values("latest"))
    cells = {(requirement_id, system_id): result for requirement_id, system_id, result in
             RequirementResult.objects.filter(assessment_id__in=shown)
             .values_list("requirement_id", "assessment__ai_system_id", "result")}
    return HeatMap(framework, requirements, systems, cells, page, has_next)


def expiring_evidence(organisation: Organisation, today: date, *, ai_system_id: int | None = None,
                      days: int = EXPIRING_DAYS) -> QuerySet[Evidence]:
    evidence = Evidence.objects.filter(organisation=organisation, status=EvidenceStatus.ACTIVE,
                                       valid_until__gte=today, valid_until__lte=today + timedelta(days=days))
    return evidence.filter(ai_system_id=ai_system_id) if ai_system_id is not None else evidence


def open_findings(organisation: Organisation, *, ai_system_id: int | None = None) -> QuerySet[Finding]:
    findings = Finding.objects.filter(organisation=organisation, status__in=OPEN_FINDING_STATUSES)
    return findings.filter(ai_system_id=ai_system_id) if ai_system_id is not None else findings


def overdue_actions(organisation: Organisation, today: date) -> QuerySet[Action]:
    return Action.objects.filter(organisation=organisation, status__in=OPEN_ACTION_STATUSES, due_date__lt=today)


def locked_with_expired_evidence(organisation: Organisation, today: date, *, ai_system_id: int | None = None
                                 ) -> QuerySet[Assessment]:
    """Locked assessments keep their snapshot; this flags those whose evidence has since expired."""
    assessments = Assessment.objects.filter(organisation=organisation, status=AssessmentStatus.LOCKED,
                                            results__evidence_versions__valid_until__lt=today)
    if ai_system_id is not None:
        assessments = assessments.filter(ai_system_id=ai_system_id)
    return Assessment.objects.filter(pk__in=assessments.values("pk"))


@dataclass(frozen=True)
class Dashboard:
    coverage: list[FrameworkCoverage]
    heatmap: HeatMap
    frameworks: list[Framework]
    expiring_count: int
    expiring: list[Evidence]
    expired_count: int
    findings_by_severity: list[tuple[str, str, int]]  # (value, label, count)
    overdue_count: int
    overdue: list[Action]
    locked_expired_count: int
    robustness: list[RobustnessSummary]
    ai_system: AISystem | None


def _findings_by_severity(organisation: Organisation, ai_system_id: int | None) -> list[tuple[str, str, int]]:
    from assessments.models import FindingSeverity

    counts = dict(open_findings(organisation, ai_system_id=ai_system_id)
                  .values_list("severity").annotate(n=Count("id")).order_by())
    return [(value, FindingSeverity(value).label, counts.get(value, 0)) for value in SEVERITY_ORDER]


def dashboard_get(*, organisation: Organisation, today: date, ai_system: AISystem | None = None,
                  framework_id: int | None = None, heatmap_page: int = 1) -> Dashboard:
    """Everything the dashboard shows; about a dozen queries however many rows there are."""
    system_id = ai_system.pk if ai_system else None
    coverage = dashboard_coverage_get(organisation=organisation, ai_system_id=system_id)
    frameworks = list(Framework.objects.filter(pk__in=[c.framework_id for c in coverage]))
    chosen = framework_id or (coverage[0].framework_id if coverage else None)
    expiring = expiring_evidence(organisation, today, ai_system_id=system_id)
    expired = Evidence.objects.filter(organisation=organisation, status=EvidenceStatus.EXPIRED)
    if system_id is not None:
        expired = expired.filter(ai_system_id=system_id)
    overdue = overdue_actions(organisation, today)
    versions = robustness_versions(organisation.pk, ai_system_id=system_id)
    return Dashboard(
        coverage=coverage, frameworks=frameworks,
        heatmap=dashboard_heatmap_get(organisation=organisation, framework_id=chosen, page=heatmap_page,
                                      ai_system_id=system_id),
        expiring_count=expiring.count(), expiring=list(expiring.order_by("valid_until")[:8]),
        expired_count=expired.count(),
        findings_by_severity=_findings_by_severity(organisation, system_id),
        overdue_count=overdue.count(), overdue=list(overdue.select_related("owner", "engagement")[:8]),
        locked_expired_count=locked_with_expired_evidence(organisation, today, ai_system_id=system_id).count(),
        robustness=[s for s in (robustness_summary_get(
            v, thresholds=(v.evidence.ai_system.robustness_thresholds if v.evidence.ai_system else ()))
            for v in versions) if s is not None],
        ai_system=ai_system)


def results_filter(results: QuerySet[RequirementResult], params: dict[str, str]) -> QuerySet[RequirementResult]:
    """The drill-down filters shared by the results list page and API (ids already checked as whole numbers)."""
    if params.get("framework"):
        results = results.filter(assessment__framework_id=int(params["framework"]))
    if params.get("result"):
        results = results.filter(result=params["result"])
    if params.get("applicable") in ("1", "true"):
        results = results.exclude(result=ResultStatus.NOT_APPLICABLE)
    if params.get("ai_system"):
        results = results.filter(assessment__ai_system_id=int(params["ai_system"]))
    if params.get("requirement"):
        results = results.filter(requirement_id=int(params["requirement"]))
    if params.get("assessment"):
        results = results.filter(assessment_id=int(params["assessment"]))
    if params.get("inferred") in ("1", "true"):
        results = results.filter(is_inferred=True)
    if params.get("needs_review") in ("1", "true"):
        # A confirmed inference stays inferred (its provenance is kept) but needs no more review.
        results = results.filter(Q(needs_review=True) | Q(is_inferred=True, inference_confirmed_at__isnull=True))
    return results
