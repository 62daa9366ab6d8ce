"""Assessments (an AI system or the organisation × one framework edition) and their results."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.models.catalog import AssessmentScale
from governance.models.tenancy import TenantModel


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    LOCKED = "locked", "Locked"


class ResultStatus(models.TextChoices):
    NOT_ASSESSED = "not_assessed", "Not assessed"
    COMPLIANT = "compliant", "Compliant"
    PARTIALLY_COMPLIANT = "partially_compliant", "Partially compliant"
    NON_COMPLIANT = "non_compliant", "Non-compliant"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


# A guidance standard ("should", e.g. ISO/IEC 23894) is addressed, never complied with: the stored values stay the
# same (inference, counts and exports compare them), only the words people read change.
GUIDANCE_RESULT_LABELS: dict[str, str] = {
    ResultStatus.COMPLIANT: "Addressed",
    ResultStatus.PARTIALLY_COMPLIANT: "Partly addressed",
    ResultStatus.NON_COMPLIANT: "Not addressed",
}


def result_label(value: str, *, assessment_scale: str) -> str:
    """The words for a stored result value on the framework's assessment scale."""
    if assessment_scale == AssessmentScale.GUIDANCE and value in GUIDANCE_RESULT_LABELS:
        return GUIDANCE_RESULT_LABELS[value]
    return ResultStatus(value).label


def result_choices(assessment_scale: str) -> list[tuple[str, str]]:
    return [(value, result_label(value, assessment_scale=assessment_scale)) for value in ResultStatus.values]


class Assessment(TenantModel):
    title = models.CharField(max_length=300)
    framework = models.ForeignKey("governance.Framework", on_delete=models.PROTECT, related_name="assessments")
    # Null means the whole organisation is in scope.
    ai_system = models.ForeignKey("governance.AISystem", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="assessments")
    model_version = models.ForeignKey("governance.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="assessments")
    status = models.CharField(max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    scope_notes = models.TextField(blank=True)
    assessors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assessments_assessed")
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assessments_reviewed")
    soa_snapshot = models.JSONField(default=list, blank=True, help_text="The Statement of Applicability at start.")
    snapshot = models.JSONField(null=True, blank=True)
    snapshot_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "ai_system", "framework"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_locked(self) -> bool:
        return self.status == AssessmentStatus.LOCKED

    @property
    def assessment_scale(self) -> str:
        return self.framework.assessment_scale


class RequirementResult(TenantModel):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="results")
    requirement = models.ForeignKey("governance.Requirement", on_delete=models.PROTECT, related_name="results")
    applicable = models.BooleanField(default=True)
    applicability_justification = models.TextField(blank=True)
    result = models.CharField(max_length=30, choices=ResultStatus.choices, default=ResultStatus.NOT_ASSESSED)
    rationale = models.TextField(blank=True)
    # Why an applicable requirement stays "not assessed" (out of time, evidence not yet available): a lock
    # refuses an assessment whose unassessed requirements have no recorded reason.
    not_assessed_reason = models.TextField(blank=True)
    controls = models.ManyToManyField("governance.Control", blank=True, related_name="results")
    evidence_versions = models.ManyToManyField("assessments.EvidenceVersion", blank=True, related_name="results")
    # "Assess once, comply many": proposed from a result elsewhere until a person reviews it.
    is_inferred = models.BooleanField(default=False)
    inferred_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    inferred_via = models.ForeignKey("governance.Crosswalk", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    # An inferred result counts only once a person has confirmed it (`result_inference_confirm`).
    inference_confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                               on_delete=models.SET_NULL, related_name="+")
    inference_confirmed_at = models.DateTimeField(null=True, blank=True)
    needs_review = models.BooleanField(default=False)
    review_reason = models.CharField(max_length=300, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assessment_id", "requirement_id"]
        constraints = [models.UniqueConstraint(fields=["assessment", "requirement"], name="one_result_per_requirement")]
        indexes = [models.Index(fields=["organisation", "result"]),
                   models.Index(fields=["assessment", "result"], name="result_by_assessment")]

    def __str__(self) -> str:
        return f"{self.requirement} — {self.result_label}"

    @property
    def result_label(self) -> str:
        """The result in the framework's words (select_related ``assessment__framework`` for lists)."""
        return result_label(self.result, assessment_scale=self.assessment.assessment_scale)
