"""Governance reads. Every tenant query starts from an `AccessContext` or an organisation."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from governance.access import AccessContext
from governance.models.applicability import ApplicabilityDecision
from governance.models.audit import AuditEvent
from governance.models.catalog import Crosswalk, Framework, Requirement
from governance.models.controls import Control
from governance.models.registry import (
    AISystem,
    ClassificationResult,
    Dataset,
    EUAIActClassification,
    ModelVersion,
    TrainingObjectiveCard,
)
from governance.models.risks import Risk
from governance.models.tenancy import Membership, Organisation

User = get_user_model()


def ai_systems_for(access: AccessContext) -> QuerySet[AISystem]:
    return AISystem.objects.filter(organisation=access.organisation).select_related("owner", "classification")


def model_versions_for(access: AccessContext) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(organisation=access.organisation).select_related("ai_system", "parent")


def datasets_for(access: AccessContext) -> QuerySet[Dataset]:
    return Dataset.objects.filter(organisation=access.organisation).select_related("ai_system")


def training_cards_for(access: AccessContext) -> QuerySet[TrainingObjectiveCard]:
    return TrainingObjectiveCard.objects.filter(organisation=access.organisation).select_related("model_version")


def controls_for(access: AccessContext) -> QuerySet[Control]:
    return Control.objects.filter(organisation=access.organisation).select_related("owner") \
        .prefetch_related("requirements__framework")


def risks_for(access: AccessContext) -> QuerySet[Risk]:
    return Risk.objects.filter(organisation=access.organisation).select_related("ai_system", "owner") \
        .prefetch_related("controls")


def applicability_for(access: AccessContext) -> QuerySet[ApplicabilityDecision]:
    return ApplicabilityDecision.objects.filter(organisation=access.organisation) \
        .select_related("requirement__framework", "ai_system", "decided_by")


def memberships_for(access: AccessContext) -> QuerySet[Membership]:
    return Membership.objects.filter(organisation=access.organisation).select_related("user")


def members_of(organisation: Organisation) -> QuerySet:
    """Users who may own rows of this organisation (for owner pick-lists)."""
    return User.objects.filter(memberships__organisation=organisation).order_by("username")


def audit_events_for(access: AccessContext, *, action: str = "", object_type: str = "", actor: str = "",
                     object_id: str = "", since: str = "", until: str = "") -> QuerySet[AuditEvent]:
    """The organisation's trail, newest first, filtered by any of the given fields."""
    events = AuditEvent.objects.filter(organisation=access.organisation)
    filters = {"action": action, "object_type": object_type, "actor_label": actor, "object_id": object_id,
               "created_at__date__gte": since, "created_at__date__lte": until}
    return events.filter(**{key: value for key, value in filters.items() if value}).order_by("-sequence")


def audit_object_types_for(access: AccessContext) -> list[str]:
    return sorted(set(AuditEvent.objects.filter(organisation=access.organisation)
                      .values_list("object_type", flat=True)))


def frameworks() -> QuerySet[Framework]:
    return Framework.objects.all()


def requirements_of(framework: Framework) -> QuerySet[Requirement]:
    return Requirement.objects.filter(framework=framework).select_related("parent").order_by("order")


def requirement_crosswalks(requirement: Requirement) -> QuerySet[Crosswalk]:
    return Crosswalk.objects.filter(Q(source=requirement) | Q(target=requirement)) \
        .select_related("source__framework", "target__framework")


@dataclass(frozen=True)
class CrosswalkSourceCount:
    """How many of a framework's crosswalk rows come from one published crosswalk, or are our own."""

    is_own_mapping: bool
    document: str  # "" for own mappings
    publisher: str
    version: str
    url: str
    rows: int


def framework_crosswalk_sources(framework: Framework) -> list[CrosswalkSourceCount]:
    fields = ("is_own_mapping", "source_document", "source_publisher", "source_version", "source_url")
    counts = (Crosswalk.objects.filter(Q(source__framework=framework) | Q(target__framework=framework))
              .values(*fields).annotate(rows=Count("pk")).order_by("is_own_mapping", "source_document"))
    return [CrosswalkSourceCount(is_own_mapping=c["is_own_mapping"], document=c["source_document"],
                                 publisher=c["source_publisher"], version=c["source_version"], url=c["source_url"],
                                 rows=c["rows"]) for c in counts]


def requirements_applicable_to(ai_system: AISystem) -> QuerySet[Requirement]:
    """The requirements the system's Statement of Applicability says apply (decided or proposed)."""
    decided = ApplicabilityDecision.objects.filter(ai_system=ai_system, applicable=True).values("requirement_id")
    return Requirement.objects.filter(pk__in=decided).select_related("framework").order_by("framework_id", "order")


def classifications_incomplete(organisation: Organisation, *,
                               ai_system_id: int | None = None) -> QuerySet[EUAIActClassification]:
    """EU AI Act classifications still missing answers: no result, no date, no SoA proposal yet."""
    rows = EUAIActClassification.objects.filter(organisation=organisation, result=ClassificationResult.INCOMPLETE)
    if ai_system_id is not None:
        rows = rows.filter(ai_system_id=ai_system_id)
    return rows.select_related("ai_system").order_by("ai_system__name")


def model_versions_missing_robustness_term(organisation: Organisation, *,
                                           include_missing_cards: bool = False) -> QuerySet[ModelVersion]:
    """Versions of high-risk systems whose training objective has no adversarial-robustness term.

    The assessments side raises a finding for each. With `include_missing_cards`, versions that
    have no training-objective card yet count too (nothing shows the term is there).
    """
    missing = Q(training_card__has_adversarial_robustness_term=False)
    if include_missing_cards:
        missing |= Q(training_card__isnull=True)
    return ModelVersion.objects.filter(
        missing, organisation=organisation,
        ai_system__classification__result__in=list(ClassificationResult.high_risk()),
    ).select_related("ai_system", "training_card")


@dataclass(frozen=True)
class HeatCell:
    likelihood: int
    impact: int
    count: int
    level: str  # low / medium / high / critical, by the score's share of the maximum


def risk_level(score: int, *, maximum: int) -> str:
    share = score / maximum
    return "critical" if share >= 0.64 else "high" if share >= 0.36 else "medium" if share >= 0.16 else "low"


def risk_heat_map(access: AccessContext, *, residual: bool = False) -> list[list[HeatCell]]:
    """Rows from the highest likelihood down (as drawn), columns impact 1..n; open risks only."""
    matrix = access.organisation.risk_matrix
    rows, columns = len(matrix["likelihood"]), len(matrix["impact"])
    counts: dict[tuple[int, int], int] = {}
    fields = ("residual_likelihood", "residual_impact") if residual else ("likelihood", "impact")
    for likelihood, impact in risks_for(access).exclude(status="closed").values_list(*fields):
        if likelihood is not None and impact is not None:
            counts[(likelihood, impact)] = counts.get((likelihood, impact), 0) + 1
    return [[HeatCell(likelihood, impact, counts.get((likelihood, impact), 0),
                      risk_level(likelihood * impact, maximum=rows * columns))
             for impact in range(1, columns + 1)] for likelihood in range(rows, 0, -1)]
