"""The names of the assessments app's Celery tasks: the services enqueue by name (no import of the tasks)."""

from __future__ import annotations

REPORT_GENERATE = "assessments.tasks.report_generate_task"
REPORTS_REAP_EXPIRED_LEASES = "assessments.tasks.reports_reap_expired_leases"
EVIDENCE_EXPIRY = "assessments.tasks.evidence_expiry_task"
ROBUSTNESS_TERM_FINDINGS = "assessments.tasks.robustness_term_findings_task"
QUEUE = "default"
