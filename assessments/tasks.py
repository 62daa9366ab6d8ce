"""Celery tasks: thin — take ids, call a service."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from assessments.services.evidence import evidence_expiry_run
from assessments.services.findings import findings_raise_for_missing_robustness_terms
from assessments.services.reports import report_generate, reports_reap_expired_leases
from assessments.task_names import (
    EVIDENCE_EXPIRY,
    REPORT_GENERATE,
    REPORTS_REAP_EXPIRED_LEASES,
    ROBUSTNESS_TERM_FINDINGS,
)
from governance.jobs import TRANSIENT_ERRORS


@shared_task(name=REPORT_GENERATE, bind=True, acks_late=True, max_retries=5)
def report_generate_task(self: Any, report_id: int) -> str:
    """Only named transient errors are retried; the service has already turned the rest into a failure."""
    try:
        report = report_generate(report_id=report_id)
    except TRANSIENT_ERRORS as error:
        raise self.retry(exc=error, countdown=5) from error
    return report.status if report else "claimed-elsewhere"


@shared_task(name=REPORTS_REAP_EXPIRED_LEASES, acks_late=True)
def reports_reap_expired_leases_task() -> int:
    """Beat: re-send reports whose worker died (the server-less broker never redelivers)."""
    return reports_reap_expired_leases()


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
