"""The frozen JSON of an assessment: what a lock stores, an export downloads, a report renders from."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from assessments.models import Assessment, RequirementResult
from assessments.services.inference import inferred_from_text

# /2: everything the audit report states (profile, findings, risks, actions, robustness, manifest, who
# prepared and approved), so that a Final report renders from the snapshot alone; the SoA with titles and
# implementation status, each robustness record's threat models and run environment, the training card.
SNAPSHOT_SCHEMA = "anchorage.assessment-snapshot/2"


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_sha256(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def _result_row(result: RequirementResult) -> dict[str, Any]:
    return {
        "requirement": {"urn": result.requirement.urn, "ref_id": result.requirement.ref_id,
                        "title": result.requirement.title},
        "applicable": result.applicable, "applicability_justification": result.applicability_justification,
        "result": result.result, "result_label": result.result_label, "rationale": result.rationale,
        "not_assessed_reason": result.not_assessed_reason, "needs_review": result.needs_review,
        "inferred": result.is_inferred, "inferred_via": result.inferred_via_id,
        "inferred_from_text": inferred_from_text(result),
        "controls": [{"ref_id": c.ref_id, "name": c.name} for c in result.controls.all()],
        "evidence_versions": [{
            "id": v.pk, "evidence": v.evidence.title, "number": v.number, "filename": v.filename, "url": v.url,
            "sha256": v.sha256, "size": v.size, "effective_date": v.effective_date, "valid_until": v.valid_until,
            "uploaded_at": v.uploaded_at,
        } for v in result.evidence_versions.all()],
    }


def assessment_snapshot_build(*, assessment: Assessment, locked_at: datetime | None = None,
                              locked_by: AbstractBaseUser | None = None) -> dict[str, Any]:
    """Plain JSON-safe data; evidence versions are referenced by SHA-256 so the snapshot pins them."""
    from assessments.selectors.exports import manifest_entries, manifest_sha256
    from assessments.selectors.report_facts import profile_facts, robustness_facts, soa_facts, work_facts
    from assessments.selectors.signoff import prepared_by

    results = (assessment.results.select_related("requirement", "inferred_from__requirement__framework",
                                                 "inferred_via__source", "inferred_via__target",
                                                 "inference_confirmed_by")
               .order_by("requirement__order").prefetch_related("controls", "evidence_versions__evidence"))
    framework = assessment.framework
    manifest = manifest_entries(assessment)
    return json.loads(canonical_json({
        "schema": SNAPSHOT_SCHEMA,
        "assessment": {
            "id": assessment.pk, "title": assessment.title, "organisation": assessment.organisation.name,
            "ai_system": assessment.ai_system.name if assessment.ai_system else None,
            "model_version": assessment.model_version.version if assessment.model_version else None,
            "framework": {"urn": framework.urn, "name": framework.name, "edition": framework.edition,
                          "ref_id": framework.ref_id, "publisher": framework.publisher,
                          "assessment_scale": framework.assessment_scale},
            "scope_notes": assessment.scope_notes, "prepared_by": prepared_by(assessment),
            "period_start": assessment.period_start, "period_end": assessment.period_end,
            "assessors": [u.get_username() for u in assessment.assessors.all()],
            "reviewers": [u.get_username() for u in assessment.reviewers.all()],
            "approved_by": assessment.approved_by.get_username() if assessment.approved_by else None,
            "approved_at": assessment.approved_at,
            "locked_by": locked_by.get_username() if locked_by else None, "locked_at": locked_at,
        },
        **profile_facts(assessment),
        "statement_of_applicability": soa_facts(assessment),
        "results": [_result_row(result) for result in results],
        **work_facts(assessment),
        "robustness": robustness_facts(assessment),
        "manifest": manifest, "manifest_sha256": manifest_sha256(manifest),
    }))
