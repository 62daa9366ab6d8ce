"""Celery tasks: thin — take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from assessments.services.evidence import evidence_expiry_run
from assessments.services.findings import findings_raise_for_missing_robustness_terms
from assessments.services.reports import report_generate

EVIDENCE_EXPIRY_TASK = "assessments.tasks.evidence_expiry_task"
ROBUSTNESS_TERM_TASK = "assessments.tasks.robustness_term_findings_task"


@shared_task(name="assessments.tasks.report_generate_task", acks_late=True)
def report_generate_task(report_id: int) -> str:
    report = report_generate(report_id=report_id)
    return report.status if report else "claimed-elsewhere"


@shared_task(name=EVIDENCE_EXPIRY_TASK)
def evidence_expiry_task() -> dict[str, int]:
    outcome = evidence_expiry_run()
    return {"evidence_expired": outcome.evidence_expired, "results_marked": outcome.results_marked}


@shared_task(name=ROBUSTNESS_TERM_TASK)
def robustness_term_findings_task() -> int:
    """Raise a finding for each high-risk model version trained without a robustness term (idempotent)."""
    from governance.models.tenancy import Organisation

    return sum(len(findings_raise_for_missing_robustness_terms(organisation=organisation, actor=None))
               for organisation in Organisation.objects.all())
