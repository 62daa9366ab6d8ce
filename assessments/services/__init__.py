"""Assessments writes (HackSoft style: `<entity>_<action>`, keyword-only, typed, audited).

The robustness app calls these to turn finished runs into evidence and findings:

    evidence_create(*, organisation, title, kind, actor, ai_system=None, requirements=()) -> Evidence
    evidence_version_add(*, evidence, actor, file=None, content=None, filename="", url="",
                         effective_date=None, valid_until=None, source="manual", metadata=None) -> EvidenceVersion
    evidence_attach_to_requirements(*, evidence, requirements, actor) -> Evidence
    finding_create(*, organisation, title, description, severity, actor, source, ai_system=None,
                   requirements=(), risks=(), owner=None, due_date=None, metadata=None) -> Finding

A robustness run's result record (RobustBench-shaped JSON) goes in as `content` with
`source="robustness-run"` and the parsed record in `metadata={"record": {...}}` (or the JSON
file alone: the dashboard and the report parse the file when metadata has no record).
"""

from assessments.services.assessments import (
    assessment_approve,
    assessment_create,
    assessment_lock,
    assessment_return_to_draft,
    assessment_submit_for_review,
    assessment_update,
    requirement_result_review,
    requirement_result_update,
)
from assessments.services.common import AssessmentLockedError, ServiceError
from assessments.services.engagements import (
    action_create,
    action_update,
    engagement_assessments_set,
    engagement_create,
    phase_update,
)
from assessments.services.evidence import (
    evidence_annotation_add,
    evidence_attach_to_requirements,
    evidence_create,
    evidence_expiry_run,
    evidence_version_add,
    evidence_with_version_create,
    expired_on_record_warning,
)
from assessments.services.findings import finding_create, finding_update
from assessments.services.reports import report_attest, report_generate, report_request

__all__ = [
    "AssessmentLockedError", "ServiceError", "action_create", "action_update", "assessment_approve",
    "assessment_create", "assessment_lock", "assessment_return_to_draft", "assessment_submit_for_review",
    "assessment_update",
    "engagement_assessments_set", "engagement_create", "evidence_annotation_add", "evidence_attach_to_requirements",
    "evidence_create",
    "evidence_expiry_run", "evidence_version_add", "evidence_with_version_create", "expired_on_record_warning",
    "finding_create",
    "finding_update", "phase_update",
    "report_attest", "report_generate", "report_request", "requirement_result_review", "requirement_result_update",
]
