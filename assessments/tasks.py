"""Celery tasks: thin — take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from assessments.services.evidence import evidence_expiry_run
from assessments.services.findings import findings_raise_for_missing_robustness_terms
from assessments.services.reports import report_generate
from assessments.task_names import EVIDENCE_EXPIRY, REPORT_GENERATE, ROBUSTNESS_TERM_FINDINGS


@shared_task(name=REPORT_GENERATE, acks_late=True)
def report_generate_task(report_id: int) -> str:
    report = report_generate(report_id=report_id)
    return report.status if report else "claimed-elsewhere"


@shared_task(name=EVIDENCE_EXPIRY)
def evidence_expiry_task() -> dict[str, int]:
    outcome = evidence_expiry_run()
    return {"evidence_expired": outcome.evidence_expired, "results_marked": outcome.results_marked}


@shared_task(name=ROBUSTNESS_TERM_FINDINGS)
def robustness_term_findings_task() -> int:
    """Raise a finding for each high-risk model version trained without a robustness term (idempotent)."""
    from governance.models.tenancy import Organisation

    return sum(len(findings_raise_for_missing_robustness_terms(organisation=organisation, actor=None))
               for organisation in Organisation.objects.all())
