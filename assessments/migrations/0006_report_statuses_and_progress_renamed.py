"""Stored report values in the job kernel's terms (written by hand).

A migration of its own, so that going back commits the renamed rows before 0005 alters the
columns (PostgreSQL refuses an ALTER TABLE with the update's trigger events still pending).
"""

from django.db import migrations
from django.db.models import F

# The report's own status words become the job kernel's one vocabulary (governance.models.jobs.JobStatus),
# and its progress the kernel's one scale: a fraction 0–1 instead of a percentage 0–100.
STATUS_FORWARD = {"done": "succeeded"}
# Reports were never cancelled before the kernel; back on the old words a cancelled one reads as failed.
STATUS_BACKWARD = {"succeeded": "done", "cancelled": "failed"}


def _statuses_rename(apps, mapping):
    Report = apps.get_model("assessments", "Report")
    for old, new in mapping.items():
        Report.objects.filter(status=old).update(status=new)


def report_jobs_forward(apps, schema_editor):
    _statuses_rename(apps, STATUS_FORWARD)
    apps.get_model("assessments", "Report").objects.update(progress=F("progress") / 100.0)


def report_jobs_backward(apps, schema_editor):
    _statuses_rename(apps, STATUS_BACKWARD)
    apps.get_model("assessments", "Report").objects.update(progress=F("progress") * 100.0)


class Migration(migrations.Migration):

    dependencies = [
        ("assessments", "0005_report_on_the_job_kernel"),
    ]

    operations = [
        migrations.RunPython(report_jobs_forward, report_jobs_backward),
    ]
