"""A robustness run published the way a worker publishes it: its record becomes machine evidence and findings.

The run row is claimed with the real lease and finished through `evaluation_finish` (the worker's
publishing transaction), so the evidence, the threshold finding and the alert are the real ones;
only the torch evaluation before it is skipped: the record is given.
"""

from __future__ import annotations

import copy
from typing import Any

from assessments.models import Evidence, EvidenceVersion
from governance.jobs import job_claim
from governance.models import AISystem, ModelVersion
from robustness.models import EvaluationRun
from robustness.services.publishing import evaluation_finish
from tests.assessments.factories import ENGINE_RECORD


def run_published(system: AISystem, model_version: ModelVersion, record: dict[str, Any] | None = None,
                  provenance: dict[str, Any] | None = None) -> tuple[EvaluationRun, Evidence, EvidenceVersion]:
    run = EvaluationRun.objects.create(organisation=system.organisation, ai_system=system,
                                       model_version=model_version, config={"attacks": ["screen-pgd10"]})
    claim = job_claim(model=EvaluationRun, pk=run.pk)
    assert claim is not None
    evaluation_finish(claim=claim, run=run, record=copy.deepcopy(record or ENGINE_RECORD), provenance=provenance or {},
                      examples=[], files=[])
    run.refresh_from_db()
    version = EvidenceVersion.objects.get(pk=run.result["evidence_version_id"])
    return run, version.evidence, version
