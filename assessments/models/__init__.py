"""Assessments models: one module per area, re-exported here for Django and the services."""

from assessments.models.assessments import (
    GUIDANCE_RESULT_LABELS,
    Assessment,
    AssessmentStatus,
    RequirementResult,
    ResultStatus,
    result_choices,
    result_label,
)
from assessments.models.coverage import CoverageCount
from assessments.models.engagements import Action, ActionStatus, Engagement, EngagementStatus, Phase
from assessments.models.evidence import (
    Evidence,
    EvidenceAnnotation,
    EvidenceKind,
    EvidenceSource,
    EvidenceStatus,
    EvidenceVersion,
)
from assessments.models.findings import Finding, FindingSeverity, FindingStatus
from assessments.models.reports import Report, ReportAttestation

__all__ = [
    "GUIDANCE_RESULT_LABELS", "Action", "ActionStatus", "Assessment", "AssessmentStatus", "CoverageCount", "Engagement",
    "EngagementStatus", "Evidence", "EvidenceAnnotation", "EvidenceKind", "EvidenceSource", "EvidenceStatus",
    "EvidenceVersion", "Finding", "FindingSeverity", "FindingStatus", "Phase", "Report", "ReportAttestation",
    "RequirementResult", "ResultStatus", "result_choices", "result_label",
]
